import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, type CheckResult } from '../../nodes/control/history/linearizability.js';
import { checkSequential, type SequentialRule } from '../../nodes/control/history/sequential.js';
import { defaultModel, parseModel, runCheck, type Model } from '../../nodes/control/history/check-command.js';
import { formatHistoryLine, type HistoryOp } from '../../nodes/control/history/schema.js';
import { mulberry32, pick, type Rng } from '../../nodes/core/random.js';

function w(client: string, value: string, start: number, end: number, pos: number, page = 0): HistoryOp {
  return { client, op: 'write', page, value, start, end, outcome: 'ok', fault: false, pos };
}
function r(client: string, value: string | null, start: number, end: number, pos: number, wpos: number, page = 0): HistoryOp {
  return { client, op: 'read', page, value, start, end, outcome: 'ok', fault: false, pos, wpos };
}
/** A write whose client never learned its fate (no place claimed: only readers can place it). */
function uw(client: string, value: string, start: number, page = 0): HistoryOp {
  return { client, op: 'write', page, value, start, end: null, outcome: 'unknown', fault: false };
}
function fw(client: string, value: string, start: number, end: number, page = 0): HistoryOp {
  return { client, op: 'write', page, value, start, end, outcome: 'fail', fault: false };
}

function failure(res: CheckResult): Extract<CheckResult, { ok: false }> {
  if (res.ok) throw new Error('expected a violation');
  return res;
}
/** The failure names `rule` and its counterexample is exactly `ce` (as a set). */
function expectViolation(ops: HistoryOp[], rule: SequentialRule, ce: HistoryOp[]): string {
  const f = failure(checkSequential(ops));
  expect(f.rule).toBe(rule);
  expect(new Set(f.counterexample)).toEqual(new Set(ce));
  expect(f.counterexample).toHaveLength(ce.length);
  return f.explanation;
}

describe('checkSequential: legal orders', () => {
  it('accepts the empty history and a plain sequential one', () => {
    expect(checkSequential([])).toEqual({ ok: true, pages: 0, ops: 0 });
    const h = [w('c1', 'c1:1', 0, 10, 1), r('c2', 'c1:1', 20, 30, 1, 1), w('c2', 'c2:1', 40, 50, 2, 1), r('c1', 'c2:1', 60, 70, 2, 2, 1)];
    expect(checkSequential(h)).toEqual({ ok: true, pages: 2, ops: 4 });
  });

  it('accepts a stale local read after a write completed elsewhere, which linearizability rejects', () => {
    // c1's write is acknowledged before c2 reads, but c2's member has not applied it yet.
    const h = [w('c1', 'c1:1', 0, 10, 1), r('c2', null, 20, 30, 0, 0)];
    expect(checkSequential(h).ok).toBe(true);
    expect(checkHistory(h).ok).toBe(false);
  });

  it('accepts a member lagging two writes behind on two pages, which linearizability rejects', () => {
    const h = [
      w('c1', 'c1:1', 0, 10, 1),
      w('c1', 'c1:2', 20, 30, 2, 1),
      r('c2', null, 40, 50, 0, 0, 1),
      r('c2', 'c1:1', 60, 70, 1, 1),
      r('c2', 'c1:2', 80, 90, 2, 2, 1),
    ];
    expect(checkSequential(h).ok).toBe(true);
    expect(checkHistory(h).ok).toBe(false);
  });

  it('does not order overlapping ops of one client (a supervisor op during a workload op)', () => {
    const h = [w('c1', 'c1:1', 0, 100, 2), r('c1', null, 50, 60, 0, 0), w('c2', 'c2:1', 0, 10, 1, 1)];
    expect(checkSequential(h).ok).toBe(true);
  });

  it('places an observed unknown write where its readers saw it', () => {
    const h = [w('c1', 'c1:1', 0, 10, 1), uw('c2', 'c2:1', 5), r('c3', 'c2:1', 20, 30, 2, 2), r('c1', 'c2:1', 40, 50, 3, 2), w('c3', 'c3:1', 60, 70, 3, 1)];
    expect(checkSequential(h).ok).toBe(true);
  });

  it('lets an unobserved unknown write fill a hole, and ignores failed ops and unknown reads', () => {
    const h = [
      w('c1', 'c1:1', 0, 10, 1),
      uw('c2', 'c2:1', 5, 1),
      w('c1', 'c1:2', 20, 30, 3),
      fw('c3', 'c3:1', 0, 5),
      { ...r('c3', null, 40, 50, 0, 0), outcome: 'fail', pos: undefined, wpos: undefined },
      { ...r('c3', null, 40, 50, 0, 0), outcome: 'unknown', end: null, pos: undefined, wpos: undefined },
      r('c3', 'c1:2', 60, 70, 3, 3),
    ] as HistoryOp[];
    expect(checkSequential(h).ok).toBe(true);
  });
});

