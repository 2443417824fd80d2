import type { HistoryOp } from './schema.js';

/**
 * Linearizability checker for IVY page histories.
 *
 * Each page is an independent read/write register (P-compositionality), checked
 * with Wing & Gong's search plus Lowe's memoisation of (linearized set, state),
 * laid out as in Porcupine: call/return entries in a doubly linked list sorted by
 * time, lift/unlift to (un)linearize, explicit undo stack instead of recursion.
 */

export type CheckResult =
  | { ok: true; pages: number; ops: number }
  | {
      ok: false;
      page: number;
      counterexample: HistoryOp[];
      explanation: string;
      /** Which rule of the model failed (the sequential checker names one; linearizability has one rule). */
      rule?: string;
    };

export interface CheckOptions {
  /** Wall-clock budget for shrinking a counterexample (default 2000 ms). */
  shrinkTimeMs?: number;
}

const INF = Number.POSITIVE_INFINITY;

/** Unknown ops may take effect at any time after start, so they never return. */
function effectiveEnd(op: HistoryOp): number {
  return op.outcome === 'unknown' || op.end === null ? INF : op.end;
}

/** Real-time order: a finished strictly before b started. */
function precedes(a: HistoryOp, b: HistoryOp): boolean {
  return effectiveEnd(a) < b.start;
}

/** Ops the checker must respect: ok ops plus unknown writes (unknown reads constrain nothing; failed ops never happened). */
function isRelevant(op: HistoryOp): boolean {
  return op.outcome === 'ok' || (op.outcome === 'unknown' && op.op === 'write');
}

type SearchResult = { ok: true } | { ok: false; stuckAt: number };

/**
 * Search one register history for a linearization. `ops` must contain only
 * relevant ops of one page. Returns, on failure, the latest return time at
 * which any branch got stuck: no branch ever looked at a call after it.
 */
