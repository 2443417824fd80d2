import type { CheckResult } from './linearizability.js';
import type { HistoryOp } from './schema.js';

/**
 * Sequential-consistency checker for write-update histories (DESIGN §6).
 *
 * Every completed op claims its place in one total order: a write its 1-based
 * index `pos`, a read the number of writes applied at its member (`pos`) and the
 * index of the write it returned (`wpos`). Finding a sequential order is NP-hard
 * in general; checking a claimed one is linear. So the checker never trusts the
 * claim, it verifies that it is a witness: the writes fill positions 1..n once
 * each (unknown writes may fill holes), every read returns the last write to its
 * page at or before its position, and every client's ops keep their real-time
 * order. Those three make "writes by pos, each read right after write #pos" a
 * legal sequential order that respects program order, i.e. the history is SC.
 * A failure means the claimed order is not such a witness: either memory was not
 * sequentially consistent or the bookkeeping that claims the order is wrong;
 * both are bugs. The first rule that fails is reported with the few ops that
 * show it.
 */

export type SequentialRule =
  | 'missing-position'
  | 'unique-tokens'
  | 'read-of-unwritten'
  | 'read-of-failed-write'
  | 'read-claim'
  | 'read-wpos-mismatch'
  | 'unknown-placement'
  | 'duplicate-position'
  | 'stale-read'
  | 'program-order'
  | 'missing-write';

/** One line per rule, for docs and for people reading a failure. */
export const SEQUENTIAL_RULES: Record<SequentialRule, string> = {
  'missing-position': 'every completed (ok) op carries its place in the order: pos, and wpos on reads',
  'unique-tokens': 'every write stores a token no other write stores',
  'read-of-unwritten': 'a read returns null or a token written to the same page',
  'read-of-failed-write': 'a read never returns the token of a failed write',
  'read-claim': 'a read returning null claims wpos 0, a read returning a token claims wpos ≥ 1, and wpos ≤ pos',
  'read-wpos-mismatch': 'a read\'s wpos is the position of the write whose token it returned',
  'unknown-placement': 'all reads of an unknown write agree on its position',
  'duplicate-position': 'no two writes hold the same position',
  'stale-read': 'a read returns the last write to its page at or before its position',
  'program-order': 'each client\'s ops keep their real-time order in the total order',
  'missing-write': 'positions 1..n all hold a write of the history (unknown writes may fill holes)',
};

type Failure = { rule: SequentialRule; page: number; counterexample: HistoryOp[]; explanation: string };

const INF = Number.POSITIVE_INFINITY;

/** Check that the claimed total order of a write-update history is a legal sequential order. */
export function checkSequential(ops: readonly HistoryOp[]): CheckResult {
  let base = INF;
  const pages = new Set<number>();
  for (const o of ops) {
    if (o.start < base) base = o.start;
    pages.add(o.page);
  }
  const failure = findViolation(ops, new Words(base));
  if (failure) {
    const { rule, page, counterexample, explanation } = failure;
    return { ok: false, rule, page, counterexample: [...counterexample].sort((a, b) => a.start - b.start), explanation: `page ${page}: ${explanation}` };
  }
  return { ok: true, pages: pages.size, ops: ops.length };
}

/** Plain-words descriptions of ops; times in µs since the first op started, as in the linearizability checker. */
class Words {
  constructor(private readonly base: number) {}
  at(t: number): string {
    return `${((t - this.base) / 1000).toFixed(1)}µs`;
  }
  write(w: HistoryOp, pos?: number): string {
    const where = pos !== undefined ? ` (pos ${pos})` : w.pos !== undefined && w.outcome === 'ok' ? ` (pos ${w.pos})` : '';
    const how = w.outcome === 'ok' ? '' : ` [${w.outcome}]`;
    return `the write of ${w.value ?? 'null'} by ${w.client} at ${this.at(w.start)}${how}${where}`;
  }
  read(r: HistoryOp): string {
    return `the read by ${r.client} at ${this.at(r.start)} (pos ${r.pos ?? '?'}, wpos ${r.wpos ?? '?'})`;
  }
  got(r: HistoryOp): string {
    return `${this.read(r)} returned ${r.value ?? 'null'}`;
  }
  op(o: HistoryOp, pos?: number): string {
    return o.op === 'write' ? this.write(o, pos) : this.read(o);
  }
}

interface Placed {
  write: HistoryOp;
  pos: number;
  /** For an unknown write: the read whose wpos placed it. */
  proof: HistoryOp | null;
}