describe('checkSequential: violations name their rule', () => {
  it('reordered delivery: the reader applied two writes in the other order', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const b = w('c2', 'c2:1', 0, 10, 2);
    const rd = r('c3', 'c1:1', 20, 30, 2, 2); // c3 applied c2:1 first, then c1:1
    const why = expectViolation([a, b, rd], 'read-wpos-mismatch', [a, rd]);
    expect(why).toContain('reordered delivery');
  });

  it('reordered delivery: each writer put its own write first', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const b = w('c2', 'c2:1', 0, 10, 1, 1);
    const why = expectViolation([a, b], 'duplicate-position', [a, b]);
    expect(why).toContain('two writes hold position 1');
  });

  it('lost update: an acknowledged write holds no place in the order', () => {
    const a: HistoryOp = { ...w('c1', 'c1:1', 0, 10, 1), pos: undefined };
    expect(expectViolation([a], 'missing-position', [a])).toContain('lost update');
  });

  it('lost update: a read skips a write its member claims to have applied', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const b = w('c2', 'c2:1', 20, 30, 2);
    const rd = r('c3', 'c1:1', 40, 50, 2, 1);
    const other = w('c3', 'c3:1', 0, 5, 3, 1);
    expect(expectViolation([a, b, rd, other], 'stale-read', [a, b, rd])).toContain('stale read');
  });

  it('lost update: a write missing from the history leaves a hole', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const c = w('c1', 'c1:3', 20, 30, 3, 1);
    expect(expectViolation([a, c], 'missing-write', [c])).toContain('position 2');
  });

  it('a read of the initial value after its member applied a write to the page', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const rd = r('c2', null, 20, 30, 1, 0);
    expectViolation([a, rd], 'stale-read', [a, rd]);
  });

  it('a read of a never-written value', () => {
    const rd = r('c2', 'c9:9', 20, 30, 1, 1);
    expect(expectViolation([w('c1', 'c1:1', 0, 10, 1), rd], 'read-of-unwritten', [rd])).toContain('no write of the history stored');
  });

  it('a read of a value written to another page', () => {
    const a = w('c1', 'c1:1', 0, 10, 1, 3);
    const rd = r('c2', 'c1:1', 20, 30, 1, 1);
    expect(expectViolation([a, rd], 'read-of-unwritten', [a, rd])).toContain('written to page 3');
  });

  it('a read of a failed write', () => {
    const a = fw('c1', 'c1:1', 0, 10);
    const rd = r('c2', 'c1:1', 20, 30, 1, 1);
    expect(expectViolation([a, rd], 'read-of-failed-write', [a, rd])).toContain('failed');
  });

  it.each([
    ['wpos beyond pos', r('c2', 'c1:1', 20, 30, 0, 1)],
    ['null with a wpos', r('c2', null, 20, 30, 1, 1)],
    ['a token with wpos 0', r('c2', 'c1:1', 20, 30, 1, 0)],
  ])('a read whose own claim is contradictory: %s', (_, rd) => {
    expectViolation([w('c1', 'c1:1', 0, 10, 1), rd], 'read-claim', [rd]);
  });

  it('duplicate positions of two acknowledged writes on different pages', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const b = w('c1', 'c1:2', 20, 30, 1, 1);
    expectViolation([a, b], 'duplicate-position', [a, b]);
  });

  it('an unknown write placed by its reader on a position an acknowledged write holds', () => {
    const a = w('c1', 'c1:1', 0, 10, 1, 1);
    const u = uw('c2', 'c2:1', 0);
    const rd = r('c3', 'c2:1', 20, 30, 1, 1);
    expectViolation([a, u, rd], 'duplicate-position', [a, u, rd]);
  });

  it('readers of an unknown write disagree on its position', () => {
    const a = w('c1', 'c1:1', 0, 10, 1, 1);
    const u = uw('c2', 'c2:1', 0);
    const r1 = r('c3', 'c2:1', 20, 30, 2, 2);
    const r2 = r('c1', 'c2:1', 20, 30, 3, 3);
    expectViolation([a, u, r1, r2, w('c3', 'c3:1', 40, 50, 3, 1)], 'unknown-placement', [u, r1, r2]);
  });

  it('an unobserved unknown write cannot fill a hole a read of its page rules out', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const u = uw('c2', 'c2:1', 0);
    const rd = r('c3', 'c1:1', 20, 30, 2, 1); // c3 applied two writes, the second not to page 0
    expectViolation([a, u, rd], 'missing-write', [rd]);
    expect(checkSequential([a, { ...u, page: 1 }, rd]).ok).toBe(true);
  });

  it('an unobserved unknown write cannot fill a hole before what its client had already seen', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const seen = r('c2', 'c1:3', 20, 30, 3, 3, 1);
    const u = uw('c2', 'c2:1', 40);
    const c = w('c1', 'c1:3', 12, 18, 3, 1);
    expectViolation([a, c, seen, u], 'missing-write', [c]);
    expect(checkSequential([a, c, { ...seen, start: 50, end: 60 }, u]).ok).toBe(true);
  });

  it('program order: a read after the client\'s own write does not see it', () => {
    const a = w('c1', 'c1:1', 0, 10, 2);
    const rd = r('c1', null, 20, 30, 1, 0, 1);
    const why = expectViolation([w('c2', 'c2:1', 0, 5, 1, 2), a, rd], 'program-order', [a, rd]);
    expect(why).toContain('c1 completed the write of c1:1');
  });

  it('program order: a write ordered before what its client had already read', () => {
    const rd = r('c1', 'c2:1', 0, 10, 2, 2, 1);
    const a = w('c1', 'c1:1', 20, 30, 1);
    expectViolation([w('c2', 'c2:1', 0, 5, 2, 1), rd, a], 'program-order', [rd, a]);
  });

  it('program order: a client\'s reads go back in the order', () => {
    const r1 = r('c1', 'c2:2', 0, 10, 2, 2, 1);
    const r2 = r('c1', null, 20, 30, 1, 0, 2);
    expectViolation([w('c2', 'c2:1', 0, 5, 1), w('c2', 'c2:2', 6, 8, 2, 1), r1, r2], 'program-order', [r1, r2]);
  });

  it('program order: two writes of one client in the wrong order', () => {
    const a = w('c1', 'c1:1', 0, 10, 2);
    const b = w('c1', 'c1:2', 20, 30, 1, 1);
    expectViolation([a, b], 'program-order', [a, b]);
  });

  it('program order: an observed unknown write placed before what its client had seen', () => {
    const seen = r('c1', 'c2:2', 0, 10, 2, 2, 1);
    const u = uw('c1', 'c1:1', 20);
    const rd = r('c3', 'c1:1', 30, 40, 2, 1);
    const h = [uw('c2', 'c2:0', 0, 5), w('c2', 'c2:2', 0, 5, 2, 1), seen, u, rd];
    expectViolation(h, 'program-order', [seen, u, rd]);
  });

  it('token reuse', () => {
    const a = w('c1', 'c1:1', 0, 10, 1);
    const b = w('c2', 'c1:1', 0, 10, 2, 1);
    expectViolation([a, b], 'unique-tokens', [a, b]);
  });
});