export function searchRegister(input: readonly HistoryOp[]): SearchResult {
  // An unknown write whose token nobody read can always be omitted: in any
  // linearization the next op touching the state after it is a write.
  const readValues = new Set<string>();
  for (const o of input) if (o.op === 'read' && o.outcome === 'ok' && o.value !== null) readValues.add(o.value);
  const ops = input.filter(
    (o) => o.outcome === 'ok' || (o.outcome === 'unknown' && o.op === 'write' && o.value !== null && readValues.has(o.value)),
  );
  const n = ops.length;
  if (n === 0) return { ok: true };

  // Register state is an int: 0 = null (initial), k = k-th distinct token.
  const ids = new Map<string, number>();
  const isWrite = new Uint8Array(n);
  const valueId = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = ops[i]!;
    isWrite[i] = o.op === 'write' ? 1 : 0;
    let id = 0;
    if (o.value !== null) {
      id = ids.get(o.value) ?? ids.size + 1;
      ids.set(o.value, id);
    }
    valueId[i] = id;
  }

  // Node 0 is the list head; op i has call node 2i+1 and return node 2i+2.
  const nodes = 2 * n + 1;
  const time = new Float64Array(nodes);
  for (let i = 0; i < n; i++) {
    time[2 * i + 1] = ops[i]!.start;
    time[2 * i + 2] = effectiveEnd(ops[i]!);
  }
  const order = Array.from({ length: 2 * n }, (_, k) => k + 1);
  // Calls before returns on equal times: touching intervals count as concurrent.
  order.sort((a, b) => time[a]! - time[b]! || (a & 1 ? 0 : 1) - (b & 1 ? 0 : 1) || a - b);
  const next = new Int32Array(nodes).fill(-1);
  const prev = new Int32Array(nodes).fill(-1);
  let last = 0;
  for (const node of order) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }

  const lift = (call: number): void => {
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!; // a call always has its return after it
    const ret = call + 1;
    next[prev[ret]!] = next[ret]!;
    if (next[ret]! !== -1) prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (call: number): void => {
    const ret = call + 1;
    next[prev[ret]!] = ret;
    if (next[ret]! !== -1) prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };

  // Linearized set as a bitset with an O(1) incremental hash (XOR of random
  // per-op words). Words below `lo` are all ones and above `hi` all zeros, so
  // a cache entry only stores the short window [lo, hi] around the frontier.
  const words = new Uint32Array((n + 31) >>> 5);
  let lo = 0;
  let hi = -1;
  let h1 = 0;
  let h2 = 0;
  const r1 = new Uint32Array(n);
  const r2 = new Uint32Array(n);
  let seed = 0x9e3779b9;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let i = 0; i < n; i++) {
    r1[i] = rand();
    r2[i] = rand();
  }
  const toggle = (i: number, on: boolean): void => {
    const w = i >>> 5;
    h1 ^= r1[i]!;
    h2 ^= r2[i]!;
    if (on) {
      words[w]! |= 1 << (i & 31);
      if (w > hi) hi = w;
      while (lo < words.length && words[lo] === 0xffffffff) lo++;
    } else {
      words[w]! &= ~(1 << (i & 31));
      if (w < lo) lo = w;
      while (hi >= 0 && words[hi] === 0) hi--;
    }
  };

  interface CacheEntry {
    h2: number;
    state: number;
    lo: number;
    words: Uint32Array;
  }
  const cache = new Map<number, CacheEntry[]>();
  /** Record (current set, state); false if it was already explored. */
  const remember = (state: number): boolean => {
    const key = (h1 ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    const len = Math.max(0, hi - lo + 1);
    const bucket = cache.get(key);
    if (bucket) {
      for (const e of bucket) {
        if (e.h2 !== h2 || e.state !== state || e.lo !== lo || e.words.length !== len) continue;
        let same = true;
        for (let k = 0; k < len && same; k++) same = e.words[k] === words[lo + k];
        if (same) return false;
      }
    }
    const entry: CacheEntry = { h2, state, lo, words: words.slice(lo, lo + len) };
    if (bucket) bucket.push(entry);
    else cache.set(key, [entry]);
    return true;
  };

  // Unlinearized reads per token. With unique tokens a value, once overwritten,
  // never comes back; so while anyone still has to read the current value, no
  // write may be linearized (prunes most wrong branches).
  const readsLeft = new Int32Array(ids.size + 1);
  const writesOf = new Int32Array(ids.size + 1);
  for (let i = 0; i < n; i++) {
    if (isWrite[i]) writesOf[valueId[i]!]!++;
    else readsLeft[valueId[i]!]!++;
  }
  const uniqueTokens = writesOf.every((c) => c <= 1);
  const writeAllowed = (): boolean => !uniqueTokens || readsLeft[state] === 0;

  /**
   * Moves that lose nothing, so the search never branches on them. "Window"
   * = calls before the first pending return: their real-time predecessors are
   * all linearized, so any of them may go next.
   * - A read of the current state: it changes nothing and only relaxes
   *   real-time constraints on what follows.
   * - (unique tokens, no reads of the current state left) a "ready" write, all
   *   of whose unlinearized readers are in the window: in any linearization it
   *   forms a block with its readers that can be moved to right now, since the
   *   ops it jumps over start with a write and see the same states as before.
   *   This includes writes nobody reads.
   * Returns the call node to take, or -1.
   */
  const inWindow = new Int32Array(ids.size + 1);
  const touched: number[] = [];
  const freeMove = (): number => {
    for (let e = next[0]!; e !== -1 && e & 1; e = next[e]!) {
      const i = (e - 1) >>> 1;
      if (!isWrite[i] && valueId[i] === state) return e;
    }
    if (!uniqueTokens || readsLeft[state] !== 0) return -1;
    for (let e = next[0]!; e !== -1 && e & 1; e = next[e]!) {
      const i = (e - 1) >>> 1;
      if (!isWrite[i]) {
        inWindow[valueId[i]!]!++;
        touched.push(valueId[i]!);
      }
    }
    let pick = -1;
    for (let e = next[0]!; e !== -1 && e & 1 && pick === -1; e = next[e]!) {
      const i = (e - 1) >>> 1;
      if (isWrite[i] && inWindow[valueId[i]!] === readsLeft[valueId[i]!]) pick = e;
    }
    for (const v of touched) inWindow[v] = 0;
    touched.length = 0;
    return pick;
  };

  const undoOp = new Int32Array(n);
  const undoState = new Int32Array(n);
  const undoFree = new Uint8Array(n);
  let sp = 0;
  let state = 0;
  let stuckAt = -INF;
  /** Linearize the op of `call` if (set, state) is new; false if already explored. */
  const take = (call: number, free: boolean): boolean => {
    const i = (call - 1) >>> 1;
    const v = valueId[i]!;
    toggle(i, true);
    // A value nobody will read again is as good as any other such value (the
    // next op must be a write), so those states share one memo key: -1.
    const left = readsLeft[v]! - (isWrite[i] ? 0 : 1);
    if (!remember(left === 0 ? -1 : v)) {
      toggle(i, false);
      return false;
    }
    if (!isWrite[i]) readsLeft[v]!--;
    undoOp[sp] = i;
    undoState[sp] = state;
    undoFree[sp] = free ? 1 : 0;
    sp++;
    state = v;
    lift(call);
    return true;
  };

  let fresh = true; // at a configuration not yet scanned
  let entry = -1;
  for (;;) {
    let dead = false;
    if (fresh) {
      const free = freeMove();
      if (free !== -1) {
        if (take(free, true)) continue;
        dead = true; // its successor was explored and failed, so this configuration fails too
      } else {
        fresh = false;
        entry = next[0]!;
      }
    }
    if (!dead) {
      if (entry === -1) return { ok: true };
      if (entry & 1) {
        // Branch: only writes are left to choose from (matching reads were free moves).
        const i = (entry - 1) >>> 1;
        if (isWrite[i] && writeAllowed() && take(entry, false)) {
          fresh = true;
          continue;
        }
        entry = next[entry]!;
        continue;
      }
      const t = time[entry]!;
      // Only never-returning (unknown) ops remain: every finished op is linearized.
      if (t === INF) return { ok: true };
      if (t > stuckAt) stuckAt = t;
    }
    // Undo up to the last real choice: a failed free move dooms its parent too.
    let i: number;
    let free: number;
    do {
      if (sp === 0) return { ok: false, stuckAt };
      sp--;
      i = undoOp[sp]!;
      free = undoFree[sp]!;
      state = undoState[sp]!;
      if (!isWrite[i]) readsLeft[valueId[i]!]!++;
      toggle(i, false);
      unlift(2 * i + 1);
    } while (free);
    fresh = false;
    entry = next[2 * i + 1]!;
  }
}

