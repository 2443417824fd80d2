// A seeded, deterministic simulator of the WHOLE cluster: the manager pair (two
// ManagerRoleCores, seats m0 and m1) and N ClientCores, wired the way the runtime
// wires them (nodes/runtime/{client,manager}-node.ts) with the supervisor's
// per-node configs (nodes/control/supervisor.ts nodeConfig), on a virtual clock.
//
// What is modelled:
// - every node is a core fed by message deliveries and periodic ticks (managers every
//   max(1, heartbeatMs / 4) ms, clients every 50-100 ms, both jittered); each process has
//   its own clock origin (performance.now() starts near zero in a fresh process);
// - timing: the cluster defaults (ClusterConfigSchema) through the supervisor's formulas,
//   or (a third of the seeds) the faster 25 / 150 ms heartbeat of an earlier default;
// - links: random per-message delays, mostly fast with a slow tail (sometimes longer than
//   the heartbeat timeout, so failovers also happen with nobody dead). 'random' reorders
//   links (except member lists and evictions, see `barriers`); 'fifo' keeps each link
//   (one sender process to one receiver) in order, as ZeroMQ over TCP does. A send to a
//   client whose endpoint the sender has not learned is dropped, as the runtime does;
// - processes: start-up delay before a node binds (frames to it wait in the sender's
//   queue); SIGKILL (core discarded, frames to it dropped, a random suffix of what it sent
//   in its last ~1 ms lost with its I/O thread, and the peer manager's ZeroMQ disconnect
//   event -> peerConnectionLost); restart (fresh core; supervisor config: start mode,
//   highest epoch, client list); SIGSTOP / SIGCONT of a manager (frames wait, then arrive
//   after a clock jump, racing its overdue timer); client crash and restart as
//   incarnation + 1 (same endpoint: late frames to the old incarnation reach the new
//   one); optionally frames to a down node wait in the sender's queue until it returns;
// - workloads: each client runs one sequential op at a time (writes store unique tokens,
//   reads decode them) and records a HistoryOp history; an op in flight on a crashed
//   client is 'unknown'.
//
// Oracles: single writer (SWMR) among live clients after every event; no op outlives
// opTimeoutMs; no client follows a manager that does not serve for more than a second;
// no takeover waits for a client the primary had already declared dead; no live client
// is declared dead by its own primary; no failure (other than a page lost with a crashed
// client) once the cluster has had time to recover; the cluster goes quiet after the
// faults (one primary with the highest epoch, the other manager its backup, every client
// following it, no request in flight, and over FIFO links the backup's replica equal to
// the primary's records); DESIGN §2 invariants over the serving records and the live page
// tables; a final read of every page succeeds (or fails only on a page lost with a
// crashed client); and the history, final reads included, is linearizable.
import { ClientCore, type ClientConfig, type RecoveredEntry } from '../../nodes/core/client.js';
import { checkInvariants } from '../../nodes/core/invariants.js';
import { leaseMsFor, type ManagerCore } from '../../nodes/core/manager.js';
import { ManagerRoleCore, type ManagerRoleConfig, type RoleOutput } from '../../nodes/core/manager-role.js';
import { mulberry32, pick, type Rng } from '../../nodes/core/random.js';
import { DEFAULT_MIN_RETRY_MS } from '../../nodes/core/rto.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { ClientOutput, OpRequest, OpResult, RecordView } from '../../nodes/core/types.js';
import { ClusterConfigSchema, type ClusterConfig } from '../../nodes/control/api.js';
import { checkHistory, type CheckResult } from '../../nodes/control/history/linearizability.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';
import { EventQueue } from './simulator.js';
import { decode, encode } from '../../nodes/protocol/codec.js';
import type { ClientMemory, Message, NodeId } from '../../nodes/protocol/messages.js';
import type { DelayModel, Ordering } from './simulator.js';

const MS = 1_000_000; // virtual time is in nanoseconds, like the history file

// --- configuration ---------------------------------------------------------------------

export interface PairTiming {
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  clientTimeoutMs: number;
  clientHeartbeatMs: number;
  retryMs: number;
  opTimeoutMs: number;
  /** Manager tick interval (runtime: max(1, heartbeatMs / 4)). */
  managerTickMs: number;
  /** Client tick interval (runtime: max(5, min(heartbeatMs / 2, opTimeoutMs / 10))). */
  clientTickMs: number;
}

/** The cluster defaults (ClusterConfigSchema), derived the way supervisor nodeConfig and the node shells derive them. */
export function supervisorTiming(base: Pick<ClusterConfig, 'heartbeatMs' | 'heartbeatTimeoutMs' | 'clientTimeoutMs' | 'opTimeoutMs'> = ClusterConfigSchema.parse({})): PairTiming {
  const clientHeartbeatMs = Math.max(100, Math.floor(base.clientTimeoutMs / 10));
  return {
    heartbeatMs: base.heartbeatMs,
    heartbeatTimeoutMs: base.heartbeatTimeoutMs,
    clientTimeoutMs: base.clientTimeoutMs,
    opTimeoutMs: base.opTimeoutMs,
    clientHeartbeatMs,
    retryMs: Math.max(300, base.heartbeatTimeoutMs * 2),
    managerTickMs: Math.max(1, Math.floor(base.heartbeatMs / 4)),
    clientTickMs: Math.max(5, Math.min(Math.floor(clientHeartbeatMs / 2), Math.floor(base.opTimeoutMs / 10))),
  };
}

