import { afterAll, describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, type CheckResult } from '../../nodes/control/history/linearizability.js';
import { runCheck } from '../../nodes/control/history/check-command.js';
import { formatHistoryLine, type HistoryOp } from '../../nodes/control/history/schema.js';

type Outcome = HistoryOp['outcome'];

function w(client: string, value: string, start: number, end: number | null, outcome: Outcome = 'ok', page = 0): HistoryOp {
  return { client, op: 'write', page, value, start, end, outcome, fault: false };
}
function r(client: string, value: string | null, start: number, end: number | null, outcome: Outcome = 'ok', page = 0): HistoryOp {
  return { client, op: 'read', page, value, start, end, outcome, fault: false };
}

function failure(res: CheckResult): Extract<CheckResult, { ok: false }> {
  if (res.ok) throw new Error('expected a non-linearizable history');
  return res;
}

/** No single op can be removed (without orphaning a read of its token) while staying non-linearizable. */
function expectMinimal(ce: HistoryOp[]): void {
  expect(checkHistory(ce).ok).toBe(false);
  ce.forEach((x, i) => {
    const rest = ce.filter((_, j) => j !== i);
    if (x.op === 'write' && rest.some((o) => o.op === 'read' && o.value === x.value)) return;
    expect(checkHistory(rest).ok, `removing op ${i} of ${JSON.stringify(ce)}`).toBe(true);
  });
}

describe('checkHistory: linearizable histories', () => {
  it('accepts an empty history', () => {
    expect(checkHistory([])).toEqual({ ok: true, pages: 0, ops: 0 });
  });

  it('accepts a sequential history', () => {
    const h = [w('c1', 'c1:1', 0, 10), r('c2', 'c1:1', 20, 30), w('c2', 'c2:1', 40, 50), r('c1', 'c2:1', 60, 70)];
    expect(checkHistory(h)).toEqual({ ok: true, pages: 1, ops: 4 });
  });

  it('accepts concurrent overlapping operations in a non-obvious order', () => {
    // c2's write must be linearized first, then the read of it, then c1's write.
    const h = [
      w('c1', 'c1:1', 0, 100),
      w('c2', 'c2:1', 10, 90),
      r('c3', 'c2:1', 20, 30),
      r('c4', 'c1:1', 40, 50),
      r('c3', 'c1:1', 95, 120),
    ];
    expect(checkHistory(h).ok).toBe(true);
  });

  it('accepts reads of null before and during the first write', () => {
    const h = [r('c1', null, 0, 10), w('c2', 'c2:1', 20, 40), r('c1', null, 25, 35), r('c3', 'c2:1', 30, 50)];
    expect(checkHistory(h).ok).toBe(true);
  });

  it('treats touching intervals (end == start) as concurrent', () => {
    expect(checkHistory([w('c1', 'c1:1', 0, 10), r('c2', null, 10, 20)]).ok).toBe(true);
  });

  it('accepts an unknown write whose effect is observed, even after its client gave up', () => {
    const h = [w('c1', 'c1:1', 0, 10, 'unknown'), r('c2', null, 20, 30), r('c2', 'c1:1', 40, 50)];
    expect(checkHistory(h).ok).toBe(true);
    const noEnd = [w('c1', 'c1:1', 0, null, 'unknown'), r('c2', 'c1:1', 1000, 1010)];
    expect(checkHistory(noEnd).ok).toBe(true);
  });

  it('accepts an unknown write that is never observed', () => {
    const h = [w('c1', 'c1:1', 0, 10), w('c2', 'c2:1', 5, null, 'unknown'), r('c1', 'c1:1', 20, 30), r('c3', 'c1:1', 40, 50)];
    expect(checkHistory(h).ok).toBe(true);
  });

  it('ignores unknown reads and unobserved failed writes', () => {
    const h = [w('c1', 'c1:1', 0, 10), w('c2', 'c2:1', 20, 30, 'fail'), r('c3', 'zz:9', 40, null, 'unknown'), r('c1', 'c1:1', 50, 60)];
    expect(checkHistory(h).ok).toBe(true);
  });

  it('checks pages independently', () => {
    const h = [w('c1', 'c1:1', 0, 10, 'ok', 0), r('c2', null, 20, 30, 'ok', 1), r('c2', 'c1:1', 40, 50, 'ok', 0)];
    expect(checkHistory(h)).toEqual({ ok: true, pages: 2, ops: 3 });
  });
});

