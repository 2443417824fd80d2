// A seeded, deterministic network simulator that drives the REAL ManagerCore and
// ClientCore (FoundationDB-style): virtual clock, an event queue of message
// deliveries with random delays (links optionally FIFO, otherwise fully
// reordered), one sequential workload per client, the DESIGN §2 invariants after
// every event, and a history checked for linearizability at the end.
//
// `Cluster` is the shared plumbing (route outputs, deliver, record results); the
// unit tests drive it by hand, `runSeed` drives it from the event queue.
import { ClientCore, type ClientConfig, type RecoveredEntry } from '../../nodes/core/client.js';
import { checkInvariants } from '../../nodes/core/invariants.js';
import { ManagerCore, type ManagerConfig } from '../../nodes/core/manager.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { ClientOutput, ManagerOutput, OpRequest, OpResult } from '../../nodes/core/types.js';
import type { ClientMemory, Message, MessageType, NodeId } from '../../nodes/protocol/messages.js';
import { checkHistory, type CheckResult } from '../../nodes/control/history/linearizability.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';
import { mulberry32, pick, type Rng } from '../../nodes/core/random.js';

// --- randomness: the same seeded generator the workloads and scenario schedules use ---

export { mulberry32, type Rng };

// --- the cluster: cores plus message routing ---------------------------------------

export const MANAGER_ID: NodeId = 'm0';
/** An hour: a timer that long never fires in a simulated run, short of a hang. */
const NEVER_MS = 3_600_000;

export interface ClusterOptions {
  clients: number;
  pages: number;
  pageSize: number;
  opTimeoutMs: number;
  /** Client retry interval for unanswered faults (default: never). */
  retryMs?: number;
  /** The manager evicts a client silent this long (default 0: never); clients then heartbeat every tenth of it. */
  clientTimeoutMs?: number;
  epoch?: number;
  /** Client memory mode (default volatile): recoverable clients keep a simulated page store through crashes. */
  memory?: ClientMemory;
  /** The manager re-drives a request stalled this long (ManagerConfig.redriveMs; default the core's). */
  redriveMs?: number;
  /** Floors of the adaptive retry and re-drive intervals (ClientConfig.minRetryMs, ManagerConfig.minRedriveMs); absent: fixed. */
  minRetryMs?: number;
  minRedriveMs?: number;
  /** Both cores recover lost and duplicated frames (ManagerConfig/ClientConfig.recoverLoss). */
  recoverLoss?: boolean;
  makeManager?: (cfg: ManagerConfig) => ManagerCore;
  makeClient?: (cfg: ClientConfig) => ClientCore;
}

export interface Envelope {
  id: number;
  from: NodeId;
  to: NodeId;
  msg: Message;
  /** Core clock (ms) when sent. */
  sentAt: number;
}

export type Output = ClientOutput | ManagerOutput;

export interface Where {
  to?: NodeId;
  from?: NodeId;
  page?: number;
}

/** One line per output, for readable assertions: "grant→c0", "done c0 read ok", "ignored grant". */
export function summary(outputs: readonly Output[]): string[] {
  return outputs.map((o) => {
    if (o.type === 'send') return `${o.msg.t}→${o.to}`;
    if (o.type === 'done') return `done ${o.result.kind} ${o.result.ok ? 'ok' : 'fail'}`;
    return `ignored ${o.msg.t}`;
  });
}