/** Drop reads whose token no write in `ops` produced, keeping sub-histories meaningful while shrinking. */
function closeOverWrites(ops: readonly HistoryOp[]): HistoryOp[] {
  const written = new Set<string>();
  for (const o of ops) if (o.op === 'write' && o.value !== null) written.add(o.value);
  return ops.filter((o) => o.op === 'write' || o.value === null || written.has(o.value));
}

/**
 * Greedy delta-debugging: delete chunks of halving size, then single ops until
 * a fixpoint (no single deletion keeps the history non-linearizable), or until
 * the deadline. Deleting a write also deletes the reads of its token.
 */
function shrink(failing: HistoryOp[], deadline: number): HistoryOp[] {
  let cur = failing;
  let size = Math.max(1, cur.length >> 1);
  while (Date.now() < deadline) {
    let removed = false;
    for (let i = 0; i < cur.length && Date.now() < deadline; ) {
      const cand = closeOverWrites([...cur.slice(0, i), ...cur.slice(i + size)]);
      if (cand.length > 0 && cand.length < cur.length && !searchRegister(cand).ok) {
        cur = cand;
        removed = true;
      } else {
        i += size;
      }
    }
    if (size === 1 && !removed) break;
    size = Math.max(1, size >> 1);
  }
  return cur;
}

