import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../nodes/control/scenarios/definitions.js';
import { formatMs, renderTable, roundMs, summarizeTrials, trialAverageMs, trialRow } from '../../nodes/control/scenarios/table.js';

const rows = (highs: readonly number[], lows: readonly number[]) =>
  highs.map((h, i) => ({ trial: i + 1, highestMs: h, highestNode: 'c1', lowestMs: lows[i]!, lowestNode: 'c2' }));

describe("the seed's table arithmetic", () => {
  it("reproduces the seed's s1 table", () => {
    const s = summarizeTrials(rows([14248, 14245, 14235, 13498, 14248], [751, 751, 751, 750, 750]));
    expect(s).toEqual({ highAverageMs: 14094.8, lowAverageMs: 750.6, averageMs: 7422.7 });
  });

  it('reproduces every published summary line whose rows add up (s1, s3, s4, s6)', () => {
    for (const def of SCENARIOS.filter((d) => d.seed && d.id !== 's5')) {
      const seed = def.seed!;
      const s = summarizeTrials(rows(seed.highs, seed.lows));
      expect(s.highAverageMs, def.id).toBeCloseTo(seed.published.highAverage, 3);
      expect(s.lowAverageMs, def.id).toBeCloseTo(seed.published.lowAverage, 3);
      expect(s.averageMs, def.id).toBeCloseTo(seed.published.average, 3);
    }
  });

  it("shows that the seed's own s5 summary does not match its rows", () => {
    const seed = SCENARIOS.find((d) => d.id === 's5')!.seed!;
    const s = summarizeTrials(rows(seed.highs, seed.lows));
    // 83963 / 6 and 4533 / 6: the seed printed 14049.63 and 754.25.
    expect(s).toEqual({ highAverageMs: 13993.833, lowAverageMs: 755.5, averageMs: 7374.667 });
    expect(s.highAverageMs).not.toBeCloseTo(seed.published.highAverage, 0);
  });

  it('defines a trial row average as the midpoint of its highest and lowest', () => {
    expect(trialAverageMs({ highestMs: 14248, lowestMs: 751 })).toBe(7499.5);
    expect(trialAverageMs({ highestMs: 3.001, lowestMs: 0.5 })).toBe(1.751);
  });

  it('leaves trials where every op failed out of the averages', () => {
    const r = [...rows([10, 20], [1, 3]), { trial: 3, highestMs: Number.NaN, highestNode: '', lowestMs: Number.NaN, lowestNode: '' }];
    expect(summarizeTrials(r)).toEqual({ highAverageMs: 15, lowAverageMs: 2, averageMs: 8.5 });
    expect(Number.isNaN(summarizeTrials([]).averageMs)).toBe(true);
  });
});

describe('trialRow', () => {
  it('takes the highest and lowest completion time with the node that took it, rounded to the microsecond', () => {
    const row = trialRow(2, [
      { ms: 1.23456, node: 'c3' },
      { ms: 9.8765432, node: 'c7' },
      { ms: 0.4444449, node: 'c1' },
    ]);
    expect(row).toEqual({ trial: 2, highestMs: 9.877, highestNode: 'c7', lowestMs: 0.444, lowestNode: 'c1' });
  });

  it('has no figures for a trial without a successful fault', () => {
    const row = trialRow(1, []);
    expect(Number.isNaN(row.highestMs) && Number.isNaN(row.lowestMs)).toBe(true);
    expect(formatMs(row.highestMs)).toBe('');
  });
});

describe('renderTable', () => {
  it('prints the rows and summary lines like the seed, with the same figures', () => {
    const r = rows([14248, 14245, 14235, 13498, 14248], [751, 751, 751, 750, 750]);
    const text = renderTable(r, summarizeTrials(r)).join('\n');
    expect(text).toMatch(/^Highest time \| +14248 \| +14245 \| +14235 \| +13498 \| +14248 \|$/m);
    expect(text).toMatch(/^Lowest time +\| +751 \| +751 \| +751 \| +750 \| +750 \|$/m);
    expect(text).toContain('High time average: 14094.8 ms');
    expect(text).toContain('Low time average: 750.6 ms');
    expect(text).toContain('Average: 7422.7 ms');
  });

  it('rounds once, to the microsecond', () => {
    expect(roundMs(1.0005)).toBe(1.001);
    expect(formatMs(14094.8)).toBe('14094.8');
    expect(formatMs(2)).toBe('2');
  });
});
