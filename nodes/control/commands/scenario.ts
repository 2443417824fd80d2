// `ivy-cluster scenario <s1..s6|name|all>`: runs the failover scenarios on real
// clusters and prints the seed's timing tables, percentiles and failover times;
// writes the timing CSV and the combined history; exits 1 if any history fails its
// protocol's check (2 if the run itself failed, 130 on Ctrl-C). `--protocol ivy,isis`
// runs every scenario for both protocols, prints them one after the other with a
// side-by-side comparison, and writes one CSV with the protocol column. Progress goes to
// stderr (a bar on a terminal, plain lines otherwise), results to stdout.
import type { ClientMemory } from '../../protocol/messages.js';
import { writeFileSync } from 'node:fs';
import { MultiBar, Presets } from 'cli-progress';
import { PROTOCOL_MODEL, type Protocol, type ScenarioProgress } from '../api.js';
import { writeHistory } from '../history/merge.js';
import { resolveScenarios, type ScenarioDef } from '../scenarios/definitions.js';
import { sustainedCsv, type SustainedCsvRow } from '../scenarios/csv.js';
import { combineHistories } from '../scenarios/history.js';
import { jsonResult, renderComparison, renderRun } from '../scenarios/report.js';
import { runPlan, runScenarios, trialsOf, type RunOutcome } from '../scenarios/runner.js';
import { TraceWriter } from '../trace/writer.js';
import type { Out } from './up.js';
import { initialRoles, resolveNemesis, type NemesisSpec } from '../nemesis/spec.js';

export interface ScenarioOptions {
  clients: number;
  trials?: number;
  pages: number;
  seed: number;
  csv?: string;
  history?: string;
  json: boolean;
  rounds: number;
  basePort: number;
  opTimeout: number;
  clientMemory?: ClientMemory;
  sustained?: number;
  rate: number;
  readRatio: number;
  /** Protocols to run every scenario with (default ivy). */
  protocol: Protocol[];
  /** Write every frame sent and received here (DESIGN §6), one run per scenario cluster. */
  trace?: string;
  /** A network nemesis for the whole run of every scenario cluster. */
  nemesis?: NemesisSpec;
}

interface ProgressSink {
  update(p: ScenarioProgress): void;
  note(line: string): void;
  stop(): void;
}

