// The supervisor: spawns every node as a real child process on a fixed endpoint and
// breaks them for real — Kill is SIGKILL, Stop is SIGTERM (graceful), Reboot starts
// the same id on the same endpoint. A node killed from outside (kill -9 PID) is
// noticed through its exit and shown as down. Telemetry and op results come back
// over the validated control channel. Links are authenticated: the supervisor makes the
// cluster's CurveZMQ keys once and hands them to every node it starts (reboots too) over
// the IPC pipe when the node asks (link-keys.ts).
import { fork, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import type { Links, NodeConfig } from '../runtime/config.js';
import { generateLinkKeys, isLinkKeysRequest, type LinkKeys, type LinkKeysMessage } from '../runtime/link-keys.js';
import { leaseMsFor } from '../core/manager.js';
import { type ToNode, type WorkloadSpec } from '../runtime/control.js';
import { FromNodeSchema, type FromNode, type Telemetry } from '../runtime/from-node.js';
import { DEFAULT_CLIENT_MEMORY, type ClusterConfig, type ClusterEvent, type Mark, type NodeInfo, type NodeRole, type NodeState } from './api.js';
import { assertPortsFree, clusterPorts } from './scenarios/ports.js';
import { fastTraceBatch } from '../runtime/trace-validate.js';
import { TraceMirror } from './trace/mirror.js';
import type { TraceRecord } from './trace/record.js';
import type { NodeLinkRule, NodeNemesis } from '../runtime/nemesis.js';
import { describeRule, resolveNemesis, rulesPerNode, type NemesisSpec, type ResolvedRule } from './nemesis/spec.js';
import { DEFAULT_MIN_RETRY_MS } from '../core/rto.js';

/** How to start a node process: in a packaged Electron app, its own binary with ELECTRON_RUN_AS_NODE=1. */
export interface NodeLauncher {
  entry: string;
  execPath?: string;
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  config: ClusterConfig;
  /** Where per-client history logs go. */
  runDir: string;
  launcher?: NodeLauncher;
  /** How long start() and reboot() wait for nodes to report ready. */
  readyTimeoutMs?: number;
  /** Trace every frame from the first (`--trace`); tracing can also be switched later (setTracing). */
  trace?: boolean;
  /** Names this cluster's records in a trace file holding several runs (a scenario run). */
  traceRun?: string;
  /** curve (default): authenticated links with keys made for this cluster; plain only to measure what CURVE costs. */
  links?: Links;
  /** Seeds the nodes' nemesis random sources (loss, duplication, jitter), so a run can be repeated. */
  nemesisSeed?: number;
}

/** The network nemesis in force: what was asked, what it resolved to, since when (wall-clock ms). */
export interface NemesisState {
  spec: NemesisSpec;
  rules: ResolvedRule[];
  since: number;
}

/** What a write-update registry reports while it refuses view changes (from-node.ts IsisRegistryTelemetrySchema). */
type Blocked = NonNullable<NonNullable<Telemetry['isisRegistry']>['blocked']>;

interface NodeHandle {
  id: string;
  role: NodeRole;
  endpoint: string;
  proc: ChildProcess | null;
  state: NodeState;
  incarnation: number;
  epoch: number;
  upSince: number | null;
  restarts: number;
  lastExit: NodeInfo['lastExit'];
  /** Why the current process is going away, so its exit is reported truthfully. */
  ending: 'kill' | 'stop' | 'reboot' | null;
  telemetry: Telemetry | null;
  stderrTail: string[];
  ready: { resolve: () => void; reject: (e: Error) => void } | null;
  /** The process of this node that has a vector clock (started tracing), if any. */
  traceProc: ChildProcess | null;
}

export type OpDone = Extract<FromNode, { type: 'opDone' }>;

interface SupervisorEvents {
  event: [ClusterEvent];
  mark: [Mark];
  telemetry: [Telemetry];
  change: [];
  workloadDone: [string];
  /** Traced frames of one node, in its order (only while tracing is on). */
  trace: [TraceRecord[]];
  /** The nemesis rules changed (null: healed). */
  nemesis: [NemesisState | null];
}

/** Finds out/nodes/node.js from wherever this module was bundled (out/nodes, out/main) or loaded (nodes/control). */
export function defaultNodeEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'node.js')) && here.endsWith(join('out', 'nodes'))) return join(here, 'node.js');
  for (let dir = here, i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'out', 'nodes', 'node.js');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('out/nodes/node.js not found: run `npm run build:nodes` first');
}

