// Runs scenarios one after another, each on a fresh cluster on its own ports and
// once per protocol asked for: starts the cluster, runs the seed's rounds (or a
// sustained workload) while the fault injector carries out the seeded schedule,
// shuts the cluster down, merges the clients' logs into the scenario's history and
// checks it — linearizability for IVY, sequential consistency for write-update. In
// write-update the registry sits in the manager seat, so the schedule's kills of
// "the primary" kill the primary registry.
import type { ClientMemory } from '../../protocol/messages.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema, DEFAULT_CLIENT_MEMORY, type ClusterEvent, type ConsistencyModel, type Protocol, type ScenarioProgress, type ScenarioResult, type SlowestFault, type TrialRow } from '../api.js';
import type { CheckResult } from '../history/linearizability.js';
import { checkProtocol } from '../history/models.js';
import { mergeClientLogs } from '../history/merge.js';
import type { HistoryOp } from '../history/schema.js';
import { Supervisor, type NodeLauncher } from '../supervisor.js';
import type { TraceRecord } from '../trace/record.js';
import { timingCsv } from './csv.js';
import type { ScenarioDef } from './definitions.js';
import { isProtocolOp, pagesBackMs, percentile, recoveryMs, sustainedSummary, type SustainedSummary } from './figures.js';
import { FaultInjector, type KillRecord, type NemesisRecord } from './injector.js';
import { describeRule, mergeSpecs, type NemesisSpec } from '../nemesis/spec.js';
import type { NemesisCounters } from '../../runtime/nemesis.js';
import { faultSamples, isMeasured, roundPlan, roundsRng, runRound, type RoundOp } from './rounds.js';
import { buildSchedule, describeEvent, type FaultEvent } from './schedule.js';
import { OpFrameCollector, slowestFault, slowestOp } from './slowest.js';
import { roundMs, summarizeTrials, trialRow } from './table.js';

/** Ports per scenario: scenario k of a run uses basePort + k * PORT_STRIDE (managers +0/+1, clients from +10). */
export const PORT_STRIDE = 200;

export interface RoundsMode {
  kind: 'rounds';
  /** Rounds per trial (at least; a trial goes on while its faults are still being carried out). */
  rounds: number;
  /** Unrecorded rounds before the first trial: first touches of zero pages, cold processes. */
  warmupRounds: number;
}

export interface SustainedMode {
  kind: 'sustained';
  durationS: number;
  /** Ops/s per client; 0 = back to back. */
  rate: number;
  readRatio: number;
}

export interface RunnerOptions {
  scenarios: readonly ScenarioDef[];
  /** Each scenario runs once per protocol, in this order (default: ivy only). */
  protocols?: readonly Protocol[];
  clients: number;
  pages: number;
  /** Trials per scenario; default: the scenario's own (5, or 6 for s5 and s6). */
  trials?: number;
  seed: number;
  basePort: number;
  opTimeoutMs: number;
  /** Client memory mode of every cluster (absent: the default, recoverable). */
  clientMemory?: ClientMemory;
  mode: RoundsMode | SustainedMode;
  launcher?: NodeLauncher;
  /** Pause after each reboot before the next fault event (default 600 ms). */
  settleMs?: number;
  onProgress?: (p: ScenarioProgress) => void;
  onEvent?: (e: ClusterEvent) => void;
  /** A scenario's cluster was created (not yet started) / has been shut down: lets a UI show it live. */
  onCluster?: (sup: Supervisor) => void;
  onClusterDone?: (sup: Supervisor) => void;
  /** Fault events carried out, and anything unusual (a reboot that failed, a failover that never came). */
  onNote?: (scenario: string, message: string) => void;
  signal?: AbortSignal;
  /** Trace every frame of every cluster (`--trace`): each cluster's records are named by its run, e.g. `s1/ivy`. */
  onTrace?: (records: TraceRecord[]) => void;
  /** Trace, and keep each trial's slowest fault with its frames (`ScenarioResult.slowest`; rounds mode). */
  slowest?: boolean;
  /** A network nemesis for the whole run of every scenario (`--nemesis`), on top of the scenario's own. */
  nemesis?: NemesisSpec;
}

