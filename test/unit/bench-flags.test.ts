// `bench --s1` runs with the IVY bench only, `bench --scale` alone: the combinations they cannot run are
// refused before any process starts, with a message that says what to give instead.
import { describe, expect, it } from 'vitest';
import { parseScale, SCALE_DEFAULT_SECONDS } from '../../nodes/control/bench/scale.js';
import { runBenchCommand, type BenchCliOptions } from '../../nodes/control/commands/bench.js';
import { scaleShape } from '../../nodes/control/commands/options.js';

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

describe('bench --scale: the shape and the refused combinations', () => {
  it('reads CLIENTSxRATE and CLIENTSxRATExSECONDS', () => {
    expect(parseScale('128x10')).toEqual({ clients: 128, rate: 10, seconds: SCALE_DEFAULT_SECONDS });
    expect(parseScale('64x2.5x30')).toEqual({ clients: 64, rate: 2.5, seconds: 30 });
    for (const bad of ['', '128', '128x', 'x10', '0x10', '128x0', '2000x10', '128x10x0', '128x10x9999', '12 8x10', '128*10']) expect(parseScale(bad)).toBeNull();
  });

  it('the flag parser names what it expects', () => {
    expect(() => scaleShape('lots')).toThrow(/CLIENTSxRATE/);
  });

  it('--scale-pairs alone is refused', async () => {
    const c = capture();
    expect(await runBenchCommand({ ...base, s1: undefined, scalePairs: 2 }, c.out)).toBe(2);
    expect(c.errors.join('\n')).toMatch(/--scale-pairs goes with --scale/);
  });

  it.each([
    ['--curve-overhead', { curveOverhead: true }],
    ['--trace-overhead', { traceOverhead: true }],
    ['--protocol isis', { protocol: ['isis'] as BenchCliOptions['protocol'] }],
    ['--compare', { compare: true }],
    ['a list of memory modes', { clientMemory: ['volatile', 'durable'] as BenchCliOptions['clientMemory'] }],
  ])('with %s', async (_, extra) => {
    const c = capture();
    expect(await runBenchCommand({ ...base, s1: undefined, scale: { clients: 4, rate: 1, seconds: 1 }, ...extra }, c.out)).toBe(2);
    expect(c.errors.join('\n')).toMatch(/--scale/);
    expect(c.logs).toEqual([]);
  });
});
