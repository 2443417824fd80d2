// A scenario run as text (the CLI's output) and as JSON-ready data. The table is
// the seed's; the lines under it say what the seed's tables could not: latency
// percentiles, how long the takeover took, what failed, and whether the history
// is linearizable.
import type { LatencySummary, ScenarioResult } from '../api.js';
import { describeOp } from '../history/check-command.js';
import type { SustainedSummary } from './figures.js';
import type { ScenarioRun } from './runner.js';
import { formatMs, renderTable } from './table.js';

const ms = (x: number): string => (Number.isFinite(x) ? `${formatMs(x)} ms` : '—');
const list = (xs: readonly number[] | undefined): string => (xs && xs.length > 0 ? xs.map(ms).join(', ') : 'none');
const us = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(3)} ms` : `${x.toFixed(0)} µs`);

function latencyLine(kind: string, s: LatencySummary): string {
  if (s.count === 0) return `${kind}: none`;
  return `${kind}: ${s.count}  p50 ${us(s.p50Us)}  p90 ${us(s.p90Us)}  p99 ${us(s.p99Us)}  max ${us(s.maxUs)}`;
}

function sustainedLines(s: SustainedSummary): string[] {
  return [
    `${s.ops} ops in ${s.durationS} s: ${s.opsPerS} ops/s, ${s.faultsPerS} faults/s (${s.hits} cache hits, ${s.failed} failed, ${s.unknown} unknown)`,
    latencyLine('read faults ', s.read),
    latencyLine('write faults', s.write),
  ];
}

export function renderRun(run: ScenarioRun): string[] {
  const r = run.result;
  const lines = [`${r.id} ${r.name} — ${run.def.description}`];
  if (run.sustained) {
    lines.push(`${r.clients} clients, ${r.pages} pages, sustained load, seed ${r.seed}`);
    lines.push(...sustainedLines(run.sustained));
  } else {
    lines.push(`${r.clients} clients, ${r.pages} pages, ${r.trials.length} trials of ${r.rounds}+ rounds, seed ${r.seed} (times in ms)`);
    lines.push(...renderTable(r.trials, r));
    lines.push(`p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)} over ${r.faultOps} faults (${r.hits} cache hits excluded, ${r.failedOps} failed)`);
  }
  if (run.def.faults) {
    lines.push(`faults: ${r.schedule?.join('; ') || 'none'}`);
    lines.push(`failover (kill -> backup took over): ${list(r.failoverMs)}`);
    lines.push(`first fault served after the kill: ${list(r.recoveryMs)}`);
    if (run.def.faults.reboot) lines.push(`hand-back (reboot -> primary serving again): ${list(r.handbackMs)}`);
  }
  const seed = run.def.seed;
  if (seed && !run.sustained) {
    const p = seed.published;
    lines.push(`seed (Go, 750 ms sleep per read forward): high avg ${p.highAverage} ms, low avg ${p.lowAverage} ms, average ${p.average} ms`);
  }
  lines.push(...checkLines(run));
  return lines;
}

export function checkLines(run: ScenarioRun): string[] {
  const c = run.check;
  if (c.ok) return [`history: linearizable (${c.ops} operations on ${c.pages} pages)`];
  const base = run.ops.reduce((m, o) => Math.min(m, o.start), Number.POSITIVE_INFINITY);
  return [
    `history: NOT linearizable: ${c.explanation}`,
    `counterexample (${c.counterexample.length} operations; µs since the first operation):`,
    ...c.counterexample.map((op) => describeOp(op, base)),
  ];
}

/** NaN (nothing measured) becomes null in JSON anyway; say so explicitly for readers of the type. */
export type JsonResult = ScenarioResult & { sustained?: SustainedSummary; counterexample?: string[] };

export function jsonResult(run: ScenarioRun): JsonResult {
  const out: JsonResult = { ...run.result };
  if (run.sustained) out.sustained = run.sustained;
  if (!run.check.ok) out.counterexample = checkLines(run).slice(1);
  return out;
}
