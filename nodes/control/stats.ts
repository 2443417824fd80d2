// Live latency statistics from client telemetry: per-client totals, cluster-wide
// totals for the histogram view, and a rolling window for the time series. Each
// telemetry message carries the faults since the previous one (raw samples or an HDR histogram).
import type { Telemetry } from '../runtime/control.js';
import { addWindow, newHistogram, type Histogram } from '../runtime/latency.js';
import type { ClientStats, HistogramBucket, LatencyPoint, LatencySummary } from './api.js';

interface PerClient {
  read: Histogram;
  write: Histogram;
  ops: number;
  /** Ops count already attributed to a series window. */
  opsSeen: number;
}

const BUCKETS_US = [10, 20, 50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10_000, 50_000, 100_000, 1_000_000, Infinity];

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0 };
  const us = (ns: number): number => Math.round(ns / 10) / 100;
  return {
    count: h.totalCount,
    p50Us: us(h.getValueAtPercentile(50)),
    p90Us: us(h.getValueAtPercentile(90)),
    p99Us: us(h.getValueAtPercentile(99)),
    maxUs: us(h.maxValue),
  };
}

export class LiveStats {
  private readonly clients = new Map<string, PerClient>();
  private readonly total = { read: newHistogram(), write: newHistogram() };
  private readonly window = { read: newHistogram(), write: newHistogram() };
  private windowOps = 0;
  readonly series: LatencyPoint[] = [];

  constructor(private readonly seriesLength = 600) {}

  onTelemetry(t: Telemetry): void {
    // Managers send no op counters; an idle client's telemetry carries no histograms.
    if (t.pageTable === undefined) return;
    let c = this.clients.get(t.id);
    if (!c) {
      c = { read: newHistogram(), write: newHistogram(), ops: 0, opsSeen: 0 };
      this.clients.set(t.id, c);
    }
    const ops = t.counters.ops ?? 0;
    // A rebooted client restarts its counters from zero.
    if (ops < c.opsSeen) c.opsSeen = 0;
    this.windowOps += ops - c.opsSeen;
    c.opsSeen = ops;
    c.ops = ops;
    if (!t.latency) return;
    for (const kind of ['read', 'write'] as const) {
      try {
        addWindow(t.latency[kind], [c[kind], this.total[kind], this.window[kind]]);
      } catch {
        continue; // a corrupt histogram costs one window of one client, nothing more
      }
    }
  }

  clientStats(id: string, counters: Record<string, number> | undefined): ClientStats {
    const c = this.clients.get(id);
    return {
      id,
      ops: counters?.ops ?? 0,
      hits: counters?.hits ?? 0,
      faults: counters?.faults ?? 0,
      failed: counters?.failed ?? 0,
      read: c ? summarize(c.read) : summarize(newHistogram()),
      write: c ? summarize(c.write) : summarize(newHistogram()),
    };
  }

  totals(): { read: LatencySummary; write: LatencySummary } {
    return { read: summarize(this.total.read), write: summarize(this.total.write) };
  }

  /** Closes the current window into a series point. */
  tick(now: number): LatencyPoint {
    const r = summarize(this.window.read);
    const w = summarize(this.window.write);
    const point: LatencyPoint = {
      t: now,
      ops: this.windowOps,
      faults: r.count + w.count,
      readP50Us: r.count ? r.p50Us : null,
      readP99Us: r.count ? r.p99Us : null,
      writeP50Us: w.count ? w.p50Us : null,
      writeP99Us: w.count ? w.p99Us : null,
    };
    this.window.read.reset();
    this.window.write.reset();
    this.windowOps = 0;
    this.series.push(point);
    if (this.series.length > this.seriesLength) this.series.shift();
    return point;
  }

  /** Bucketed counts for the histogram view, read off the HDR histogram at 400 evenly spaced quantiles. */
  histogram(): HistogramBucket[] {
    const buckets = BUCKETS_US.map((leUs) => ({ leUs, read: 0, write: 0 }));
    for (const kind of ['read', 'write'] as const) {
      const h = this.total[kind];
      if (h.totalCount === 0) continue;
      const slices = 400;
      for (let i = 0; i < slices; i++) {
        const us = h.getValueAtPercentile(((i + 0.5) / slices) * 100) / 1000;
        const b = buckets.find((x) => us <= x.leUs)!;
        b[kind] += h.totalCount / slices;
      }
    }
    return buckets.map((b) => ({ leUs: b.leUs, read: Math.round(b.read), write: Math.round(b.write) }));
  }
}