// --- randomized ---------------------------------------------------------------------------

interface Generated {
  ops: HistoryOp[];
}

/**
 * A random legal write-update run: one total order of writes grows; each client
 * has applied a prefix of it (monotone, and always its own writes), does one op
 * at a time, and reads its local replica. Some writes fail, some end unknown
 * (applied or not), some reads fail.
 */
function generate(rng: Rng): Generated {
  const clients = 1 + pick(rng, 5);
  const pages = 1 + pick(rng, 3);
  const steps = 5 + pick(rng, 60);
  const unknowns = rng() < 0.5; // half the runs without unknown writes, where a dropped write cannot be excused
  const order: { page: number; token: string }[] = [];
  const applied = new Array<number>(clients).fill(0);
  const clock = new Array<number>(clients).fill(0);
  const seq = new Array<number>(clients).fill(0);
  const ops: HistoryOp[] = [];
  for (let s = 0; s < steps; s++) {
    const c = pick(rng, clients);
    const client = `c${c}`;
    const start = clock[c]! + pick(rng, 4);
    const end = start + 1 + pick(rng, 6);
    clock[c] = end + 1;
    const page = pick(rng, pages);
    const roll = rng();
    if (roll < 0.45) {
      applied[c]! += pick(rng, order.length - applied[c]! + 1);
      let wpos = 0;
      for (let p = applied[c]!; p >= 1; p--) {
        if (order[p - 1]!.page === page) {
          wpos = p;
          break;
        }
      }
      ops.push(r(client, wpos === 0 ? null : order[wpos - 1]!.token, start, end, applied[c]!, wpos, page));
      continue;
    }
    if (roll < 0.48) {
      ops.push({ client, op: 'read', page, value: null, start, end, outcome: 'fail', fault: false });
      continue;
    }
    const token = `${client}:${++seq[c]!}`;
    if (roll < 0.85 || (roll >= 0.92 && !unknowns)) {
      order.push({ page, token });
      applied[c] = order.length;
      ops.push(w(client, token, start, end, order.length, page));
    } else if (roll < 0.92) {
      ops.push(fw(client, token, start, end, page));
    } else {
      if (rng() < 0.5) order.push({ page, token }); // applied everywhere, but its client never learned it
      ops.push(uw(client, token, start, page));
      clock[c] = start + 1;
    }
  }
  return { ops };
}