export class Cluster {
  manager: ManagerCore;
  readonly clients: ClientCore[];
  /** Messages sent but not yet delivered, in send order (manual mode). */
  readonly inflight: Envelope[] = [];
  readonly results: { client: NodeId; result: OpResult; at: number }[] = [];
  readonly ignored: { node: NodeId; msg: Message; reason: string }[] = [];
  /** Crashed nodes: messages to them are dropped (the hook for fault injection). */
  readonly down = new Set<NodeId>();
  /** Paused clients (SIGSTOP): the simulator holds their messages; the invariants skip them like the dead. */
  readonly paused = new Set<NodeId>();
  /** Core clock in milliseconds; the simulator advances it. */
  now = 0;
  /** Where sends go: manual tests keep them in `inflight`, the simulator schedules them. */
  post: (env: Envelope) => void = (env) => {
    this.inflight.push(env);
  };
  onDone: (client: NodeId, result: OpResult) => void = () => {};
  /** Runs after every delivery, submit and tick: tests assert the invariants here. */
  afterStep: () => void = () => {};
  private readonly opts: ClusterOptions;
  private nextEnvelope = 1;
  /** Restarts per client id: a rebooted client is a new incarnation of the same identity. */
  private readonly incarnations = new Map<NodeId, number>();
  /**
   * Each client's page store: what the OS keeps of it through a SIGKILL. Written before the step's outputs
   * are routed (as the runtime writes before it sends), so a crash between events loses none of it.
   */
  readonly disks = new Map<NodeId, Map<number, RecoveredEntry>>();

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.manager = this.freshManager();
    this.clients = Array.from({ length: opts.clients }, (_, i) => this.freshClient(`c${i}`));
  }

  client(id: NodeId): ClientCore {
    const c = this.clients.find((x) => x.id === id);
    if (!c) throw new Error(`no client ${id}`);
    return c;
  }

  /** Every client says hello; messages stay in flight. */
  start(): void {
    for (const c of this.clients) this.route(c.id, c.start());
  }

  submit(id: NodeId, op: OpRequest): ClientOutput[] {
    const out = this.client(id).submit(op, this.now);
    this.route(id, out);
    this.afterStep();
    return out;
  }

  tick(id: NodeId): ClientOutput[] {
    const out = this.client(id).tick(this.now);
    this.route(id, out);
    this.afterStep();
    return out;
  }

  /** Hands one message to its destination and routes whatever that produces. */
  deliver(env: Envelope): Output[] {
    if (this.down.has(env.to)) return [];
    const out: Output[] = env.to === this.manager.id ? this.manager.receive(env.msg, this.now) : this.client(env.to).receive(env.msg, this.now);
    this.route(env.to, out);
    this.afterStep();
    return out;
  }

  // --- manual stepping (unit tests) ---

  /** In-flight messages of a type (all types when omitted). */
  pending(t?: MessageType, where: Where = {}): Envelope[] {
    return this.inflight.filter((e) => (t === undefined || e.msg.t === t) && matches(e, where));
  }

  /** Removes and returns the first in-flight message of type `t` matching `where`. */
  take(t: MessageType, where: Where = {}): Envelope {
    const i = this.inflight.findIndex((e) => e.msg.t === t && matches(e, where));
    if (i < 0) throw new Error(`no ${t} in flight matching ${JSON.stringify(where)}; in flight: ${this.inflight.map((e) => `${e.msg.t}→${e.to}`).join(', ')}`);
    return this.inflight.splice(i, 1)[0]!;
  }

  step(t: MessageType, where: Where = {}): Output[] {
    return this.deliver(this.take(t, where));
  }

  /** Delivers everything in send order until nothing is in flight; returns the number delivered. */
  flush(limit = 10_000): number {
    let n = 0;
    for (; this.inflight.length > 0; n++) {
      if (n >= limit) throw new Error(`still ${this.inflight.length} messages in flight after ${limit} deliveries`);
      this.deliver(this.inflight.shift()!);
    }
    return n;
  }

  /** DESIGN §2 invariants over the live nodes: a crashed client's memory is gone, not a stale copy. */
  invariants(leaseAware = true): string[] {
    const live = this.down.size === 0 ? this.clients : this.clients.filter((c) => !this.down.has(c.id));
    // A copy counts only while its holder may serve it (client leases); a paused client serves nothing.
    return leaseAware ? checkInvariants(this.manager, live, (c) => !this.paused.has(c.id) && c.leaseValid(this.now)) : checkInvariants(this.manager, live);
  }

  // --- fault injection: crash drops a node's messages, restart gives it a fresh core ---

  crash(id: NodeId): void {
    this.down.add(id);
    for (let i = this.inflight.length - 1; i >= 0; i--) if (this.inflight[i]!.to === id) this.inflight.splice(i, 1);
  }

  /** A fresh core under the same identity (memory lost, as after SIGKILL); a client says hello again. */
  restart(id: NodeId): void {
    this.down.delete(id);
    if (id === this.manager.id) {
      this.manager = this.freshManager();
      return;
    }
    const i = this.clients.findIndex((c) => c.id === id);
    if (i < 0) throw new Error(`no client ${id}`);
    this.incarnations.set(id, (this.incarnations.get(id) ?? 0) + 1);
    const c = this.freshClient(id);
    this.clients[i] = c;
    this.route(id, c.start());
  }

  route(from: NodeId, outputs: readonly Output[]): void {
    if (from !== this.manager.id && !this.down.has(from)) {
      const disk = this.disks.get(from) ?? new Map<number, RecoveredEntry>();
      this.disks.set(from, disk);
      for (const ch of this.client(from).takeDirty()) {
        if (ch.keep) disk.set(ch.page, { ...ch.keep, data: new Uint8Array(ch.keep.data) });
        else disk.delete(ch.page);
      }
    }
    for (const o of outputs) {
      if (o.type === 'send') this.post({ id: this.nextEnvelope++, from, to: o.to, msg: o.msg, sentAt: this.now });
      else if (o.type === 'done') {
        this.results.push({ client: from, result: o.result, at: this.now });
        this.onDone(from, o.result);
      } else this.ignored.push({ node: from, msg: o.msg, reason: o.reason });
    }
  }

  private freshManager(): ManagerCore {
    // Silence-based eviction only in runs with client pauses; otherwise crashes are injected explicitly.
    const cfg: ManagerConfig = {
      id: MANAGER_ID,
      epoch: this.opts.epoch ?? 1,
      pages: this.opts.pages,
      clientTimeoutMs: this.opts.clientTimeoutMs ?? 0,
      ...(this.opts.redriveMs !== undefined ? { redriveMs: this.opts.redriveMs } : {}),
      ...(this.opts.minRedriveMs !== undefined ? { minRedriveMs: this.opts.minRedriveMs } : {}),
      ...(this.opts.recoverLoss ? { recoverLoss: true } : {}),
    };
    return this.opts.makeManager ? this.opts.makeManager(cfg) : new ManagerCore(cfg);
  }

  private freshClient(id: NodeId): ClientCore {
    const cfg: ClientConfig = {
      id,
      endpoint: `inproc://${id}`,
      managers: [MANAGER_ID],
      epoch: this.opts.epoch ?? 1,
      pages: this.opts.pages,
      pageSize: this.opts.pageSize,
      opTimeoutMs: this.opts.opTimeoutMs,
      incarnation: this.incarnations.get(id) ?? 0,
      retryMs: this.opts.retryMs ?? NEVER_MS,
      ...(this.opts.minRetryMs !== undefined ? { minRetryMs: this.opts.minRetryMs } : {}),
      // Without evictions (clientTimeoutMs 0) heartbeats would only add traffic: the one lease a client
      // asks for when it joins never runs out. With them, the supervisor's ratio: a tenth of the timeout.
      heartbeatMs: this.opts.clientTimeoutMs ? this.opts.clientTimeoutMs / 10 : NEVER_MS,
      ...(this.opts.recoverLoss ? { recoverLoss: true } : {}),
      ...(this.opts.memory ? { memory: this.opts.memory, recovered: [...(this.disks.get(id)?.values() ?? [])] } : {}),
    };
    return this.opts.makeClient ? this.opts.makeClient(cfg) : new ClientCore(cfg);
  }
}