function findViolation(ops: readonly HistoryOp[], say: Words): Failure | null {
  const done = ops.filter((o) => o.outcome === 'ok');
  const reads = done.filter((o) => o.op === 'read');

  // 1. Every completed op claims a place.
  for (const o of done) {
    if (o.pos === undefined || (o.op === 'read' && o.wpos === undefined) || (o.op === 'write' && o.pos < 1)) {
      const why =
        o.op === 'write'
          ? `${say.write(o)} completed ok but holds no place in the total order (pos ${o.pos ?? 'missing'}): an acknowledged write is missing from the order (lost update)`
          : `${say.read(o)} completed ok but does not say where in the order it read (pos and wpos are required)`;
      return { rule: 'missing-position', page: o.page, counterexample: [o], explanation: why };
    }
  }

  // 2. Tokens name writes.
  const writeOf = new Map<string, HistoryOp>();
  for (const w of ops) {
    if (w.op !== 'write' || w.value === null) continue;
    const prev = writeOf.get(w.value);
    if (prev) {
      return { rule: 'unique-tokens', page: w.page, counterexample: [prev, w], explanation: `${say.write(prev)} and ${say.write(w)} store the same token, so a read of it cannot say which one it saw` };
    }
    writeOf.set(w.value, w);
  }

  // 3. Each read on its own: its value names a write that can have been applied, at the position it claims.
  const placedBy = new Map<HistoryOp, HistoryOp>(); // unknown write -> first read placing it
  for (const r of reads) {
    const pos = r.pos!;
    const wpos = r.wpos!;
    if (wpos > pos) {
      return { rule: 'read-claim', page: r.page, counterexample: [r], explanation: `${say.got(r)} and claims that write is at position ${wpos}, after the ${pos} writes its member had applied` };
    }
    if (r.value === null) {
      if (wpos !== 0) return { rule: 'read-claim', page: r.page, counterexample: [r], explanation: `${say.got(r)} (the initial value) but claims it came from the write at position ${wpos}` };
      continue;
    }
    const w = writeOf.get(r.value);
    if (!w) return { rule: 'read-of-unwritten', page: r.page, counterexample: [r], explanation: `${say.got(r)}, a token no write of the history stored` };
    if (w.page !== r.page) {
      return { rule: 'read-of-unwritten', page: r.page, counterexample: [w, r], explanation: `${say.got(r)}, but that token was written to page ${w.page}, never to page ${r.page}` };
    }
    if (w.outcome === 'fail') {
      return { rule: 'read-of-failed-write', page: r.page, counterexample: [w, r], explanation: `${say.got(r)}, but ${say.write(w)} failed (certainly not applied), so its token must never be read` };
    }
    if (wpos === 0) return { rule: 'read-claim', page: r.page, counterexample: [r], explanation: `${say.got(r)}, a written token, but claims wpos 0 (the initial value)` };
    if (w.outcome === 'ok' && w.pos !== wpos) {
      return {
        rule: 'read-wpos-mismatch',
        page: r.page,
        counterexample: [w, r],
        explanation: `${say.got(r)} and claims that write is at position ${wpos}, but its writer put it at position ${w.pos}: the reader's member applied the writes in another order than the writer's (reordered delivery) or counts them differently`,
      };
    }
    if (w.outcome === 'unknown') {
      const first = placedBy.get(w);
      if (!first) placedBy.set(w, r);
      else if (first.wpos !== wpos) {
        return {
          rule: 'unknown-placement',
          page: r.page,
          counterexample: [w, first, r],
          explanation: `${say.write(w)} never completed, and its readers disagree on where it is in the order: ${say.read(first)} says position ${first.wpos}, ${say.read(r)} says ${wpos}`,
        };
      }
    }
  }

  // 4. One write per position: ok writes where their writers put them, observed unknown writes where their readers saw them.
  const byPos = new Map<number, Placed>();
  const place = (p: Placed): Failure | null => {
    const other = byPos.get(p.pos);
    if (!other) {
      byPos.set(p.pos, p);
      return null;
    }
    const ce = [other.write, p.write, ...[other.proof, p.proof].filter((x): x is HistoryOp => x !== null)];
    const where = (x: Placed): string => (x.proof ? `${say.write(x.write, x.pos)}, placed there by ${say.got(x.proof)}` : say.write(x.write));
    return { rule: 'duplicate-position', page: p.write.page, counterexample: ce, explanation: `two writes hold position ${p.pos} of the total order: ${where(other)}; and ${where(p)}` };
  };
  for (const w of done) {
    if (w.op !== 'write') continue;
    const dup = place({ write: w, pos: w.pos!, proof: null });
    if (dup) return dup;
  }
  for (const [w, r] of placedBy) {
    const dup = place({ write: w, pos: r.wpos!, proof: r });
    if (dup) return dup;
  }

  // 5. Each read returns the LAST write to its page at or before its position.
  const positionsOf = new Map<number, number[]>(); // page -> sorted write positions
  for (const [pos, p] of byPos) {
    const list = positionsOf.get(p.write.page);
    if (list) list.push(pos);
    else positionsOf.set(p.write.page, [pos]);
  }
  for (const list of positionsOf.values()) list.sort((a, b) => a - b);
  for (const r of reads) {
    const list = positionsOf.get(r.page) ?? [];
    const q = list[firstAbove(list, r.wpos!)];
    if (q === undefined || q > r.pos!) continue;
    const newer = byPos.get(q)!;
    const older = r.wpos! > 0 ? byPos.get(r.wpos!) : undefined;
    const ce = [newer.write, r, ...(older ? [older.write] : []), ...(newer.proof ? [newer.proof] : [])];
    const returned = r.value === null ? 'the initial value' : `the write at position ${r.wpos}`;
    return {
      rule: 'stale-read',
      page: r.page,
      counterexample: ce,
      explanation: `${say.got(r)}, ${returned}, but ${say.write(newer.write, q)} overwrote page ${r.page} at or before the read's position ${r.pos}: stale read (the read skipped a write its member claims to have applied)`,
    };
  }

  // 6. Program order: a client's op that started after another of its ops completed comes later in the order.
  const byClient = new Map<string, Placed[]>();
  const entries: Placed[] = [...done.map((o) => ({ write: o, pos: o.pos!, proof: null })), ...[...placedBy].map(([w, r]) => ({ write: w, pos: r.wpos!, proof: r }))];
  for (const e of entries) {
    const list = byClient.get(e.write.client);
    if (list) list.push(e);
    else byClient.set(e.write.client, [e]);
  }
  for (const client of [...byClient.keys()].sort()) {
    const list = byClient.get(client)!;
    const v = programOrderViolation(list);
    if (v) {
      const [a, b] = v;
      const later = b.write.op === 'write' ? 'a write it issued later must come after it' : 'a read it issued later must see at least as many writes';
      const aDesc = a.write.op === 'write' ? say.write(a.write, a.pos) : say.read(a.write);
      const bDesc = b.write.op === 'write' ? say.write(b.write, b.pos) : say.read(b.write);
      return {
        rule: 'program-order',
        page: b.write.page,
        counterexample: [a.write, b.write, ...(b.proof ? [b.proof] : [])],
        explanation: `${client} completed ${aDesc} before it started ${bDesc}; ${a.write.op === 'write' ? 'that write is at position' : 'that read had seen the writes up to position'} ${a.pos}, and ${later} (${b.write.op === 'write' ? `pos > ${a.pos}` : `pos ≥ ${a.pos}`}), not ${b.pos}`,
      };
    }
  }

  // 7. No holes: positions up to the highest one claimed all hold a write, unless an unobserved unknown write may fill it.
  return missingWrite(ops, done, placedBy, byPos, byClient, say);
}

