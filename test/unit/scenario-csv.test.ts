import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult, TrialRow } from '../../nodes/control/api.js';
import { sustainedCsv, timingCsv, type TIMING_CSV_COLUMNS } from '../../nodes/control/scenarios/csv.js';
import { formatMs, renderTable, summarizeTrials, trialAverageMs, trialRow } from '../../nodes/control/scenarios/table.js';

function result(id: string, trials: TrialRow[]): ScenarioResult {
  return { id, name: id, trials, ...summarizeTrials(trials), p50Ms: 1, p99Ms: 2, failoverMs: [] };
}

// Awkward figures on purpose: long fractions, sub-millisecond values, a trial with no successful fault.
const s1 = result('s1', [
  trialRow(1, [
    { ms: 3.14159265, node: 'c4' },
    { ms: 0.3330001, node: 'c9' },
  ]),
  trialRow(2, [
    { ms: 12.0004999, node: 'c1' },
    { ms: 0.1, node: 'c0' },
  ]),
]);
const s3 = result('s3', [trialRow(1, [{ ms: 250.25, node: 'c2' }]), trialRow(2, [])]);

type Row = Record<(typeof TIMING_CSV_COLUMNS)[number], string>;

describe('timingCsv', () => {
  const csv = timingCsv([s1, s3]);
  const parsed = parse(csv, { columns: true, skip_empty_lines: true }) as Row[];

  it('has the DESIGN §6 header and one row per trial plus one summary row per scenario', () => {
    expect(csv.split('\n')[0]).toBe('scenario,trial,highest_ms,highest_node,lowest_ms,lowest_node,average_ms,protocol');
    expect(parsed.map((r) => `${r.scenario}:${r.trial}`)).toEqual(['s1:1', 's1:2', 's1:average', 's3:1', 's3:2', 's3:average']);
  });

  it('parses back to exactly the numbers the table prints', () => {
    for (const res of [s1, s3]) {
      const table = renderTable(res.trials, res).join('\n');
      const mine = parsed.filter((r) => r.scenario === res.id);
      res.trials.forEach((t, i) => {
        const row = mine[i]!;
        expect(row.highest_ms).toBe(formatMs(t.highestMs));
        expect(row.lowest_ms).toBe(formatMs(t.lowestMs));
        expect([row.highest_node, row.lowest_node]).toEqual([t.highestNode, t.lowestNode]);
        if (row.highest_ms !== '') {
          expect(Number(row.highest_ms)).toBe(t.highestMs);
          expect(table).toContain(` ${row.highest_ms} |`);
          expect(table).toContain(` ${row.lowest_ms} |`);
          expect(Number(row.average_ms)).toBe(trialAverageMs(t));
        }
      });
      const avg = mine.at(-1)!;
      expect(Number(avg.highest_ms)).toBe(res.highAverageMs);
      expect(Number(avg.lowest_ms)).toBe(res.lowAverageMs);
      expect(Number(avg.average_ms)).toBe(res.averageMs);
      expect(table).toContain(`High time average: ${avg.highest_ms} ms`);
      expect(table).toContain(`Low time average: ${avg.lowest_ms} ms`);
      expect(table).toContain(`Average: ${avg.average_ms} ms`);
      expect([avg.highest_node, avg.lowest_node]).toEqual(['', '']);
    }
  });

  it('computes the summary row as the column means and (high average + low average) / 2', () => {
    const avg = parsed.find((r) => r.scenario === 's1' && r.trial === 'average')!;
    expect(Number(avg.highest_ms)).toBe(7.571); // (3.142 + 12) / 2
    expect(Number(avg.lowest_ms)).toBe(0.217); // (0.333 + 0.1) / 2 = 0.2165, rounded to the microsecond
    expect(Number(avg.average_ms)).toBe(3.894); // (7.571 + 0.2165) / 2
  });

  it('leaves the cells of a trial without a successful fault empty and out of the averages', () => {
    const row = parsed.find((r) => r.scenario === 's3' && r.trial === '2')!;
    expect([row.highest_ms, row.lowest_ms, row.average_ms]).toEqual(['', '', '']);
    const avg = parsed.find((r) => r.scenario === 's3' && r.trial === 'average')!;
    expect(Number(avg.highest_ms)).toBe(250.25);
  });
});

describe('timingCsv with both protocols (DESIGN §6: protocol column appended last)', () => {
  const ivy = { ...s1, protocol: 'ivy' as const };
  const isis = { ...result('s1', [trialRow(1, [{ ms: 1.5, node: 'c2' }, { ms: 0.75, node: 'c7' }]), trialRow(2, [{ ms: 2, node: 'c0' }])]), protocol: 'isis' as const };
  const csv = timingCsv([ivy, isis]);
  const rows = parse(csv, { skip_empty_lines: true }) as string[][];

  it('keeps every earlier column in its place and adds protocol as the last one', () => {
    expect(rows[0]).toEqual(['scenario', 'trial', 'highest_ms', 'highest_node', 'lowest_ms', 'lowest_node', 'average_ms', 'protocol']);
    for (const r of rows) expect(r).toHaveLength(8);
  });

  it('writes each protocol\'s rows, trials then its summary row, tagged with the protocol', () => {
    expect(rows.slice(1).map((r) => `${r[0]}:${r[1]}:${r[7]}`)).toEqual(['s1:1:ivy', 's1:2:ivy', 's1:average:ivy', 's1:1:isis', 's1:2:isis', 's1:average:isis']);
    const isisAvg = rows.find((r) => r[1] === 'average' && r[7] === 'isis')!;
    expect(Number(isisAvg[2])).toBe(isis.highAverageMs);
    expect(Number(isisAvg[6])).toBe(isis.averageMs);
    const isisTrial1 = rows.find((r) => r[1] === '1' && r[7] === 'isis')!;
    expect(isisTrial1.slice(2, 6)).toEqual(['1.5', 'c2', '0.75', 'c7']);
  });

  it('the first seven columns of a one-protocol file are what they were before the protocol column', () => {
    const before = (parse(timingCsv([s1]), { skip_empty_lines: true }) as string[][]).map((r) => r.slice(0, 7));
    const mixed = rows.filter((r) => r[7] !== 'isis').map((r) => r.slice(0, 7));
    expect(mixed).toEqual(before);
  });

  it('defaults the protocol of a result without one to ivy', () => {
    const only = parse(timingCsv([s3]), { columns: true }) as Row[];
    expect(new Set(only.map((r) => r.protocol))).toEqual(new Set(['ivy']));
  });
});

describe('sustainedCsv', () => {
  it('writes one row per scenario and fault kind', () => {
    const csv = sustainedCsv([{ id: 's1', kind: 'read', count: 10, p50Ms: 0.5, p90Ms: 0.9, p99Ms: 1.25, maxMs: 3, faultsPerS: 1234.4 }]);
    expect(parse(csv, { columns: true })).toEqual([{ scenario: 's1', kind: 'read', count: '10', p50_ms: '0.5', p90_ms: '0.9', p99_ms: '1.25', max_ms: '3', faults_per_s: '1234', protocol: 'ivy' }]);
  });
});
