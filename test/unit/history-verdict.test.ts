// Check history / Export history as the ClusterService answers them: the verdict on a
// scenario's stored history (linearizable or a minimal counterexample), the JSON Lines
// export in the DESIGN §6 format, and clear errors when there is nothing to check.
import { describe, expect, it } from 'vitest';
import type { HistoryExport, HistoryVerdict } from '../../nodes/control/api.js';
import { parseHistory, type HistoryOp } from '../../nodes/control/history/schema.js';
import { historyVerdict } from '../../nodes/control/history/verdict.js';
import { ClusterService } from '../../nodes/control/service.js';

const op = (client: string, kind: 'read' | 'write', page: number, value: string | null, start: number, end: number | null, outcome: HistoryOp['outcome'] = 'ok'): HistoryOp => ({
  client,
  op: kind,
  page,
  value,
  start,
  end,
  outcome,
  fault: true,
});

const GOOD: HistoryOp[] = [
  op('c0', 'write', 0, 'c0:1', 100, 200),
  op('c1', 'read', 0, 'c0:1', 300, 400),
  op('c1', 'write', 1, 'c1:1', 100, 150),
  op('c0', 'write', 1, 'c0:2', 500, null, 'unknown'),
];

// c1 reads the value c0 overwrote strictly before the read began: a stale read.
const STALE: HistoryOp[] = [
  op('c0', 'write', 2, 'c0:1', 100, 200),
  op('c0', 'write', 2, 'c0:2', 300, 400),
  op('c1', 'read', 2, 'c0:1', 500, 600),
  op('c2', 'read', 2, 'c0:2', 450, 480),
  op('c2', 'write', 0, 'c2:1', 10, 20),
];

describe('historyVerdict', () => {
  it('checks a write-update history (ops carry pos) for sequential consistency, not linearizability', () => {
    // STALE's stale read is legal under sequential consistency: c1 applied only the first write when it read.
    const sc: HistoryOp[] = [
      { ...op('c0', 'write', 2, 'c0:1', 100, 200), pos: 1 },
      { ...op('c0', 'write', 2, 'c0:2', 300, 400), pos: 2 },
      { ...op('c1', 'read', 2, 'c0:1', 500, 600), pos: 1, wpos: 1 },
    ];
    const v = historyVerdict(sc, { kind: 'scenario', id: 's1', protocol: 'isis' }, 1);
    expect([v.model, v.consistent]).toEqual(['sequential', true]);
    expect(historyVerdict(sc.map(({ pos: _p, wpos: _w, ...o }) => o), { kind: 'live' }, 1)).toMatchObject({ model: 'linearizable', consistent: false });
  });

  it('counts operations, pages and unknown outcomes of a linearizable history', () => {
    const v = historyVerdict(GOOD, { kind: 'live' }, 42);
    expect(v).toEqual({ source: { kind: 'live' }, consistent: true, model: 'linearizable', ops: 4, pages: 2, unknown: 1, page: null, explanation: null, counterexample: [], checkedAt: 42 });
  });

  it('names the page and gives a small counterexample that is itself not linearizable', () => {
    const v = historyVerdict(STALE, { kind: 'scenario', id: 's3', protocol: 'ivy' }, 1);
    expect(v.consistent).toBe(false);
    expect(v.page).toBe(2);
    expect(v.explanation).toBeTruthy();
    expect(v.counterexample.length).toBeGreaterThan(0);
    expect(v.counterexample.length).toBeLessThanOrEqual(3);
    expect(v.counterexample.every((o) => o.page === 2)).toBe(true);
    // Minimal: the counterexample alone still fails.
    expect(historyVerdict(v.counterexample, { kind: 'live' }, 1).consistent).toBe(false);
  });
});

describe('ClusterService: checkHistory / exportHistory', () => {
  it('says clearly when there is no history yet', async () => {
    const s = new ClusterService();
    await expect(s.handle({ cmd: 'checkHistory', source: { kind: 'live' } })).resolves.toEqual({
      ok: false,
      error: 'no cluster has run yet: start one in the Cluster view',
    });
    await expect(s.handle({ cmd: 'exportHistory', source: { kind: 'scenario', id: 's2' } })).resolves.toEqual({
      ok: false,
      error: 'no ivy history for scenario s2: run it first (Scenarios view)',
    });
    await s.close();
  });

  it("checks and exports each scenario's history of the last run", async () => {
    const s = new ClusterService();
    s.setScenarioHistories(
      new Map([
        ['s1/ivy', GOOD],
        ['s3/ivy', STALE],
      ]),
    );
    const good = await s.handle({ cmd: 'checkHistory', source: { kind: 'scenario', id: 's1', protocol: 'ivy' } });
    expect(good.ok && (good.value as HistoryVerdict).consistent).toBe(true);
    const bad = await s.handle({ cmd: 'checkHistory', source: { kind: 'scenario', id: 's3' } });
    expect(bad.ok && (bad.value as HistoryVerdict).consistent).toBe(false);

    const exported = await s.handle({ cmd: 'exportHistory', source: { kind: 'scenario', id: 's3' } });
    expect(exported.ok).toBe(true);
    const file = (exported as { value: HistoryExport }).value;
    expect(file.name).toBe('ivy-history-s3.jsonl');
    expect(file.ops).toBe(STALE.length);
    // Round trip through the contract's parser, field order as DESIGN §6 shows it.
    expect(parseHistory(file.jsonl).ops).toEqual(STALE);
    expect(file.jsonl.split('\n')[0]).toBe('{"client":"c0","op":"write","page":2,"value":"c0:1","start":100,"end":200,"outcome":"ok","fault":true}');
    await s.close();
  });
});