/** Index of the first element of sorted `list` greater than x. */
function firstAbove(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Completion time of an op that constrains later ones; unknown ops never complete. */
function endOf(o: HistoryOp): number {
  return o.outcome === 'ok' && o.end !== null ? o.end : INF;
}

/**
 * Sweep one client's ops in start order, folding in every op that completed
 * before the current one started: a write needs pos > their highest position, a
 * read pos ≥ it. Returns the pair (earlier, later) that breaks it.
 */
function programOrderViolation(list: Placed[]): [Placed, Placed] | null {
  const byStart = [...list].sort((a, b) => a.write.start - b.write.start);
  const byEnd = list.filter((e) => endOf(e.write) < INF).sort((a, b) => endOf(a.write) - endOf(b.write));
  let k = 0;
  let top: Placed | null = null;
  for (const b of byStart) {
    while (k < byEnd.length && endOf(byEnd[k]!.write) < b.write.start) {
      const a = byEnd[k++]!;
      if (!top || a.pos > top.pos) top = a;
    }
    if (top && (b.write.op === 'write' ? b.pos <= top.pos : b.pos < top.pos)) return [top, b];
  }
  return null;
}

/** Highest position of a client's ops completed before `t` (0 if none). */
function seenBefore(list: readonly Placed[] | undefined, t: number): number {
  let m = 0;
  for (const e of list ?? []) if (endOf(e.write) < t && e.pos > m) m = e.pos;
  return m;
}

function missingWrite(
  ops: readonly HistoryOp[],
  done: readonly HistoryOp[],
  placedBy: ReadonlyMap<HistoryOp, HistoryOp>,
  byPos: ReadonlyMap<number, Placed>,
  byClient: ReadonlyMap<string, Placed[]>,
  say: Words,
): Failure | null {
  let n = 0;
  for (const o of done) n = Math.max(n, o.pos!, o.wpos ?? 0);
  for (const pos of byPos.keys()) n = Math.max(n, pos);
  const gaps: number[] = [];
  for (let g = 1; g <= n; g++) if (!byPos.has(g)) gaps.push(g);
  if (gaps.length === 0) return null;

  // Unknown writes nobody read may have been applied at a hole, if that contradicts
  // no read of their page and comes after what their client had already seen.
  const spare = ops.filter((o) => o.op === 'write' && o.outcome === 'unknown' && !placedBy.has(o));
  const readsOf = new Map<number, HistoryOp[]>();
  for (const r of done) {
    if (r.op !== 'read') continue;
    const list = readsOf.get(r.page);
    if (list) list.push(r);
    else readsOf.set(r.page, [r]);
  }
  const covered = new Map<number, Uint8Array>(); // page -> gaps some read of it rules out
  const coveredFor = (page: number): Uint8Array => {
    let c = covered.get(page);
    if (c) return c;
    const diff = new Int32Array(gaps.length + 1);
    for (const r of readsOf.get(page) ?? []) {
      const from = firstAbove(gaps, r.wpos!);
      const to = firstAbove(gaps, r.pos!);
      if (from < to) {
        diff[from]!++;
        diff[to]!--;
      }
    }
    c = new Uint8Array(gaps.length);
    let run = 0;
    for (let i = 0; i < gaps.length; i++) {
      run += diff[i]!;
      c[i] = run > 0 ? 1 : 0;
    }
    covered.set(page, c);
    return c;
  };
  const fits: number[][] = spare.map((u) => {
    const floor = seenBefore(byClient.get(u.client), u.start);
    const c = coveredFor(u.page);
    const ok: number[] = [];
    for (let i = 0; i < gaps.length; i++) if (gaps[i]! > floor && !c[i]) ok.push(i);
    return ok;
  });
  const gapCandidates: number[][] = gaps.map(() => []);
  fits.forEach((list, u) => list.forEach((i) => gapCandidates[i]!.push(u)));

  // Bipartite matching of holes to spare unknown writes (augmenting paths).
  const holder = new Int32Array(spare.length).fill(-1);
  for (let i = 0; i < gaps.length; i++) {
    const seen = new Uint8Array(spare.length);
    const augment = (g: number): boolean => {
      for (const u of gapCandidates[g]!) {
        if (seen[u]) continue;
        seen[u] = 1;
        if (holder[u] === -1 || augment(holder[u]!)) {
          holder[u] = g;
          return true;
        }
      }
      return false;
    };
    if (augment(i)) continue;
    const g = gaps[i]!;
    // The op with the lowest claim at or beyond the hole shows the hole is inside the order.
    let witness: { op: HistoryOp; pos: number } | null = null;
    for (const [pos, p] of byPos) if (pos > g && (!witness || pos < witness.pos)) witness = { op: p.write, pos };
    for (const o of done) if (o.op === 'read' && o.pos! >= g && (!witness || o.pos! < witness.pos)) witness = { op: o, pos: o.pos! };
    const w = witness!;
    const claim = w.op.op === 'write' ? `${say.write(w.op, w.pos)} comes after it` : `${say.read(w.op)} had ${w.op.pos} writes applied`;
    const spareNote =
      spare.length === 0
        ? 'and no unknown write could fill it'
        : `and none of the ${spare.length} unobserved unknown write(s) could have been applied there (wrong page for the reads around it, before its client's earlier ops, or needed for another hole)`;
    return {
      rule: 'missing-write',
      page: w.op.page,
      counterexample: [w.op],
      explanation: `no write of the history holds position ${g} of the total order, yet ${claim}; ${spareNote}: a write was applied that the history does not record, or positions were skipped`,
    };
  }
  return null;
}