function matches(e: Envelope, w: Where): boolean {
  return (w.to === undefined || e.to === w.to) && (w.from === undefined || e.from === w.from) && (w.page === undefined || ('page' in e.msg && e.msg.page === w.page));
}

// --- the seeded simulation -----------------------------------------------------------

export type Ordering = 'fifo' | 'random';

/** Network delay per message, in virtual nanoseconds. */
export type DelayModel =
  | { kind: 'uniform'; minNs: number; maxNs: number }
  | { kind: 'exponential'; meanNs: number }
  /** Mostly fast with a heavy tail: the case that reorders most. */
  | { kind: 'mixed'; meanNs: number; slowProb: number; slowMaxNs: number };

export interface SimControl {
  readonly rng: Rng;
  readonly cluster: Cluster;
  nowNs(): number;
  /** Runs `action` at virtual time `atNs` (e.g. crash, restart). */
  at(atNs: number, action: (ctl: SimControl) => void): void;
  /** Crash a node: in-flight and future messages to it are lost; a client's outstanding op becomes "unknown". */
  crash(id: NodeId): void;
  restart(id: NodeId): void;
  /**
   * SIGSTOP a client for `forNs`: it processes nothing (no timers, no messages, no new ops), then
   * resumes with its old state; the frames that reached it meanwhile arrive in order, racing its
   * overdue timer and its next op. Needs `clientTimeoutMs` for the manager to evict it.
   */
  pause(id: NodeId, forNs: number): void;
}

/** Fault injection: schedule crashes/restarts in `setup`, or drop chosen messages in `filter`. */
export interface FaultPlan {
  setup?(ctl: SimControl): void;
  /** Return false to lose the message instead of delivering it. */
  filter?(env: Envelope, ctl: SimControl): boolean;
}

