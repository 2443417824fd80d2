// The seed's table arithmetic and a text rendering like its tables: per trial the
// highest and lowest completion time, then high average, low average and
// Average = (high average + low average) / 2. All figures are milliseconds rounded
// to the microsecond once, here, so the printed table, the CSV and the JSON carry
// the same numbers.
import type { TrialRow } from '../api.js';

/** Milliseconds rounded to the microsecond (the resolution we report). NaN stays NaN. */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

export interface TableSummary {
  highAverageMs: number;
  lowAverageMs: number;
  averageMs: number;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * The seed's summary lines. Trials without a successful fault (every op failed) carry
 * NaN and are left out of the averages rather than counted as zero.
 */
export function summarizeTrials(rows: readonly Pick<TrialRow, 'highestMs' | 'lowestMs'>[]): TableSummary {
  const highs = rows.map((r) => r.highestMs).filter(Number.isFinite);
  const lows = rows.map((r) => r.lowestMs).filter(Number.isFinite);
  const high = mean(highs);
  const low = mean(lows);
  return { highAverageMs: roundMs(high), lowAverageMs: roundMs(low), averageMs: roundMs((high + low) / 2) };
}

/** A trial row's own "average" (CSV column average_ms): the midpoint of its highest and lowest, as the seed's Average is of the two averages. */
export const trialAverageMs = (row: Pick<TrialRow, 'highestMs' | 'lowestMs'>): number => roundMs((row.highestMs + row.lowestMs) / 2);

/** Shortest decimal form of a rounded figure: 14094.8, not 14094.800. Missing values print as an empty cell. */
export const formatMs = (ms: number): string => (Number.isFinite(ms) ? String(roundMs(ms)) : '');

/** Highest and lowest of a trial's completion times, with the node that took each. */
export function trialRow(trial: number, samples: readonly { ms: number; node: string }[]): TrialRow {
  let hi: { ms: number; node: string } | null = null;
  let lo: { ms: number; node: string } | null = null;
  for (const s of samples) {
    if (!hi || s.ms > hi.ms) hi = s;
    if (!lo || s.ms < lo.ms) lo = s;
  }
  return {
    trial,
    highestMs: hi ? roundMs(hi.ms) : Number.NaN,
    highestNode: hi?.node ?? '',
    lowestMs: lo ? roundMs(lo.ms) : Number.NaN,
    lowestNode: lo?.node ?? '',
  };
}

/** The seed-style table: a header row of trials, highest and lowest rows (with nodes), then the three summary lines. */
/** `measured`: what the counted samples are (IVY faults; write-update writes). */
export function renderTable(rows: readonly TrialRow[], summary: TableSummary, unit = 'ms', measured = 'Faults'): string[] {
  const cells = (label: string, values: readonly string[]): string[] => [label, ...values];
  const grid = [
    cells('', rows.map((r) => `trial ${r.trial}`)),
    cells('Highest time', rows.map((r) => formatMs(r.highestMs) || '—')),
    cells('  node', rows.map((r) => r.highestNode || '—')),
    cells('Lowest time', rows.map((r) => formatMs(r.lowestMs) || '—')),
    cells('  node', rows.map((r) => r.lowestNode || '—')),
  ];
  // How many faults each trial's figures were taken over (and how many ops failed), when known.
  if (rows.every((r) => r.faults !== undefined)) grid.push(cells(measured, rows.map((r) => String(r.faults))));
  if (rows.some((r) => (r.failed ?? 0) > 0)) grid.push(cells('Failed', rows.map((r) => String(r.failed ?? 0))));
  const widths = grid[0]!.map((_, col) => Math.max(...grid.map((line) => (line[col] ?? '').length)));
  const lines = grid.map((line) =>
    line.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join(' | ') + ' |',
  );
  const show = (ms: number): string => (Number.isFinite(ms) ? `${formatMs(ms)} ${unit}` : '— (no successful fault)');
  lines.push(`High time average: ${show(summary.highAverageMs)}`);
  lines.push(`Low time average: ${show(summary.lowAverageMs)}`);
  lines.push(`Average: ${show(summary.averageMs)}`);
  return lines;
}
