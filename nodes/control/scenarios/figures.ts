// Figures taken from a scenario's measurements and history: percentiles of the
// fault latencies, the time from a kill to the first fault served after it, and the
// sustained-mode histogram summaries and throughput.
import { newHistogram } from '../../runtime/latency.js';
import type { LatencySummary, Protocol } from '../api.js';
import type { HistoryOp } from '../history/schema.js';
import { summarize } from '../stats.js';
import { roundMs } from './table.js';

/** Nearest-rank percentile of unsorted values (NaN when there are none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * The ops whose latency says something about the protocol: IVY's faults (a hit is a
 * local memory access); write-update's writes (every read is local).
 */
export function isProtocolOp(o: Pick<HistoryOp, 'op' | 'fault'>, protocol: Protocol = 'ivy'): boolean {
  return protocol === 'isis' ? o.op === 'write' : o.fault;
}

/**
 * Kill -> end of the first successful fault (write-update: write) that was issued after the kill. Ops
 * already in flight at the kill are not counted: one that had passed the manager
 * before it died would complete at once and say nothing about the takeover.
 */
export function recoveryMs(ops: readonly HistoryOp[], killNs: number, protocol: Protocol = 'ivy'): number {
  let best = Number.POSITIVE_INFINITY;
  for (const o of ops) {
    if (o.outcome === 'ok' && isProtocolOp(o, protocol) && o.end !== null && o.start >= killNs && o.end < best) best = o.end;
  }
  return Number.isFinite(best) ? roundMs((best - killNs) / 1e6) : Number.NaN;
}

export interface SustainedSummary {
  durationS: number;
  ops: number;
  faults: number;
  hits: number;
  failed: number;
  unknown: number;
  opsPerS: number;
  faultsPerS: number;
  read: LatencySummary;
  write: LatencySummary;
}

/**
 * HDR summaries (p50/p90/p99/max, µs) of the successful faults that started in
 * [fromNs, toNs], and throughput over it. Write-update: `faults` are the writes (each
 * one total-order multicast) and `hits` the reads, which are local; the read summary
 * is then of those local reads, so the two protocols' read costs can be compared.
 */
export function sustainedSummary(ops: readonly Pick<HistoryOp, 'op' | 'start' | 'end' | 'outcome' | 'fault'>[], fromNs: number, toNs: number, protocol: Protocol = 'ivy'): SustainedSummary {
  const read = newHistogram();
  const write = newHistogram();
  const counts = { ops: 0, faults: 0, hits: 0, failed: 0, unknown: 0 };
  for (const o of ops) {
    if (o.start < fromNs || o.start > toNs) continue;
    counts.ops++;
    if (o.outcome === 'fail') counts.failed++;
    else if (o.outcome === 'unknown' || o.end === null) counts.unknown++;
    else if (protocol === 'isis') {
      counts[o.op === 'write' ? 'faults' : 'hits']++;
      (o.op === 'read' ? read : write).recordValue(Math.max(100, o.end - o.start));
    } else if (!o.fault) counts.hits++;
    else {
      counts.faults++;
      (o.op === 'read' ? read : write).recordValue(Math.max(100, o.end - o.start));
    }
  }
  const seconds = Math.max(1e-9, (toNs - fromNs) / 1e9);
  return {
    durationS: Math.round(seconds * 1000) / 1000,
    ...counts,
    opsPerS: Math.round(counts.ops / seconds),
    faultsPerS: Math.round(counts.faults / seconds),
    read: summarize(read),
    write: summarize(write),
  };
}

/**
 * Reboot of a client -> end of the first successful fault, by any client, on one of the
 * pages it owned at its kill, issued after the reboot: its pages served again (s9).
 */
export function pagesBackMs(ops: readonly HistoryOp[], rebootNs: number, pages: readonly number[]): number {
  const held = new Set(pages);
  let best = Number.POSITIVE_INFINITY;
  for (const o of ops) {
    if (o.outcome === 'ok' && o.fault && held.has(o.page) && o.end !== null && o.start >= rebootNs && o.end < best) best = o.end;
  }
  return Number.isFinite(best) ? roundMs((best - rebootNs) / 1e6) : Number.NaN;
}