type Mutation = 'stale' | 'wpos' | 'unwritten' | 'failed' | 'duplicate' | 'lost-pos' | 'drop-write' | 'program-order';
const EXPECTED: Record<Mutation, SequentialRule[]> = {
  stale: ['stale-read'],
  wpos: ['read-wpos-mismatch', 'read-claim'],
  unwritten: ['read-of-unwritten'],
  failed: ['read-of-failed-write'],
  duplicate: ['duplicate-position', 'read-wpos-mismatch'],
  'lost-pos': ['missing-position'],
  'drop-write': ['missing-write', 'read-of-unwritten'],
  'program-order': ['program-order'],
};

const isOkWrite = (o: HistoryOp): boolean => o.op === 'write' && o.outcome === 'ok';
const isOkRead = (o: HistoryOp): boolean => o.op === 'read' && o.outcome === 'ok';

/** Break a legal history in a way no reading of it can excuse; null if `kind` does not apply to it. */
function mutate(ops: HistoryOp[], kind: Mutation, rng: Rng): HistoryOp[] | null {
  const h = ops.map((o) => ({ ...o }));
  const some = <T>(xs: T[]): T | undefined => (xs.length === 0 ? undefined : xs[pick(rng, xs.length)]);
  const okWriteAt = new Map(h.filter(isOkWrite).map((o) => [o.pos!, o]));
  const maxPos = Math.max(0, ...h.filter((o) => o.outcome === 'ok').map((o) => o.pos!));
  switch (kind) {
    case 'stale': {
      // Move a read past an acknowledged write to its page (an unknown one could be excused: never applied).
      const cands = h.filter(isOkRead).flatMap((o) => {
        const next = [...okWriteAt.values()].filter((x) => x.page === o.page && x.pos! > o.wpos!).sort((a, b) => a.pos! - b.pos!)[0];
        const between = h.some((x) => x.op === 'write' && x.outcome === 'unknown' && x.page === o.page);
        return next && !between ? [{ o, q: next.pos! }] : [];
      });
      const c = some(cands);
      if (!c) return null;
      c.o.pos = c.q + pick(rng, maxPos - c.q + 1);
      return h;
    }
    case 'wpos': {
      const rd = some(h.filter((o) => isOkRead(o) && o.value !== null && okWriteAt.get(o.wpos!)?.value === o.value));
      if (!rd) return null;
      const choices = [0, rd.pos! + 1 + pick(rng, 3), ...Array.from({ length: rd.pos! }, (_, i) => i + 1).filter((p) => p !== rd.wpos)];
      rd.wpos = some(choices)!;
      return h;
    }
    case 'unwritten': {
      const rd = some(h.filter(isOkRead));
      if (!rd) return null;
      rd.value = 'zz:1';
      return h;
    }
    case 'failed': {
      const rd = some(h.filter((o) => isOkRead(o) && h.some((x) => x.op === 'write' && x.outcome === 'fail' && x.page === o.page)));
      if (!rd) return null;
      rd.value = some(h.filter((x) => x.op === 'write' && x.outcome === 'fail' && x.page === rd.page))!.value;
      return h;
    }
    case 'duplicate': {
      const writes = h.filter(isOkWrite);
      if (writes.length < 2) return null;
      const a = some(writes)!;
      a.pos = some(writes.filter((x) => x !== a))!.pos;
      return h;
    }
    case 'lost-pos': {
      const a = some(h.filter(isOkWrite));
      if (!a) return null;
      delete a.pos;
      return h;
    }
    case 'drop-write': {
      // Only without unknown writes (one could legitimately take the freed place), and only
      // if something claims a later place (else the history simply ends earlier).
      if (h.some((o) => o.op === 'write' && o.outcome === 'unknown')) return null;
      const a = some(h.filter((o) => isOkWrite(o) && o.pos! < maxPos));
      if (!a) return null;
      return h.filter((o) => o !== a);
    }
    case 'program-order': {
      // Swap the intervals of two of a client's ops whose positions strictly increase.
      const pairs = h.filter((o) => o.outcome === 'ok').flatMap((a) =>
        h.filter((b) => b.outcome === 'ok' && b.client === a.client && a.end! < b.start && a.pos! < b.pos!).map((b) => [a, b] as const),
      );
      const p = some(pairs);
      if (!p) return null;
      const [a, b] = p;
      [a.start, a.end, b.start, b.end] = [b.start, b.end, a.start, a.end];
      return h;
    }
  }
}

