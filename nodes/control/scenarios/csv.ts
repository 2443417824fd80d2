// The timing CSV of DESIGN §6: one row per trial, then one summary row per scenario.
//   scenario,trial,highest_ms,highest_node,lowest_ms,lowest_node,average_ms
// Trial rows: average_ms = (highest_ms + lowest_ms) / 2. Summary row: trial=average,
// highest_ms and lowest_ms are the column means (the seed's high and low averages),
// the node columns are empty (a node has no mean), and average_ms = (high average +
// low average) / 2 as in the seed. A trial where every op failed has empty cells.
import { stringify } from 'csv-stringify/sync';
import type { ScenarioResult } from '../api.js';
import { formatMs, trialAverageMs } from './table.js';

export const TIMING_CSV_COLUMNS = ['scenario', 'trial', 'highest_ms', 'highest_node', 'lowest_ms', 'lowest_node', 'average_ms'] as const;

export function timingCsv(results: readonly Pick<ScenarioResult, 'id' | 'trials' | 'highAverageMs' | 'lowAverageMs' | 'averageMs'>[]): string {
  const records: string[][] = [];
  for (const r of results) {
    for (const t of r.trials) {
      records.push([r.id, String(t.trial), formatMs(t.highestMs), t.highestNode, formatMs(t.lowestMs), t.lowestNode, formatMs(trialAverageMs(t))]);
    }
    records.push([r.id, 'average', formatMs(r.highAverageMs), '', formatMs(r.lowAverageMs), '', formatMs(r.averageMs)]);
  }
  return stringify(records, { header: true, columns: [...TIMING_CSV_COLUMNS], record_delimiter: 'unix' });
}

export const SUSTAINED_CSV_COLUMNS = ['scenario', 'kind', 'count', 'p50_ms', 'p90_ms', 'p99_ms', 'max_ms', 'faults_per_s'] as const;

export interface SustainedCsvRow {
  id: string;
  kind: 'read' | 'write';
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  faultsPerS: number;
}

/** Sustained mode has no trials; its CSV has one row per scenario and fault kind. */
export function sustainedCsv(rows: readonly SustainedCsvRow[]): string {
  const records = rows.map((r) => [r.id, r.kind, String(r.count), formatMs(r.p50Ms), formatMs(r.p90Ms), formatMs(r.p99Ms), formatMs(r.maxMs), String(Math.round(r.faultsPerS))]);
  return stringify(records, { header: true, columns: [...SUSTAINED_CSV_COLUMNS], record_delimiter: 'unix' });
}
