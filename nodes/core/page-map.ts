// Per-page state that changes on every fault (the open request, the ops queued behind it, the copy given
// away, the pages to persist), keyed by page number. Why not a `Map`: once a Map's hash table has been
// promoted to V8's old space, every table that replaces it is allocated there too, and a Map replaces its
// table on each delete that empties it and on each clear(). A client's per-fault maps went empty after every
// fault, so each fault left old-space garbage behind: the largest share of what only protocol clients' major
// GCs collected (docs/BENCHMARKS.md, session eleven). A PageMap's set, delete and clear allocate nothing.
//
// It behaves as a Map for what the cores do with one: get, has, set (a new page goes last, a present one
// keeps its place), delete, clear, and iteration in insertion order. As with a Map, the entry being
// visited may be deleted during iteration; other deletions during iteration may skip an entry.
// The paths run after every frame and tick iterate with forEach or by position (keyAt, valueAt): the
// generators behind for-of allocate an iterator, a result and an entry per step, ~1 KB per fault.

export class PageMap<V> implements Iterable<[number, V]> {
  private readonly vals: (V | undefined)[];
  /** Pages present, in insertion order: the first `count` entries. */
  private readonly order: Int32Array;
  /** Where each page stands in `order`; -1 when absent. */
  private readonly index: Int32Array;
  private count = 0;

  constructor(readonly pages: number) {
    if (!Number.isInteger(pages) || pages < 0) throw new RangeError(`PageMap of ${pages} pages`);
    this.vals = new Array<V | undefined>(pages).fill(undefined);
    this.order = new Int32Array(pages);
    this.index = new Int32Array(pages).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  has(page: number): boolean {
    return (this.index[page] ?? -1) >= 0;
  }

  get(page: number): V | undefined {
    return this.has(page) ? this.vals[page] : undefined;
  }

  set(page: number, value: V): this {
    if (!this.has(page)) {
      if (!Number.isInteger(page) || page < 0 || page >= this.pages) throw new RangeError(`page ${page} is outside 0..${this.pages - 1}`);
      this.order[this.count] = page;
      this.index[page] = this.count++;
    }
    this.vals[page] = value;
    return this;
  }

  delete(page: number): boolean {
    const at = this.index[page] ?? -1;
    if (at < 0) return false;
    // Later pages move up one place: insertion order is kept, and there are only a few entries at a time.
    for (let i = at + 1; i < this.count; i++) {
      const p = this.order[i]!;
      this.order[i - 1] = p;
      this.index[p] = i - 1;
    }
    this.count--;
    this.index[page] = -1;
    this.vals[page] = undefined;
    return true;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) {
      const p = this.order[i]!;
      this.index[p] = -1;
      this.vals[p] = undefined;
    }
    this.count = 0;
  }

  /** As Map.prototype.forEach, allocating nothing: in insertion order, and `fn` may delete the entry it is given. */
  forEach(fn: (value: V, page: number) => void): void {
    let i = 0;
    while (i < this.count) {
      const page = this.order[i]!;
      fn(this.vals[page] as V, page);
      i = this.after(i, page);
    }
  }

  /** Where to go on once `page`, visited at position `i`, is done with. */
  private after(i: number, page: number): number {
    // Still in its place: go on past it. Deleted (or an earlier entry was): its successor stands where it was.
    const now = this.index[page]!;
    return now >= 0 ? now + 1 : i;
  }

  /** The page at position `i` of insertion order (0 <= i < size). */
  keyAt(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`position ${i} is outside 0..${this.count - 1}`);
    return this.order[i]!;
  }

  /** The value at position `i` of insertion order (0 <= i < size). */
  valueAt(i: number): V {
    return this.vals[this.keyAt(i)] as V;
  }

  *entries(): IterableIterator<[number, V]> {
    let i = 0;
    while (i < this.count) {
      const page = this.order[i]!;
      yield [page, this.vals[page] as V];
      i = this.after(i, page);
    }
  }

  *keys(): IterableIterator<number> {
    for (const [page] of this.entries()) yield page;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }
}
