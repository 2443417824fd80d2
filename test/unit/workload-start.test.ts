import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../nodes/core/random.js';
import { workloadStart } from '../../nodes/runtime/workload-start.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);

describe('workloadStart', () => {
  it('spreads 128 clients at 10 ops/s over the first 100 ms period instead of one instant', () => {
    const phases = ids(128).map((id) => workloadStart(1, id, 0, 10).phaseMs);
    for (const p of phases) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(100);
    }
    // Ten 10 ms bins: a uniform spread puts ~12.8 in each; all in one bin was the old behaviour.
    const bins = new Array<number>(10).fill(0);
    for (const p of phases) bins[Math.floor(p / 10)]!++;
    expect(Math.max(...bins)).toBeLessThanOrEqual(25);
    expect(Math.min(...bins)).toBeGreaterThanOrEqual(4);
    // Distinct instants: no two clients within the same 0.1 ms more than a few times.
    const slots = new Set(phases.map((p) => Math.floor(p * 10)));
    expect(slots.size).toBeGreaterThan(110);
  });

  it('is the same for the same seed, client and incarnation, and moves with each', () => {
    expect(workloadStart(7, 'c3', 0, 2).phaseMs).toBe(workloadStart(7, 'c3', 0, 2).phaseMs);
    const base = workloadStart(7, 'c3', 0, 2).phaseMs;
    expect(workloadStart(8, 'c3', 0, 2).phaseMs).not.toBe(base);
    expect(workloadStart(7, 'c4', 0, 2).phaseMs).not.toBe(base);
    expect(workloadStart(7, 'c3', 1, 2).phaseMs).not.toBe(base);
  });

  it('keeps each client op stream what the seed gave before the spread', () => {
    for (const [seed, id, inc] of [[1, 'c0', 0], [42, 'c17', 0], [3, 'c5', 2]] as const) {
      const { rng } = workloadStart(seed, id, inc, 10);
      const before = mulberry32(seed * 1000 + Number(id.slice(1)) + inc * 7919);
      for (let i = 0; i < 50; i++) expect(rng()).toBe(before());
    }
  });

  it('starts at once back to back (rate 0)', () => {
    expect(workloadStart(1, 'c9', 0, 0).phaseMs).toBe(0);
  });
});
