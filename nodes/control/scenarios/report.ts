// A scenario run as text (the CLI's output) and as JSON-ready data. The table is
// the seed's; the lines under it say what the seed's tables could not: latency
// percentiles, how long the takeover took, what failed, and whether the history
// passes its consistency check (linearizable for IVY, sequentially consistent for
// write-update), and for a run of both protocols how they compare.
import { PROTOCOL_LABELS, type LatencySummary, type Protocol, type ScenarioResult } from '../api.js';
import { verdict } from '../history/models.js';
import { describeOp } from '../history/check-command.js';
import type { SustainedSummary } from './figures.js';
import type { ScenarioRun } from './runner.js';
import { formatMs, renderTable } from './table.js';
import { slowestLines } from './slowest.js';

const ms = (x: number): string => (Number.isFinite(x) ? `${formatMs(x)} ms` : '—');
const list = (xs: readonly number[] | undefined): string => (xs && xs.length > 0 ? xs.map(ms).join(', ') : 'none');
const us = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(3)} ms` : `${x.toFixed(0)} µs`);

function latencyLine(kind: string, s: LatencySummary): string {
  if (s.count === 0) return `${kind}: none`;
  return `${kind}: ${s.count}  p50 ${us(s.p50Us)}  p90 ${us(s.p90Us)}  p99 ${us(s.p99Us)}  max ${us(s.maxUs)}`;
}

function sustainedLines(s: SustainedSummary, protocol: Protocol): string[] {
  if (protocol === 'isis') {
    return [
      `${s.ops} ops in ${s.durationS} s: ${s.opsPerS} ops/s, ${s.faultsPerS} writes/s (${s.hits} local reads, ${s.failed} failed, ${s.unknown} unknown)`,
      latencyLine('local reads ', s.read),
      latencyLine('writes      ', s.write),
    ];
  }
  return [
    `${s.ops} ops in ${s.durationS} s: ${s.opsPerS} ops/s, ${s.faultsPerS} faults/s (${s.hits} cache hits, ${s.failed} failed, ${s.unknown} unknown)`,
    latencyLine('read faults ', s.read),
    latencyLine('write faults', s.write),
  ];
}

/** How a write-update run reads differently from an IVY one: said once under its heading. */
export function isisNote(backup: boolean, sustained: boolean): string {
  const seats = backup ? 'm0 primary registry, m1 backup registry' : 'm0, no backup registry';
  const what = sustained
    ? 'reads are local and reported apart from the writes (each a multicast in the ISIS total order, returned once the writer delivered it)'
    : 'reads are local hits and excluded like cache hits: at each barrier every client writes a random page, and the tables measure those writes ' +
      '(multicast, ISIS total order, returned once the writer delivered its own write)';
  return `write-update: registry in the manager seat (${seats}); every page is replicated at every client, so ${what}`;
}

export function renderRun(run: ScenarioRun): string[] {
  const r = run.result;
  const isis = run.protocol === 'isis';
  const seat = isis ? 'registry' : 'manager';
  const lines = [`${r.id} ${r.name} [${PROTOCOL_LABELS[run.protocol]}] — ${isis ? run.def.description.replace(/\b(primary|backup)\b/g, '$1 registry').replace('central manager', 'registry') : run.def.description}`];
  if (isis) lines.push(isisNote(run.def.backup, run.sustained !== null));
  if (run.sustained) {
    lines.push(`${r.clients} clients, ${r.pages} pages, sustained load, seed ${r.seed}`);
    lines.push(...sustainedLines(run.sustained, run.protocol));
  } else {
    lines.push(`${r.clients} clients, ${r.pages} pages, ${r.trials.length} trials of ${r.rounds}+ rounds, seed ${r.seed} (times in ms)`);
    lines.push(...renderTable(r.trials, r, 'ms', isis ? 'Writes' : 'Faults'));
    lines.push(
      isis
        ? `p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)} over ${r.faultOps} writes (${r.hits} local reads excluded, ${r.failedOps} failed)`
        : `p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)} over ${r.faultOps} faults (${r.hits} cache hits excluded, ${r.failedOps} failed)`,
    );
  }
  if (run.def.faults?.targets.includes('client')) {
    lines.push(`faults: ${r.schedule?.join('; ') || 'none'}`);
    if (r.clientMemory) lines.push(`client memory: ${r.clientMemory}`);
    lines.push(`clients killed: ${r.clientKills?.map((k) => `${k.node} (owned ${k.pages} page${k.pages === 1 ? '' : 's'})`).join(', ') || 'none'}`);
    lines.push(`recovery (reboot -> first fault served on a page the client owned): ${list(r.clientRecoveryMs)}`);
    lines.push(`recovery (reboot -> the client logged its recovered pages served again): ${list(r.pagesServedMs)}`);
    lines.push(`failed operations: ${r.failedOps ?? 0}`);
  } else if (run.def.faults) {
    lines.push(`faults: ${r.schedule?.join('; ') || 'none'}`);
    lines.push(`failover (kill -> backup ${seat} took over): ${list(r.failoverMs)}`);
    lines.push(`first ${isis ? 'write' : 'fault'} served after the kill: ${list(r.recoveryMs)}`);
    if (run.def.faults.reboot && isis) lines.push('hand-back: none by design (a rebooted registry rejoins as backup; the serving one keeps serving)');
    else if (run.def.faults.reboot) lines.push(`hand-back (reboot -> primary ${seat} serving again): ${list(r.handbackMs)}`);
  }
  if (r.nemesis) {
    const n = r.nemesis;
    if (!run.def.faults) lines.push(`faults: ${r.schedule?.join('; ') || 'none'}`);
    lines.push(`nemesis: ${n.counters.partitioned} frames cut by partitions, ${n.counters.lost} lost, ${n.counters.duplicated} duplicated, ${n.counters.delayed} delayed`);
    if (n.failoverMs) {
      lines.push(`partition held: ${list(n.heldMs)}; backup ${seat} took over after: ${n.failoverMs.map((x) => (x === null ? 'no takeover' : ms(x))).join(', ')}`);
      lines.push(`role changes (apply -> 5 s after the heal): ${n.roleChanges?.join('; ') || 'none'}`);
    }
  }
  if (r.slowest?.length) lines.push(`slowest ${isis ? 'write' : 'fault'} of each trial (traced):`, ...slowestLines(r.slowest));
  const seed = run.def.seed;
  // The seed's published figures are of its IVY implementation: no comparison for write-update.
  if (seed && !run.sustained && !isis) {
    const p = seed.published;
    lines.push(`seed (Go, 750 ms sleep per read forward): high avg ${p.highAverage} ms, low avg ${p.lowAverage} ms, average ${p.average} ms`);
  }
  lines.push(...checkLines(run));
  return lines;
}

export function checkLines(run: ScenarioRun): string[] {
  const c = run.check;
  const how = run.model === 'sequential' ? ' (checked in the sequential model: write-update reads are local, so SC, not linearizability, is the claim)' : '';
  if (c.ok) return [`history: ${verdict(run.model, true)} (${c.ops} operations on ${c.pages} pages)${how}`];
  const base = run.ops.reduce((m, o) => Math.min(m, o.start), Number.POSITIVE_INFINITY);
  return [
    `history: ${verdict(run.model, false)}: ${c.explanation}${how}`,
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

const ratioOf = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(Math.round((a / b) * 100) / 100).toString()}x` : '—');