export interface SimOptions {
  clients: number;
  pages: number;
  pageSize: number;
  opsPerClient: number;
  readRatio: number;
  ordering: Ordering;
  delay: DelayModel;
  /** Mean pause between a client's ops; 0 = back to back (more cache hits). */
  thinkMeanNs: number;
  /** Client op timeout; null = so long it never fires. */
  opTimeoutMs: number | null;
  /** Clients tick this often and resend unanswered faults (same request id); null = no retries. */
  retryMs: number | null;
  /**
   * The manager evicts a client silent this long (null = never); clients then heartbeat every tenth of
   * it and renew their leases, and both sides tick. The runs with client pauses set it.
   */
  clientTimeoutMs: number | null;
  maxSteps: number;
  /**
   * DESIGN §2 invariants: after every event ('always'); only once the run is over ('quiescent', for
   * crash runs: until the manager hears of a crash its records describe the dead node); or 'never'
   * (to test the history checker alone).
   */
  checkInvariants: 'always' | 'quiescent' | 'never';
  /** Treat any message a core ignored as a failure (nothing should be ignored on a fault-free run). */
  failOnIgnored: boolean;
  shrinkTimeMs: number;
  makeManager?: (cfg: ManagerConfig) => ManagerCore;
  makeClient?: (cfg: ClientConfig) => ClientCore;
  faults?: FaultPlan;
  /** Client memory mode (default volatile). */
  memory?: ClientMemory;
  /** After the run, every page is read once at a live client, and those reads join the checked history. */
  finalReads?: boolean;
  /**
   * Probability that a frame is lost, and that one is delivered twice (the copy with its own delay), drawn
   * from their own stream: with both 0 (the default) a seed replays exactly as before they existed.
   */
  loss?: number;
  dup?: number;
  /** The manager ticks this often and re-drives a request stalled for it (virtual ms); null/absent = no manager ticks for it. */
  redriveMs?: number | null;
  /** Both cores recover lost and duplicated frames (the lossy runs set it). */
  recoverLoss?: boolean;
}

export interface SimResult {
  ok: boolean;
  seed: number;
  options: SimOptions;
  history: HistoryOp[];
  /** Each prefixed by its oracle: "invariant", "linearizability", "hang", "quiescence", "ignored", "workload". */
  problems: string[];
  steps: number;
  check: CheckResult;
  stats: { messages: number; faults: number; hits: number; failed: number; duplicates: number; endNs: number; lost: number; duplicated: number };
  /** Why each failed op failed. */
  errors: string[];
  /** Recovered pages the manager gave back (restore with keep). */
  restores: number;
}

/** The per-seed configuration; everything is derived from the seed so a failure replays exactly. */
export function optionsForSeed(seed: number): SimOptions {
  const r = mulberry32(Math.imul(seed, 0x9e3779b1) ^ 0x51ed);
  const us = 1000;
  const delays: DelayModel[] = [
    { kind: 'uniform', minNs: 1 * us, maxNs: (20 + pick(r, 200)) * us },
    { kind: 'exponential', meanNs: (5 + pick(r, 60)) * us },
    { kind: 'mixed', meanNs: (2 + pick(r, 20)) * us, slowProb: 0.05 + r() * 0.2, slowMaxNs: (200 + pick(r, 2000)) * us },
  ];
  const delay = delays[pick(r, delays.length)]!;
  // Think time relative to the network: much shorter lets a client burst through its ops while
  // others' requests are in flight (many hits); comparable or longer interleaves clients more.
  const thinkFactors = [0, 0.1, 1, 3];
  return {
    clients: 2 + pick(r, 7),
    pages: 1 + pick(r, 4),
    // Just room for a token: invariants compare page bytes after every event, so bigger pages only cost time.
    pageSize: TOKEN_SPAN,
    opsPerClient: 15 + pick(r, 26),
    readRatio: 0.1 + 0.8 * r(),
    ordering: seed % 2 === 0 ? 'fifo' : 'random',
    delay,
    thinkMeanNs: Math.round(meanDelay(delay) * thinkFactors[pick(r, thinkFactors.length)]!),
    // One seed in five uses timeouts short enough to fire, so late pages must still be confirmed.
    opTimeoutMs: pick(r, 5) === 0 ? 0.05 + r() * 0.5 : null,
    // One in three retries unanswered faults, often while the original is still in flight: duplicates must be harmless.
    retryMs: pick(r, 3) === 0 ? 0.03 + r() * 0.3 : null,
    clientTimeoutMs: null,
    maxSteps: 500_000,
    checkInvariants: 'always',
    failOnIgnored: true,
    shrinkTimeMs: 200,
  };
}

