// `bench --s1` runs with the IVY bench only: the combinations it cannot run are refused before any process
// starts, with a message that says what to give instead.
import { describe, expect, it } from 'vitest';
import { runBenchCommand, type BenchCliOptions } from '../../nodes/control/commands/bench.js';

function capture(): { out: { log: (s: string) => void; error: (s: string) => void }; errors: string[]; logs: string[] } {
  const errors: string[] = [];
  const logs: string[] = [];
  return { out: { log: (s) => logs.push(s), error: (s) => errors.push(s) }, errors, logs };
}

const base: BenchCliOptions = { json: true, protocol: ['ivy'], compare: false, basePort: 10_000, s1: true };

describe('bench --s1: refused combinations', () => {
  it.each([
    ['--trace-overhead', { traceOverhead: true }],
    ['--curve-overhead', { curveOverhead: true }],
    ['a list of memory modes', { clientMemory: ['volatile', 'recoverable'] as BenchCliOptions['clientMemory'] }],
    ['--protocol isis alone', { protocol: ['isis'] as BenchCliOptions['protocol'] }],
  ])('%s', async (_, extra) => {
    const c = capture();
    expect(await runBenchCommand({ ...base, ...extra }, c.out)).toBe(2);
    expect(c.errors.join('\n')).toMatch(/--s1 runs with the IVY bench/);
    expect(c.logs).toEqual([]);
  });
});
