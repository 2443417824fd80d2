// The engine behind every UI: one cluster at a time, driven by validated commands,
// observed through pushed snapshots and events. Electron's main process and
// `ivy-cluster serve` both wrap exactly this class, so the desktop app and the
// browser see the same thing.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClusterConfigSchema,
  CommandSchema,
  PAGE_TABLES_LEASE_MS,
  WorkloadSchema,
  type ClusterConfig,
  type ClusterEvent,
  type ClusterSnapshot,
  type CommandReply,
  type HistorySource,
  type Mark,
  type MemberOrderView,
  type MembershipView,
  type ParsedCommand,
  type PageRow,
  type Protocol,
  type OpReply,
  type ServerPush,
  type TraceExport,
  type Workload,
  type NemesisView,
} from './api.js';
import { describeRule, type NemesisSpec } from './nemesis/spec.js';
import type { NemesisState } from './supervisor.js';
import { withoutClock, type TraceFields } from './trace/frames.js';
import type { TraceRecord } from './trace/record.js';
import { TraceWriter } from './trace/writer.js';
import { mergeClientLogs } from './history/merge.js';
import type { HistoryOp } from './history/schema.js';
import { historyExport, historyVerdict } from './history/verdict.js';
import { membershipOf, orderOf, pageRowsOf } from './protocol-views.js';
import { LiveStats } from './stats.js';
import { Supervisor, type NodeLauncher } from './supervisor.js';
import type { RecordView } from '../core/types.js';

export interface ScenarioHooks {
  run(service: ClusterService, request: Extract<ParsedCommand, { cmd: 'runScenario' }>['request'], signal: AbortSignal): Promise<void>;
}

export interface ClusterServiceOptions {
  launcher?: NodeLauncher;
  /** Snapshots pushed per second while anyone listens. */
  snapshotHz?: number;
  /** Where run folders (history logs) go. */
  runRoot?: string;
  scenarios?: ScenarioHooks;
  /** First port of clusters started without one (default 7000, ClusterConfigSchema's). */
  basePort?: number;
}

const MAX_EVENTS = 500;
/** Trace records pushed to views at most per push (every TRACE_PUSH_MS): a view shows the latest window only. */
const TRACE_PUSH_MAX = 4000;
const TRACE_PUSH_MS = 100;
/** Export trace reads the file into one reply: beyond this, the CLI's --trace is the way. */
const TRACE_EXPORT_MAX_BYTES = 256 * 1024 * 1024;
const MAX_MARKS = 200;
const MAX_NEMESIS_WINDOWS = 100;

/** Scenario histories are kept per scenario and protocol: a run of both protocols has two of each. */
export const scenarioHistoryKey = (id: string, protocol: Protocol): string => `${id}/${protocol}`;

export class ClusterService {
  private sup: Supervisor | null = null;
  private stats = new LiveStats();
  private config: ClusterConfig | null = null;
  private workload: Workload | null = null;
  private readonly listeners = new Set<(p: ServerPush) => void>();
  private readonly events: ClusterEvent[] = [];
  private marks: Mark[] = [];
  /** Nemesis periods of the attached cluster (latency chart bands). */
  private nemesisWindows: NemesisView['windows'] = [];
  private seq = 0;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private seriesTimer: NodeJS.Timeout | null = null;
  private scenario: AbortController | null = null;
  /** The CSV of the last scenario run, for Export CSV. */
  lastCsv: string | null = null;
  /** History folder of the cluster last started from the Cluster view (kept after it stops, for Check / Export history). */
  private liveHistoryDir: string | null = null;
  /** Each scenario's merged history from the last scenario run (its run folder is gone by then). */
  private scenarioHistories = new Map<string, HistoryOp[]>();
  /** The trace of the attached cluster, streamed to its run folder while tracing is on (for Export trace). */
  private traceWriter: TraceWriter | null = null;
  /** Records waiting for the next trace push, and how many were left out to keep up. */
  private tracePending: TraceFields[] = [];
  private traceSkipped = 0;
  private traceTimer: NodeJS.Timeout | null = null;
  /** Snapshots carry page tables until then (Date.now() ms): a lease views renew while they show them. */
  private pageTablesUntil = 0;
  /** Counts the clusters attached: trace pushes carry it, since each cluster's frames are numbered from 1 again. */
  private clusterNo = 0;

