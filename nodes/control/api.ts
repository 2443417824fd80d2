// The ClusterApi: the one surface the UI talks to, whether over Electron IPC or the
// WebSocket of `ivy-cluster serve`. Commands are zod schemas because they cross a
// trust boundary (renderer or browser -> main process); snapshots and events go the
// other way and are plain data.
import { z } from 'zod';
import type { OpKind, PageView, RecordView } from '../core/types.js';
import { ClientMemorySchema, type ClientMemory } from '../protocol/messages.js';
import type { HistoryOp } from './history/schema.js';
import type { TraceFields } from './trace/frames.js';
import type { TraceRecord } from './trace/record.js';
import type { NemesisCounters } from '../runtime/nemesis.js';
import { NemesisSpecSchema, type NemesisSpec, type ResolvedRule } from './nemesis/spec.js';

// --- configuration ---------------------------------------------------------------

/**
 * The coherence protocols a cluster can run (DESIGN §2, §2b): IVY (central manager,
 * write-invalidate, linearizable pages) and write-update by ISIS total order (a
 * registry in the manager seat, every page replicated, sequentially consistent).
 */
export const PROTOCOLS = ['ivy', 'isis'] as const;
export const ProtocolSchema = z.enum(PROTOCOLS);
export type Protocol = z.infer<typeof ProtocolSchema>;

/** How people name them (UI, CLI output). */
export const PROTOCOL_LABELS: Record<Protocol, string> = {
  ivy: 'IVY (central manager)',
  isis: 'Write-update (ISIS total order)',
};

/** The consistency model each protocol's histories are checked against. */
export type ConsistencyModel = 'linearizable' | 'sequential';
export const PROTOCOL_MODEL: Record<Protocol, ConsistencyModel> = { ivy: 'linearizable', isis: 'sequential' };

export const ClusterConfigSchema = z.object({
  /** ivy: manager + clients; isis: registry (m0, backup registry m1) + members. */
  protocol: ProtocolSchema.default('ivy'),
  clients: z.number().int().min(1).max(128).default(4),
  backup: z.boolean().default(false),
  pages: z.number().int().min(1).max(4096).default(64),
  pageSize: z.number().int().min(64).max(1 << 20).default(4096),
  /** Managers ping each other this often… */
  heartbeatMs: z.number().int().min(5).max(10_000).default(50),
  /**
   * …and the backup takes over after this long without an answer. A crashed primary is
   * noticed sooner, when its connection drops; this covers a paused or unreachable one.
   */
  heartbeatTimeoutMs: z.number().int().min(20).max(60_000).default(500),
  /** A client silent this long is declared dead by the manager; what it alone held is lost. */
  clientTimeoutMs: z.number().int().min(200).max(600_000).default(2000),
  basePort: z.number().int().min(1024).max(65_000).default(7000),
  host: z.string().default('127.0.0.1'),
  opTimeoutMs: z.number().int().min(50).max(600_000).default(5000),
  /**
   * Where clients keep their pages (DESIGN §3, seed 004): volatile (die with the process), recoverable (a
   * page file the OS keeps through SIGKILL), durable (also fdatasync before a write is acknowledged).
   * Absent: recoverable (DEFAULT_CLIENT_MEMORY).
   */
  clientMemory: ClientMemorySchema.optional(),
});
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;
export const DEFAULT_CLIENT_MEMORY = 'recoverable' as const;
export type ClusterConfigInput = z.input<typeof ClusterConfigSchema>;

export const WorkloadSchema = z.object({
  readRatio: z.number().min(0).max(1).default(0.6),
  /** Operations per second per client; 0 = as fast as possible. */
  rate: z.number().min(0).max(1_000_000).default(0),
  /** Operations per client; 0 = until stopped. */
  ops: z.number().int().min(0).default(0),
  /** Pages the workload touches (0..pages-1); defaults to all. */
  pages: z.number().int().min(1).optional(),
  seed: z.number().int().default(1),
});
export type Workload = z.infer<typeof WorkloadSchema>;
export type WorkloadInput = z.input<typeof WorkloadSchema>;

// --- what the UI sees ----------------------------------------------------------------

/** candidate: taking over (collecting page tables); rejoining: a rebooted home primary asking for its role back. */
export type NodeRole = 'primary' | 'backup' | 'candidate' | 'rejoining' | 'client';
export type NodeState = 'starting' | 'up' | 'down' | 'stopped' | 'rebooting';