describe('checkSequential: randomized', () => {
  it('accepts thousands of random legal histories and rejects every mutation of them with the right rule', () => {
    const rng = mulberry32(20_260_801);
    const kinds = Object.keys(EXPECTED) as Mutation[];
    const caught = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<Mutation, number>;
    let ops = 0;
    for (let i = 0; i < 4000; i++) {
      const { ops: h } = generate(rng);
      ops += h.length;
      const res = checkSequential(h);
      if (!res.ok) throw new Error(`legal history rejected (case ${i}): ${res.explanation}\n${h.map(formatHistoryLine).join('\n')}`);
      const kind = kinds[i % kinds.length]!;
      const bad = mutate(h, kind, rng);
      if (!bad) continue;
      const f = checkSequential(bad);
      if (f.ok) throw new Error(`mutation ${kind} accepted (case ${i}):\n${bad.map(formatHistoryLine).join('\n')}`);
      // Plain checks in the loop: an expect() per case costs more than the checker.
      const ce = f.counterexample;
      if (!EXPECTED[kind].includes(f.rule as SequentialRule) || ce.length === 0 || ce.length > 4 || ce.some((o) => !bad.includes(o))) {
        throw new Error(`mutation ${kind} reported as ${f.rule} with ${ce.length} ops (case ${i}): ${f.explanation}`);
      }
      caught[kind]++;
    }
    for (const k of kinds) expect(caught[k], k).toBeGreaterThan(100);
    expect(ops).toBeGreaterThan(50_000);
  });

  it('checks a 200,000-op history in well under a second per 100k ops', () => {
    const rng = mulberry32(7);
    const h: HistoryOp[] = [];
    const applied = new Array<number>(10).fill(0);
    const last = new Array<number>(16).fill(0);
    const tokenAt: string[] = [''];
    let n = 0;
    for (let i = 0; i < 200_000; i++) {
      const c = pick(rng, 10);
      const page = pick(rng, 16);
      if (rng() < 0.5) {
        n++;
        tokenAt.push(`c${c}:${i}`);
        last[page] = n;
        applied[c] = n;
        h.push(w(`c${c}`, `c${c}:${i}`, i * 10, i * 10 + 5, n, page));
      } else {
        // Read the current state (this client is fully caught up): always legal.
        applied[c] = n;
        const wp = last[page]!;
        h.push(r(`c${c}`, wp === 0 ? null : tokenAt[wp]!, i * 10, i * 10 + 5, n, wp, page));
      }
    }
    const t0 = performance.now();
    expect(checkSequential(h).ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('check command: model selection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivy-sc-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, ops: HistoryOp[]): string => {
    const f = join(dir, name);
    writeFileSync(f, ops.map(formatHistoryLine).join('\n') + '\n');
    return f;
  };
  const run = async (f: string, model?: Model): Promise<{ code: number; log: string[]; error: string[] }> => {
    const log: string[] = [];
    const error: string[] = [];
    const code = await runCheck(f, { log: (s) => log.push(s), error: (s) => error.push(s) }, model);
    return { code, log, error };
  };
  const scNotLin = [w('c1', 'c1:1', 1000, 2000, 1), r('c2', null, 3000, 4000, 0, 0)];

  it('picks sequential when the operations carry pos, linearizable otherwise', () => {
    expect(defaultModel(scNotLin)).toBe('sequential');
    expect(defaultModel(scNotLin.map(({ pos: _p, wpos: _w, ...o }) => o))).toBe('linearizable');
  });

  it('passes an SC-but-not-linearizable history by default and fails it with --model linearizable', async () => {
    const f = file('sc.jsonl', scNotLin);
    expect(await run(f)).toEqual({
      code: 0,
      log: ['sequentially consistent: 2 operations on 1 pages (0 unknown) (model: sequential, because the operations carry pos)'],
      error: [],
    });
    expect((await run(f, 'sequential')).log).toEqual(['sequentially consistent: 2 operations on 1 pages (0 unknown)']);
    const lin = await run(f, 'linearizable');
    expect(lin.code).toBe(1);
    expect(lin.log[0]).toMatch(/^NOT linearizable: page 0: read by c2/);
  });

  it('exits 1 naming the rule, with the counterexample and its positions one op per line', async () => {
    const f = file('bad.jsonl', [w('c1', 'c1:1', 1000, 2000, 1), w('c2', 'c2:1', 1000, 2000, 2), r('c3', 'c1:1', 3000, 4000, 2, 1)]);
    const res = await run(f);
    expect(res.code).toBe(1);
    expect(res.log[0]).toMatch(/^NOT sequentially consistent \[rule stale-read\]: page 0: the read by c3 at 2\.0µs \(pos 2, wpos 1\) returned c1:1/);
    expect(res.log[1]).toBe('counterexample (3 operations; times in µs since the first operation started):');
    expect(res.log[4]).toMatch(/c3\s+read\s+page 0\s+c1:1\s+2\.0µs → 3\.0µs\s+ok {2}pos 2 wpos 1$/);
  });

  it('parses --model and answers a bad value with what is allowed', () => {
    expect(parseModel('sequential')).toBe('sequential');
    expect(parseModel('linearizable')).toBe('linearizable');
    expect(() => parseModel('serializable')).toThrow('expected linearizable or sequential, got "serializable"');
  });
});
