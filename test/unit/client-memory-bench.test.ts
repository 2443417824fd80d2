// The memory bench's recovery verdict (bench/client-memory.ts) on made-up histories: a page
// counts as restored only when the read after the reboot returned c1's last write before the
// kill; a stale value, a failed read or a read from before the reboot does not count.
import { describe, expect, it } from 'vitest';
import { RECOVERY_PAGES, recoveryFigures, type RecoveryRun } from '../../nodes/control/bench/client-memory.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';

const MS = 1e6;
const op = (client: string, kind: 'read' | 'write', page: number, value: string | null, start: number, outcome: HistoryOp['outcome'] = 'ok'): HistoryOp => ({
  client,
  op: kind,
  page,
  value,
  start,
  end: outcome === 'unknown' ? null : start + 1000,
  outcome,
  fault: true,
});

/** c1 writes every page twice before the kill (the second completion lost with it: unknown), c0 reads each back after the reboot. */
function history(readValue: (page: number) => string | null, readOutcome: (page: number) => HistoryOp['outcome'] = () => 'ok'): { ops: HistoryOp[]; run: RecoveryRun } {
  const ops: HistoryOp[] = [];
  for (let p = 0; p < RECOVERY_PAGES; p++) {
    ops.push(op('c1', 'write', p, `c1:${2 * p}`, 1 * MS + p * 10_000));
    ops.push(op('c1', 'write', p, `c1:${2 * p + 1}`, 2 * MS + p * 10_000, p === RECOVERY_PAGES - 1 ? 'unknown' : 'ok'));
  }
  const reads: RecoveryRun['reads'] = [];
  for (let p = 0; p < RECOVERY_PAGES; p++) {
    const start = 100 * MS + p * MS;
    const outcome = readOutcome(p);
    ops.push(op('c0', 'read', p, outcome === 'ok' ? readValue(p) : null, start, outcome));
    reads.push({ ok: outcome === 'ok', endNs: start + 1000 });
  }
  return { ops, run: { killNs: 10 * MS, rebootNs: 50 * MS, heldNs: 12 * MS, servedLogNs: 90 * MS, reads } };
}

describe('memory bench recovery figures', () => {
  it('counts every page read back with the last write before the kill (an unknown last write included)', () => {
    const { ops, run } = history((p) => `c1:${2 * p + 1}`);
    const r = recoveryFigures(run, ops, 4096);
    expect(r).toMatchObject({ pages: 64, page_size: 4096, restored: 64, failed: 0, held_ms: 2, served_log_ms: 40, first_page_ms: 50 });
    expect(r.all_pages_ms).toBe(113); // reboot at 50 ms, the last read ends 63 ms + 1 µs later (rounded to 0.01 ms)
  });

  it('does not count a stale value, a zero page or a failed read', () => {
    const { ops, run } = history(
      (p) => (p === 3 ? 'c1:6' : p === 4 ? null : `c1:${2 * p + 1}`),
      (p) => (p === 5 ? 'fail' : 'ok'),
    );
    const r = recoveryFigures(run, ops, 4096);
    expect(r.restored).toBe(61);
    expect(r.failed).toBe(3);
    expect(r.all_pages_ms).toBeNull(); // not every page was served
  });

  it('ignores writes after the kill and reads before the reboot', () => {
    const { ops, run } = history((p) => `c1:${2 * p + 1}`);
    ops.push(op('c1', 'write', 7, 'c1:999', 20 * MS)); // after the kill: not the value to expect
    const r = recoveryFigures(run, ops, 4096);
    expect(r.restored).toBe(64);
    const early = history((p) => `c1:${2 * p + 1}`);
    const r2 = recoveryFigures({ ...early.run, rebootNs: 1000 * MS }, early.ops, 4096);
    expect(r2.restored).toBe(0);
  });
});