/**
 * Node.js flags for every node process (and the bench's bare nodes, so both paths run alike), after the
 * parent's own (so `node --cpu-prof bin/ivy-cluster.js …` still reaches every node).
 */
export function nodeExecArgv(id?: string): string[] {
  // IVY_NODE_FLAGS (space-separated) replaces the defaults: for measuring what a flag costs or saves.
  const override = process.env.IVY_NODE_FLAGS;
  return [...process.execArgv, ...(override === undefined ? NODE_V8_FLAGS : override.split(' ').filter(Boolean)), ...profileFlags(id)];
}

/**
 * IVY_PROFILE_NODES=m0,c5 (and IVY_PROFILE_DIR, default ./profiles): CPU profiles of just those nodes, written
 * when they stop gracefully, to see where one node's time goes without profiling 66 of them. IVY_PROFILE_INTERVAL_US
 * samples more often than V8's 1 ms: an idle node is busy for well under a millisecond per wake.
 */
function profileFlags(id: string | undefined): string[] {
  const which = process.env.IVY_PROFILE_NODES;
  if (id === undefined || !which || !which.split(',').includes(id)) return [];
  const interval = Number(process.env.IVY_PROFILE_INTERVAL_US ?? '');
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${resolve(process.env.IVY_PROFILE_DIR ?? 'profiles')}`,
    `--cpu-prof-name=${id}.${Date.now()}.cpuprofile`,
    ...(Number.isInteger(interval) && interval > 0 ? [`--cpu-prof-interval=${interval}`] : []),
  ];
}

/**
 * The environment a node process starts with: the supervisor's (and the launcher's additions), without
 * NODE_EXTRA_CA_CERTS. Node reads and parses that file of certificates eagerly at every process start,
 * before any script runs (crypto::UseExtraCaCerts); with a system bundle of ~140 certificates it was
 * ~45 of the ~80 ms a bare `node -e 0` costs, times every node started, and a node never opens a TLS
 * connection. Everything else passes through unchanged.
 */
export function nodeEnv(extra: Readonly<Record<string, string>> = {}, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...from, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * A node's live data is small (a page table, a record per page) and short-lived garbage dominates, so
 * scavenges stay cheap with a small young generation; V8's default lets it grow to 16 MiB semi-spaces
 * under load, which was most of a busy node's growth in resident memory. --v8-pool-size=1: one V8 worker
 * thread instead of four (fewer stacks and malloc arenas; a node has no parallel work for them).
 * Not --optimize-for-size: a busy client's RSS ~6 MiB lower, but the fair throughput ratio 0.50-0.55
 * instead of 0.57-0.61 (docs/BENCHMARKS.md, memory per node). The start-up snapshot is built with exactly these
 * (scripts/node-bundle.mjs).
 */
export const NODE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--v8-pool-size=1'];

/**
 * The V8 start-up snapshot of the node entry (out/nodes/node.blob, scripts/build-nodes.mjs) when nodes can
 * start from it: it sits next to `entry`, and was built by this very `node` binary with exactly `execArgv`
 * (V8 refuses a snapshot built with other flags, and the process would die). Otherwise null: node.js, as
 * before. IVY_NODE_SNAPSHOT=0 turns it off.
 */
export function nodeSnapshot(entry: string, execArgv: readonly string[], execPath?: string): string | null {
  if (process.env.IVY_NODE_SNAPSHOT === '0' || (execPath !== undefined && execPath !== process.execPath)) return null;
  const blob = join(dirname(entry), 'node.blob');
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(`${blob}.json`, 'utf8'));
  } catch {
    return null;
  }
  if (typeof meta !== 'object' || meta === null || !existsSync(blob)) return null;
  const m = meta as { node?: unknown; execPath?: unknown; flags?: unknown };
  // CPU profiling (--cpu-prof…, IVY_PROFILE_NODES or a profiled supervisor) is Node's, not V8's: a node still starts
  // from the snapshot with it, so a profile shows the start-up the nodes really run.
  const v8Flags = execArgv.filter((f) => !f.startsWith('--cpu-prof'));
  const same = m.node === process.version && m.execPath === process.execPath && JSON.stringify(m.flags) === JSON.stringify(v8Flags);
  return same ? blob : null;
}

/**
 * How often a node reports while it has something new: every 200 ms up to 50 clients, then slower in
 * step with the cluster (4 ms per client: 256 ms at 64, 512 ms at 128), so the supervisor takes at most
 * ~250 reports a second however many clients run. Each report is a page table built, serialised,
 * parsed and validated; at 128 clients × 5 a second that was a sizeable part of two cores.
 */
export function telemetryMsFor(clients: number): number {
  return Math.max(200, 4 * clients);
}

export const MANAGER_IDS = { primary: 'm0', backup: 'm1' } as const;

/**
 * How many clients start at once. All at once (128 processes runnable on 2 cores) gave the managers a
 * 1/130 share of the CPU while they answered the hellos: m0 went unscheduled for longer than its backup's
 * vote lasts (quorum.ts) and stepped down, and the takeover rebuilt from every client. A window keeps
 * the run queue bounded so m0 and m1 still get a share while they answer the hellos. Not small: each start
 * waits for a ready report, and a window of 8 per core cost 30-40 % more start-up CPU and ready time at
 * 128 clients on 2 cores (13.8-15.7 s vs 10.2-10.9 s all at once); 32 per core was as fast as all at once
 * (10.7 s) with no step-down. IVY_START_WINDOW overrides it (0: all at once), for measuring.
 */
export function startWindow(cores = availableParallelism()): number {
  const override = Number(process.env.IVY_START_WINDOW ?? '');
  if (process.env.IVY_START_WINDOW !== undefined && Number.isInteger(override) && override >= 0) return override === 0 ? Infinity : override;
  return 32 * Math.max(2, cores);
}

/** Runs `start` on every item, at most `window` at a time, each next one as soon as one ends; rejects on the first failure. */
export async function inWaves<T>(items: readonly T[], window: number, start: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await start(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(items.length, Math.max(1, window)) }, lane));
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly config: ClusterConfig;
  readonly runDir: string;
  private readonly launcher: NodeLauncher;
  private readonly readyTimeoutMs: number;
  private readonly nodes = new Map<string, NodeHandle>();
  private readonly opWaiters = new Map<number, (r: OpDone) => void>();
  private nextOpCmd = 1;
  private workload: WorkloadSpec | null = null;
  private closed = false;
  /** Highest manager epoch reported so far. */
  private highestEpoch = 1;
  /** Which manager serves now, as its last role report said. */
  private serving: string | null = null;
  private tracing: boolean;
  /** Tracing was on at some point: shutdown waits for the nodes' last batches. */
  private traced: boolean;
  private readonly traceMirror: TraceMirror;
  private nemesisState: NemesisState | null = null;
  /** Each sender's rules while a nemesis is in force (a node started meanwhile gets its own in its config). */
  private nemesisRules = new Map<string, NodeLinkRule[]>();
  private readonly nemesisSeed: number;
  /** Applies so far: each apply draws fresh random streams. */
  private nemesisApplies = 0;
  readonly links: Links;
  /** This cluster's link keys (null: plain links), the same for every node and every reboot. */
  private readonly keys: LinkKeys | null;

  constructor(opts: SupervisorOptions) {
    super();
    this.config = opts.config;
    this.runDir = resolve(opts.runDir);
    this.launcher = opts.launcher ?? { entry: defaultNodeEntry() };
    // Process start-up is CPU-bound: allow more for big clusters on small machines.
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 20_000 + 500 * opts.config.clients;
    mkdirSync(join(this.runDir, 'history'), { recursive: true });
    this.tracing = opts.trace ?? false;
    this.traced = this.tracing;
    this.traceMirror = new TraceMirror(opts.traceRun);
    this.links = opts.links ?? 'curve';
    this.keys = this.links === 'curve' ? generateLinkKeys() : null;
    this.nemesisSeed = opts.nemesisSeed ?? 1;
  }

  /**
   * The cluster's link keys, for the supervisor's owner in this process only (a test that must reach a node's
   * validator with well-formed links). Nothing writes them anywhere; they die with the supervisor.
   */
  get linkKeys(): LinkKeys | null {
    return this.keys;
  }

  // --- network nemesis ----------------------------------------------------------------------

  get nemesis(): NemesisState | null {
    return this.nemesisState;
  }

  /**
   * Resolves `spec` with the roles of this moment (which manager serves, which clients form each
   * half) and sends every node its complete rule set, replacing any previous nemesis. Throws, with
   * nothing applied, when a name fits no node. An empty spec heals.
   */
  setNemesis(spec: NemesisSpec): NemesisState | null {
    const managers = this.managers().map((m) => m.id);
    const primary = this.serving ?? this.managers().find((m) => m.role === 'primary')?.id ?? null;
    const backup = this.config.backup ? (managers.find((m) => m !== primary) ?? null) : null;
    const rules = resolveNemesis(spec, { primary, backup, managers, clients: this.clientIds() });
    if (rules.length === 0) {
      this.healAll();
      return null;
    }
    this.nemesisApplies++;
    this.nemesisRules = rulesPerNode(rules);
    this.nemesisState = { spec, rules, since: Date.now() };
    for (const n of this.nodes.values()) if (this.isLive(n)) this.sendTo(n, { type: 'nemesis', ...this.nemesisFor(n) });
    this.info('nemesis', `nemesis on: ${rules.map(describeRule).join('; ')}`);
    this.emit('nemesis', this.nemesisState);
    return this.nemesisState;
  }

  /** Every link back to normal (frames already delayed still arrive, in order). */
  healAll(): void {
    const was = this.nemesisState;
    this.nemesisState = null;
    this.nemesisRules = new Map();
    for (const n of this.nodes.values()) if (this.isLive(n)) this.sendTo(n, { type: 'nemesis', rules: [], seed: 0 });
    if (was) {
      this.info('nemesis', 'nemesis healed: every link back to normal');
      this.emit('nemesis', null);
    }
  }

  private nemesisFor(n: NodeHandle): NodeNemesis {
    const idNum = Number(n.id.slice(1)) + (n.id.startsWith('m') ? 0 : 1000);
    const seed = (Math.imul(this.nemesisSeed, 0x9e3779b1) ^ Math.imul(this.nemesisApplies, 0x85ebca6b) ^ Math.imul(idNum * 4099 + n.incarnation + 1, 0xc2b2ae35)) | 0;
    return { rules: this.nemesisRules.get(n.id) ?? [], seed };
  }

  // --- message tracing -------------------------------------------------------------------

  get isTracing(): boolean {
    return this.tracing;
  }

  /**
   * Turns message tracing on or off in every live node (and in nodes started later). A node that
   * traced before in the same process resumes its own clock; a new process starts from the clock
   * its predecessor reached (TraceMirror.startFor).
   */
  setTracing(on: boolean): void {
    if (on === this.tracing) return;
    this.tracing = on;
    this.traced ||= on;
    for (const n of this.nodes.values()) {
      if (!this.isLive(n)) continue;
      if (!on) this.sendTo(n, { type: 'trace', on: false });
      else if (n.traceProc === n.proc) this.sendTo(n, { type: 'trace', on: true });
      else {
        n.traceProc = n.proc;
        this.sendTo(n, { type: 'trace', on: true, clock: this.traceMirror.startFor(n.id) });
      }
    }
    this.info('trace', `message tracing ${on ? 'on' : 'off'}`);
  }

  // --- lifecycle of the whole cluster ---------------------------------------------------

  /** Spawns the managers, then the clients, and resolves when every node is ready. */
  async start(): Promise<number> {
    const t0 = performance.now();
    const { basePort, host, backup, clients } = this.config;
    this.add(MANAGER_IDS.primary, 'primary', `tcp://${host}:${basePort}`);
    if (backup) this.add(MANAGER_IDS.backup, 'backup', `tcp://${host}:${basePort + 1}`);
    // Fail fast, naming the port, rather than let a node retry its bind and die with "Address already in use".
    await assertPortsFree(host, clusterPorts(basePort, clients, backup));
    for (let i = 0; i < clients; i++) this.add(`c${i}`, 'client', `tcp://${host}:${basePort + 10 + i}`);
    // Managers first (a client's hello waits in its ZeroMQ queue until the manager has bound): with 64
    // clients on 2 cores, starting all 66 together starved the managers' start.
    await Promise.all(this.managers().map((n) => this.spawn(n)));
    await inWaves(this.clients(), startWindow(), (n) => this.spawn(n));
    const ms = performance.now() - t0;
    this.info('cluster', `cluster of ${this.nodes.size} nodes ready in ${ms.toFixed(0)} ms`);
    return ms;
  }

  /** Stops every node gracefully (SIGTERM), SIGKILLing any that does not exit in time. */
  async shutdown(graceMs = 3000): Promise<void> {
    this.closed = true;
    const live = [...this.nodes.values()].filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
    await Promise.all(live.map((n) => this.terminate(n, 'stop', graceMs)));
    // A node's last trace batch may still be in the control pipe when its exit is seen; the pipe closes
    // only after everything in it was read.
    if (this.traced) await Promise.all(live.map((n) => this.disconnected(n.proc, 1000)));
  }

  private disconnected(proc: ChildProcess | null, timeoutMs: number): Promise<void> {
    if (!proc?.connected) return Promise.resolve();
    return new Promise((done) => {
      const t = setTimeout(done, timeoutMs);
      proc.once('disconnect', () => {
        clearTimeout(t);
        done();
      });
    });
  }

  // --- breaking nodes ---------------------------------------------------------------------

  /** SIGKILL: the process gets no chance to flush anything. */
  async kill(id: string): Promise<void> {
    const n = this.node(id);
    if (!this.isLive(n)) throw new Error(`${id} is not running`);
    this.mark('kill', id);
    await this.terminate(n, 'kill', 0);
  }

  /** SIGTERM: a graceful stop. */
  async stop(id: string): Promise<void> {
    const n = this.node(id);
    if (!this.isLive(n)) throw new Error(`${id} is not running`);
    this.mark('stop', id);
    await this.terminate(n, 'stop', 3000);
  }

  /** Same id, same endpoint, new process. A running node is SIGKILLed first. */
  async reboot(id: string): Promise<void> {
    const n = this.node(id);
    if (this.isLive(n)) await this.terminate(n, 'reboot', 0);
    this.mark('reboot', id);
    n.restarts++;
    n.incarnation++;
    await this.spawn(n, 'rebooting');
  }

  async addClient(): Promise<string> {
    const index = this.clients().length;
    const n = this.add(`c${index}`, 'client', `tcp://${this.config.host}:${this.config.basePort + 10 + index}`);
    await this.spawn(n);
    if (this.workload) this.sendTo(n, { type: 'workload', spec: { ...this.workload, seed: this.workload.seed } });
    return n.id;
  }

  // --- workloads and single operations ---------------------------------------------------

  /** `only`: just these clients, for this once (the bench's throughput windows); rebooted or added clients are not given it. */
  setWorkload(spec: WorkloadSpec | null, only?: readonly string[]): void {
    if (!only) this.workload = spec;
    for (const n of this.clients()) if (this.isLive(n) && (!only || only.includes(n.id))) this.sendTo(n, { type: 'workload', spec });
  }

  /** One operation on one client, resolved with the client's own timing (a round of a scenario). */
  op(clientId: string, kind: 'read' | 'write' | 'random', page: number | 'missing', seed: number): Promise<OpDone> {
    const n = this.node(clientId);
    if (!this.isLive(n) || n.state !== 'up') return Promise.reject(new Error(`${clientId} is not up`));
    const id = this.nextOpCmd++;
    return new Promise((resolveOp, rejectOp) => {
      const onExit = (): void => {
        this.opWaiters.delete(id);
        rejectOp(new Error(`${clientId} exited with the operation in flight`));
      };
      n.proc?.once('exit', onExit);
      this.opWaiters.set(id, (r) => {
        n.proc?.off('exit', onExit);
        resolveOp(r);
      });
      this.sendTo(n, { type: 'op', id, kind, page, seed });
    });
  }

  // --- views --------------------------------------------------------------------------------

  nodeInfos(): NodeInfo[] {
    return [...this.nodes.values()].map((n) => ({
      id: n.id,
      role: n.role,
      state: n.state,
      pid: this.isLive(n) ? (n.proc?.pid ?? null) : null,
      endpoint: n.endpoint,
      epoch: n.epoch,
      upSince: n.upSince,
      restarts: n.restarts,
      lastExit: n.lastExit,
      dropped: n.telemetry ? Object.values(n.telemetry.dropped).reduce((a, b) => a + b, 0) : 0,
      rssBytes: n.telemetry?.rssBytes ?? null,
      nemesis: n.telemetry?.nemesis ?? null,
    }));
  }

  telemetryOf(id: string): Telemetry | null {
    return this.nodes.get(id)?.telemetry ?? null;
  }

  clients(): NodeHandle[] {
    return [...this.nodes.values()].filter((n) => n.role === 'client');
  }

  clientIds(): string[] {
    return this.clients().map((n) => n.id);
  }

  managers(): NodeHandle[] {
    return [...this.nodes.values()].filter((n) => n.role !== 'client');
  }

  historyDir(): string {
    return join(this.runDir, 'history');
  }

  // --- internals ------------------------------------------------------------------------------

  private add(id: string, role: NodeRole, endpoint: string): NodeHandle {
    const n: NodeHandle = {
      id,
      role,
      endpoint,
      proc: null,
      state: 'down',
      incarnation: 0,
      epoch: 1,
      upSince: null,
      restarts: 0,
      lastExit: null,
      ending: null,
      telemetry: null,
      stderrTail: [],
      ready: null,
      traceProc: null,
    };
    this.nodes.set(id, n);
    return n;
  }

  private nodeConfig(n: NodeHandle): NodeConfig {
    const { pages, pageSize, opTimeoutMs, heartbeatMs, heartbeatTimeoutMs, clientTimeoutMs, protocol } = this.config;
    // Recoverable memory is IVY's (its manager restores pages); an ISIS member gets a state transfer instead.
    const memory = protocol === 'ivy' ? (this.config.clientMemory ?? DEFAULT_CLIENT_MEMORY) : 'volatile';
    const common = {
      id: n.id,
      endpoint: n.endpoint,
      pages,
      pageSize,
      telemetryMs: telemetryMsFor(this.config.clients),
      protocol,
      links: this.links,
      // IVY nodes recover lost and duplicated frames (a lossy link, the nemesis); a healthy run never retransmits.
      recoverLoss: true,
      ...(this.tracing ? { trace: { clock: this.traceMirror.startFor(n.id) } } : {}),
      // A node (re)started under a nemesis has its rules from its first frame.
      ...(this.nemesisRules.has(n.id) ? { nemesis: this.nemesisFor(n) } : {}),
    };
    if (n.role !== 'client') {
      const peer = this.managers().find((m) => m.id !== n.id) ?? null;
      const home = n.id === MANAGER_IDS.primary;
      return {
        role: 'manager',
        ...common,
        epoch: home && n.incarnation === 0 ? 1 : this.highestEpoch,
        peer: peer && { id: peer.id, endpoint: peer.endpoint },
        // A rebooted home primary asks for its role back (the seed's behaviour); a rebooted backup resumes watching.
        start: !home ? 'backup' : n.incarnation === 0 ? 'primary' : 'rejoin',
        // A rebooted home seat whose peer is not running (both were down): no records survive to wait for.
        ...(home && n.incarnation > 0 && peer && !this.isLive(peer) ? { peerDown: true } : {}),
        heartbeatMs,
        heartbeatTimeoutMs,
        clientTimeoutMs,
        // A stalled request (a lost frame) has its step sent again after the clients' retry interval (retryMs below).
        redriveMs: Math.max(300, heartbeatTimeoutMs * 2),
        // ... or sooner: after the round trips of its steps (nodes/core/rto.ts), but never before this floor.
        minRedriveMs: DEFAULT_MIN_RETRY_MS,
        clients: this.clients().map((c) => ({ id: c.id, endpoint: c.endpoint, incarnation: c.incarnation, memory })),
      };
    }
    return {
      role: 'client',
      ...common,
      epoch: 1,
      managers: this.managers().map((m) => ({ id: m.id, endpoint: m.endpoint })),
      opTimeoutMs,
      // Five heartbeats per client timeout: eviction after the same silence as before, half the idle traffic of ten.
      heartbeatMs: Math.max(100, Math.floor(clientTimeoutMs / 5)),
      retryMs: Math.max(300, heartbeatTimeoutMs * 2),
      // Adaptive (nodes/core/rto.ts): srtt + 4 rttvar of the faults, doubled per retry, within [DEFAULT_MIN_RETRY_MS, retryMs].
      minRetryMs: DEFAULT_MIN_RETRY_MS,
      // Clients vote for the managers' authority with the managers' lease (quorum.ts); none without client timeouts.
      voteMs: clientTimeoutMs > 0 ? leaseMsFor(clientTimeoutMs) : 0,
      historyFile: join(this.historyDir(), `${n.id}.${n.incarnation}.jsonl`),
      incarnation: n.incarnation,
      memory,
      ...(memory !== 'volatile' ? { storeFile: this.storeFile(n.id) } : {}),
    };
  }

  /** A client's page segment: one per client id, kept across its reboots for the whole run. */
  storeFile(id: string): string {
    return join(this.runDir, 'pages', `${id}.seg`);
  }

  private spawn(n: NodeHandle, state: NodeState = 'starting'): Promise<void> {
    const { entry, execPath, env } = this.launcher;
    const execArgv = nodeExecArgv(n.id);
    const config = JSON.stringify(this.nodeConfig(n));
    const options = { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] as StdioOptions, serialization: 'json' as const, env: nodeEnv(env) };
    // From the start-up snapshot when there is a usable one: the same code, a third less start-up CPU.
    const snapshot = entry.endsWith('node.js') ? nodeSnapshot(entry, execArgv, execPath) : null;
    const proc =
      snapshot !== null
        ? spawn(process.execPath, [...execArgv, '--snapshot-blob', snapshot, config], options)
        : fork(entry, [config], { ...options, execArgv, ...(execPath ? { execPath } : {}) });
    n.proc = proc;
    n.traceProc = this.tracing ? proc : null;
    n.state = state;
    n.ending = null;
    n.telemetry = null;
    n.stderrTail = [];
    this.emit('change');
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        n.stderrTail.push(line);
        if (n.stderrTail.length > 20) n.stderrTail.shift();
        this.event('error', 'stderr', `${line}`, n.id);
      }
    });
    proc.on('message', (raw: unknown) => this.onNodeMessage(n, proc, raw));
    proc.on('error', (err) => this.event('error', 'spawn', `${n.id}: ${err.message}`, n.id));
    proc.on('exit', (code, signal) => this.onExit(n, proc, code, signal));
    return new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => {
        n.ready = null;
        rejectReady(new Error(`${n.id} not ready after ${this.readyTimeoutMs} ms${n.stderrTail.length ? `: ${n.stderrTail.slice(-3).join(' | ')}` : ''}`));
      }, this.readyTimeoutMs);
      n.ready = {
        resolve: () => {
          clearTimeout(timer);
          resolveReady();
        },
        reject: (e) => {
          clearTimeout(timer);
          rejectReady(e);
        },
      };
    });
  }

  private onNodeMessage(n: NodeHandle, proc: ChildProcess, raw: unknown): void {
    if (n.proc !== proc) return; // a message from a previous incarnation
    if (isLinkKeysRequest(raw)) {
      // Only on the pipe to the process we forked: the keys never leave this process any other way.
      if (this.keys !== null && proc.connected) proc.send({ type: 'linkKeys', keys: this.keys } satisfies LinkKeysMessage);
      else this.event('warn', 'control', `${n.id} asked for link keys, but this cluster runs plain links`, n.id);
      return;
    }
    // Trace batches (hundreds of tuples each while tracing) take a hand-checked fast path; zod decides the rest.
    const fast = fastTraceBatch(raw);
    const parsed = fast !== null ? ({ success: true, data: fast } as const) : FromNodeSchema.safeParse(raw);
    if (!parsed.success) {
      this.event('warn', 'control', `malformed control message from ${n.id} dropped: ${parsed.error.issues[0]?.message ?? ''}`, n.id);
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'ready':
        n.state = 'up';
        n.upSince = Date.now();
        this.mark('up', n.id);
        this.info('up', `${n.id} up (pid ${proc.pid}) at ${n.endpoint}`, n.id);
        n.ready?.resolve();
        n.ready = null;
        this.emit('change');
        if (this.workload && n.role === 'client' && n.incarnation > 0) this.sendTo(n, { type: 'workload', spec: this.workload });
        break;
      case 'role':
        this.onRole(n, msg);
        break;
      case 'telemetry':
        this.noteBlocked(n.id, n.telemetry?.isisRegistry?.blocked ?? null, msg.isisRegistry?.blocked ?? null);
        n.telemetry = msg;
        n.epoch = msg.epoch;
        this.emit('telemetry', msg);
        break;
      case 'alive':
        // Nothing but the memory changed since the node's last telemetry (no new latencies either: not re-emitted).
        if (n.telemetry) n.telemetry = { ...n.telemetry, rssBytes: msg.rssBytes, latency: undefined };
        break;
      case 'opDone':
        this.opWaiters.get(msg.id)?.(msg);
        this.opWaiters.delete(msg.id);
        break;
      case 'workloadDone':
        this.emit('workloadDone', msg.id);
        break;
      case 'log':
        this.event(msg.level, 'node', msg.message, n.id);
        break;
      case 'trace':
        // Batches still in flight when tracing went off are kept: they are frames that happened.
        if (n.traceProc === proc) this.emit('trace', this.traceMirror.resolve(n.id, msg.records));
        break;
    }
  }

  private onRole(n: NodeHandle, msg: Extract<FromNode, { type: 'role' }>): void {
    const before = n.role;
    n.role = msg.role;
    n.epoch = msg.epoch;
    this.highestEpoch = Math.max(this.highestEpoch, msg.epoch);
    if (msg.role === 'primary' && this.serving !== n.id) {
      const from = this.serving;
      this.serving = n.id;
      if (from !== null) {
        const kind = n.id === MANAGER_IDS.primary ? 'handback' : 'failover';
        this.mark(kind, n.id, msg.atNs);
        this.info(kind, `${n.id} is primary at epoch ${msg.epoch} (${msg.reason})`, n.id);
      }
    } else if (before !== msg.role) {
      this.info('role', `${n.id} is ${msg.role} at epoch ${msg.epoch} (${msg.reason})`, n.id);
    }
    this.emit('change');
  }

  private onExit(n: NodeHandle, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (n.proc !== proc) return;
    n.lastExit = { code, signal };
    n.upSince = null;
    const why = n.ending;
    n.state = why === 'stop' ? 'stopped' : 'down';
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (why === null && !this.closed) {
      // Nobody here asked for this: killed from outside, or crashed.
      this.mark('down', n.id);
      this.event('warn', 'down', `${n.id} (pid ${proc.pid}) died unexpectedly: ${how}`, n.id);
    } else {
      this.info(why === 'stop' ? 'stopped' : 'down', `${n.id} (pid ${proc.pid}) ${why === 'stop' ? 'stopped' : 'is down'}: ${how}`, n.id);
    }
    n.ready?.reject(new Error(`${n.id} exited before it was ready (${how})${n.stderrTail.length ? `: ${n.stderrTail.slice(-3).join(' | ')}` : ''}`));
    n.ready = null;
    this.emit('change');
  }

  private terminate(n: NodeHandle, why: 'kill' | 'stop' | 'reboot', graceMs: number): Promise<void> {
    const proc = n.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    n.ending = why;
    return new Promise((done) => {
      proc.once('exit', () => done());
      if (graceMs === 0) {
        proc.kill('SIGKILL');
        return;
      }
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      proc.once('exit', () => clearTimeout(t));
    });
  }

  private sendTo(n: NodeHandle, msg: ToNode): void {
    if (n.proc?.connected) n.proc.send(msg);
  }

  private isLive(n: NodeHandle): boolean {
    return !!n.proc && n.proc.exitCode === null && n.proc.signalCode === null;
  }

  private node(id: string): NodeHandle {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id} (nodes: ${[...this.nodes.keys()].join(', ')})`);
    return n;
  }

  private mark(kind: Mark['kind'], node: string, atNs = Number(process.hrtime.bigint())): void {
    this.emit('mark', { t: Date.now(), kind, node, atNs });
  }

  /** A write-update registry refusing view changes for want of a quorum (and getting over it): into the event log. */
  private noteBlocked(id: string, was: Blocked | null, now: Blocked | null): void {
    if (now && (!was || was.view !== now.view || was.have !== now.have || was.of !== now.of)) {
      this.event('warn', 'view', `${id} refuses the next view: ${now.have} of view ${now.view}'s ${now.of} members answer, no quorum; writes wait until a quorum of it is heard again`, id);
    } else if (!now && was) {
      this.info('view', `${id} has a quorum for a view change again: writes go on`, id);
    }
  }

  private info(kind: string, message: string, node?: string): void {
    this.event('info', kind, message, node);
  }

  private event(level: ClusterEvent['level'], kind: string, message: string, node?: string): void {
    this.emit('event', { t: Date.now(), level, kind, message, ...(node ? { node } : {}) });
  }
}