describe('checkHistory: violations', () => {
  it('reports a stale read with a three-op counterexample', () => {
    const h = [w('c1', 'c1:1', 0, 10), w('c1', 'c1:2', 20, 30), r('c2', 'c1:1', 40, 50)];
    const f = failure(checkHistory(h));
    expect(f.page).toBe(0);
    expect(f.counterexample).toEqual(h);
    expect(f.explanation).toContain('read by c2');
    expect(f.explanation).toContain('returned c1:1 but c1:2 was written (ok)');
  });

  it('reports a lost write: acked, then a later read returns the previous value', () => {
    const h = [
      w('c1', 'c1:1', 0, 10),
      r('c2', 'c1:1', 15, 20),
      w('c3', 'c3:1', 30, 40),
      r('c4', 'c1:1', 45, 48),
      r('c2', 'c1:1', 50, 60),
    ];
    const f = failure(checkHistory(h));
    expect(f.counterexample).toHaveLength(3);
    expect(f.counterexample.map((o) => o.value)).toEqual(['c1:1', 'c3:1', 'c1:1']);
    expectMinimal(f.counterexample);
  });

  it('reports a read of null after an acknowledged write', () => {
    const f = failure(checkHistory([r('c2', null, 0, 5), w('c1', 'c1:1', 10, 20), r('c2', null, 30, 40)]));
    expect(f.counterexample).toEqual([w('c1', 'c1:1', 10, 20), r('c2', null, 30, 40)]);
    expect(f.explanation).toContain('returned null (never written) but c1:1 was written (ok)');
  });

  it('reports a read of a value that was never written as a single op', () => {
    const h = [w('c1', 'c1:1', 0, 10), r('c2', 'c9:1', 20, 30)];
    const f = failure(checkHistory(h));
    expect(f.counterexample).toEqual([h[1]]);
    expect(f.explanation).toContain('returned c9:1 which was never written');
  });

  it('names the page a misdirected token was written to', () => {
    const f = failure(checkHistory([w('c1', 'c1:1', 0, 10, 'ok', 3), r('c2', 'c1:1', 20, 30, 'ok', 4)]));
    expect(f.page).toBe(4);
    expect(f.explanation).toContain('written to page 3, never to page 4');
  });

  it('reports a read that returns a value before it was written', () => {
    const f = failure(checkHistory([r('c2', 'c1:1', 0, 10), w('c1', 'c1:1', 20, 30)]));
    expect(f.counterexample).toHaveLength(2);
    expect(f.explanation).toContain('before it was written');
  });

  it('rejects an observed write whose outcome is fail', () => {
    const h = [w('c1', 'c1:1', 0, 10, 'fail'), r('c2', 'c1:1', 20, 30)];
    const f = failure(checkHistory(h));
    expect(f.counterexample).toEqual(h);
    expect(f.explanation).toContain('failed (outcome "fail")');
    expectMinimal(f.counterexample);
  });

  it('rejects an unknown write observed and then un-observed', () => {
    const h = [w('c1', 'c1:1', 0, null, 'unknown'), r('c2', 'c1:1', 20, 30), r('c2', null, 40, 50)];
    expectMinimal(failure(checkHistory(h)).counterexample);
  });

  it('reports a new-old read inversion', () => {
    const h = [w('c1', 'c1:1', 0, 10), w('c1', 'c1:2', 20, 100), r('c2', 'c1:2', 30, 40), r('c3', 'c1:1', 50, 60)];
    const f = failure(checkHistory(h));
    expect(f.counterexample).toEqual(h);
    expect(f.explanation).toContain('had already returned the newer value c1:2');
    expectMinimal(f.counterexample);
  });

  it('reports a value coming back after it was replaced', () => {
    // Both writes overlap every read, so only the reads order the values.
    const h = [w('c1', 'c1:1', 0, 100), w('c2', 'c2:1', 0, 100), r('c3', 'c1:1', 20, 30), r('c4', 'c2:1', 40, 50), r('c3', 'c1:1', 60, 70)];
    const f = failure(checkHistory(h));
    expect(f.counterexample).toEqual(h);
    expect(f.explanation).toContain('returned c1:1 again after it had been replaced: the read of it by c3');
    expectMinimal(f.counterexample);
  });

  it('reports two reads that each missed the other one\'s value', () => {
    const h = [w('c1', 'c1:1', 0, 10), w('c2', 'c2:1', 5, 15), r('c1', 'c1:1', 20, 40), r('c2', 'c2:1', 20, 40)];
    const f = failure(checkHistory(h));
    expect(f.counterexample).toEqual(h);
    expect(f.explanation).toContain('whichever took effect last, both reads had to return it');
    expectMinimal(f.counterexample);
  });

  it('stays correct when tokens are reused (the parser forbids it, the API tolerates it)', () => {
    expect(checkHistory([w('c1', 'x', 0, 10), w('c2', 'y', 20, 30), w('c1', 'x', 40, 50), r('c3', 'x', 60, 70)]).ok).toBe(true);
    expect(checkHistory([w('c1', 'x', 0, 10), w('c2', 'y', 20, 30), r('c3', 'x', 40, 50), w('c1', 'x', 60, 70)]).ok).toBe(false);
  });

  it('reports the failing page and only its ops when pages are mixed', () => {
    const h = [
      w('c1', 'a:1', 0, 10, 'ok', 0),
      w('c1', 'b:1', 0, 10, 'ok', 1),
      w('c2', 'b:2', 20, 30, 'ok', 1),
      r('c3', 'a:1', 40, 50, 'ok', 0),
      r('c3', 'b:1', 40, 50, 'ok', 1),
    ];
    const f = failure(checkHistory(h));
    expect(f.page).toBe(1);
    expect(f.counterexample.every((o) => o.page === 1)).toBe(true);
    expectMinimal(f.counterexample);
  });
});