/**
 * For a run of several protocols: one line per scenario and protocol with the seed's
 * averages and percentiles side by side, then the write-update / IVY ratio of each.
 * Rounds measure IVY faults but write-update writes (its reads are local): the ratio
 * compares what a client waits for at the barrier under each protocol.
 */
export function renderComparison(runs: readonly ScenarioRun[]): string[] {
  const protocols = [...new Set(runs.map((r) => r.protocol))];
  if (protocols.length < 2) return [];
  const ids = [...new Set(runs.map((r) => r.def.id))];
  const head = ['scenario', 'protocol', 'measures', 'high avg', 'low avg', 'average', 'p50', 'p99', 'check'];
  const rows: string[][] = [];
  const ratios: string[] = [];
  for (const id of ids) {
    const mine = runs.filter((r) => r.def.id === id);
    for (const run of mine) {
      const r = run.result;
      const s = run.sustained;
      rows.push([
        id,
        run.protocol,
        s ? (run.protocol === 'isis' ? 'writes (sustained)' : 'faults (sustained)') : run.protocol === 'isis' ? 'writes' : 'faults',
        s ? '' : formatMs(r.highAverageMs),
        s ? '' : formatMs(r.lowAverageMs),
        s ? '' : formatMs(r.averageMs),
        formatMs(r.p50Ms),
        formatMs(r.p99Ms),
        verdict(run.model, run.check.ok),
      ]);
    }
    const ivy = mine.find((r) => r.protocol === 'ivy')?.result;
    const isis = mine.find((r) => r.protocol === 'isis')?.result;
    if (ivy && isis) ratios.push(`${id}: isis / ivy average ${ratioOf(isis.averageMs, ivy.averageMs)}, p50 ${ratioOf(isis.p50Ms, ivy.p50Ms)}, p99 ${ratioOf(isis.p99Ms, ivy.p99Ms)}`);
  }
  const grid = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...grid.map((row) => (row[c] ?? '').length)));
  const out = ['protocols side by side (times in ms; IVY measures faults, write-update measures writes — its reads are local):'];
  for (const row of grid) out.push(row.map((cell, c) => (c < 3 || c === 8 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
  out.push(...ratios);
  return out;
}