  constructor(private readonly opts: ClusterServiceOptions = {}) {}

  /** Validates and runs one command. Never throws: every failure is a clear error reply. */
  async handle(raw: unknown): Promise<CommandReply> {
    const parsed = CommandSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, error: `invalid command: ${issue ? `${issue.path.join('.') || 'command'}: ${issue.message}` : 'malformed'}` };
    }
    try {
      const value = await this.run(parsed.data);
      return value === undefined ? { ok: true } : { ok: true, value };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.event({ t: Date.now(), level: 'error', kind: 'command', message: `${parsed.data.cmd}: ${error}` });
      return { ok: false, error };
    }
  }

  subscribe(listener: (p: ServerPush) => void): () => void {
    this.listeners.add(listener);
    listener({ type: 'snapshot', snapshot: this.snapshot() });
    for (const event of this.events.slice(-100)) listener({ type: 'event', event });
    this.ensureTimers();
    return () => {
      this.listeners.delete(listener);
    };
  }

  get supervisor(): Supervisor | null {
    return this.sup;
  }

  push(p: ServerPush): void {
    for (const l of this.listeners) l(p);
  }

  async close(): Promise<void> {
    this.scenario?.abort();
    await this.stopCluster();
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    if (this.seriesTimer) clearInterval(this.seriesTimer);
    this.snapshotTimer = this.seriesTimer = null;
  }

  // --- commands ---------------------------------------------------------------------

  private async run(cmd: ParsedCommand): Promise<unknown> {
    switch (cmd.cmd) {
      case 'startCluster':
        return this.startCluster(ClusterConfigSchema.parse({ ...cmd.config, basePort: cmd.config.basePort ?? this.opts.basePort }));
      case 'stopCluster':
        return this.stopCluster();
      case 'killNode':
        return this.need().kill(cmd.id);
      case 'stopNode':
        return this.need().stop(cmd.id);
      case 'rebootNode':
        return this.need().reboot(cmd.id);
      case 'addClient':
        return this.need().addClient();
      case 'setWorkload':
        return this.setWorkload(cmd.workload === null ? null : WorkloadSchema.parse(cmd.workload));
      case 'runScenario':
        return this.runScenario(cmd.request);
      case 'cancelScenario':
        this.scenario?.abort();
        return undefined;
      case 'timingCsv':
        if (this.lastCsv === null) throw new Error('no scenario has finished yet');
        return this.lastCsv;
      case 'checkHistory':
        return historyVerdict(this.historyOps(cmd.source), cmd.source, Date.now());
      case 'exportHistory':
        return historyExport(this.historyOps(cmd.source), cmd.source);
      case 'watchPageTables':
        this.pageTablesUntil = Date.now() + PAGE_TABLES_LEASE_MS;
        return undefined;
      case 'setTracing':
        return this.setTracing(cmd.on);
      case 'exportTrace':
        return this.exportTrace();
      case 'runOp':
        return this.runOp(cmd.client, cmd.kind, cmd.page);
      case 'setNemesis':
        return this.setNemesis(cmd.spec);
      case 'healAll':
        this.need().healAll();
        this.pushSnapshot();
        return undefined;
    }
  }

  /** Called by the scenario hooks when a run finished: the histories Check / Export history read. */
  setScenarioHistories(histories: ReadonlyMap<string, HistoryOp[]>): void {
    this.scenarioHistories = new Map(histories);
  }

  /**
   * The history so far: for the live cluster, the merge of the clients' logs cut at this
   * moment (an operation still in flight then counts as "unknown", which the checker treats
   * as may-or-may-not have happened).
   */
  private historyOps(source: HistorySource): HistoryOp[] {
    if (source.kind === 'live') {
      if (!this.liveHistoryDir) throw new Error('no cluster has run yet: start one in the Cluster view');
      // Nodes keep appending while the files are read one after another: read a consistent cut.
      return mergeClientLogs(this.liveHistoryDir, { cutNs: Number(process.hrtime.bigint()) });
    }
    const ops = this.scenarioHistories.get(scenarioHistoryKey(source.id, source.protocol));
    if (!ops) throw new Error(`no ${source.protocol} history for scenario ${source.id}: run it first (Scenarios view)`);
    return ops;
  }

  async startCluster(config: ClusterConfig): Promise<number> {
    if (this.sup) throw new Error('a cluster is already running; stop it first');
    const sup = new Supervisor({
      config,
      runDir: mkdtempSync(join(this.opts.runRoot ?? tmpdir(), 'ivy-run-')),
      ...(this.opts.launcher ? { launcher: this.opts.launcher } : {}),
    });
    this.attach(sup, config);
    this.liveHistoryDir = sup.historyDir();
    try {
      return await sup.start();
    } catch (err) {
      await this.stopCluster();
      throw err;
    }
  }

  /** Adopts a supervisor (ours, or one a scenario runs) so its nodes show up live. */
  attach(sup: Supervisor, config: ClusterConfig): void {
    this.pushTrace(); // what the previous cluster traced goes out under its own number
    this.clusterNo++;
    this.sup = sup;
    this.config = config;
    this.stats = new LiveStats();
    this.marks = [];
    this.nemesisWindows = [];
    sup.on('nemesis', (state) => this.onNemesis(state));
    sup.on('event', (e) => this.event(e));
    sup.on('mark', (m) => {
      this.marks.push(m);
      if (this.marks.length > MAX_MARKS) this.marks.shift();
    });
    sup.on('telemetry', (t) => this.stats.onTelemetry(t));
    sup.on('trace', (records) => this.onTrace(sup, records));
    sup.on('change', () => this.pushSnapshot());
    this.ensureTimers();
  }

  detach(sup: Supervisor): void {
    if (this.sup !== sup) return;
    this.sup = null;
    // The file stays in the run folder for Export trace until another cluster starts tracing.
    void this.traceWriter?.close().catch(() => undefined);
    this.workload = null;
    this.pushSnapshot();
  }

  async stopCluster(): Promise<void> {
    const sup = this.sup;
    if (!sup) return;
    this.workload = null;
    await sup.shutdown();
    this.detach(sup);
  }

  private setWorkload(w: Workload | null): void {
    const sup = this.need();
    this.workload = w;
    sup.setWorkload(w && { readRatio: w.readRatio, rate: w.rate, ops: w.ops, pages: w.pages ?? sup.config.pages, seed: w.seed });
    this.pushSnapshot();
  }

  private async runScenario(request: Extract<ParsedCommand, { cmd: 'runScenario' }>['request']): Promise<void> {
    if (!this.opts.scenarios) throw new Error('scenarios are not available in this build');
    if (this.scenario) throw new Error('a scenario is already running');
    if (this.sup) throw new Error('stop the running cluster first: a scenario starts clusters of its own');
    const ctrl = new AbortController();
    this.scenario = ctrl;
    // Runs in the background: progress and results arrive as pushes.
    void this.opts.scenarios
      .run(this, request, ctrl.signal)
      .catch((err: unknown) => this.event({ t: Date.now(), level: 'error', kind: 'scenario', message: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        if (this.scenario === ctrl) this.scenario = null;
      });
  }

  // --- message tracing ---------------------------------------------------------------

  private setTracing(on: boolean): void {
    const sup = this.need();
    if (on && (!this.traceWriter || this.traceWriter.file !== join(sup.runDir, 'trace.jsonl'))) {
      void this.traceWriter?.close().catch(() => undefined);
      this.traceWriter = new TraceWriter(join(sup.runDir, 'trace.jsonl'));
    }
    sup.setTracing(on);
  }

  private onTrace(sup: Supervisor, records: TraceRecord[]): void {
    if (this.sup !== sup) return;
    this.traceWriter?.write(records);
    if (this.listeners.size === 0) return;
    for (const r of records) this.tracePending.push(withoutClock(r));
    if (this.tracePending.length > TRACE_PUSH_MAX) {
      const extra = this.tracePending.length - TRACE_PUSH_MAX;
      this.tracePending.splice(0, extra);
      this.traceSkipped += extra;
    }
    this.traceTimer ??= setTimeout(() => this.pushTrace(), TRACE_PUSH_MS);
  }

  private pushTrace(): void {
    if (this.traceTimer) clearTimeout(this.traceTimer);
    this.traceTimer = null;
    if (this.tracePending.length === 0 && this.traceSkipped === 0) return;
    const batch = this.tracePending;
    this.tracePending = [];
    const skipped = this.traceSkipped;
    this.traceSkipped = 0;
    this.push({ type: 'trace', records: batch, skipped, cluster: this.clusterNo });
  }

  private async exportTrace(): Promise<TraceExport> {
    const w = this.traceWriter;
    if (!w) throw new Error('nothing traced yet: open the Messages view while a cluster runs (it turns tracing on)');
    await w.flush();
    if (w.failed) throw new Error(`the trace file failed: ${w.failed.message}`);
    const size = statSync(w.file).size;
    if (size > TRACE_EXPORT_MAX_BYTES) throw new Error(`the trace is ${Math.round(size / 2 ** 20)} MiB, too large to export from here: run \`ivy-cluster up --trace FILE\` instead`);
    return { jsonl: readFileSync(w.file, 'utf8'), name: 'ivy-trace.jsonl', records: w.records };
  }

  private setNemesis(spec: NemesisSpec): NemesisView {
    this.need().setNemesis(spec);
    this.pushSnapshot();
    return this.nemesisView();
  }

  private onNemesis(state: NemesisState | null): void {
    const now = Date.now();
    const open = this.nemesisWindows.at(-1);
    if (open && open.to === null) open.to = now;
    if (state) {
      const label = [...state.spec.presets, ...(state.spec.rules.length ? [`${state.spec.rules.length} rule(s)`] : [])].join(', ');
      this.nemesisWindows.push({ from: state.since, to: null, label });
      if (this.nemesisWindows.length > MAX_NEMESIS_WINDOWS) this.nemesisWindows.shift();
    }
  }

  private nemesisView(): NemesisView {
    const state = this.sup?.nemesis ?? null;
    return {
      spec: state?.spec ?? null,
      rules: state ? state.rules.map((r) => ({ ...r, text: describeRule(r) })) : [],
      since: state?.since ?? null,
      windows: this.nemesisWindows,
    };
  }

  private async runOp(client: string, kind: 'read' | 'write', page: number): Promise<OpReply> {
    const sup = this.need();
    if (page >= sup.config.pages) throw new Error(`page ${page} out of range (the cluster has ${sup.config.pages})`);
    const r = await sup.op(client, kind, page, 0);
    return { client, kind, page, ok: r.ok, fault: r.fault, latencyUs: Math.round((r.endNs - r.startNs) / 100) / 10, ...(r.error ? { error: r.error } : {}) };
  }

  private need(): Supervisor {
    if (!this.sup) throw new Error('no cluster is running');
    return this.sup;
  }

  // --- what views see -------------------------------------------------------------------

  snapshot(): ClusterSnapshot {
    const sup = this.sup;
    const records: Record<string, RecordView[]> = {};
    const pageTables: Record<string, PageRow[]> | undefined = Date.now() < this.pageTablesUntil ? {} : undefined;
    const membership: Record<string, MembershipView> = {};
    const orders: Record<string, MemberOrderView> = {};
    const clients = [];
    if (sup) {
      for (const m of sup.managers()) {
        const t = sup.telemetryOf(m.id);
        if (t?.records) records[m.id] = t.records;
        const v = membershipOf(t);
        if (v) membership[m.id] = v;
      }
      for (const id of sup.clientIds()) {
        const t = sup.telemetryOf(id);
        if (pageTables) {
          const rows = pageRowsOf(t);
          if (rows) pageTables[id] = rows;
        }
        const o = orderOf(t);
        if (o) orders[id] = o;
        clients.push(this.stats.clientStats(id, t?.counters));
      }
    }
    return {
      seq: ++this.seq,
      t: Date.now(),
      running: sup !== null,
      config: this.config,
      workload: this.workload,
      nodes: sup ? sup.nodeInfos() : [],
      clients,
      records,
      ...(pageTables ? { pageTables } : {}),
      membership,
      orders,
      histogram: this.stats.histogram(),
      series: this.stats.series,
      marks: this.marks,
      nemesis: this.nemesisView(),
    };
  }

  private pushSnapshot(): void {
    if (this.listeners.size > 0) this.push({ type: 'snapshot', snapshot: this.snapshot() });
  }

  private event(e: ClusterEvent): void {
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    this.push({ type: 'event', event: e });
  }

  private ensureTimers(): void {
    const hz = this.opts.snapshotHz ?? 4;
    this.snapshotTimer ??= setInterval(() => this.pushSnapshot(), 1000 / hz);
    this.seriesTimer ??= setInterval(() => {
      if (this.sup) this.stats.tick(Date.now());
    }, 1000);
    this.snapshotTimer.unref();
    this.seriesTimer.unref();
  }
}