export interface NodeInfo {
  id: string;
  role: NodeRole;
  state: NodeState;
  pid: number | null;
  endpoint: string;
  epoch: number;
  /** Wall-clock ms when the current incarnation became up (null while not up). */
  upSince: number | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null } | null;
  /** Frames dropped because they were malformed or made no sense here. */
  dropped: number;
  rssBytes: number | null;
  /** What the network nemesis did to this node's outgoing frames (null or absent: never had rules). */
  nemesis?: NemesisCounters | null;
}

/** The network nemesis as views see it. */
export interface NemesisView {
  /** What was asked (null: none in force). */
  spec: NemesisSpec | null;
  /** What it resolved to, with a one-line description each. */
  rules: (ResolvedRule & { text: string })[];
  /** Wall-clock ms since when the rules are in force. */
  since: number | null;
  /** Every nemesis period of this cluster (latency chart bands); `to` null: still in force. */
  windows: { from: number; to: number | null; label: string }[];
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

export interface ClientStats {
  id: string;
  ops: number;
  hits: number;
  faults: number;
  failed: number;
  read: LatencySummary;
  write: LatencySummary;
}

export interface PageRow extends PageView {
  /** First bytes of the page in hex, for a glance at the contents. */
  preview: string;
  /** The workload token stored in the page, if any. */
  token: string | null;
  /** Write-update: total-order position of the write whose value the replica holds (0 = never written). */
  wpos?: number;
}

// --- write-update (ISIS) views ------------------------------------------------------------

/** An ISIS priority: [counter, proposer number], unique, compared lexicographically. */
export type OrderPriority = [number, number];

/** One message in a member's pending ISIS queue. */
export interface OrderQueueEntry {
  sender: string;
  seq: number;
  page: number;
  /** This member's proposal (what the queue is sorted by until the agreed priority arrives). */
  proposed: OrderPriority;
  /** The sender's decision, once it arrived. */
  agreed: OrderPriority | null;
  /** Every member holds it agreed. */
  stable: boolean;
  /** At the head and agreed: delivered at the next step. */
  deliverable: boolean;
}

/** A member's place in the total order (the Total order panel and the Page caches). */
export interface MemberOrderView {
  /** Membership view the member is in (0 before the first), and the one it is preparing, if any. */
  view: number;
  preparing: number | null;
  /** Members of its view, as it knows them. */
  members: string[];
  /** Writes delivered so far (its last applied total-order position). */
  pos: number;
  /** False while a joiner waits for its state transfer. */
  hasState: boolean;
  queue: OrderQueueEntry[];
}

/** What a registry seat (m0 primary, m1 backup) knows of the group. */
export interface MembershipView {
  view: number;
  members: { id: string; incarnation: number; pos: number | null }[];
  /** A view change under way: the view being installed, its phase, its members and whose flush is awaited. */
  change: { view: number; phase: 'flush' | 'install'; members: string[]; waitingFor: string[] } | null;
  /** The registry refused the last view change: only `have` of view `view`'s `of` members vouch for it (no quorum), so writes wait. */
  blocked?: { view: number; have: number; of: number } | null;
}

export interface LatencyPoint {
  /** Wall-clock ms at the end of the sampling window. */
  t: number;
  ops: number;
  faults: number;
  readP50Us: number | null;
  readP99Us: number | null;
  writeP50Us: number | null;
  writeP99Us: number | null;
}

export interface HistogramBucket {
  /** Upper bound of the bucket in microseconds. */
  leUs: number;
  read: number;
  write: number;
}

export type MarkKind = 'start' | 'kill' | 'stop' | 'reboot' | 'up' | 'down' | 'failover' | 'handback';
export interface Mark {
  t: number;
  kind: MarkKind;
  node: string;
  /** Monotonic ns (the clock op timings use), so a fault window can be matched to operations. */
  atNs: number;
}

/** How long one watchPageTables keeps page tables in the snapshots: views renew it at a third of this. */
export const PAGE_TABLES_LEASE_MS = 3000;

export interface ClusterSnapshot {
  /** Monotonic counter so a view can skip stale snapshots. */
  seq: number;
  t: number;
  running: boolean;
  config: ClusterConfig | null;
  workload: Workload | null;
  nodes: NodeInfo[];
  clients: ClientStats[];
  /** Record cache per manager id (primary and backup side by side). */
  records: Record<string, RecordView[]>;
  /**
   * Page table per client id; absent unless a view asked for them (watchPageTables) in the last
   * PAGE_TABLES_LEASE_MS: at 64 clients they are 4,096 rows, most of every snapshot.
   */
  pageTables?: Record<string, PageRow[]>;
  /** Write-update: the registry's membership view per seat id (instead of records). */
  membership?: Record<string, MembershipView>;
  /** Write-update: each member's total-order state (view, pos, pending queue) per client id. */
  orders?: Record<string, MemberOrderView>;
  histogram: HistogramBucket[];
  series: LatencyPoint[];
  marks: Mark[];
  /** The network nemesis: rules in force and the periods it was on. */
  nemesis?: NemesisView;
}

export interface ClusterEvent {
  t: number;
  level: 'info' | 'warn' | 'error';
  kind: string;
  node?: string;
  message: string;
}

// --- scenarios (plain data, rendered by CLI and UI alike) ---------------------------------

export interface ScenarioProgress {
  scenario: string;
  /** The protocol of the cluster this progress is about (absent: ivy). */
  protocol?: Protocol;
  index: number;
  of: number;
  trial: number;
  trials: number;
  message: string;
  /** 1-based round within the trial, when the message is about one. */
  round?: number;
  /** Rounds per trial (a trial runs longer while its scheduled faults are still being carried out). */
  rounds?: number;
}

export interface TrialRow {
  trial: number;
  highestMs: number;
  highestNode: string;
  lowestMs: number;
  lowestNode: string;
  /** Successful faults the trial's highest and lowest were taken over. */
  faults?: number;
  /** Operations of the trial that failed (e.g. timed out while no manager served). */
  failed?: number;
}

/** s9: one kill and reboot of a page-owning client (figures NaN where nothing was measured, null: not rebooted). */
export interface ClientKillRow {
  node: string;
  pages: number;
  trial?: number;
  /** Reboot -> end of the first successful fault on a page it owned at the kill. */
  recoveryMs?: number | null;
  /** Reboot -> its log line "recovered pages served again". */
  servedMs?: number | null;
}

/** One frame of a slowest fault's diagram; times in µs from the operation's start (null: not seen, e.g. lost with a killed node). */
export interface SlowFrame {
  type: string;
  from: string;
  to: string;
  sendUs: number | null;
  recvUs: number | null;
  /** What the nemesis did to it ("dropped by nemesis: rule m0>m1:partition") or why its receiver refused it ("fenced: epoch 3 < 4"). */
  note?: string;
  /** The receiver refused it for a stale epoch (fencing). */
  fenced?: boolean;
}

/** The slowest fault (write-update: write) of one trial and the frames it caused ("why was this one 40 ms?"). */
export interface SlowestFault {
  trial: number;
  client: string;
  kind: 'read' | 'write';
  page: number;
  /** Its latency as the tables count it. */
  ms: number;
  frames: SlowFrame[];
  /** Frames left out of a very long one (retries across a failover): the first ones are kept. */
  moreFrames: number;
}

export interface ScenarioResult {
  id: string;
  name: string;
  trials: TrialRow[];
  highAverageMs: number;
  lowAverageMs: number;
  averageMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Kill of the serving manager -> the supervisor's failover mark. */
  failoverMs: number[];
  // Optional extensions (figures are NaN where nothing was measured):
  /** Kill of the serving manager -> completion of the first fault issued after it. */
  recoveryMs?: number[];
  /** Reboot of the primary -> the supervisor's hand-back mark. */
  handbackMs?: number[];
  /**
   * s9: the clients killed, in order: the trial, how many pages each owned at its kill and, when it was
   * rebooted, its two recovery figures (the same values as clientRecoveryMs / pagesServedMs, kept per kill).
   */
  clientKills?: ClientKillRow[];
  /** s9: reboot of a killed client -> end of the first successful fault on a page it owned at the kill (issued after the reboot). */
  clientRecoveryMs?: number[];
  /** s9: reboot of a killed client -> its log line "recovered pages served again" (the manager ruled on every recovered page). */
  pagesServedMs?: number[];
  clients?: number;
  pages?: number;
  rounds?: number;
  seed?: number;
  /** Successful faults over the whole scenario (what p50/p99 are taken over). */
  faultOps?: number;
  /** Cache hits (excluded from every figure) and failed operations. */
  hits?: number;
  failedOps?: number;
  /** The seeded fault schedule, one line per event (a skipped or failed event is reported as a note/event). */
  schedule?: string[];
  /** Whether this scenario's history is linearizable (null: not checked; write-update histories are not expected to be). */
  linearizable?: boolean | null;
  /** The protocol the scenario ran (absent: ivy). */
  protocol?: Protocol;
  /** IVY: where the clients kept their pages (write-update members have no client memory mode). */
  clientMemory?: ClientMemory;
  /** The model the history was checked against: linearizable (ivy) or sequential (isis). */
  model?: ConsistencyModel;
  /** Whether the history passed its model's check. */
  consistent?: boolean | null;
  /**
   * What the timing figures are taken over: IVY's faults (cache hits excluded) or
   * write-update's writes (reads are local, like hits, and excluded).
   */
  measures?: 'faults' | 'writes';
  /** The network nemesis of the run (s7, s8, or --nemesis): the rules as resolved, and what they did. */
  nemesis?: {
    /** Whole run, or one window (s7). */
    rules: string[];
    /** Summed over every node (each node's last telemetry). */
    counters: NemesisCounters;
    /** s7: apply -> backup took over (ms), one per window; null: no takeover during it. */
    failoverMs?: (number | null)[];
    /** s7: failovers and hand-backs from the apply to 5 s after the heal. */
    roleChanges?: string[];
    /** s7: how long each window held (ms). */
    heldMs?: number[];
  };
  /** With message tracing on (`traceSlowest`, `scenario --trace`): each trial's slowest fault and its frames. */
  slowest?: SlowestFault[];
}

export const ScenarioRequestSchema = z.object({
  scenarios: z.array(z.string().regex(/^(s[1-9]|[a-z-]+|all)$/)).min(1).max(12),
  clients: z.number().int().min(1).max(128).default(10),
  trials: z.number().int().min(1).max(1000).optional(),
  pages: z.number().int().min(1).max(4096).default(3),
  seed: z.number().int().default(1),
  /** Each scenario runs once per protocol, on clusters of its own. */
  protocols: z
    .array(ProtocolSchema)
    .min(1)
    .max(PROTOCOLS.length)
    .refine((ps) => new Set(ps).size === ps.length, 'each protocol at most once')
    .default(['ivy']),
  /** IVY clusters' client memory (absent: the engine default, recoverable). */
  clientMemory: ClientMemorySchema.optional(),
  /** Trace every frame to show each trial's slowest fault as a message diagram (tracing adds ~20 % to fault latency). */
  traceSlowest: z.boolean().default(false),
});
export type ScenarioRequest = z.infer<typeof ScenarioRequestSchema>;

// --- histories -------------------------------------------------------------------------------

/** Whose history: the cluster started from the Cluster view (running or last stopped), or one scenario of the last run. */
export const HistorySourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('live') }),
  z.object({
    kind: z.literal('scenario'),
    id: z.string().regex(/^s\d{1,2}$/, 'scenario id must look like s1'),
    /** Which protocol's run of that scenario (a run of both protocols keeps both histories). */
    protocol: ProtocolSchema.default('ivy'),
  }),
]);
export type HistorySource = z.infer<typeof HistorySourceSchema>;

