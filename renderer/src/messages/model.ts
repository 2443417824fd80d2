// The Messages view's model: the latest window of traced frames (a bounded buffer, fed
// by trace pushes outside React so 64 busy clients cost no re-render per push), and the
// filters over the arrows and operations (nodes/control/trace/frames.ts) it draws.
// Pure: the view only draws what this computes.
import { ArrowIndex, EpochIndex, isFenced, OpIndex, type Arrow, type EpochMark, type TracedOp, type TraceFields } from '../../../nodes/control/trace/frames.js';

export { rowWindow } from '../components/table-rows.js';
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
/**
 * The window grows to this many times WINDOW_RECORDS before its oldest records fall off (back to
 * WINDOW_RECORDS): its arrows and operations are kept up record by record as pushes arrive, and
 * rebuilt from the records left only at such a step, not with every push.
 */
export const WINDOW_SLACK = 1.5;

/**
 * A node whose newest record is this much (trace time, ns) behind the newest of all is taken to have stopped
 * tracing (it died, or sends nothing): the live diagram does not wait for it. Nodes ship their records every
 * 250 ms and even an idle client sends a heartbeat every 400 ms, so one that is still tracing is never this late.
 */
export const SILENT_NS = 1_000_000_000;

/**
 * The time up to which the window holds every node's records: each node ships its own in batches, so the
 * newest record of one node may be far ahead of another's, and a diagram ending at the newest record of all
 * (or of the last batch in) would show only some nodes' frames in its latest stretch. It is the oldest of the
 * nodes' newest records, over the nodes not silent (SILENT_NS); 0 for an empty window.
 */
export function completeThrough(newestByNode: ReadonlyMap<string, number>): number {
  let max = 0;
  for (const t of newestByNode.values()) if (t > max) max = t;
  let through = max;
  for (const t of newestByNode.values()) if (t >= max - SILENT_NS && t < through) through = t;
  return through;
}

/**
 * What the Messages view draws from one version of the window, computed once per version however
 * many parts of the view read it (and not at all while no one asks: pushes only append). Immutable:
 * a paused view keeps the one it has.
 */
export interface TraceView {
  version: number;
  /** Records in the window (WINDOW_RECORDS to WINDOW_SLACK times as many, once it is full). */
  records: number;
  /**
   * Where the live diagram ends (0: no record): the time up to which every node still tracing has shipped
   * its records (completeThrough), so the latest window is complete rather than only the freshest node's.
   */
  newest: number;
  /** Every frame in the window as one arrow (a send and its receive). */
  arrows: readonly Arrow[];
  ops: readonly TracedOp[];
  epochs: readonly EpochMark[];
  /** Every node a record names (as sender, receiver or peer), unordered. */
  nodes: ReadonlySet<string>;
}

export class TraceWindow {
  private records: TraceFields[] = [];
  /** Records left out (by the engine to keep up, or fallen off this window). */
  skipped = 0;
  /** Bumped on every change: the view redraws when it moved. */
  version = 0;
  /** The cluster the window shows: a new one's frames restart at c0:1, so the old ones go. */
  private cluster: number | null = null;
  private readonly listeners = new Set<() => void>();
  // What the view draws, kept up as records arrive (see rebuild).
  private arrows = new ArrowIndex();
  private ops = new OpIndex();
  private epochs = new EpochIndex();
  private nodes = new Set<string>();
  /** Each recording node's newest record time (records name the node that recorded them). */
  private newestByNode = new Map<string, number>();
  private cached: TraceView | null = null;

  add(records: readonly TraceFields[], skipped = 0, cluster: number | null = null): void {
    if (cluster !== this.cluster) {
      if (this.cluster !== null) this.reset();
      this.cluster = cluster;
    }
    this.skipped += skipped;
    if (this.records.length + records.length > WINDOW_RECORDS * WINDOW_SLACK) {
      // The oldest fall off: what is left is indexed afresh (the same arrows and operations as if it had been all there was).
      const all = this.records.concat(records);
      this.records = all.slice(-WINDOW_RECORDS);
      this.rebuild();
    } else for (const r of records) this.index(r);
    this.version++;
    for (const l of this.listeners) l();
  }

  clear(): void {
    this.reset();
    this.version++;
    for (const l of this.listeners) l();
  }

  /** The window now (newest last): a copy, so a paused view keeps its picture. */
  snapshot(): TraceFields[] {
    return this.records.slice();
  }

  /** The window's arrows, operations, epoch marks and nodes: taken only when the window changed since the last call. */
  view(): TraceView {
    if (this.cached?.version === this.version) return this.cached;
    const n = this.records.length;
    this.cached = {
      version: this.version,
      records: n,
      newest: n ? completeThrough(this.newestByNode) : 0,
      arrows: this.arrows.list(),
      ops: this.ops.list(),
      epochs: this.epochs.list(),
      nodes: new Set(this.nodes),
    };
    return this.cached;
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private index(r: TraceFields): void {
    this.records.push(r);
    this.arrows.add(r);
    this.ops.add(r);
    this.epochs.add(r);
    this.nodes.add(r.node);
    this.nodes.add(r.peer);
    if (r.t > (this.newestByNode.get(r.node) ?? -Infinity)) this.newestByNode.set(r.node, r.t);
  }

  private rebuild(): void {
    const records = this.records;
    this.records = [];
    this.arrows = new ArrowIndex();
    this.ops = new OpIndex();
    this.epochs = new EpochIndex();
    this.nodes = new Set();
    this.newestByNode = new Map();
    for (const r of records) this.index(r);
  }

  private reset(): void {
    this.records = [];
    this.skipped = 0;
    this.rebuild();
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
export function nodeColumns(records: readonly TraceFields[], known: readonly string[] = []): string[] {
  const ids = new Set(known);
  for (const r of records) {
    ids.add(r.node);
    ids.add(r.peer);
  }
  return orderNodes(ids);
}

/** Managers first, then clients by number. */
export function orderNodes(ids: Iterable<string>): string[] {
  const rank = (id: string): number => (id.startsWith('m') ? 0 : 100_000) + Number(id.slice(1));
  return [...new Set(ids)].sort((a, b) => rank(a) - rank(b));
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
