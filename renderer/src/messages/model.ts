// The Messages view's model: the latest window of traced frames (a bounded buffer, fed
// by trace pushes outside React so 64 busy clients cost no re-render per push), and the
// filters over the arrows and operations (nodes/control/trace/frames.ts) it draws.
// Pure: the view only draws what this computes.
import type { TraceRecord } from '../../../nodes/control/api.js';
import type { Arrow } from '../../../nodes/control/trace/frames.js';

export { arrowsOf, frameOpKey, MAX_OPS, opsOf, type Arrow, type TracedOp } from '../../../nodes/control/trace/frames.js';

/** Records kept: the latest window; older ones fall off. */
export const WINDOW_RECORDS = 6000;

export class TraceWindow {
  private records: TraceRecord[] = [];
  /** Records left out (by the engine to keep up, or fallen off this window). */
  skipped = 0;
  /** Bumped on every change: the view redraws when it moved. */
  version = 0;
  /** The cluster the window shows: a new one's frames restart at c0:1, so the old ones go. */
  private cluster: number | null = null;
  private readonly listeners = new Set<() => void>();

  add(records: readonly TraceRecord[], skipped = 0, cluster: number | null = null): void {
    if (cluster !== this.cluster) {
      if (this.cluster !== null) {
        this.records = [];
        this.skipped = 0;
      }
      this.cluster = cluster;
    }
    for (const r of records) this.records.push(r);
    this.skipped += skipped;
    if (this.records.length > WINDOW_RECORDS * 1.25) {
      const extra = this.records.length - WINDOW_RECORDS;
      this.records.splice(0, extra);
    }
    this.version++;
    for (const l of this.listeners) l();
  }

  clear(): void {
    this.records = [];
    this.skipped = 0;
    this.version++;
    for (const l of this.listeners) l();
  }

  /** The window now (newest last): a copy, so a paused view keeps its picture. */
  snapshot(): TraceRecord[] {
    return this.records.slice(-WINDOW_RECORDS);
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export interface Filter {
  /** null: every page. */
  page: number | null;
  /** null: every node; else only frames from or to it. */
  node: string | null;
}

export function visible(a: Arrow, f: Filter): boolean {
  if (f.page !== null && a.page !== f.page) return false;
  if (f.node !== null && a.from !== f.node && a.to !== f.node) return false;
  return true;
}

/** Node order for the columns: managers first, then clients by number. */
export function nodeColumns(records: readonly TraceRecord[], known: readonly string[] = []): string[] {
  const ids = new Set(known);
  for (const r of records) {
    ids.add(r.node);
    ids.add(r.peer);
  }
  const rank = (id: string): number => (id.startsWith('m') ? 0 : 100_000) + Number(id.slice(1));
  return [...ids].sort((a, b) => rank(a) - rank(b));
}
