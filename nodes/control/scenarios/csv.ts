// The timing CSV of DESIGN §6: one row per trial, then one summary row per scenario.
//   scenario,trial,highest_ms,highest_node,lowest_ms,lowest_node,average_ms
// Trial rows: average_ms = (highest_ms + lowest_ms) / 2. Summary row: trial=average,
// highest_ms and lowest_ms are the column means (the seed's high and low averages),
// the node columns are empty (a node has no mean), and average_ms = (high average +
// low average) / 2 as in the seed. A trial where every op failed has empty cells.
// The protocol (ivy, isis) is the last column, so one file holds both protocols'
// runs and every column before it keeps its place (DESIGN §6).
import { stringify } from 'csv-stringify/sync';
import type { Protocol, ScenarioResult } from '../api.js';
import { formatMs, trialAverageMs } from './table.js';

export const TIMING_CSV_COLUMNS = ['scenario', 'trial', 'highest_ms', 'highest_node', 'lowest_ms', 'lowest_node', 'average_ms', 'protocol'] as const;

export function timingCsv(
  results: readonly (Pick<ScenarioResult, 'id' | 'trials' | 'highAverageMs' | 'lowAverageMs' | 'averageMs'> & { protocol?: Protocol })[],
): string {
  const records: string[][] = [];
  for (const r of results) {
    const protocol = r.protocol ?? 'ivy';
    for (const t of r.trials) {
      records.push([r.id, String(t.trial), formatMs(t.highestMs), t.highestNode, formatMs(t.lowestMs), t.lowestNode, formatMs(trialAverageMs(t)), protocol]);
    }
    records.push([r.id, 'average', formatMs(r.highAverageMs), '', formatMs(r.lowAverageMs), '', formatMs(r.averageMs), protocol]);
  }
  return stringify(records, { header: true, columns: [...TIMING_CSV_COLUMNS], record_delimiter: 'unix' });
}

export const SUSTAINED_CSV_COLUMNS = ['scenario', 'kind', 'count', 'p50_ms', 'p90_ms', 'p99_ms', 'max_ms', 'faults_per_s', 'protocol'] as const;

export interface SustainedCsvRow {
  id: string;
  protocol?: Protocol;
  kind: 'read' | 'write';
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  faultsPerS: number;
}

/**
 * Sustained mode has no trials; its CSV has one row per scenario and fault kind.
 * Write-update rows: kind read = local reads, write = total-order writes.
 */
export function sustainedCsv(rows: readonly SustainedCsvRow[]): string {
  const records = rows.map((r) => [r.id, r.kind, String(r.count), formatMs(r.p50Ms), formatMs(r.p90Ms), formatMs(r.p99Ms), formatMs(r.maxMs), String(Math.round(r.faultsPerS)), r.protocol ?? 'ivy']);
  return stringify(records, { header: true, columns: [...SUSTAINED_CSV_COLUMNS], record_delimiter: 'unix' });
}