// Seeded PRNG so failures are reproducible.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenOptions {
  clients: number;
  opsPerClient: number;
  pages: number;
  writeRatio: number;
  unknownRatio?: number;
  failRatio?: number;
}

/**
 * Simulate an atomic register per page: each client runs ops back to back with
 * random durations; each applied op takes effect at a random instant inside its
 * interval (unknown writes possibly later, or never), so the history is
 * linearizable by construction.
 */
function generate(rand: () => number, o: GenOptions): HistoryOp[] {
  const events: { at: number; op: HistoryOp }[] = [];
  const ops: HistoryOp[] = [];
  const int = (n: number): number => Math.floor(rand() * n);
  for (let c = 1; c <= o.clients; c++) {
    let t = int(100) * 1000;
    for (let seq = 1; seq <= o.opsPerClient; seq++) {
      const start = t + int(50) * 1000;
      const end = start + (1 + int(200)) * 1000;
      t = end + 1000;
      const page = int(o.pages);
      const client = `c${c}`;
      let at = start + rand() * (end - start);
      let op: HistoryOp;
      if (rand() < o.writeRatio) {
        const x = rand();
        const outcome: Outcome = x < (o.failRatio ?? 0) ? 'fail' : x < (o.failRatio ?? 0) + (o.unknownRatio ?? 0) ? 'unknown' : 'ok';
        op = w(client, `${client}:${seq}`, start, outcome === 'unknown' && rand() < 0.5 ? null : end, outcome, page);
        if (outcome === 'unknown') at = rand() < 0.5 ? start + rand() * 3 * (end - start) : Number.NaN;
        if (outcome === 'fail') at = Number.NaN;
      } else {
        op = r(client, null, start, end, 'ok', page);
      }
      ops.push(op);
      if (!Number.isNaN(at)) events.push({ at, op });
    }
  }
  events.sort((a, b) => a.at - b.at);
  const reg = new Map<number, string | null>();
  for (const { op } of events) {
    if (op.op === 'write') reg.set(op.page, op.value);
    else op.value = reg.get(op.page) ?? null;
  }
  return ops;
}

/** Make one ok read return an older token that was certainly overwritten before the read began. */
function injectStaleRead(rand: () => number, h: HistoryOp[]): HistoryOp[] | null {
  const reads = h.filter((o) => o.op === 'read');
  for (let attempt = 0; attempt < 20; attempt++) {
    const target = reads[Math.floor(rand() * reads.length)];
    if (!target) return null;
    const done = h.filter((o) => o.op === 'write' && o.outcome === 'ok' && o.page === target.page && o.end !== null && o.end < target.start && o.value !== target.value);
    const stale = done[Math.floor(rand() * done.length)];
    if (stale) return h.map((o) => (o === target ? { ...o, value: stale.value } : o));
  }
  return null;
}

