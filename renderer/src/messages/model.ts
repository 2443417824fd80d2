// The Messages view's model: the latest window of traced frames (a bounded buffer, fed
// by trace pushes outside React so 64 busy clients cost no re-render per push), and the
// filters over the arrows and operations (nodes/control/trace/frames.ts) it draws.
// Pure: the view only draws what this computes.
import type { TraceRecord } from '../../../nodes/control/api.js';
import { isFenced, type Arrow } from '../../../nodes/control/trace/frames.js';

export {
  arrowsOf,
  epochMarks,
  frameOpKey,
  isFenced,
  MAX_OPS,
  nemesisText,
  opsOf,
  refusalText,
  type Arrow,
  type EpochMark,
  type TracedOp,
} from '../../../nodes/control/trace/frames.js';

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

/** Where a dropped frame's arrow ends: this far towards its receiver, then a cross. */
export const DROP_REACH = 0.5;
/** A frame still in flight (or its receive outside the window): a short dashed stub this far towards its receiver. */
export const STUB_REACH = 0.25;

/** One arrow's line on the diagram: from its send to its end (a head, a cross, or an open stub). */
export interface Segment {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  end: 'head' | 'cross' | 'stub';
  /** The nemesis's second copy of the frame. */
  dup?: boolean;
}

/**
 * The lines one arrow draws, given the diagram's x (node → px) and y (time → px): the frame itself,
 * and for a duplicate its second arrival. Pure, shared by the drawing and the hover hit test.
 */
export function arrowSegments(a: Arrow, x: (id: string) => number, y: (t: number) => number): Segment[] {
  const x0 = x(a.from);
  const xTo = x(a.to);
  const y0 = y(a.sendT ?? a.recvT!);
  if (a.recvT === null) {
    if (a.nemesis === 'drop') return [{ x0, y0, x1: x0 + (xTo - x0) * DROP_REACH, y1: y0 + 14, end: 'cross' }];
    return [{ x0, y0, x1: x0 + (xTo - x0) * STUB_REACH, y1: y0 + 10, end: 'stub' }];
  }
  const out: Segment[] = [{ x0, y0, x1: xTo, y1: y(a.recvT), end: 'head' }];
  if (a.dupRecvT !== undefined && a.sendT !== null) out.push({ x0, y0, x1: xTo, y1: y(a.dupRecvT), end: 'head', dup: true });
  return out;
}

/** What the diagram marks in a set of arrows: counts for its summary and for tests. */
export function marksOf(arrows: readonly Arrow[]): { dropped: number; dups: number; fenced: number; refused: number } {
  let dropped = 0;
  let dups = 0;
  let fenced = 0;
  let refused = 0;
  for (const a of arrows) {
    if (a.nemesis === 'drop' && a.recvT === null) dropped++;
    if (a.dupRecvT !== undefined) dups++;
    if (a.refused !== undefined) {
      refused++;
      if (isFenced(a.refused)) fenced++;
    }
  }
  return { dropped, dups, fenced, refused };
}