export interface ScenarioRun {
  def: ScenarioDef;
  protocol: Protocol;
  /** What `check` checked: linearizability (ivy) or sequential consistency (isis). */
  model: ConsistencyModel;
  result: ScenarioResult;
  /** Sustained mode only. */
  sustained: SustainedSummary | null;
  schedule: FaultEvent[];
  kills: KillRecord[];
  ops: HistoryOp[];
  check: CheckResult;
}

export interface RunOutcome {
  runs: ScenarioRun[];
  /** Timing CSV (DESIGN §6, with the protocol column) of the rounds-mode runs. */
  csv: string;
  /** Every IVY history is linearizable (true when there was none). */
  linearizable: boolean;
  /** Every history passed its own protocol's check. */
  consistent: boolean;
}

/** Slots of the schedule in sustained mode: the duration is cut into trials x SUSTAINED_SLOTS. */
const SUSTAINED_SLOTS = 20;

export function trialsOf(def: ScenarioDef, opts: Pick<RunnerOptions, 'trials'>): number {
  return opts.trials ?? def.defaultTrials;
}

/** (scenario, protocol) pairs in run order: each scenario for every protocol before the next scenario, so they sit side by side. */
export function runPlan(opts: Pick<RunnerOptions, 'scenarios' | 'protocols'>): { def: ScenarioDef; protocol: Protocol }[] {
  const protocols = opts.protocols?.length ? opts.protocols : (['ivy'] as const);
  return opts.scenarios.flatMap((def) => protocols.map((protocol) => ({ def, protocol })));
}

export async function runScenarios(opts: RunnerOptions): Promise<RunOutcome> {
  const plan = runPlan(opts);
  const lastPort = opts.basePort + (plan.length - 1) * PORT_STRIDE + 10 + opts.clients;
  if (lastPort > 65_535) throw new Error(`ports ${opts.basePort}..${lastPort} do not fit below 65536: choose a lower base port`);
  const runs: ScenarioRun[] = [];
  for (const [index, { def, protocol }] of plan.entries()) {
    opts.signal?.throwIfAborted();
    runs.push(await runOne(def, protocol, index, plan.length, opts));
  }
  const csv = timingCsv(runs.filter((r) => r.sustained === null).map((r) => r.result));
  return {
    runs,
    csv,
    linearizable: runs.filter((r) => r.protocol === 'ivy').every((r) => r.check.ok),
    consistent: runs.every((r) => r.check.ok),
  };
}