/** The checker's answer on a history (DESIGN §6), as `checkHistory` replies it. */
export interface HistoryVerdict {
  source: HistorySource;
  /** Consistent under `model`: linearizable for IVY histories, sequentially consistent for write-update ones. */
  consistent: boolean;
  model: 'linearizable' | 'sequential';
  /** Operations and pages in the history; `unknown`: outcome unknown (in flight when read, or their client died). */
  ops: number;
  pages: number;
  unknown: number;
  /** When not consistent: the page, why, and a minimal counterexample (shrunk by the checker). */
  page: number | null;
  explanation: string | null;
  counterexample: HistoryOp[];
  /** Wall-clock ms of the check. */
  checkedAt: number;
}

/** What `exportHistory` replies: the history as JSON Lines and a file name to suggest. */
export interface HistoryExport {
  jsonl: string;
  name: string;
  ops: number;
}

// --- commands --------------------------------------------------------------------------------

const nodeId = z.string().regex(/^[mc]\d{1,4}$/, 'node id must look like m0 or c12');

export const CommandSchema = z.discriminatedUnion('cmd', [
  z.object({
    cmd: z.literal('startCluster'),
    // No default port here: absent, the service's own base port applies (`serve --base-port`).
    config: ClusterConfigSchema.partial()
      .extend({ basePort: ClusterConfigSchema.shape.basePort.unwrap().optional() })
      .default({}),
  }),
  z.object({ cmd: z.literal('stopCluster') }),
  z.object({ cmd: z.literal('killNode'), id: nodeId }),
  z.object({ cmd: z.literal('stopNode'), id: nodeId }),
  z.object({ cmd: z.literal('rebootNode'), id: nodeId }),
  z.object({ cmd: z.literal('addClient') }),
  z.object({ cmd: z.literal('setWorkload'), workload: WorkloadSchema.partial().nullable() }),
  z.object({ cmd: z.literal('runScenario'), request: ScenarioRequestSchema }),
  z.object({ cmd: z.literal('cancelScenario') }),
  z.object({ cmd: z.literal('timingCsv') }),
  z.object({ cmd: z.literal('checkHistory'), source: HistorySourceSchema }),
  z.object({ cmd: z.literal('exportHistory'), source: HistorySourceSchema }),
  /** Snapshots carry the clients' page tables for the next PAGE_TABLES_LEASE_MS (views that show them renew it while open). */
  z.object({ cmd: z.literal('watchPageTables') }),
  /** Message tracing of the running cluster on or off (the Messages view turns it on while it is open). */
  z.object({ cmd: z.literal('setTracing'), on: z.boolean() }),
  /** Everything traced in the running (or last) cluster, as the JSON Lines of DESIGN §6. */
  z.object({ cmd: z.literal('exportTrace') }),
  /** Network nemesis of the running cluster: presets and link rules, replacing those in force (empty: heal). */
  z.object({ cmd: z.literal('setNemesis'), spec: NemesisSpecSchema }),
  /** Every link back to normal. */
  z.object({ cmd: z.literal('healAll') }),
  /** One operation on one client now (a single read or write fault to watch in the Messages view). */
  z.object({ cmd: z.literal('runOp'), client: nodeId, kind: z.enum(['read', 'write']), page: z.number().int().min(0).max(65_535) }),
]);
export type Command = z.input<typeof CommandSchema>;
export type ParsedCommand = z.output<typeof CommandSchema>;