function meanDelay(d: DelayModel): number {
  switch (d.kind) {
    case 'uniform':
      return (d.minNs + d.maxNs) / 2;
    case 'exponential':
      return d.meanNs;
    case 'mixed':
      return (1 - d.slowProb) * d.meanNs + (d.slowProb * d.slowMaxNs) / 2;
  }
}

type SimEvent =
  | { kind: 'deliver'; env: Envelope }
  | { kind: 'op'; client: NodeId }
  | { kind: 'tick'; client: NodeId }
  | { kind: 'retry'; client: NodeId }
  /** Periodic ticks (heartbeats, leases, evictions) of a client, or of the manager (client: null). */
  | { kind: 'beat'; client: NodeId | null }
  | { kind: 'resume'; client: NodeId }
  /** The manager's re-drive timer (lossy runs). */
  | { kind: 'redrive' }
  | { kind: 'fault'; action: (ctl: SimControl) => void };

export interface Queued<E> {
  at: number;
  seq: number;
  ev: E;
}

/** Min-heap on (time, insertion order), so equal times resolve deterministically. Shared with the pair simulator. */
export class EventQueue<E> {
  private readonly heap: Queued<E>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, ev: E): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, ev });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): Queued<E> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
    return top;
  }
}

const before = <E>(a: Queued<E>, b: Queued<E>): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

function sampleDelay(rng: Rng, d: DelayModel): number {
  const exp = (mean: number): number => -Math.log(1 - rng()) * mean;
  let ns: number;
  switch (d.kind) {
    case 'uniform':
      ns = d.minNs + rng() * (d.maxNs - d.minNs);
      break;
    case 'exponential':
      ns = exp(d.meanNs);
      break;
    case 'mixed':
      ns = rng() < d.slowProb ? rng() * d.slowMaxNs : exp(d.meanNs);
      break;
  }
  return Math.max(1, Math.round(ns));
}

interface Outstanding {
  op: OpRequest;
  token: string | null;
  record: HistoryOp;
}

interface Worker {
  id: NodeId;
  joined: boolean;
  crashed: boolean;
  issued: number;
  current: Outstanding | null;
  /** Frames that reached it while paused, in arrival order. */
  held: Envelope[] | null;
  /** Its next op came due while it was paused. */
  deferredOp: boolean;
}

const MAX_PROBLEMS = 20;