export const FAULT_KINDS = [
  'none',
  'primary-kill',
  'primary-reboot',
  'stop-cont',
  'backup-kill',
  'alternate',
  'both-down',
  'client-crash',
  'mixed',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Network partitions, cut at the sender as the nemesis does (frames already on the wire still arrive;
 * connections stay up, so nobody sees a disconnect). `primary-mute`: only the primary's frames to the backup are lost.
 */
export const PARTITION_PRESETS = ['isolate-primary-backup', 'isolate-primary', 'split-clients', 'primary-mute'] as const;
export type PartitionPreset = (typeof PARTITION_PRESETS)[number];

/** Who a fault hits: a seat, a client, the role holder at that moment, or a target bound by an earlier step. */
export type Target = 'primary' | 'backup' | 'any-client' | NodeId | `$${string}`;

export interface FaultStep {
  atMs: number;
  action: 'kill' | 'restart' | 'stop' | 'cont' | 'crash' | 'client-restart' | 'partition' | 'heal';
  target: Target;
  /** For 'partition': which links to cut (resolved against the roles at that moment); 'heal' restores all. */
  preset?: PartitionPreset;
  /** Name the resolved node so a later step can refer to it as `$name`. */
  bind?: string;
}

export interface PairOptions {
  clients: number;
  pages: number;
  pageSize: number;
  readRatio: number;
  /** Mean pause between a client's ops (exponential). */
  thinkMeanMs: number;
  ordering: Ordering;
  /** Per-message network delay, in nanoseconds. */
  delay: DelayModel;
  faultKind: FaultKind;
  /** The fault schedule (derived from the seed and faultKind unless given). */
  schedule: FaultStep[];
  /** Process start-up time (spawn to bound socket), uniform in this range. */
  bootMs: [number, number];
  timing: PairTiming;
  /** Chance that a message to a down node waits in its sender's ZeroMQ queue and arrives after the node restarts. */
  requeueProb: number;
  /** Messages a killed node sent this recently may die with its ZeroMQ I/O thread. */
  killDropWindowMs: number;
  /** Chance that a resumed (SIGCONT) manager runs its overdue timer before the frames that queued up. */
  tickFirstOnResume: number;
  /**
   * With ordering 'random', messages of these types are never overtaken on their link by later ones
   * from the same sender process. The cores cannot order them without sequence numbers and ZeroMQ
   * never reorders a link: a member list must reach a client before the forwards that rely on it
   * (else the page is sent to an unknown endpoint and dropped), an evict before the welcome that
   * follows it (else a stale evict wipes a page table that already holds acknowledged writes).
   */
  barriers: Message['t'][];
  /** Round-trip every message through the real codec (msgpack + zod validation). */
  codec: boolean;
  /** After the last fault, this long for the cluster to recover; ops started later must not time out. */
  recoveryMs: number;
  /** Workload keeps running this long after the recovery point. */
  tailMs: number;
  /** After the workload stops: how long the cluster may take to go quiet. */
  settleMs: number;
  /** Keep a compact trace of the last N events (0 = none). */
  traceLast: number;
  maxEvents: number;
  shrinkTimeMs: number;
  makeClient?: (cfg: ClientConfig) => ClientCore;
  makeManager?: (cfg: ManagerRoleConfig) => ManagerRoleCore;
  /**
   * Client memory mode (default volatile). Recoverable clients write what they own to a simulated page store
   * before acting on a step's outputs (as client-node.ts does) and boot from it; a page held by a crashed
   * client that is not rebooted fails with "held by" instead of "lost".
   */
  memory?: ClientMemory;
  /** Sees every frame handed to a running core (tests of the network model). */
  onDeliver?: (d: Delivery) => void;
  /**
   * The lossy nemesis, at the sending transport: the chance that a frame is never sent, and that it is sent
   * twice in a row (both copies on the link, in order). Drawn from their own stream, only when above 0, so
   * every seed replays unchanged without them.
   */
  loss?: number;
  dup?: number;
  /**
   * Clients and managers recover lost and duplicated frames (ClientConfig / ManagerRoleConfig recoverLoss).
   * On unless false, as in the runtime (nodes/runtime/config.ts); false is the mutant of the lossy sweep.
   */
  recoverLoss?: boolean;
  /** The serving manager's re-drive interval under recoverLoss (ManagerConfig.redriveMs; default the clients' retryMs, as the supervisor sets it). */
  redriveMs?: number;
  /** The floor of the adaptive retry and re-drive intervals (rto.ts); default the supervisor's; null: fixed intervals, as before. */
  minRetryMs?: number | null;
  /**
   * A slow link: extra delay (ms) for a frame sent at `atMs` (virtual time), on top of the delay model. FIFO
   * links queue what follows behind it, as a stalled TCP connection does. Drawn from no stream: replays unchanged.
   */
  slowLink?: (from: NodeId, to: NodeId, msg: Message, atMs: number) => number;
}

export interface Delivery {
  /** Send order, cluster-wide. */
  id: number;
  from: NodeId;
  fromIncarnation: number;
  to: NodeId;
  msg: Message;
  sentNs: number;
  atNs: number;
}

export interface PairStats {
  events: number;
  messages: number;
  dropped: Record<string, number>;
  /** Partitions put in force. */
  partitions: number;
  ops: number;
  ok: number;
  failed: number;
  unknown: number;
  hits: number;
  crossReads: number;
  kills: number;
  restarts: number;
  stops: number;
  clientCrashes: number;
  takeovers: number;
  handbacks: number;
  maxEpoch: number;
  /** Times the highest epoch any manager claimed went up (every candidacy bumps it): a leadership duel shows here. */
  epochChanges: number;
  /** Of those, while a partition was in force (from the cut to the heal). */
  partitionEpochChanges: number;
  /** Managers that became primary while a partition was in force. */
  partitionTakeovers: number;
  /** Of those, by the manager that was not the primary when the cut came (the two took turns). */
  partitionTakeoversByOther: number;
  endMs: number;
}

export interface PairResult {
  ok: boolean;
  seed: number;
  options: PairOptions;
  problems: string[];
  history: HistoryOp[];
  check: CheckResult;
  stats: PairStats;
  /** Ops that failed because their page was lost with a crashed client. */
  lostOps: number;
  trace?: string[];
}

const U = (r: Rng, lo: number, hi: number): number => lo + r() * (hi - lo);

/** The per-seed configuration: everything derives from the seed, so a failure replays exactly. */
export function pairOptionsForSeed(seed: number, kind?: FaultKind): PairOptions {
  const r = mulberry32(Math.imul(seed ^ 0x5a17, 0x9e3779b1) ^ 0x7a11);
  const faultKind = kind ?? FAULT_KINDS[seed % FAULT_KINDS.length]!;
  const us = 1000;
  // The cluster defaults, or (one seed in three) the faster failover of an earlier default: 25 / 150 ms.
  const fast = r() < 1 / 3;
  const timing = fast ? supervisorTiming({ heartbeatMs: 25, heartbeatTimeoutMs: 150, clientTimeoutMs: 2000, opTimeoutMs: 5000 }) : supervisorTiming();
  // Localhost ZeroMQ: ~50-500 µs, with a slow tail (GC, a loaded machine); sometimes a tail long
  // enough to outlast the heartbeat timeout, so failovers also happen with nobody dead.
  const loaded = r() < 0.1;
  const delays: DelayModel[] = [
    { kind: 'mixed', meanNs: Math.round(U(r, 50, 500)) * us, slowProb: U(r, 0.01, 0.15), slowMaxNs: Math.round(loaded ? U(r, 0.4, 1.4) * timing.heartbeatTimeoutMs : U(r, 2, 40)) * MS },
    { kind: 'exponential', meanNs: Math.round(U(r, 100, 2000)) * us },
    { kind: 'uniform', minNs: 20 * us, maxNs: Math.round(U(r, 200, 5000)) * us },
  ];
  const delay = delays[r() < 0.6 ? 0 : pick(r, delays.length)]!;
  // The runtime ticks clients every 100 ms; ticking faster only moves timeouts and retries earlier.
  if (r() < 0.5) timing.clientTickMs = 50;
  const o: PairOptions = {
    clients: 2 + pick(r, 4),
    pages: 1 + pick(r, 4),
    pageSize: TOKEN_SPAN,
    readRatio: U(r, 0.2, 0.8),
    thinkMeanMs: [1, 5, 20, 60][pick(r, 4)]!,
    ordering: seed % 2 === 0 ? 'fifo' : 'random',
    delay,
    faultKind,
    schedule: [],
    bootMs: [30, 250],
    timing,
    requeueProb: [0, 0.5, 1][pick(r, 3)]!,
    barriers: ['members', 'evict'],
    killDropWindowMs: 1,
    tickFirstOnResume: 0.5,
    codec: pick(r, 8) === 0,
    recoveryMs: 2 * timing.clientTimeoutMs + 1500,
    tailMs: U(r, 300, 1500),
    settleMs: 3 * timing.opTimeoutMs,
    traceLast: 0,
    maxEvents: 3_000_000,
    shrinkTimeMs: 200,
  };
  o.schedule = planFaults(faultKind, mulberry32(seed ^ 0xfa017));
  return o;
}

/** A fault schedule of the given kind. Steps that would break the kind's rules are skipped when they run. */
export function planFaults(kind: FaultKind, r: Rng): FaultStep[] {
  const steps: FaultStep[] = [];
  let t = U(r, 400, 900); // the cluster has started and the workload runs
  let n = 0;
  const bind = (): string => `v${n++}`;
  // Restart delays: sometimes before the backup notices (150 ms), sometimes after the takeover completes.
  const restartDelay = (): number => [U(r, 5, 140), U(r, 150, 600), U(r, 600, 2500)][pick(r, 3)]!;
  const gap = (): number => U(r, 200, 1500);
  const managerKill = (target: 'primary' | 'backup', restart: boolean): void => {
    const v = bind();
    steps.push({ atMs: t, action: 'kill', target, bind: v });
    if (restart) {
      const d = restartDelay();
      steps.push({ atMs: t + d, action: 'restart', target: `$${v}` });
      t += d;
    }
    t += gap();
  };
  const stopCont = (): void => {
    const v = bind();
    // Shorter than the heartbeat timeout, long enough for a takeover, or longer than the client timeout.
    const d = [U(r, 5, 140), U(r, 150, 1500), U(r, 1500, 3500)][pick(r, 3)]!;
    steps.push({ atMs: t, action: 'stop', target: r() < 0.75 ? 'primary' : 'backup', bind: v });
    steps.push({ atMs: t + d, action: 'cont', target: `$${v}` });
    t += d + gap();
  };
  const clientCrash = (): void => {
    const v = bind();
    steps.push({ atMs: t, action: 'crash', target: 'any-client', bind: v });
    if (r() < 0.7) steps.push({ atMs: t + [U(r, 1, 150), U(r, 150, 1500), U(r, 1500, 3000)][pick(r, 3)]!, action: 'client-restart', target: `$${v}` });
    t += gap();
  };
  switch (kind) {
    case 'none':
      break;
    case 'primary-kill':
      managerKill('primary', r() < 0.5);
      break;
    case 'primary-reboot':
      for (let k = 1 + pick(r, 3); k > 0; k--) managerKill('primary', true);
      break;
    case 'stop-cont':
      for (let k = 1 + pick(r, 3); k > 0; k--) stopCont();
      break;
    case 'backup-kill':
      for (let k = 1 + pick(r, 2); k > 0; k--) managerKill('backup', true);
      break;
    case 'alternate':
      for (let k = 2 + pick(r, 3), i = 0; i < k; i++) managerKill(i % 2 === 0 ? 'primary' : 'backup', true);
      break;
    case 'both-down': {
      const a = bind();
      const b = bind();
      steps.push({ atMs: t, action: 'kill', target: 'primary', bind: a });
      const second = t + [U(r, 0, 100), U(r, 100, 400), U(r, 400, 2500)][pick(r, 3)]!;
      steps.push({ atMs: second, action: 'kill', target: 'backup', bind: b });
      const first = r() < 0.5 ? a : b;
      const other = first === a ? b : a;
      const up = second + U(r, 20, 1500);
      steps.push({ atMs: up, action: 'restart', target: `$${first}` });
      if (r() < 0.6) steps.push({ atMs: up + U(r, 10, 2500), action: 'restart', target: `$${other}` });
      break;
    }
    case 'client-crash':
      for (let k = 1 + pick(r, 2); k > 0; k--) clientCrash();
      break;
    case 'mixed':
      for (let k = 2 + pick(r, 4); k > 0; k--) {
        const c = pick(r, 5);
        if (c === 0) managerKill('primary', true);
        else if (c === 1) managerKill('backup', true);
        else if (c === 2) stopCont();
        else if (c === 3) clientCrash();
        else {
          // Overlapping faults: a client crash while a manager is down or paused.
          const v = bind();
          steps.push({ atMs: t, action: r() < 0.5 ? 'kill' : 'stop', target: 'primary', bind: v });
          const w = bind();
          steps.push({ atMs: t + U(r, 0, 300), action: 'crash', target: 'any-client', bind: w });
          const d = restartDelay();
          steps.push({ atMs: t + d, action: 'restart', target: `$${v}` });
          steps.push({ atMs: t + d, action: 'cont', target: `$${v}` });
          if (r() < 0.7) steps.push({ atMs: t + U(r, 50, 2500), action: 'client-restart', target: `$${w}` });
          t += d + gap();
        }
      }
      break;
  }
  return steps.sort((a, b) => a.atMs - b.atMs);
}

// --- the event queue ---------------------------------------------------------------------

interface Envelope {
  id: number;
  from: NodeId;
  /** Incarnation of the sending process: its ZeroMQ queues die with it. */
  fromInc: number;
  to: NodeId;
  msg: Message;
  sentNs: number;
  done: boolean;
}

type SimEvent =
  | { k: 'deliver'; env: Envelope }
  | { k: 'tick'; id: NodeId; gen: number }
  | { k: 'boot'; id: NodeId; inc: number }
  | { k: 'op'; id: NodeId; inc: number }
  | { k: 'fault'; step: FaultStep }
  /** The runtime's ZeroMQ disconnect event on the DEALER to the peer manager (its process died). */
  | { k: 'disconnect'; id: NodeId; inc: number }
  | { k: 'poll' };

function sampleDelay(r: Rng, d: DelayModel): number {
  const exp = (mean: number): number => -Math.log(1 - r()) * mean;
  let ns: number;
  if (d.kind === 'uniform') ns = d.minNs + r() * (d.maxNs - d.minNs);
  else if (d.kind === 'exponential') ns = exp(d.meanNs);
  else ns = r() < d.slowProb ? r() * d.slowMaxNs : exp(d.meanNs);
  return Math.max(1000, Math.round(ns));
}

// --- processes ------------------------------------------------------------------------------

type ProcState = 'starting' | 'up' | 'stopped' | 'down';

interface Proc {
  id: NodeId;
  endpoint: string;
  /** Process incarnation: the supervisor's restart count (a client's protocol incarnation too). */
  inc: number;
  state: ProcState;
  /** Virtual time of spawn: the process's clock origin. */
  spawnNs: number;
  /** Frames that reached a starting or stopped process: handed over when it runs. */
  held: Envelope[];
  /** Recent sends, for the ZeroMQ I/O-thread loss on SIGKILL. */
  recent: Envelope[];
  /** Invalidates scheduled ticks (a stopped process's timer does not fire). */
  tickGen: number;
}

interface ManagerProc extends Proc {
  kind: 'manager';
  core: ManagerRoleCore | null;
  /** A disconnect event that fired while the process was stopped: it runs on SIGCONT. */
  disconnectHeld: boolean;
}

interface Outstanding {
  op: OpRequest;
  token: string | null;
  rec: HistoryOp;
  final: boolean;
  /** Its client was SIGSTOPped while it ran: it may outlast the op timeout. */
  paused?: boolean;
}

interface ClientProc extends Proc {
  kind: 'client';
  core: ClientCore | null;
  /** The manager listed us: the runtime reports ready and the supervisor starts the workload. */
  ready: boolean;
  nextOpId: number;
  nextToken: number;
  current: Outstanding | null;
  /** Pages still to read in the final sweep. */
  finalReads: number[];
  opScheduled: boolean;
}

const MAX_PROBLEMS = 25;

export function runPairSeed(seed: number, overrides: Partial<PairOptions> = {}): PairResult {
  const base = pairOptionsForSeed(seed, overrides.faultKind);
  const o: PairOptions = { ...base, ...overrides };
  if (overrides.faultKind !== undefined && overrides.schedule === undefined) o.schedule = base.schedule;
  const T = o.timing;
  // Independent streams: changing the workload does not perturb the network schedule, and vice versa.
  const net = mulberry32(seed ^ 0x6e6574);
  const work = mulberry32(seed ^ 0x776b6c);
  const sched = mulberry32(seed ^ 0x736368);
  const lossy = mulberry32(seed ^ 0x6c6f7373);
  const loss = o.loss ?? 0;
  const dup = o.dup ?? 0;

  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const history: HistoryOp[] = [];
  const stats: PairStats = {
    events: 0,
    messages: 0,
    dropped: {},
    partitions: 0,
    ops: 0,
    ok: 0,
    failed: 0,
    unknown: 0,
    hits: 0,
    crossReads: 0,
    kills: 0,
    restarts: 0,
    stops: 0,
    clientCrashes: 0,
    takeovers: 0,
    handbacks: 0,
    maxEpoch: 1,
    epochChanges: 0,
    partitionEpochChanges: 0,
    partitionTakeovers: 0,
    partitionTakeoversByOther: 0,
    endMs: 0,
  };
  const drop = (why: string): void => {
    stats.dropped[why] = (stats.dropped[why] ?? 0) + 1;
  };
  const traceBuf: string[] = [];
  const tracing = o.traceLast > 0;
  let nowNs = 0;
  const trace = (line: () => string): void => {
    if (!tracing) return;
    traceBuf.push(`${(nowNs / MS).toFixed(3).padStart(10)}ms ${line()}`);
    if (traceBuf.length > o.traceLast) traceBuf.shift();
  };

  const queue = new EventQueue<SimEvent>();
  const linkClock = new Map<string, number>();
  let nextEnvelope = 1;

  // The supervisor's view: highest epoch any manager reported, each client's incarnation.
  let highestEpoch = 1;
  let firstCrashNs: number | null = null;
  let lastFaultNs = 0;
  let workloadUntilNs = Infinity;

  const managers: ManagerProc[] = (['m0', 'm1'] as const).map((id, i) => ({
    kind: 'manager',
    id,
    endpoint: `tcp://127.0.0.1:${7000 + i}`,
    inc: 0,
    state: 'down',
    spawnNs: 0,
    held: [],
    recent: [],
    tickGen: 0,
    core: null,
    disconnectHeld: false,
  }));
  const clients: ClientProc[] = Array.from({ length: o.clients }, (_, i) => ({
    kind: 'client',
    id: `c${i}`,
    endpoint: `tcp://127.0.0.1:${7010 + i}`,
    inc: 0,
    state: 'down',
    spawnNs: 0,
    held: [],
    recent: [],
    tickGen: 0,
    core: null,
    ready: false,
    nextOpId: 1,
    nextToken: 1,
    current: null,
    finalReads: [],
    opScheduled: false,
  }));
  const procs = new Map<NodeId, ManagerProc | ClientProc>([...managers, ...clients].map((p) => [p.id, p]));
  /** Messages to a down node, waiting in a live sender's ZeroMQ queue for the node to come back. */
  const reconnect = new Map<NodeId, Envelope[]>();

  const clockOf = (p: Proc): number => (nowNs - p.spawnNs) / MS;
  const live = (p: Proc): boolean => p.state === 'up' || p.state === 'stopped';

  // --- sending ---

  /** The links cut by the partition in force (sender, receiver), or null. */
  let cut: ((from: NodeId, to: NodeId) => boolean) | null = null;
  /** When the last partition healed (or Infinity while one is in force): some liveness oracles give it time. */
  let healedAtNs = -Infinity;
  /** The primary when the partition in force was put in (its presets are drawn around it). */
  let primaryAtCut: NodeId | null = null;

  const post = (p: Proc, to: NodeId, msg: Message): void => {
    stats.messages++;
    if (cut?.(p.id, to)) {
      drop('partition');
      trace(() => `${p.id} → ${to} ${msg.t} lost to the partition`);
      return;
    }
    let m = msg;
    if (o.codec) {
      const d = decode(encode(msg));
      if (!d.ok) {
        problem(`codec: ${p.id}'s ${msg.t} to ${to} does not survive the codec: ${d.reason} ${d.detail}`);
        return;
      }
      m = d.msg;
    }
    if (loss > 0 && lossy() < loss) {
      drop('nemesis_loss');
      trace(() => `nemesis loses ${p.id} → ${to} ${describeMsg(m)}`);
      return;
    }
    const twice = dup > 0 && lossy() < dup;
    const env: Envelope = { id: nextEnvelope++, from: p.id, fromInc: p.inc, to, msg: m, sentNs: nowNs, done: false };
    let at = nowNs + sampleDelay(net, o.delay) + Math.round((o.slowLink?.(p.id, to, m, nowNs / MS) ?? 0) * MS);
    // A link is one sender process to one receiver: a restarted sender's frames may overtake its
    // predecessor's (they travel over a new connection).
    const link = `${p.id}#${p.inc}>${to}`;
    if (o.ordering === 'fifo') {
      at = Math.max(at, (linkClock.get(link) ?? 0) + 1);
      linkClock.set(link, at);
    } else {
      at = Math.max(at, (linkClock.get(link) ?? 0) + 1);
      if (o.barriers.includes(m.t)) linkClock.set(link, at);
    }
    p.recent.push(env);
    if (p.recent.length > 64) p.recent.splice(0, p.recent.length - 64);
    queue.push(at, { k: 'deliver', env });
    if (twice) {
      // The same frame sent again right behind the original, on the same link.
      stats.dropped['nemesis_dup'] = (stats.dropped['nemesis_dup'] ?? 0) + 1;
      const copy: Envelope = { ...env, id: nextEnvelope++ };
      const at2 = Math.max(at + 1, (linkClock.get(link) ?? 0) + 1);
      if (o.ordering === 'fifo' || o.barriers.includes(m.t)) linkClock.set(link, at2);
      p.recent.push(copy);
      queue.push(at2, { k: 'deliver', env: copy });
    }
  };

  // Liveness: a candidate that had the primary's client list must not wait clientTimeoutMs for the report
  // of a client that died long before (the primary evicted it; waiting again only delays every failover).
  const candidacy = new Map<NodeId, { since: number; informed: boolean }>();
  /** Clients the serving primary declared dead (silent for clientTimeoutMs), while they were down. */
  const evictedAt = new Map<NodeId, number>();
  /** When each manager last resumed from SIGSTOP (it heard nothing while stopped). */
  const resumedAt = new Map<NodeId, number>();
  const checkTakeoverWait = (p: ManagerProc, reason: string): void => {
    const c = candidacy.get(p.id);
    const silent = /silent: (.*)$/.exec(reason)?.[1]?.split(', ') ?? [];
    if (!c?.informed || silent.length === 0) return;
    for (const id of silent) {
      const evicted = evictedAt.get(id);
      // Running (not stopped, not restarted) since the eviction.
      // The primary's syncs stopped listing it (within a full-sync period of 500 ms) over a whole client timeout.
      const heard = evicted !== undefined && p.spawnNs < evicted && (resumedAt.get(p.id) ?? 0) < evicted && evicted + (T.clientTimeoutMs + 1000) * MS < c.since;
      if (heard) problem(`slow takeover: ${p.id} waited ${((nowNs - c.since) / MS).toFixed(0)} ms for ${id}, which the primary had declared dead at ${(evicted / MS).toFixed(0)} ms`);
    }
  };

  const applyManager = (p: ManagerProc, out: RoleOutput[]): void => {
    const core = p.core!;
    for (const x of out) {
      if (x.type === 'send') {
        // manager-node.ts: the peer's endpoint is configured, a client's comes from the core.
        const peer = managers.find((m) => m.id !== p.id)!;
        if (x.to !== peer.id && core.endpointOf(x.to) === undefined) {
          drop('unknown_peer');
          trace(() => `${p.id} cannot send ${x.msg.t} to unknown ${x.to}`);
          continue;
        }
        trace(() => `${p.id} → ${x.to} ${describeMsg(x.msg)}`);
        const dead = procs.get(x.to);
        const peerCore = otherManager(p).core;
        const current = core.currentRole === 'primary' && !(peerCore && live(otherManager(p)) && peerCore.currentEpoch > core.currentEpoch);
        if (x.msg.t === 'evict' && x.msg.reason.startsWith('silent') && current && dead?.state === 'down') evictedAt.set(x.to, nowNs);
        // A client that is up and following this very primary was not silent: the primary was (paused).
        // Unless the client itself was paused until a moment ago: then its silence was real.
        const victim = dead?.kind === 'client' ? dead : undefined;
        const justResumed =
          victim !== undefined &&
          (nowNs - (resumedAt.get(victim.id) ?? -Infinity) < (T.clientTimeoutMs + T.clientHeartbeatMs) * MS ||
            nowNs - healedAtNs < (T.clientTimeoutMs + T.clientHeartbeatMs) * MS);
        // An evict naming an earlier incarnation ends one that really died (its successor's hello may have been lost).
        const sameIncarnation = x.msg.t === 'evict' && (x.msg.inc === undefined || x.msg.inc === victim?.inc);
        if (x.msg.t === 'evict' && x.msg.reason.startsWith('silent') && sameIncarnation && current && victim?.state === 'up' && !justResumed && victim.core?.currentManager === p.id && victim.core.currentEpoch === core.currentEpoch) {
          problem(`false eviction: ${p.id} declared live ${x.to} dead (${x.msg.reason}) at ${(nowNs / MS).toFixed(1)} ms`);
        }
        post(p, x.to, x.msg);
      } else if (x.type === 'role') {
        if (x.epoch > stats.maxEpoch) {
          stats.epochChanges++;
          if (cut) stats.partitionEpochChanges++;
        }
        highestEpoch = Math.max(highestEpoch, x.epoch);
        stats.maxEpoch = Math.max(stats.maxEpoch, x.epoch);
        if (x.role === 'primary') stats.takeovers++;
        if (x.role === 'primary' && cut) stats.partitionTakeovers++;
        if (x.role === 'primary' && cut && p.id !== primaryAtCut) stats.partitionTakeoversByOther++;
        if (x.reason.startsWith('handing back')) stats.handbacks++;
        trace(() => `${p.id} is ${x.role} at epoch ${x.epoch}: ${x.reason}`);
        if (x.role === 'candidate') candidacy.set(p.id, { since: nowNs, informed: !/no serving manager|no peer|serving manager lost/.test(x.reason) });
        if (x.role === 'primary') checkTakeoverWait(p, x.reason);
      }
    }
  };

  const disks = new Map<NodeId, Map<number, RecoveredEntry>>();
  const applyClient = (p: ClientProc, out: ClientOutput[]): void => {
    const core = p.core!;
    const disk = disks.get(p.id) ?? new Map<number, RecoveredEntry>();
    disks.set(p.id, disk);
    for (const ch of core.takeDirty()) {
      if (ch.keep) disk.set(ch.page, { ...ch.keep, data: new Uint8Array(ch.keep.data) });
      else disk.delete(ch.page);
    }
    for (const x of out) {
      if (x.type === 'send') {
        // client-node.ts: managers' endpoints are configured, peers' come from the member list.
        if (!x.to.startsWith('m') && core.endpointOf(x.to) === undefined) {
          drop('unknown_peer');
          trace(() => `${p.id} cannot send ${x.msg.t} to unknown ${x.to}`);
          continue;
        }
        trace(() => `${p.id} → ${x.to} ${describeMsg(x.msg)}`);
        post(p, x.to, x.msg);
      } else if (x.type === 'done') {
        completed(p, x.result);
      }
    }
  };

  // --- process lifecycle ---

  const spawn = (p: ManagerProc | ClientProc): void => {
    p.state = 'starting';
    if (p.kind === 'manager') p.disconnectHeld = false;
    p.spawnNs = nowNs;
    p.held = [];
    p.recent = [];
    p.tickGen++;
    queue.push(nowNs + Math.round(U(sched, o.bootMs[0], o.bootMs[1]) * MS), { k: 'boot', id: p.id, inc: p.inc });
  };

  const boot = (p: ManagerProc | ClientProc): void => {
    p.state = 'up';
    if (p.kind === 'manager') {
      // supervisor.ts nodeConfig, computed at spawn; the client list is every client handle, live or not.
      const home = p.id === 'm0';
      const cfg: ManagerRoleConfig = {
        id: p.id,
        peer: home ? 'm1' : 'm0',
        pages: o.pages,
        parity: home ? 1 : 0,
        home,
        heartbeatMs: T.heartbeatMs,
        heartbeatTimeoutMs: T.heartbeatTimeoutMs,
        clientTimeoutMs: T.clientTimeoutMs,
        start: !home ? 'backup' : p.inc === 0 ? 'primary' : 'rejoin',
        // The supervisor saw the peer's process down at the spawn: no records survive to wait for.
        ...(home && p.inc > 0 && otherManager(p).state === 'down' ? { peerDown: true } : {}),
        epoch: home && p.inc === 0 ? 1 : highestEpoch,
        clients: clients.map((c) => ({ id: c.id, endpoint: c.endpoint, incarnation: c.inc, ...(o.memory ? { memory: o.memory } : {}) })),
        // The runtime re-drives a stalled request after the clients' retry interval (supervisor nodeConfig).
        ...(o.recoverLoss !== false ? { recoverLoss: true, redriveMs: o.redriveMs ?? T.retryMs } : {}),
        // ... or sooner, after the round trips of its steps (rto.ts), as the supervisor sets it.
        ...(o.minRetryMs !== null ? { minRedriveMs: o.minRetryMs ?? DEFAULT_MIN_RETRY_MS } : {}),
      };
      p.core = o.makeManager ? o.makeManager(cfg) : new ManagerRoleCore(cfg);
      trace(() => `${p.id} boots (incarnation ${p.inc}, start ${cfg.start}, epoch ${cfg.epoch})`);
    } else {
      const cfg: ClientConfig = {
        id: p.id,
        endpoint: p.endpoint,
        managers: ['m0', 'm1'],
        epoch: 1,
        pages: o.pages,
        pageSize: o.pageSize,
        opTimeoutMs: T.opTimeoutMs,
        incarnation: p.inc,
        heartbeatMs: T.clientHeartbeatMs,
        retryMs: T.retryMs,
        ...(o.minRetryMs !== null ? { minRetryMs: o.minRetryMs ?? DEFAULT_MIN_RETRY_MS } : {}),
        // supervisor.ts nodeConfig: clients vote for the managers' authority with the managers' lease.
        voteMs: leaseMsFor(T.clientTimeoutMs),
        ...(o.recoverLoss ? { recoverLoss: true } : {}),
        ...(o.memory ? { memory: o.memory, recovered: [...(disks.get(p.id)?.values() ?? [])] } : {}),
        ...(o.recoverLoss !== false ? { recoverLoss: true } : {}),
      };
      p.core = o.makeClient ? o.makeClient(cfg) : new ClientCore(cfg);
      p.ready = false;
      p.current = null;
      p.finalReads = [];
      p.opScheduled = false;
      p.nextToken = p.inc * 1_000_000 + 1;
      trace(() => `${p.id} boots (incarnation ${p.inc})`);
      applyClient(p, p.core.start(clockOf(p)));
    }
    scheduleTick(p, true);
    // Frames that waited for the bind (or for the restart, in a live sender's queue).
    // Frames queued while it was down were sent before those that reached it while it was starting.
    const waiting = [...(reconnect.get(p.id) ?? []).filter((e) => senderAlive(e)), ...p.held];
    reconnect.delete(p.id);
    p.held = [];
    redeliver(waiting);
  };

  /** Frames that waited (for a bind, a restart or a SIGCONT) arrive now, in order, and before anything sent later on their link. */
  const redeliver = (envs: Envelope[]): void => {
    envs.forEach((env, i) => {
      const at = nowNs + 1000 * (i + 1);
      queue.push(at, { k: 'deliver', env });
      const link = `${env.from}#${env.fromInc}>${env.to}`;
      linkClock.set(link, Math.max(linkClock.get(link) ?? 0, at));
    });
  };

  const senderAlive = (e: Envelope): boolean => {
    const s = procs.get(e.from)!;
    return s.inc === e.fromInc && live(s);
  };

  const scheduleTick = (p: Proc, first: boolean): void => {
    const every = p.id.startsWith('m') ? T.managerTickMs : T.clientTickMs;
    // setInterval drifts late by a little; the first tick lands anywhere in the first interval.
    const d = first ? sched() * every : every + sched() * Math.max(0.5, every * 0.1);
    queue.push(nowNs + Math.max(1000, Math.round(d * MS)), { k: 'tick', id: p.id, gen: p.tickGen });
  };

  /** SIGKILL: memory gone; whatever it sent in its last moment may die with its I/O thread. */
  const kill = (p: ManagerProc | ClientProc): void => {
    if (p.kind === 'manager' && live(p)) {
      // The kernel closes a killed process's sockets at once: a peer connected to it sees the drop
      // (manager-node.ts watches the peer's endpoint and calls peerConnectionLost).
      const peer = otherManager(p);
      if (peer.core && live(peer)) queue.push(nowNs + Math.round(U(sched, 0.05, 2) * MS), { k: 'disconnect', id: peer.id, inc: peer.inc });
    }
    // Per destination (one ZeroMQ pipe each), a suffix of the frames not yet on the wire.
    const cutoff = nowNs - o.killDropWindowMs * MS;
    const tail = p.recent.filter((e) => !e.done && e.sentNs >= cutoff);
    let lostCount = 0;
    for (const to of new Set(tail.map((e) => e.to))) {
      const pipe = tail.filter((e) => e.to === to);
      const lost = sched() < 0.5 ? 0 : 1 + pick(sched, pipe.length);
      for (const e of pipe.slice(pipe.length - lost)) {
        e.done = true;
        lostCount++;
        drop('killed_io_thread');
      }
    }
    p.state = 'down';
    p.core = null;
    p.held = [];
    p.recent = [];
    p.tickGen++;
    lastFaultNs = nowNs;
    trace(() => `SIGKILL ${p.id} (incarnation ${p.inc})${tail.length ? `, ${lostCount}/${tail.length} recent sends lost` : ''}`);
  };

  // --- delivery ---

  const deliver = (env: Envelope): void => {
    if (env.done) return;
    const p = procs.get(env.to)!;
    if (p.state === 'down') {
      // Into a dead process's socket buffer (lost), or still in the sender's queue (delivered on restart).
      if (o.requeueProb > 0 && senderAlive(env) && net() < o.requeueProb) {
        const list = reconnect.get(p.id) ?? [];
        list.push(env);
        reconnect.set(p.id, list);
        return;
      }
      env.done = true;
      drop('to_down_node');
      return;
    }
    if (p.state === 'starting' || p.state === 'stopped') {
      p.held.push(env);
      return;
    }
    env.done = true;
    o.onDeliver?.({ id: env.id, from: env.from, fromIncarnation: env.fromInc, to: env.to, msg: env.msg, sentNs: env.sentNs, atNs: nowNs });
    trace(() => `${env.to} ← ${env.from} ${describeMsg(env.msg)}`);
    if (p.kind === 'manager') {
      applyManager(p, p.core!.receive(env.msg, clockOf(p)));
    } else {
      const c = p.core!;
      applyClient(p, c.receive(env.msg, clockOf(p)));
      if (!p.ready && env.msg.t === 'members' && c.endpointOf(p.id) !== undefined) {
        p.ready = true;
        trace(() => `${p.id} ready`);
        scheduleOp(p);
      }
    }
    afterEvent();
  };

  // --- workload ---

  const workloadOn = (): boolean => nowNs < workloadUntilNs;

  const scheduleOp = (p: ClientProc, immediate = false): void => {
    if (p.opScheduled || p.current || !p.ready || p.state !== 'up') return;
    if (!workloadOn() && p.finalReads.length === 0) return;
    p.opScheduled = true;
    const think = immediate ? 0 : Math.round(-Math.log(1 - work()) * o.thinkMeanMs * MS);
    queue.push(nowNs + 1 + think, { k: 'op', id: p.id, inc: p.inc });
  };

  const issue = (p: ClientProc): void => {
    p.opScheduled = false;
    if (p.state !== 'up' || p.current || !p.ready) return;
    let page: number;
    let read: boolean;
    let final = false;
    if (p.finalReads.length > 0) {
      page = p.finalReads.shift()!;
      read = true;
      final = true;
    } else if (workloadOn()) {
      page = pick(work, o.pages);
      read = work() < o.readRatio;
    } else return;
    const id = p.nextOpId++;
    const token = read ? null : `${p.id}:${p.nextToken++}`;
    const op: OpRequest = token === null ? { id, kind: 'read', page, offset: 0, length: TOKEN_SPAN } : { id, kind: 'write', page, offset: 0, data: encodeToken(token) };
    const rec: HistoryOp = { client: p.id, op: op.kind, page, value: token, start: nowNs, end: null, outcome: 'unknown', fault: false };
    p.current = { op, token, rec, final };
    stats.ops++;
    trace(() => `${p.id} invokes ${op.kind} page ${page}${token ? ` ${token}` : ''}${final ? ' (final read)' : ''}`);
    applyClient(p, p.core!.submit(op, clockOf(p)));
    afterEvent();
  };

  const failures: { rec: HistoryOp; error: string; final: boolean }[] = [];

  const completed = (p: ClientProc, result: OpResult): void => {
    const cur = p.current;
    if (!cur || cur.op.id !== result.id) {
      problem(`workload: ${p.id} completed op ${result.id} that was not outstanding`);
      return;
    }
    const rec = cur.rec;
    rec.end = nowNs;
    rec.fault = result.fault;
    if (result.ok) {
      rec.outcome = 'ok';
      stats.ok++;
      if (!result.fault) stats.hits++;
      rec.value = result.kind === 'write' ? cur.token : decodeToken(result.data ?? new Uint8Array(0));
      if (rec.op === 'read' && rec.value !== null && !rec.value.startsWith(`${p.id}:`)) stats.crossReads++;
    } else {
      rec.outcome = 'fail';
      stats.failed++;
      rec.value = cur.token;
      failures.push({ rec, error: result.error, final: cur.final });
    }
    if (!result.fault && rec.end !== rec.start) problem(`workload: ${p.id} op ${result.id} waited ${(rec.end - rec.start) / MS} ms but was reported as a cache hit`);
    const limit = (T.opTimeoutMs + 2 * T.clientTickMs + 1) * MS;
    if (rec.end - rec.start > limit && !cur.paused) problem(`hang: ${p.id} ${rec.op} page ${rec.page} took ${((rec.end - rec.start) / MS).toFixed(1)} ms (op timeout ${T.opTimeoutMs} ms)`);
    trace(() => `${p.id} ${rec.op} page ${rec.page} → ${rec.outcome} ${rec.value ?? 'null'}${result.ok ? '' : ` (${result.error})`}`);
    history.push(rec);
    p.current = null;
    scheduleOp(p, cur.final);
  };

  // --- oracles during the run ---

  let swmrBroken = false;
  const afterEvent = (): void => {
    if (swmrBroken) return;
    // Only clients that may serve a hit count: a paused client, or one whose lease ran out, keeps its old
    // table until it revalidates (issue 13); what it must not do is serve from it (linearizability checks that).
    const tables = clients.filter((c) => c.core && c.state === 'up' && c.core.leaseValid(clockOf(c))).map((c) => ({ id: c.id, rows: c.core!.pageTable() }));
    for (let page = 0; page < o.pages; page++) {
      let writer: NodeId | null = null;
      let holders = 0;
      for (const t of tables) {
        const a = t.rows[page]!.access;
        if (a === 'write') writer = writer === null ? t.id : `${writer}+${t.id}`;
        if (a !== 'none') holders++;
      }
      if (writer !== null && holders > 1) {
        const who = tables.filter((t) => t.rows[page]!.access !== 'none').map((t) => `${t.id}:${t.rows[page]!.access}`);
        problem(`swmr: page ${page} at ${(nowNs / MS).toFixed(3)} ms: ${who.join(', ')}`);
        swmrBroken = true;
        return;
      }
    }
  };

  const peerLost = (p: ManagerProc): void => {
    p.disconnectHeld = false;
    trace(() => `${p.id} sees its connection to ${otherManager(p).id} drop`);
    applyManager(p, p.core!.peerConnectionLost(clockOf(p)));
    afterEvent();
  };

  // --- faults ---

  const roleOf = (m: ManagerProc): string => (m.core && live(m) ? m.core.currentRole : 'down');
  const otherManager = (m: ManagerProc): ManagerProc => managers.find((x) => x !== m)!;
  const bound = new Map<string, NodeId>();

  const resolve = (target: Target): ManagerProc | ClientProc | null => {
    if (target.startsWith('$')) {
      const id = bound.get(target.slice(1));
      return id === undefined ? null : procs.get(id)!;
    }
    if (target === 'primary' || target === 'backup') {
      const up = managers.filter((m) => m.core !== null && live(m));
      const rank = (m: ManagerProc): number => ['primary', 'candidate', 'rejoining', 'backup'].indexOf(m.core!.currentRole) * 1e6 - m.core!.currentEpoch;
      const serving = [...up].sort((a, b) => rank(a) - rank(b))[0];
      if (target === 'primary') return serving ?? null;
      const other = serving && otherManager(serving);
      return other && other.core !== null && live(other) ? other : null;
    }
    if (target === 'any-client') {
      const up = clients.filter((c) => c.state === 'up');
      // Never the last client standing: someone must do the final reads.
      if (up.length < 2) return null;
      return up[pick(sched, up.length)]!;
    }
    return procs.get(target) ?? null;
  };

  const runFault = (step: FaultStep): void => {
    if (step.action === 'partition' || step.action === 'heal') return partition(step);
    const p = resolve(step.target);
    const skip = (why: string): void => trace(() => `fault ${step.action} ${step.target} skipped: ${why}`);
    if (!p) return skip('no such node now');
    if (step.bind) bound.set(step.bind, p.id);
    switch (step.action) {
      case 'kill': {
        if (p.kind !== 'manager' || !live(p)) return skip('not a live manager');
        // Never both down (outside 'both-down'): the other manager must be running and settled in a role
        // that holds the records (a starting or rejoining manager has none yet). Losing both loses the
        // records, and with them which pages died with a crashed client (a documented limit).
        const other = otherManager(p);
        const otherRole = other.core && live(other) ? other.core.currentRole : null;
        const settled = otherRole === 'primary' || (otherRole === 'backup' && nowNs - other.spawnNs > (o.bootMs[1] + 200) * MS);
        if (o.faultKind !== 'both-down' && !settled) return skip(`would leave no manager with the records (${other.id} is ${otherRole ?? other.state})`);
        stats.kills++;
        return kill(p);
      }
      case 'restart':
        if (p.kind !== 'manager' || p.state !== 'down') return skip('not down');
        stats.restarts++;
        p.inc++;
        lastFaultNs = nowNs;
        trace(() => `restart ${p.id} as incarnation ${p.inc}`);
        return spawn(p);
      case 'stop':
        // A manager or a client (issue 13: a client paused past its eviction must not serve its old copies).
        if (p.state !== 'up') return skip('not running');
        stats.stops++;
        p.state = 'stopped';
        p.tickGen++;
        if (p.kind === 'client' && p.current) p.current.paused = true;
        // To the managers a client paused past its timeout is a crashed one: a volatile client's sole copies
        // are written off (at its eviction, or at a takeover it cannot report to). Recoverable ones must lose nothing.
        if (p.kind === 'client' && o.memory !== 'recoverable') firstCrashNs ??= nowNs;
        lastFaultNs = nowNs;
        trace(() => `SIGSTOP ${p.id}`);
        return;
      case 'cont': {
        if (p.state !== 'stopped') return skip('not stopped');
        p.state = 'up';
        lastFaultNs = nowNs;
        resumedAt.set(p.id, nowNs);
        const frames = p.held;
        p.held = [];
        trace(() => `SIGCONT ${p.id} (${frames.length} frames waiting)`);
        // The overdue timer and the waiting frames race: either may run first.
        const tickFirst = sched() < o.tickFirstOnResume;
        redeliver(frames);
        if (p.kind === 'manager' && p.disconnectHeld) queue.push(nowNs + 500, { k: 'disconnect', id: p.id, inc: p.inc });
        p.tickGen++;
        queue.push(tickFirst ? nowNs : nowNs + 1000 * (frames.length + 1), { k: 'tick', id: p.id, gen: p.tickGen });
        if (p.kind === 'client') scheduleOp(p);
        return;
      }
      case 'crash':
        if (p.kind !== 'client' || p.state !== 'up') return skip('not a running client');
        stats.clientCrashes++;
        firstCrashNs ??= nowNs;
        if (p.current) {
          // In flight when the process died: nobody can say whether it took effect.
          history.push(p.current.rec);
          stats.unknown++;
          p.current = null;
        }
        p.ready = false;
        evictedAt.delete(p.id);
        return kill(p);
      case 'client-restart':
        if (p.kind !== 'client' || p.state !== 'down') return skip('not down');
        evictedAt.delete(p.id);
        p.inc++;
        lastFaultNs = nowNs;
        trace(() => `restart ${p.id} as incarnation ${p.inc}`);
        return spawn(p);
    }
  };

  const partition = (step: FaultStep): void => {
    lastFaultNs = nowNs;
    if (step.action === 'heal') {
      if (cut) healedAtNs = nowNs;
      cut = null;
      trace(() => 'partition healed');
      return;
    }
    const preset = step.preset ?? 'isolate-primary-backup';
    const prim = resolve('primary');
    if (!prim || prim.kind !== 'manager') return trace(() => `partition ${preset} skipped: no primary`);
    const backup = otherManager(prim);
    const half = new Set(clients.filter((_, i) => i % 2 === 0).map((c) => c.id));
    const sideOf = (id: NodeId): number => (id === prim.id || half.has(id) ? 0 : 1);
    stats.partitions++;
    healedAtNs = Infinity;
    primaryAtCut = prim.id;
    // As with a paused client: to the side that takes over, a volatile client cut off from it is a crashed
    // one, and the pages only it held are written off (recoverable ones wait for it, and must lose nothing).
    if (o.memory !== 'recoverable' && preset !== 'isolate-primary-backup' && preset !== 'primary-mute') firstCrashNs ??= nowNs;
    cut =
      preset === 'isolate-primary-backup'
        ? (a, b) => (a === prim.id && b === backup.id) || (a === backup.id && b === prim.id)
        : preset === 'isolate-primary'
          ? (a, b) => (a === prim.id) !== (b === prim.id)
          : preset === 'primary-mute'
            ? (a, b) => a === prim.id && b === backup.id
            : (a, b) => sideOf(a) !== sideOf(b);
    trace(() => `partition ${preset} (primary ${prim.id}${preset === 'split-clients' ? `, with ${[...half].join(',')}` : ''})`);
  };

  // --- the end game ---

  const serving = (): ManagerProc[] => managers.filter((m) => m.core && m.state === 'up' && m.core.currentRole === 'primary');

  /**
   * The backup's replica against the primary's records (owner, lost, copy set, version). Only over FIFO
   * links: sync deltas carry no sequence number, so a reordered older delta can overwrite a newer one
   * (harmless until a takeover consults the replica; ZeroMQ never reorders a link).
   */
  const replicaMismatch = (pm: ManagerProc): string | null => {
    const other = otherManager(pm);
    if (o.ordering !== 'fifo' || !other.core || other.state !== 'up' || other.core.currentRole !== 'backup') return null;
    const strip = (r: RecordView): string => JSON.stringify([r.page, r.owner, r.lostWith, r.copyset, r.version]);
    const mine = pm.core!.recordCache().map(strip);
    const theirs = other.core.recordCache().map(strip);
    if (mine.join() === theirs.join()) return null;
    return `backup ${other.id}'s replica differs from primary ${pm.id}'s records: ${theirs.filter((x, i) => x !== mine[i]).slice(0, 3).join(' ')} vs ${mine.filter((x, i) => x !== theirs[i]).slice(0, 3).join(' ')}`;
  };

  /** Why the cluster is not quiet yet (empty when it is). */
  const unquiet = (): string[] => {
    const why: string[] = [];
    for (const p of procs.values()) if (p.state === 'starting' || p.state === 'stopped') why.push(`${p.id} is ${p.state}`);
    const prim = serving();
    if (prim.length !== 1) {
      why.push(`${prim.length} primaries (roles: ${managers.map((m) => `${m.id}=${roleOf(m)}`).join(', ')})`);
      return why;
    }
    const pm = prim[0]!;
    const pcore = pm.core!;
    const other = otherManager(pm);
    if (other.core && live(other) && other.core.currentRole !== 'backup') why.push(`${other.id} is ${other.core.currentRole}`);
    // A backup ahead of the primary's epoch (its candidacy yielded): the primary re-takes once it hears it.
    if (other.core && live(other) && other.core.currentEpoch > pcore.currentEpoch) why.push(`${other.id} is at epoch ${other.core.currentEpoch}, ahead of ${pm.id}@${pcore.currentEpoch}`);
    const mismatch = replicaMismatch(pm);
    if (mismatch) why.push(mismatch);
    for (const r of pcore.recordCache()) if (r.active || r.queue.length > 0) why.push(`page ${r.page} busy at ${pm.id}: ${JSON.stringify({ active: r.active, queue: r.queue })}`);
    const listed = new Set(pcore.clientList().map((c) => c.id));
    for (const c of clients) {
      if (c.state !== 'up') {
        if (listed.has(c.id)) why.push(`${pm.id} still lists dead ${c.id}`);
        continue;
      }
      const core = c.core!;
      if (!c.ready) why.push(`${c.id} not ready`);
      if (!listed.has(c.id)) why.push(`${pm.id} does not list ${c.id}`);
      if (c.current) why.push(`${c.id} has an op outstanding`);
      if (core.currentEpoch !== pcore.currentEpoch || core.currentManager !== pm.id) why.push(`${c.id} follows ${core.currentManager}@${core.currentEpoch}, not ${pm.id}@${pcore.currentEpoch}`);
      for (const v of core.pageTable()) if (v.pending) why.push(`${c.id} page ${v.page} has a ${v.pending} fault open`);
    }
    return why;
  };

  type Phase = 'run' | 'drain' | 'settle' | 'final' | 'final-settle' | 'done';
  let phase = 'run' as Phase;
  let phaseSince = 0;
  let quietSince: number | null = null;
  const POLL_NS = 20 * MS;

  // Liveness: a client must not keep following a manager that does not serve (it sends its faults there).
  const strandedSince = new Map<NodeId, number>();
  const strandedReported = new Set<NodeId>();
  const STRANDED_MS = 1000;
  const checkStranded = (): void => {
    for (const c of clients) {
      const m = c.core && c.state === 'up' && c.ready ? procs.get(c.core.currentManager) : undefined;
      let role: string | null = m?.kind === 'manager' && m.core && m.state === 'up' ? m.core.currentRole : null;
      // Following a dead manager while the other one serves (at a lower epoch, so it never takes the client back).
      const other = m?.kind === 'manager' ? otherManager(m) : undefined;
      if (m?.kind === 'manager' && m.state === 'down' && other?.core && other.state === 'up' && other.core.currentRole === 'primary') role = 'dead manager';
      // A partition strands clients by design (they follow the primary they can reach, which may not serve).
      const partitioned = nowNs - healedAtNs < (T.clientTimeoutMs + 2000) * MS;
      if ((role !== 'backup' && role !== 'rejoining' && role !== 'dead manager') || partitioned) {
        strandedSince.delete(c.id);
        continue;
      }
      const since = strandedSince.get(c.id) ?? nowNs;
      strandedSince.set(c.id, since);
      // Following a manager that died right after a takeover the serving one never heard of: the fallback
      // is the serving manager's client timeout (it evicts the silent clients, hears their epoch, re-takes).
      // Following a backup that handed back: until the candidate's takeover reaches it (the handback_ok and the
      // takeover each cross a link, up to the slow tail), or the backup times a stuck candidate out (twice the
      // heartbeat timeout, manager-role.ts); frames lost on the way cost a heartbeat each.
      const slowTailMs = o.delay.kind === 'mixed' ? o.delay.slowMaxNs / MS : 0;
      const followsBackup = STRANDED_MS + T.heartbeatTimeoutMs + 2 * slowTailMs;
      const allowed = role === 'dead manager' ? T.clientTimeoutMs + 1500 : followsBackup;
      if (nowNs - since > allowed * MS && !strandedReported.has(c.id)) {
        strandedReported.add(c.id);
        problem(`stranded: ${c.id} has followed ${m!.id}, ${role === 'dead manager' ? 'a dead manager' : `a ${role}`} that does not serve, since ${(since / MS).toFixed(1)} ms (epoch ${c.core!.currentEpoch}; roles ${managers.map((x) => `${x.id}=${roleOf(x)}@${x.core?.currentEpoch ?? '-'}`).join(', ')})`);
      }
    }
  };

  const poll = (): void => {
    checkStranded();
    if (phase === 'run') {
      if (nowNs >= workloadUntilNs) {
        phase = 'drain';
        phaseSince = nowNs;
        trace(() => 'workload stops');
      }
    }
    if (phase === 'drain') {
      // Every op ends (ok or fail) within the op timeout.
      const busy = clients.filter((c) => c.current);
      if (busy.length === 0) {
        phase = 'settle';
        phaseSince = nowNs;
        quietSince = null;
      } else if (nowNs - phaseSince > (T.opTimeoutMs + 3 * T.clientTickMs) * MS) {
        for (const c of busy) problem(`hang: ${c.id} ${c.current!.op.kind} page ${c.current!.op.page} started at ${(c.current!.rec.start / MS).toFixed(1)} ms never completed`);
        phase = 'settle';
        phaseSince = nowNs;
      }
    }
    if (phase === 'settle' || phase === 'final-settle') {
      const why = unquiet();
      if (why.length === 0) {
        quietSince ??= nowNs;
        // Quiet for a few ticks: syncs to the backup have gone out.
        if (nowNs - quietSince >= 100 * MS) {
          if (phase === 'settle') startFinalReads();
          else phase = 'done';
        }
      } else {
        quietSince = null;
        if (nowNs - phaseSince > o.settleMs * MS) {
          problem(`quiescence: not quiet ${((nowNs - phaseSince) / MS).toFixed(0)} ms after ${phase === 'settle' ? 'the workload stopped' : 'the final reads'}: ${why.slice(0, 6).join('; ')}`);
          phase = 'done';
        }
      }
    }
    if (phase === 'final') {
      const reader = clients.find((c) => c.finalReads.length > 0 || c.current?.final);
      if (!reader) {
        phase = 'final-settle';
        phaseSince = nowNs;
        quietSince = null;
      } else if (nowNs - phaseSince > (o.pages * T.opTimeoutMs + 1000) * MS) {
        problem(`hang: final reads on ${reader.id} did not finish`);
        phase = 'done';
      }
    }
    if (phase !== 'done') queue.push(nowNs + POLL_NS, { k: 'poll' });
  };

  let finalReader: NodeId | null = null;
  const startFinalReads = (): void => {
    phase = 'final';
    phaseSince = nowNs;
    const reader = clients.find((c) => c.state === 'up' && c.ready);
    if (!reader) {
      problem('final: no live client to read from');
      phase = 'done';
      return;
    }
    finalReader = reader.id;
    reader.finalReads = Array.from({ length: o.pages }, (_, i) => i);
    trace(() => `final reads from ${reader.id}`);
    scheduleOp(reader, true);
  };

  // --- run ---

  for (const step of o.schedule) queue.push(Math.round(step.atMs * MS), { k: 'fault', step });
  const lastStepMs = o.schedule.reduce((m, s) => Math.max(m, s.atMs), 0);
  // Provisional; refined at the last fault (a restart's boot, a SIGCONT) below.
  const recoveryPointNs = (): number =>
    o.schedule.length === 0 ? Math.round((o.bootMs[1] + 1000) * MS) : Math.max(lastFaultNs, Math.round(lastStepMs * MS)) + Math.round((o.recoveryMs + o.bootMs[1]) * MS);
  workloadUntilNs = recoveryPointNs() + Math.round(o.tailMs * MS);
  for (const p of procs.values()) spawn(p);
  queue.push(POLL_NS, { k: 'poll' });

  while (queue.size > 0 && phase !== 'done') {
    if (++stats.events > o.maxEvents) {
      problem(`quiescence: still busy after ${o.maxEvents} events`);
      break;
    }
    const { at, ev } = queue.pop()!;
    nowNs = at;
    switch (ev.k) {
      case 'deliver':
        deliver(ev.env);
        break;
      case 'tick': {
        const p = procs.get(ev.id)!;
        if (ev.gen !== p.tickGen || p.state !== 'up') break;
        if (p.kind === 'manager') applyManager(p, p.core!.tick(clockOf(p)));
        else applyClient(p, p.core!.tick(clockOf(p)));
        afterEvent();
        scheduleTick(p, false);
        break;
      }
      case 'boot': {
        const p = procs.get(ev.id)!;
        if (p.inc === ev.inc && p.state === 'starting') boot(p);
        break;
      }
      case 'op': {
        const p = procs.get(ev.id)! as ClientProc;
        if (p.inc === ev.inc) issue(p);
        break;
      }
      case 'disconnect': {
        const p = procs.get(ev.id)!;
        if (p.kind !== 'manager' || p.inc !== ev.inc || !p.core) break;
        if (p.state === 'stopped') p.disconnectHeld = true;
        else if (p.state === 'up') peerLost(p);
        break;
      }
      case 'fault':
        runFault(ev.step);
        workloadUntilNs = Math.max(workloadUntilNs, recoveryPointNs() + Math.round(o.tailMs * MS));
        break;
      case 'poll':
        poll();
        break;
    }
  }
  stats.endMs = nowNs / MS;

  // --- final oracles ---

  const prim = serving();
  if (phase === 'done' && prim.length === 1) {
    const pm = prim[0]!;
    const pcore = pm.core!;
    const epochs = [...managers.filter((m) => m.core && live(m)).map((m) => m.core!.currentEpoch), ...clients.filter((c) => c.core && live(c)).map((c) => c.core!.currentEpoch)];
    if (Math.max(...epochs) !== pcore.currentEpoch) problem(`roles: primary ${pm.id} serves epoch ${pcore.currentEpoch} but epoch ${Math.max(...epochs)} exists`);
    const liveClients = clients.filter((c) => c.core && c.state === 'up').map((c) => c.core!);
    // checkInvariants reads only recordCache(): the serving ManagerRoleCore's records are its ManagerCore's.
    const recordsOnly = { recordCache: (): RecordView[] => pcore.recordCache() } as unknown as ManagerCore;
    for (const b of checkInvariants(recordsOnly, liveClients)) problem(`invariant at the end: ${b}`);
    const mismatch = replicaMismatch(pm);
    if (mismatch) problem(`replica: ${mismatch}`);
  } else if (phase === 'done') {
    problem(`roles: ${prim.length} primaries at the end (${managers.map((m) => `${m.id}=${roleOf(m)}`).join(', ')})`);
  }

  // Failures: a page may be lost only with a client that really crashed; after recovery nothing times out.
  const recoveredAt = recoveryPointNs();
  const lostWithoutCrash: typeof failures = [];
  for (const f of failures) {
    // A page held by a crashed recoverable client waits for its reboot, then fails naming it.
    if (/is held by c\d+ \(down/.test(f.error) && firstCrashNs !== null && firstCrashNs <= f.rec.end!) continue;
    if (/was lost/.test(f.error)) {
      // The name may be the page's previous owner (the replica's view) when the copy died in transit to the
      // crashed client; what must hold is that some client crashed before the page was called lost.
      if (firstCrashNs === null || firstCrashNs > f.rec.end!) lostWithoutCrash.push(f);
      continue;
    }
    if (f.final) problem(`final: read of page ${f.rec.page} on ${f.rec.client} failed: ${f.error}`);
    else if (f.rec.start > recoveredAt) problem(`availability: ${f.rec.client} ${f.rec.op} page ${f.rec.page} started at ${(f.rec.start / MS).toFixed(1)} ms, ${((f.rec.start - lastFaultNs) / MS).toFixed(0)} ms after the last fault, failed: ${f.error}`);
    else if (o.faultKind === 'none') problem(`availability: ${f.rec.client} ${f.rec.op} page ${f.rec.page} failed without any fault: ${f.error}`);
  }
  if (lostWithoutCrash.length > 0) {
    const f = lostWithoutCrash[0]!;
    problem(`lost: ${lostWithoutCrash.length} ops failed on a lost page with no client crashed before, e.g. ${describeOp(f.rec)}: ${f.error}`);
  }
  if (phase === 'done' && finalReader !== null) {
    const done = history.filter((h) => h.client === finalReader && h.op === 'read').slice(-o.pages);
    if (done.length < o.pages) problem(`final: only ${done.length}/${o.pages} final reads completed`);
  }

  const check = checkHistory(history, { shrinkTimeMs: o.shrinkTimeMs });
  if (!check.ok) problem(`linearizability: ${check.explanation}\n${check.counterexample.map((op) => `      ${describeOp(op)}`).join('\n')}`);

  return { ok: problems.length === 0, seed, options: o, problems, history, check, stats, lostOps: failures.filter((f) => /was lost/.test(f.error)).length, ...(tracing ? { trace: traceBuf } : {}) };
}

// --- reporting ------------------------------------------------------------------------------

export function describeMsg(m: Message): string {
  const bits: string[] = [m.t, `e${m.epoch}`];
  if ('page' in m) bits.push(`p${m.page}`);
  if ('req' in m) bits.push(`r${m.req}`);
  if ('requester' in m) bits.push(`for ${m.requester}`);
  if (m.t === 'page_data' || m.t === 'grant' || m.t === 'confirm') bits.push(`${m.access}${'version' in m ? ` v${m.version}` : ''}`);
  if (m.t === 'grant' && m.zero) bits.push('zero');
  if (m.t === 'page_data') bits.push(decodeToken(m.data) ?? 'null');
  if (m.t === 'mping' || m.t === 'mpong') bits.push(m.role);
  if (m.t === 'epoch_reject') bits.push(`seen ${m.seen}`);
  if (m.t === 'takeover' && m.firm) bits.push('firm');
  if (m.t === 'report') bits.push(`[${m.pages.map((p) => `p${p.page}:${p.access}${p.owner ? '*' : ''}v${p.version}${p.served ? `>${p.served.to}/${p.served.kind}${p.served.req}` : ''}`).join(' ')}] pending [${m.pending.map((p) => `p${p.page}:${p.kind}${p.req}`).join(' ')}]`);
  if (m.t === 'sync') bits.push(`${m.full ? 'full ' : ''}[${m.records.map((r) => `p${r.page}:${r.owner ?? '-'}${r.lostWith ? `(lost ${r.lostWith})` : ''}{${r.copyset.join(',')}}v${r.version}`).join(' ')}]`);
  if (m.t === 'nack' || m.t === 'evict') bits.push(JSON.stringify(m.reason));
  if ((m.t === 'evict' || m.t === 'members' || m.t === 'hello' || m.t === 'report') && m.n !== undefined) bits.push(`#${m.n}`);
  if (m.t === 'own') bits.push(`p${m.page} v${m.version}`);
  return bits.join(' ');
}

function describeOp(op: HistoryOp): string {
  const ms = (ns: number | null): string => (ns === null ? '?' : (ns / MS).toFixed(3));
  return `${op.client} ${op.op} page ${op.page} ${op.value ?? 'null'} [${ms(op.start)}..${ms(op.end)}] ms ${op.outcome}${op.fault ? '' : ' (hit)'}`;
}

export function pairReplayCommand(seed: number, kind?: FaultKind): string {
  return `PAIR_SEED=${seed}${kind ? ` PAIR_KIND=${kind}` : ''} npx vitest run --project sim test/sim/pair-sim.test.ts`;
}

/** A readable account of a failed seed, with the command that replays it. */
export function pairReport(r: PairResult, kindOverridden = false): string {
  const o = r.options;
  const cfg = `kind=${o.faultKind} clients=${o.clients} pages=${o.pages} ordering=${o.ordering} delay=${JSON.stringify(o.delay)} think=${o.thinkMeanMs}ms requeue=${o.requeueProb} codec=${o.codec} heartbeat=${o.timing.heartbeatMs}/${o.timing.heartbeatTimeoutMs}ms clientTick=${o.timing.clientTickMs}ms`;
  const sched = o.schedule.map((s) => `${s.atMs.toFixed(0)}ms ${s.action} ${s.target}${s.bind ? ` as $${s.bind}` : ''}`).join(', ');
  return [
    `pair seed ${r.seed} ${r.ok ? 'ok' : 'FAILED'} (${cfg})`,
    `  schedule: ${sched || 'no faults'}`,
    `  stats: ${JSON.stringify(r.stats)}`,
    ...r.problems.map((p) => `  - ${p}`),
    `  replay: ${pairReplayCommand(r.seed, kindOverridden ? o.faultKind : undefined)}`,
  ].join('\n');
}