/** A bar over all rounds (or seconds of sustained load) of all scenarios (and protocols). */
function barSink(defs: readonly ScenarioDef[], opts: ScenarioOptions): ProgressSink {
  const unitsOf = (d: ScenarioDef): number => (opts.sustained !== undefined ? trialsOf(d, opts) : trialsOf(d, opts) * opts.rounds);
  const before = defs.map((_, i) => defs.slice(0, i).reduce((a, d) => a + unitsOf(d), 0));
  const total = defs.reduce((a, d) => a + unitsOf(d), 0);
  const multi = new MultiBar({ format: '{bar} {percentage}% | {scenario} {message}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic);
  const bar = multi.create(total, 0, { scenario: '', message: 'starting' });
  let shown = 0;
  return {
    update(p) {
      const perTrial = opts.sustained !== undefined ? 1 : opts.rounds;
      const inTrial = opts.sustained !== undefined ? 0 : Math.min(p.round ?? 0, opts.rounds);
      const done = (before[p.index] ?? 0) + Math.max(0, p.trial - 1) * perTrial + inTrial;
      // Phase messages (stopping, checking) carry no trial: never move the bar backwards.
      shown = Math.max(shown, Math.min(total, done));
      bar.update(shown, { scenario: p.protocol && p.protocol !== 'ivy' ? `${p.scenario}/${p.protocol}` : p.scenario, message: p.message });
    },
    note: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}

/** One line per scenario phase and trial; rounds would flood a log file. */
function lineSink(out: Out): ProgressSink {
  let last = '';
  return {
    update(p) {
      const key = `${p.scenario}/${p.protocol ?? ''}/${p.trial}/${p.round === undefined ? p.message : ''}`;
      if (key === last) return;
      last = key;
      const trial = p.trial > 0 ? ` trial ${p.trial}/${p.trials}` : '';
      out.error(`[${p.index + 1}/${p.of}] ${p.scenario}${p.protocol ? ` (${p.protocol})` : ''}${trial}: ${p.round === undefined ? p.message : 'running rounds'}`);
    },
    note: (line) => out.error(line),
    stop: () => undefined,
  };
}

export async function runScenarioCommand(names: readonly string[], opts: ScenarioOptions, out: Out): Promise<number> {
  let defs: ScenarioDef[];
  try {
    defs = resolveScenarios(names.flatMap((n) => n.split(',')).filter((n) => n.trim() !== ''));
  } catch (err) {
    out.error(`error: ${(err as Error).message}`);
    return 2;
  }
  if (opts.nemesis) {
    // Names that fit no node of a scenario's cluster are refused before any process starts.
    try {
      for (const d of defs) resolveNemesis(opts.nemesis, initialRoles(opts.clients, d.backup));
    } catch (err) {
      out.error(`error: --nemesis: ${(err as Error).message}`);
      return 2;
    }
  }
  const protocols = opts.protocol.length > 0 ? opts.protocol : (['ivy'] as Protocol[]);
  const tty = process.stdout.isTTY === true && process.stderr.isTTY === true;
  // The bar counts (scenario, protocol) pairs, as the runner's progress does.
  const sink = tty ? barSink(runPlan({ scenarios: defs, protocols }).map((x) => x.def), opts) : lineSink(out);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('cancelled (Ctrl-C)'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const traceWriter = opts.trace !== undefined ? new TraceWriter(opts.trace) : null;
  let outcome: RunOutcome;
  try {
    outcome = await runScenarios({
      scenarios: defs,
      protocols,
      clients: opts.clients,
      pages: opts.pages,
      ...(opts.trials !== undefined ? { trials: opts.trials } : {}),
      seed: opts.seed,
      basePort: opts.basePort,
      opTimeoutMs: opts.opTimeout,
      ...(opts.clientMemory ? { clientMemory: opts.clientMemory } : {}),
      mode:
        opts.sustained !== undefined
          ? { kind: 'sustained', durationS: opts.sustained, rate: opts.rate, readRatio: opts.readRatio }
          : { kind: 'rounds', rounds: opts.rounds, warmupRounds: 2 },
      onProgress: (p) => sink.update(p),
      onNote: (id, message) => sink.note(`${id}: ${message}`),
      onEvent: (e) => {
        if (e.level !== 'info') sink.note(`${e.level}: ${e.message}`);
      },
      signal: abort.signal,
      ...(traceWriter ? { onTrace: (records) => traceWriter.write(records), slowest: true } : {}),
      ...(opts.nemesis ? { nemesis: opts.nemesis } : {}),
    });
  } catch (err) {
    sink.stop();
    await traceWriter?.close().catch(() => undefined);
    out.error(abort.signal.aborted ? 'cancelled: clusters stopped' : `error: ${err instanceof Error ? err.message : String(err)}`);
    return abort.signal.aborted ? 130 : 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  sink.stop();

  const written: string[] = [];
  if (traceWriter) {
    const n = await traceWriter.close();
    written.push(`trace: ${opts.trace} (${n} frames sent and received, one run per scenario cluster; for ShiViz: ivy-cluster trace ${opts.trace} --shiviz OUT)`);
  }
  if (opts.csv) {
    writeFileSync(opts.csv, opts.sustained !== undefined ? sustainedCsv(sustainedRows(outcome)) : outcome.csv);
    written.push(`timing CSV: ${opts.csv}`);
  }
  if (opts.history) {
    const several = protocols.length > 1;
    writeHistory(opts.history, combineHistories(outcome.runs.map((r) => ({ id: several ? `${r.def.id}-${r.protocol}` : r.def.id, ops: r.ops })), opts.pages));
    written.push(
      `history: ${opts.history}${outcome.runs.length > 1 ? ` (runs namespaced: client "${several ? 's3-ivy' : 's3'}/c1", pages shifted per run)` : ''}` +
        (several ? '; it mixes both protocols, so check each run separately (write-update is sequential, IVY linearizable)' : ''),
    );
  }

  const models = [...new Set(protocols.map((p) => PROTOCOL_MODEL[p]))];
  if (opts.json) {
    out.log(
      JSON.stringify({
        results: outcome.runs.map(jsonResult),
        // Every IVY history linearizable (write-update histories are checked for sequential consistency instead).
        linearizable: protocols.includes('ivy') ? outcome.linearizable : null,
        consistent: outcome.consistent,
        protocols,
        models: Object.fromEntries(protocols.map((p) => [p, PROTOCOL_MODEL[p]])),
        csv: opts.csv ?? null,
        history: opts.history ?? null,
        options: { ...opts, scenarios: defs.map((d) => d.id) },
      }),
    );
  } else {
    for (const run of outcome.runs) {
      out.log('');
      for (const line of renderRun(run)) out.log(line);
    }
    const comparison = renderComparison(outcome.runs);
    if (comparison.length > 0) {
      out.log('');
      for (const line of comparison) out.log(line);
    }
    out.log('');
    for (const line of written) out.log(line);
    const bad = outcome.runs.filter((r) => !r.check.ok).map((r) => (protocols.length > 1 ? `${r.def.id} (${r.protocol})` : r.def.id));
    const claim = models.map((m) => (m === 'linearizable' ? 'IVY histories linearizable' : 'write-update histories sequentially consistent')).join(', ');
    if (models.length === 1 && models[0] === 'linearizable') out.log(outcome.consistent ? 'every history is linearizable' : `NOT linearizable: ${bad.join(', ')}`);
    else out.log(outcome.consistent ? `every history passed its check (${claim})` : `failed its check: ${bad.join(', ')} (expected: ${claim})`);
  }
  return outcome.consistent ? 0 : 1;
}

function sustainedRows(outcome: RunOutcome): SustainedCsvRow[] {
  const rows: SustainedCsvRow[] = [];
  for (const run of outcome.runs) {
    const s = run.sustained;
    if (!s) continue;
    for (const kind of ['read', 'write'] as const) {
      const l = s[kind];
      const seconds = Math.max(1e-9, s.durationS);
      rows.push({ id: run.def.id, protocol: run.protocol, kind, count: l.count, p50Ms: l.p50Us / 1000, p90Ms: l.p90Us / 1000, p99Ms: l.p99Us / 1000, maxMs: l.maxUs / 1000, faultsPerS: l.count / seconds });
    }
  }
  return rows;
}