export function runSeed(seed: number, overrides: Partial<SimOptions> = {}): SimResult {
  const o: SimOptions = { ...optionsForSeed(seed), ...overrides };
  // Separate streams so changing the workload does not perturb the network schedule.
  const net = mulberry32(seed ^ 0x6e6574);
  const work = mulberry32(seed ^ 0x776b6c);
  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const history: HistoryOp[] = [];
  const queue = new EventQueue<SimEvent>();
  const linkClock = new Map<string, number>();
  let nowNs = 0;
  let steps = 0;
  let messages = 0;

  const cluster = new Cluster({
    clients: o.clients,
    pages: o.pages,
    pageSize: o.pageSize,
    opTimeoutMs: o.opTimeoutMs ?? NEVER_MS,
    retryMs: o.retryMs ?? NEVER_MS,
    ...(o.clientTimeoutMs !== null ? { clientTimeoutMs: o.clientTimeoutMs } : {}),
    makeManager: o.makeManager,
    makeClient: o.makeClient,
    ...(o.memory ? { memory: o.memory } : {}),
    ...(o.redriveMs ? { redriveMs: o.redriveMs } : {}),
    ...(o.recoverLoss ? { recoverLoss: true } : {}),
  });
  const workers = new Map<NodeId, Worker>(
    cluster.clients.map((c) => [c.id, { id: c.id, joined: false, crashed: false, issued: 0, current: null, held: null, deferredOp: false }]),
  );
  const worker = (id: NodeId): Worker => {
    const w = workers.get(id);
    if (!w) throw new Error(`no worker ${id}`);
    return w;
  };

  let restores = 0;
  // Loss and duplication draw from their own stream, and only when enabled: other seeds replay unchanged.
  const lossy = mulberry32(seed ^ 0x6c6f7373);
  const loss = o.loss ?? 0;
  const dup = o.dup ?? 0;
  let lost = 0;
  let duplicated = 0;
  cluster.post = (env) => {
    messages++;
    if (env.msg.t === 'restore' && env.msg.keep) restores++;
    if (loss > 0 && lossy() < loss) {
      lost++;
      return;
    }
    if (dup > 0 && lossy() < dup) {
      // The copy travels on its own (it may overtake the original even on a FIFO link: a duplicating network reorders too).
      duplicated++;
      queue.push(nowNs + sampleDelay(lossy, o.delay), { kind: 'deliver', env });
    }
    let at = nowNs + sampleDelay(net, o.delay);
    if (o.ordering === 'fifo') {
      // Per-link FIFO: never overtake the previous message on the same link.
      const link = `${env.from}>${env.to}`;
      at = Math.max(at, linkClock.get(link) ?? 0);
      linkClock.set(link, at);
    }
    queue.push(at, { kind: 'deliver', env });
  };

  // Periodic ticks while the workload runs (then they stop, or the run would never go quiet).
  const beatNs = o.clientTimeoutMs === null ? 0 : Math.ceil((o.clientTimeoutMs / 20) * 1e6);
  const finished = (): boolean => [...workers.values()].every((w) => w.crashed || (w.issued >= o.opsPerClient && !w.current && w.held === null));
  const scheduleBeat = (client: NodeId | null): void => {
    if (beatNs > 0 && !finished()) queue.push(nowNs + beatNs, { kind: 'beat', client });
  };

  const ticking = new Set<NodeId>();
  /** Retries need a clock: tick every retry interval while the client has work or an open fault. */
  const scheduleRetryTick = (w: Worker): void => {
    if (o.retryMs === null || ticking.has(w.id) || w.crashed) return;
    ticking.add(w.id);
    queue.push(nowNs + Math.ceil(o.retryMs * 1e6), { kind: 'retry', client: w.id });
  };

  const scheduleOp = (w: Worker): void => {
    if (w.issued >= o.opsPerClient || w.crashed) return;
    // +1 ns: the next op starts strictly after the last ended, so the checker sees them ordered.
    const think = o.thinkMeanNs > 0 ? Math.round(-Math.log(1 - work()) * o.thinkMeanNs) : 0;
    queue.push(nowNs + 1 + think, { kind: 'op', client: w.id });
  };

  cluster.onDone = (id, result) => {
    const w = worker(id);
    const cur = w.current;
    if (!cur || cur.op.id !== result.id || cur.op.page !== result.page || cur.op.kind !== result.kind) {
      problem(`workload: ${id} completed op ${result.id} (${result.kind} page ${result.page}) that was not outstanding`);
      return;
    }
    const rec = cur.record;
    rec.end = nowNs;
    rec.fault = result.fault;
    if (result.ok) {
      rec.outcome = 'ok';
      rec.value = result.kind === 'write' ? cur.token : decodeToken(result.data ?? new Uint8Array(0));
    } else {
      rec.outcome = 'fail';
      rec.value = cur.token;
    }
    // Cache hits finish in the same virtual instant; anything that waited must be reported as a fault.
    if (!rec.fault && rec.end !== rec.start) {
      problem(`workload: ${id} op ${result.id} took ${rec.end - rec.start} ns but was reported as a cache hit (fault: false)`);
    }
    history.push(rec);
    w.current = null;
    scheduleOp(w);
  };

  const issue = (w: Worker): void => {
    if (w.crashed || w.current) return;
    const opId = ++w.issued;
    const page = pick(work, o.pages);
    const read = work() < o.readRatio;
    const token = read ? null : `${w.id}:${opId}`;
    const op: OpRequest = token === null ? { id: opId, kind: 'read', page, offset: 0, length: TOKEN_SPAN } : { id: opId, kind: 'write', page, offset: 0, data: encodeToken(token) };
    const record: HistoryOp = { client: w.id, op: op.kind, page, value: token, start: nowNs, end: null, outcome: 'unknown', fault: false };
    w.current = { op, token, record };
    if (o.opTimeoutMs !== null) queue.push(nowNs + Math.ceil(o.opTimeoutMs * 1e6) + 1, { kind: 'tick', client: w.id });
    cluster.submit(w.id, op);
  };

  const ctl: SimControl = {
    rng: net,
    cluster,
    nowNs: () => nowNs,
    at: (atNs, action) => queue.push(Math.max(atNs, nowNs), { kind: 'fault', action }),
    crash: (id) => {
      cluster.crash(id);
      const w = workers.get(id);
      if (!w) return;
      w.crashed = true;
      w.joined = false;
      // The op was in flight when the node died: nobody can say whether it took effect.
      if (w.current) history.push(w.current.record);
      w.current = null;
    },
    restart: (id) => {
      cluster.restart(id);
      const w = workers.get(id);
      if (w) w.crashed = false;
    },
    pause: (id, forNs) => {
      const w = worker(id);
      if (w.crashed || w.held !== null) return;
      w.held = [];
      cluster.paused.add(id);
      queue.push(nowNs + forNs, { kind: 'resume', client: id });
    },
  };

  /** SIGCONT: held frames arrive in order; the overdue timer and the next op race them (either may run first). */
  const resume = (w: Worker): void => {
    const held = w.held ?? [];
    w.held = null;
    cluster.paused.delete(w.id);
    held.forEach((env, i) => queue.push(nowNs + 1 + i, { kind: 'deliver', env }));
    const after = nowNs + held.length + 1;
    queue.push(net() < 0.5 ? nowNs : after, { kind: 'tick', client: w.id });
    if (w.deferredOp) {
      w.deferredOp = false;
      queue.push(net() < 0.5 ? nowNs : after, { kind: 'op', client: w.id });
    }
    scheduleRetryTick(w);
  };

  let checking = o.checkInvariants === 'always';
  cluster.afterStep = () => {
    if (!checking) return;
    const bad = cluster.invariants();
    if (bad.length > 0) {
      for (const b of bad) problem(`invariant at step ${steps}, t=${nowNs} ns: ${b}`);
      checking = false; // the first violation is the interesting one; the rest is fallout
    }
  };

  const redriveNs = o.redriveMs ? Math.ceil(o.redriveMs * 1e6) : 0;
  const managerBusy = (): boolean => cluster.manager.recordCache().some((r) => r.active !== null);
  const scheduleRedrive = (): void => {
    if (redriveNs > 0 && (!finished() || managerBusy())) queue.push(nowNs + redriveNs, { kind: 'redrive' });
  };

  o.faults?.setup?.(ctl);
  cluster.start();
  // A lossy network can eat a hello or its welcome: clients tick (and say hello again) before they join.
  if (loss > 0 || dup > 0) for (const w of workers.values()) scheduleRetryTick(w);
  scheduleRedrive();
  if (beatNs > 0) for (const id of [null, ...workers.keys()]) queue.push(Math.floor(net() * beatNs), { kind: 'beat', client: id });

  const drain = (): void => {
  while (queue.size > 0) {
    if (++steps > o.maxSteps) {
      problem(`quiescence: still busy after ${o.maxSteps} steps (livelock?)`);
      break;
    }
    const { at, ev } = queue.pop()!;
    nowNs = at;
    cluster.now = nowNs / 1e6;
    switch (ev.kind) {
      case 'deliver': {
        const { env } = ev;
        if (o.faults?.filter && !o.faults.filter(env, ctl)) break;
        if (cluster.down.has(env.to)) break;
        const held = workers.get(env.to)?.held;
        if (held) {
          held.push(env);
          break;
        }
        cluster.deliver(env);
        // A client may work once it has joined (its hello was processed); see the report on why.
        const w = workers.get(env.to);
        if (w && !w.joined && env.msg.t === 'members' && env.msg.members.some((m) => m.id === env.to)) {
          w.joined = true;
          scheduleOp(w);
          scheduleRetryTick(w);
        }
        break;
      }
      case 'op': {
        const w = worker(ev.client);
        if (w.held) w.deferredOp = true;
        else issue(w);
        break;
      }
      case 'tick':
        if (!worker(ev.client).crashed && !worker(ev.client).held) cluster.tick(ev.client);
        break;
      case 'beat':
        if (ev.client === null) {
          cluster.route(MANAGER_ID, cluster.manager.tick(cluster.now));
          cluster.afterStep();
        } else if (!worker(ev.client).crashed && !worker(ev.client).held) {
          cluster.tick(ev.client);
        }
        scheduleBeat(ev.client);
        break;
      case 'resume':
        resume(worker(ev.client));
        break;
      case 'redrive':
        cluster.route(MANAGER_ID, cluster.manager.tick(cluster.now));
        cluster.afterStep();
        scheduleRedrive();
        break;
      case 'retry': {
        const w = worker(ev.client);
        ticking.delete(w.id);
        if (w.crashed || w.held) break;
        cluster.tick(w.id);
        // Stop once nothing can need a retry, or the run would never go quiet.
        const open = cluster.client(w.id).pageTable().some((v) => v.pending !== null);
        if (open || w.issued < o.opsPerClient || w.current) scheduleRetryTick(w);
        break;
      }
      case 'fault':
        ev.action(ctl);
        break;
    }
  }
  };
  drain();

  if (o.finalReads) {
    // The state the run left behind, read back: every acknowledged write must still be there (or overwritten).
    const live = [...workers.values()].filter((w) => !w.crashed && w.joined && !w.current);
    for (let page = 0; page < o.pages && live.length > 0; page++) {
      const w = live[page % live.length]!;
      const op: OpRequest = { id: ++w.issued, kind: 'read', page, offset: 0, length: TOKEN_SPAN };
      nowNs += 1;
      cluster.now = nowNs / 1e6;
      w.current = { op, token: null, record: { client: w.id, op: 'read', page, value: null, start: nowNs, end: null, outcome: 'unknown', fault: false } };
      cluster.submit(w.id, op);
      if (loss > 0 || dup > 0) {
        scheduleRetryTick(w);
        scheduleRedrive();
      }
      drain();
    }
  }

  if (o.failOnIgnored) {
    for (const ig of cluster.ignored.slice(0, 5)) problem(`ignored: ${ig.node} ignored ${ig.msg.t} from ${ig.msg.from}: ${ig.reason}`);
  }
  // Nothing left to happen: any op still outstanding is a hang.
  for (const w of workers.values()) {
    if (w.crashed) continue;
    if (w.current) problem(`hang: ${w.id} op ${w.current.op.id} (${w.current.op.kind} page ${w.current.op.page}, started at ${w.current.record.start} ns) never completed`);
    else if (w.issued < o.opsPerClient) problem(`hang: ${w.id} ${w.joined ? 'stopped' : 'never joined'} after ${w.issued}/${o.opsPerClient} ops`);
  }
  for (const rec of cluster.manager.recordCache()) {
    if (rec.active || rec.queue.length > 0) problem(`quiescence: manager page ${rec.page} still busy: ${JSON.stringify({ active: rec.active, queue: rec.queue })}`);
  }
  for (const c of cluster.clients.filter((x) => !cluster.down.has(x.id))) {
    for (const v of c.pageTable()) if (v.pending) problem(`quiescence: ${c.id} page ${v.page} still has a ${v.pending} fault open`);
  }
  // At the end every copy counts, leased or not: the run is over, so leases may have lapsed, and no
  // client is paused any more: a stale copy still held now would be served by the next op.
  if (o.checkInvariants !== 'never') for (const b of cluster.invariants(false)) problem(`invariant at the end: ${b}`);

  const check = checkHistory(history, { shrinkTimeMs: o.shrinkTimeMs });
  if (!check.ok) {
    problem(`linearizability: ${check.explanation}\n${check.counterexample.map((op) => `    ${describe(op)}`).join('\n')}`);
  }

  const stats = {
    messages,
    faults: history.filter((h) => h.fault).length,
    hits: history.filter((h) => !h.fault && h.outcome === 'ok').length,
    failed: history.filter((h) => h.outcome === 'fail').length,
    duplicates: cluster.manager.counters.duplicates,
    lost,
    duplicated,
    endNs: nowNs,
  };
  const errors = cluster.results.flatMap((x) => (x.result.ok ? [] : [x.result.error]));
  return { ok: problems.length === 0, seed, options: o, history, problems, steps, check, stats, errors, restores };
}

function describe(op: HistoryOp): string {
  const end = op.end === null ? '?' : String(op.end);
  return `${op.client} ${op.op} page ${op.page} ${op.value ?? 'null'} [${op.start}..${end}] ns ${op.outcome}${op.fault ? '' : ' (hit)'}`;
}

/** A one-paragraph account of a failed seed, with the command that replays it. */
export function report(r: SimResult, replayEnv = ''): string {
  const { options: o } = r;
  const cfg = `clients=${o.clients} pages=${o.pages} ops/client=${o.opsPerClient} readRatio=${o.readRatio.toFixed(2)} ordering=${o.ordering} delay=${JSON.stringify(o.delay)} think=${o.thinkMeanNs}ns timeout=${o.opTimeoutMs ?? 'none'} retry=${o.retryMs ?? 'none'}`;
  return [`seed ${r.seed} FAILED after ${r.steps} steps (${cfg})`, ...r.problems.map((p) => `  - ${p}`), `  replay: SIM_SEED=${r.seed} ${replayEnv}npx vitest run --project sim`].join('\n');
}