/**
 * Describe in plain words why a (small) counterexample fails, by matching the
 * classic register anomalies; "x -> y" below means x finished before y started.
 */
function explain(page: number, ce: readonly HistoryOp[], base: number): string {
  const us = (t: number): string => `${((t - base) / 1000).toFixed(1)}µs`;
  const who = (o: HistoryOp): string => `${o.op} by ${o.client} at ${us(o.start)}`;
  const tok = (v: string | null): string => v ?? 'null';
  const ended = (o: HistoryOp): string => us(o.end ?? o.start);
  const say = (s: string): string => `page ${page}: ${s}`;
  const reads = ce.filter((o) => o.op === 'read' && o.outcome === 'ok');
  const writes = ce.filter((o) => o.op === 'write' && o.outcome !== 'fail');
  // Ops whose completion proves a token was in place: its write, or a read of it.
  const proofOf = (v: string | null, before: HistoryOp): HistoryOp | undefined =>
    v === null ? undefined : ce.find((o) => o.outcome !== 'fail' && o.value === v && precedes(o, before));

  for (const r of reads) {
    const w = writes.find((x) => x.value === r.value && r.value !== null && precedes(r, x));
    if (w) return say(`${who(r)} returned ${tok(r.value)} before it was written (the write by ${w.client} started at ${us(w.start)}, after the read ended at ${ended(r)})`);
  }
  for (const r of reads) {
    const w = r.value === null ? writes.find((x) => precedes(x, r)) : undefined;
    if (w) return say(`${who(r)} returned null (never written) but ${tok(w.value)} was written (ok) by ${w.client} before the read started`);
  }
  // stale read / lost write: (a in place) -> write b -> read a
  for (const r of reads) {
    for (const w of writes) {
      const x = w.value !== r.value && precedes(w, r) ? proofOf(r.value, w) : undefined;
      if (x) {
        const since = x.op === 'write' ? 'written' : `read by ${x.client}`;
        return say(`${who(r)} returned ${tok(r.value)} but ${tok(w.value)} was written (ok) by ${w.client} after ${tok(r.value)} was ${since} and before the read started (stale read / lost write)`);
      }
    }
  }
  for (const r1 of reads) {
    for (const r2 of reads) {
      if (!precedes(r1, r2) || r1.value === r2.value || r1.value === null) continue;
      const newer = writes.find((w) => w.value === r1.value);
      // new-old inversion: (a in place) -> write b, and read b -> read a
      const older = newer && proofOf(r2.value, newer);
      if (r2.value === null || older) {
        return say(`${who(r2)} returned ${tok(r2.value)} after an earlier read by ${r1.client} (finished at ${ended(r1)}, before it started) had already returned the newer value ${tok(r1.value)}`);
      }
      // resurrection: (a in place) -> read b -> read a
      const x = proofOf(r2.value, r1);
      if (x) {
        return say(`${who(r2)} returned ${tok(r2.value)} again after it had been replaced: the ${x.op} of it by ${x.client} at ${us(x.start)} finished before a read by ${r1.client} at ${us(r1.start)} returned ${tok(r1.value)}, which finished before this read started`);
      }
    }
  }
  // split brain: (a in place) -> read b and (b in place) -> read a
  for (const ra of reads) {
    for (const rb of reads) {
      if (ra.value === rb.value) continue;
      const xb = proofOf(rb.value, ra);
      const xa = proofOf(ra.value, rb);
      if (xa && xb) {
        return say(`${who(ra)} returned ${tok(ra.value)} and ${who(rb)} returned ${tok(rb.value)}, but each started after the other's value was in place (${tok(rb.value)} by ${ended(xb)}, ${tok(ra.value)} by ${ended(xa)}); whichever took effect last, both reads had to return it`);
      }
    }
  }
  return say(`no order of these ${ce.length} operations respects their real-time order while every read returns the latest write before it`);
}