describe('checkHistory: randomized', () => {
  it('accepts random linearizable histories, including unknown and failed writes', () => {
    const rand = mulberry32(42);
    for (let i = 0; i < 200; i++) {
      const h = generate(rand, { clients: 2 + (i % 5), opsPerClient: 20, pages: 1 + (i % 3), writeRatio: 0.4, unknownRatio: 0.15, failRatio: 0.1 });
      const res = checkHistory(h);
      expect(res.ok, `history ${i}: ${JSON.stringify(res)}`).toBe(true);
    }
  });

  it('catches most single stale-read mutations, with minimal counterexamples', () => {
    const rand = mulberry32(7);
    let mutated = 0;
    let caught = 0;
    for (let i = 0; i < 150; i++) {
      const h = injectStaleRead(rand, generate(rand, { clients: 4, opsPerClient: 15, pages: 1, writeRatio: 0.4, unknownRatio: 0.1 }));
      if (!h) continue;
      mutated++;
      const res = checkHistory(h, { shrinkTimeMs: 20_000 });
      if (res.ok) continue;
      caught++;
      if (caught <= 15) expectMinimal(res.counterexample);
    }
    expect(mutated).toBeGreaterThan(100);
    expect(caught / mutated).toBeGreaterThan(0.8);
  });

  it('checks a 20,000-op page from 10 clients', () => {
    const h = generate(mulberry32(2024), { clients: 10, opsPerClient: 2000, pages: 1, writeRatio: 0.3, unknownRatio: 0.01 });
    expect(h).toHaveLength(20_000);
    expect(checkHistory(h)).toEqual({ ok: true, pages: 1, ops: 20_000 });
  }, 30_000);

  it('checks a 20,000-op page from 50 clients (high concurrency)', () => {
    const h = generate(mulberry32(31), { clients: 50, opsPerClient: 400, pages: 1, writeRatio: 0.5, unknownRatio: 0.02 });
    expect(checkHistory(h).ok).toBe(true);
  }, 30_000);

  it('finds and shrinks a stale read injected into a 20,000-op page', () => {
    const rand = mulberry32(5);
    const h = injectStaleRead(rand, generate(rand, { clients: 10, opsPerClient: 2000, pages: 1, writeRatio: 0.3 }));
    // Generous shrink budget: minimality must not depend on machine load.
    const f = failure(checkHistory(h ?? [], { shrinkTimeMs: 20_000 }));
    expect(f.counterexample.length).toBeLessThanOrEqual(6);
    expectMinimal(f.counterexample);
  }, 30_000);

  it('shrinks a violation buried in a long history to a minimal counterexample', () => {
    const rand = mulberry32(99);
    const h = injectStaleRead(rand, generate(rand, { clients: 6, opsPerClient: 300, pages: 1, writeRatio: 0.3 }));
    expect(h).not.toBeNull();
    const f = failure(checkHistory(h ?? [], { shrinkTimeMs: 20_000 }));
    expect(f.counterexample.length).toBeLessThanOrEqual(6);
    expectMinimal(f.counterexample);
  }, 30_000);
});

describe('runCheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivy-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (file: string): Promise<{ code: number; log: string[]; error: string[] }> => {
    const log: string[] = [];
    const error: string[] = [];
    const code = await runCheck(file, { log: (s) => log.push(s), error: (s) => error.push(s) });
    return { code, log, error };
  };
  const write = (name: string, ops: HistoryOp[]): string => {
    const file = join(dir, name);
    writeFileSync(file, ops.map(formatHistoryLine).join('\n') + '\n');
    return file;
  };

  it('exits 0 with a summary for a linearizable history', async () => {
    const file = write('ok.jsonl', [w('c1', 'c1:1', 1000, 2000), w('c2', 'c2:1', 1500, null, 'unknown', 1), r('c2', 'c1:1', 3000, 4000)]);
    const res = await run(file);
    expect(res).toEqual({ code: 0, log: ['linearizable: 3 operations on 2 pages (1 unknown)'], error: [] });
  });

  it('exits 1 and prints the counterexample one op per line', async () => {
    const file = write('bad.jsonl', [w('c1', 'c1:1', 1000, 2000), w('c1', 'c1:2', 3000, 4000), r('c2', 'c1:1', 5000, 6500)]);
    const res = await run(file);
    expect(res.code).toBe(1);
    expect(res.log[0]).toMatch(/^NOT linearizable: page 0: read by c2 at 4\.0µs returned c1:1/);
    expect(res.log.slice(2)).toHaveLength(3);
    expect(res.log[4]).toMatch(/c2\s+read\s+page 0\s+c1:1\s+4\.0µs → 5\.5µs\s+ok/);
  });

  it('exits 2 for a missing file', async () => {
    const res = await run(join(dir, 'nope.jsonl'));
    expect(res.code).toBe(2);
    expect(res.error[0]).toContain('no such file');
  });

  it('exits 2 naming the line of a malformed file', async () => {
    const file = join(dir, 'malformed.jsonl');
    writeFileSync(file, `${formatHistoryLine(w('c1', 'c1:1', 0, 10))}\n{"client":"c1"}\n`);
    const res = await run(file);
    expect(res.code).toBe(2);
    expect(res.error[0]).toMatch(/malformed history file .*: line 2: missing field "op"/);
  });
});