/** What `exportTrace` replies: the trace as JSON Lines and a file name to suggest. */
export interface TraceExport {
  jsonl: string;
  name: string;
  records: number;
}

/** What `runOp` replies: the client's own timing of the operation. */
export interface OpReply {
  client: string;
  kind: 'read' | 'write';
  page: number;
  ok: boolean;
  fault: boolean;
  latencyUs: number;
  error?: string;
}

/** Every command answers with a result or a clear error, never silence. */
export type CommandReply = { ok: true; value?: unknown } | { ok: false; error: string };

/** Pushed from the engine to every connected view. */
export type ServerPush =
  /**
   * Traced frames since the last such push (while tracing is on); `skipped`: older ones left out to keep
   * up; `cluster`: which cluster of this engine they come from (frame names restart in each cluster).
   */
  /** Records without their vector clocks (frames.ts withoutClock): the trace file and its export keep them. */
  | { type: 'trace'; records: TraceFields[]; skipped: number; cluster: number }
  | { type: 'snapshot'; snapshot: ClusterSnapshot }
  | { type: 'event'; event: ClusterEvent }
  | { type: 'scenarioProgress'; progress: ScenarioProgress }
  | {
      type: 'scenarioResult';
      results: ScenarioResult[];
      csv: string;
      /** Every IVY history linearizable (null: no IVY run). */
      linearizable: boolean | null;
      /** Every history passed its protocol's check (linearizable for IVY, sequential for write-update). */
      consistent?: boolean | null;
    };

/** What the renderer programs against; implemented over IPC (Electron) and WebSocket (browser). */
export interface ClusterApi {
  send(command: Command): Promise<CommandReply>;
  subscribe(listener: (push: ServerPush) => void): () => void;
  /** Electron shows a native save dialog; the browser downloads. Returns the path or name saved, or null if cancelled. */
  saveCsv(csv: string, suggestedName: string): Promise<string | null>;
  /** The same for a history (JSON Lines). */
  saveHistory(jsonl: string, suggestedName: string): Promise<string | null>;
}

export type { OpKind, TraceRecord, NemesisCounters, NemesisSpec, ResolvedRule };