type PageFailure = { counterexample: HistoryOp[]; explanation: string };

/** Reads of tokens no write on this page could have produced: obvious one- or two-op counterexamples. */
function danglingRead(page: number, pageOps: readonly HistoryOp[], all: readonly HistoryOp[], base: number): PageFailure | null {
  const written = new Set<string>();
  for (const o of pageOps) if (o.op === 'write' && o.outcome !== 'fail' && o.value !== null) written.add(o.value);
  const us = (t: number): string => `${((t - base) / 1000).toFixed(1)}µs`;
  for (const r of pageOps) {
    if (r.op !== 'read' || r.outcome !== 'ok' || r.value === null || written.has(r.value)) continue;
    const at = `page ${page}: read by ${r.client} at ${us(r.start)} returned ${r.value}`;
    const failed = pageOps.find((w) => w.op === 'write' && w.value === r.value);
    if (failed) {
      return {
        counterexample: [failed, r].sort((a, b) => a.start - b.start),
        explanation: `${at} but the write of ${r.value} by ${failed.client} failed (outcome "fail"), so it must never be observed`,
      };
    }
    const elsewhere = all.find((w) => w.op === 'write' && w.value === r.value);
    const why = elsewhere ? `which was written to page ${elsewhere.page}, never to page ${page}` : 'which was never written';
    return { counterexample: [r], explanation: `${at} ${why}` };
  }
  return null;
}

/**
 * The ops the failed search could have depended on: no branch looked at a call
 * after `stuckAt`, but the search also consulted every read of tokens written
 * in that prefix (or of null), and windowed reads need their writes.
 */
function windowAround(relevant: readonly HistoryOp[], stuckAt: number): HistoryOp[] {
  const early = relevant.filter((o) => o.start <= stuckAt);
  const written = new Set(early.filter((o) => o.op === 'write').map((o) => o.value));
  const read = new Set(early.filter((o) => o.op === 'read').map((o) => o.value));
  return relevant.filter(
    (o) => o.start <= stuckAt || (o.op === 'read' ? o.value === null || written.has(o.value) : read.has(o.value)),
  );
}

function checkPage(page: number, pageOps: HistoryOp[], all: readonly HistoryOp[], base: number, shrinkMs: number): PageFailure | null {
  const byStart = [...pageOps].sort((a, b) => a.start - b.start);
  const dangling = danglingRead(page, byStart, all, base);
  if (dangling) return dangling;
  const relevant = byStart.filter(isRelevant);
  const res = searchRegister(relevant);
  if (res.ok) return null;
  const deadline = Date.now() + shrinkMs;

  const window = windowAround(relevant, res.stuckAt);
  const start = searchRegister(window).ok ? relevant : window; // defensive: never lose the failure
  const counterexample = shrink(start, deadline);
  return { counterexample, explanation: explain(page, counterexample, base) };
}

/** Check a whole history, page by page; reports the lowest failing page. */
export function checkHistory(ops: readonly HistoryOp[], options: CheckOptions = {}): CheckResult {
  const pages = new Map<number, HistoryOp[]>();
  let base = INF;
  for (const o of ops) {
    const list = pages.get(o.page);
    if (list) list.push(o);
    else pages.set(o.page, [o]);
    if (o.start < base) base = o.start;
  }
  for (const page of [...pages.keys()].sort((a, b) => a - b)) {
    const failure = checkPage(page, pages.get(page)!, ops, base, options.shrinkTimeMs ?? 2000);
    if (failure) return { ok: false, page, ...failure };
  }
  return { ok: true, pages: pages.size, ops: ops.length };
}