async function runOne(def: ScenarioDef, protocol: Protocol, index: number, of: number, opts: RunnerOptions): Promise<ScenarioRun> {
  const trials = trialsOf(def, opts);
  const rounds = opts.mode.kind === 'rounds' ? opts.mode.rounds : SUSTAINED_SLOTS;
  const schedule = buildSchedule(def, { trials, rounds, seed: opts.seed });
  const progress = (message: string, trial = 0, round?: number): void =>
    opts.onProgress?.({ scenario: def.id, protocol, index, of, trial, trials, message, ...(round !== undefined ? { round, rounds } : {}) });
  const note = (message: string): void => opts.onNote?.(protocol === 'ivy' ? def.id : `${def.id}/${protocol}`, message);

  const config = ClusterConfigSchema.parse({
    protocol,
    clients: opts.clients,
    backup: def.backup,
    pages: opts.pages,
    basePort: opts.basePort + index * PORT_STRIDE,
    opTimeoutMs: opts.opTimeoutMs,
    ...(opts.clientMemory ? { clientMemory: opts.clientMemory } : {}),
  });
  const runDir = mkdtempSync(join(tmpdir(), `ivy-scenario-${def.id}-${protocol}-`));
  const collector = opts.slowest && opts.mode.kind === 'rounds' ? new OpFrameCollector() : null;
  // Spawning dozens of node processes on a small machine takes a while.
  const sup = new Supervisor({
    config,
    runDir,
    readyTimeoutMs: 20_000 + 500 * opts.clients,
    nemesisSeed: opts.seed,
    ...(opts.launcher ? { launcher: opts.launcher } : {}),
    ...(opts.onTrace || collector ? { trace: true, traceRun: `${def.id}/${protocol}` } : {}),
  });
  if (opts.onEvent) sup.on('event', opts.onEvent);
  if (opts.onTrace) sup.on('trace', opts.onTrace);
  if (collector) sup.on('trace', collector.add);

  try {
    const measured = await measure(sup, def, trials, schedule, opts, progress, note);
    if (collector) {
      measured.slowest = measured.slowOps.flatMap((op, t) => (op ? [slowestFault(t + 1, op, collector.records)] : []));
      if (collector.dropped > 0) note(`${collector.dropped} traced frames past the first ${collector.records.length} were not kept for the slowest-fault diagrams`);
    }
    const ops = mergeClientLogs(sup.historyDir());
    progress(`checking the history for ${protocol === 'isis' ? 'sequential consistency' : 'linearizability'}`);
    const { model, result: check } = checkProtocol(protocol, ops);
    const run = assemble(def, protocol, model, opts, rounds, schedule, measured, ops, check);
    const nemesis = nemesisResult(sup, measured);
    if (nemesis) run.result.nemesis = nemesis;
    return run;
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** Starts the cluster, measures while the injector carries out the schedule, and always shuts the cluster down. */
async function measure(
  sup: Supervisor,
  def: ScenarioDef,
  trials: number,
  schedule: FaultEvent[],
  opts: RunnerOptions,
  progress: (message: string, trial?: number, round?: number) => void,
  note: (message: string) => void,
): Promise<Measured> {
  opts.onCluster?.(sup);
  try {
    const seats = sup.config.protocol === 'isis' ? ['a registry', 'two registries'] : ['a manager', 'two managers'];
    progress(`starting ${opts.clients} clients and ${seats[def.backup ? 1 : 0]} (${sup.config.protocol}) on port ${sup.config.basePort}`);
    await sup.start();
    const injector = new FaultInjector(
      sup,
      schedule,
      {
        settleMs: opts.settleMs ?? 600,
        failoverWaitMs: Math.max(5000, 20 * sup.config.heartbeatTimeoutMs),
        handbackWaitMs: 5000,
        // A rebooted write-update registry rejoins as backup (docs/PROTOCOL-ISIS.md): no hand-back to wait for.
        handback: sup.config.protocol !== 'isis',
        note,
      },
      opts.signal,
    );
    // A whole-run nemesis (s8, --nemesis) goes on before the warm-up and stays until the shutdown.
    const whole = wholeRunSpec(def, opts);
    if (whole) {
      const state = sup.setNemesis(whole);
      note(`nemesis for the whole run: ${state?.rules.map(describeRule).join('; ') ?? 'no rules'}`);
    }
    const injecting = injector.run();
    injecting.catch(() => undefined); // awaited below; an abort must not surface as unhandled meanwhile
    try {
      const measured =
        opts.mode.kind === 'rounds'
          ? await measureRounds(sup, injector, def, trials, opts.mode, opts, progress)
          : await measureSustained(sup, injector, trials, opts.mode, opts, progress);
      await injecting;
      return { ...measured, kills: injector.kills, nemeses: injector.nemeses, wholeRules: sup.nemesis && whole ? sup.nemesis.rules.map(describeRule) : [] };
    } finally {
      injector.finish();
    }
  } finally {
    progress('stopping the cluster');
    await sup.shutdown();
    opts.onClusterDone?.(sup);
  }
}

interface Measured {
  rows: TrialRow[];
  samplesMs: number[];
  hits: number;
  failed: number;
  /** Sustained mode: the load's window in monotonic ns; its figures come from the merged history. */
  window: { fromNs: number; toNs: number } | null;
  kills: KillRecord[];
  /** Rounds mode: each trial's slowest measured operation (null: none completed). */
  slowOps: (RoundOp | null)[];
  slowest?: SlowestFault[];
  /** Nemesis windows of the schedule (s7). */
  nemeses?: NemesisRecord[];
  /** The whole-run nemesis rules as resolved (s8, --nemesis). */
  wholeRules?: string[];
}

function wholeRunSpec(def: ScenarioDef, opts: RunnerOptions): NemesisSpec | null {
  const own = def.nemesis?.when === 'whole-run' ? def.nemesis.spec : null;
  const extra = opts.nemesis && (opts.nemesis.presets.length > 0 || opts.nemesis.rules.length > 0) ? opts.nemesis : null;
  if (own && extra) return mergeSpecs(own, extra);
  return own ?? extra;
}

/** What the nemesis did in this run, summed over the nodes' last telemetry (null: no nemesis). */
function nemesisResult(sup: Supervisor, m: Measured): ScenarioResult['nemesis'] | null {
  const windows = m.nemeses ?? [];
  const whole = m.wholeRules ?? [];
  if (windows.length === 0 && whole.length === 0) return null;
  const counters: NemesisCounters = { partitioned: 0, lost: 0, duplicated: 0, delayed: 0 };
  for (const n of sup.nodeInfos()) {
    if (!n.nemesis) continue;
    counters.partitioned += n.nemesis.partitioned;
    counters.lost += n.nemesis.lost;
    counters.duplicated += n.nemesis.duplicated;
    counters.delayed += n.nemesis.delayed;
  }
  return {
    rules: [...whole, ...windows.flatMap((w) => w.rules)],
    counters,
    ...(windows.length > 0
      ? {
          failoverMs: windows.map((w) => (w.failoverMs === null ? null : roundMs(w.failoverMs))),
          roleChanges: windows.flatMap((w) => w.roleChanges),
          heldMs: windows.map((w) => (w.healNs === null ? Number.NaN : roundMs((w.healNs - w.applyNs) / 1e6))),
        }
      : {}),
  };
}

async function measureRounds(
  sup: Supervisor,
  injector: FaultInjector,
  def: ScenarioDef,
  trials: number,
  mode: RoundsMode,
  opts: RunnerOptions,
  progress: (message: string, trial?: number, round?: number) => void,
): Promise<Measured> {
  const rng = roundsRng(opts.seed, Number(def.id.slice(1)));
  const guardMs = 2 * opts.opTimeoutMs + 2000;
  const plan = roundPlan(sup.config.protocol, opts.pages);
  for (let w = 0; w < mode.warmupRounds; w++) {
    opts.signal?.throwIfAborted();
    progress(`warm-up round ${w + 1}/${mode.warmupRounds}`);
    await runRound(sup, rng, guardMs, plan);
  }
  const rows: TrialRow[] = [];
  const samplesMs: number[] = [];
  let hits = 0;
  let failed = 0;
  const slowOps: (RoundOp | null)[] = [];
  for (let t = 0; t < trials; t++) {
    const trialOps: RoundOp[] = [];
    // A trial runs its rounds and goes on while its scheduled faults are still under way,
    // so every kill, takeover, reboot and hand-back happens under load.
    for (let r = 0; r < mode.rounds || !injector.settledThrough(t); r++) {
      opts.signal?.throwIfAborted();
      progress(r < mode.rounds ? `trial ${t + 1}/${trials}, round ${r + 1}/${mode.rounds}` : `trial ${t + 1}/${trials}, round ${r + 1} (faults still under way)`, t + 1, r + 1);
      const round = runRound(sup, rng, guardMs, plan);
      injector.reach(t, r); // the ops are out: a fault due in this round may land now
      trialOps.push(...(await round));
    }
    const samples = faultSamples(trialOps, plan);
    const failedHere = trialOps.filter((o) => !o.ok).length;
    hits += trialOps.filter((o) => o.ok && !isMeasured(o, plan)).length;
    failed += failedHere;
    samplesMs.push(...samples.map((s) => s.ms));
    rows.push({ ...trialRow(t + 1, samples), faults: samples.length, failed: failedHere });
    slowOps.push(slowestOp(trialOps.filter((o) => isMeasured(o, plan))));
  }
  return { rows, samplesMs, hits, failed, window: null, kills: [], slowOps };
}

async function measureSustained(
  sup: Supervisor,
  injector: FaultInjector,
  trials: number,
  mode: SustainedMode,
  opts: RunnerOptions,
  progress: (message: string, trial?: number, round?: number) => void,
): Promise<Measured> {
  const slots = trials * SUSTAINED_SLOTS;
  const slotMs = (mode.durationS * 1000) / slots;
  const fromNs = Number(process.hrtime.bigint());
  sup.setWorkload({ readRatio: mode.readRatio, rate: mode.rate, ops: 0, pages: opts.pages, seed: opts.seed });
  const timers: NodeJS.Timeout[] = [];
  for (let s = 0; s < slots; s++) {
    const trial = Math.floor(s / SUSTAINED_SLOTS);
    const round = s % SUSTAINED_SLOTS;
    timers.push(
      setTimeout(() => {
        injector.reach(trial, round);
        if (round === 0) progress(`sustained load, ${Math.round((s * slotMs) / 1000)} s of ${mode.durationS} s`, trial + 1);
      }, s * slotMs),
    );
  }
  try {
    await abortableSleep(mode.durationS * 1000, opts.signal);
    // Faults still under way keep the load on until they are done.
    while (!injector.done) await abortableSleep(50, opts.signal);
  } finally {
    for (const t of timers) clearTimeout(t);
    sup.setWorkload(null);
  }
  const toNs = Number(process.hrtime.bigint());
  await new Promise((r) => setTimeout(r, 300)); // let ops in flight complete before the shutdown
  return { rows: [], samplesMs: [], hits: 0, failed: 0, window: { fromNs, toNs }, kills: [], slowOps: [] };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const servedMsOf = (k: KillRecord): number => (k.pagesServedMs === null ? Number.NaN : roundMs(k.pagesServedMs));

function assemble(
  def: ScenarioDef,
  protocol: Protocol,
  model: ConsistencyModel,
  opts: RunnerOptions,
  rounds: number,
  schedule: FaultEvent[],
  m: Measured,
  ops: HistoryOp[],
  check: CheckResult,
): ScenarioRun {
  let sustained: SustainedSummary | null = null;
  let samplesMs = m.samplesMs;
  if (m.window) {
    const { fromNs, toNs } = m.window;
    sustained = sustainedSummary(ops, fromNs, toNs, protocol);
    samplesMs = [];
    for (const o of ops) {
      if (o.outcome === 'ok' && isProtocolOp(o, protocol) && o.end !== null && o.start >= fromNs && o.start <= toNs) samplesMs.push((o.end - o.start) / 1e6);
    }
  }
  const serving = m.kills.filter((k) => k.serving);
  const clientKills = m.kills.filter((k) => k.node !== 'm0' && k.node !== 'm1');
  const rebooted = clientKills.filter((k) => k.rebootNs !== null);
  const summary = summarizeTrials(m.rows);
  const result: ScenarioResult = {
    id: def.id,
    name: def.name,
    trials: m.rows,
    ...summary,
    p50Ms: roundMs(percentile(samplesMs, 50)),
    p99Ms: roundMs(percentile(samplesMs, 99)),
    failoverMs: serving.filter((k) => k.failoverMs !== null).map((k) => roundMs(k.failoverMs!)),
    recoveryMs: serving.map((k) => recoveryMs(ops, k.killNs, protocol)),
    handbackMs: m.kills.filter((k) => k.handbackMs !== null).map((k) => roundMs(k.handbackMs!)),
    ...(def.faults?.targets.includes('client')
      ? {
          clientKills: clientKills.map((k) => ({
            node: k.node,
            pages: k.pages.length,
            trial: k.trial + 1,
            recoveryMs: k.rebootNs === null ? null : pagesBackMs(ops, k.rebootNs, k.pages),
            servedMs: k.rebootNs === null ? null : servedMsOf(k),
          })),
          clientRecoveryMs: rebooted.map((k) => pagesBackMs(ops, k.rebootNs!, k.pages)),
          pagesServedMs: rebooted.map(servedMsOf),
        }
      : {}),
    clients: opts.clients,
    pages: opts.pages,
    rounds: opts.mode.kind === 'rounds' ? rounds : 0,
    seed: opts.seed,
    faultOps: samplesMs.length,
    hits: sustained ? sustained.hits : m.hits,
    failedOps: sustained ? sustained.failed : m.failed,
    schedule: [...(m.wholeRules?.length ? [`whole run: nemesis ${m.wholeRules.join('; ')}`] : []), ...schedule.map(describeEvent)],
    // A write-update history is sequentially consistent at best; its linearizability is not asked.
    linearizable: model === 'linearizable' ? check.ok : null,
    protocol,
    ...(protocol === 'ivy' ? { clientMemory: opts.clientMemory ?? DEFAULT_CLIENT_MEMORY } : {}),
    model,
    consistent: check.ok,
    measures: protocol === 'isis' ? 'writes' : 'faults',
    ...(m.slowest ? { slowest: m.slowest } : {}),
  };
  return { def, protocol, model, result, sustained, schedule, kills: m.kills, ops, check };
}
