// Thousands of seeded runs of the real write-update cores (members and both registry
// seats) under delays, reordering, drops, duplicates, crashes, restarts, pauses,
// joins and registry kills; each checked for one common delivery order, no hang and
// sequential consistency. Two deliberately broken variants prove the oracles bite.
//
//   ISIS_SEEDS=5000 npx vitest run --project sim test/sim/isis-sim.test.ts   more seeds (default 1000)
//   ISIS_SEED_BASE=20000 ...                                                  another range
//   ISIS_SEED=1234 npx vitest run --project sim test/sim/isis-sim.test.ts    replay one seed, verbosely
//   ISIS_LOSSY_SEEDS=5000 ...                                                 more seeds of the lossy sweep (default 500)
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../nodes/core/random.js';
import { isisReport, runIsisSeed, type IsisMutant, type IsisSimOptions, type IsisSimResult } from './isis-simulator.js';
import { envInt } from './env.js';

const replay = process.env.ISIS_SEED;
const SEEDS = envInt('ISIS_SEEDS', 1000);
const BASE = envInt('ISIS_SEED_BASE', 1);
const LOSSY_SEEDS = envInt('ISIS_LOSSY_SEEDS', 500);

/** Issue 11's lossy nemesis on every seed (the main sweep loses frames in a third of them): 1–5 % lost, 0–5 % duplicated. */
function lossy(seed: number): Partial<IsisSimOptions> {
  const r = mulberry32(seed ^ 0x1515);
  return { dropProb: 0.01 + r() * 0.04, dupProb: r() * 0.05 };
}

describe.runIf(replay === undefined)('ISIS simulator', () => {
  it(`${SEEDS} seeds: one delivery order, no hang, sequentially consistent`, () => {
    const failed: IsisSimResult[] = [];
    const totals = { ops: 0, writes: 0, crossReads: 0, unknown: 0, failed: 0, dropped: 0, views: 0, stateTransfers: 0, faults: 0 };
    for (let seed = BASE; seed < BASE + SEEDS; seed++) {
      const r = runIsisSeed(seed);
      if (!r.ok) failed.push(r);
      totals.ops += r.history.length;
      totals.writes += r.history.filter((h) => h.op === 'write' && h.outcome === 'ok').length;
      totals.crossReads += r.history.filter((h) => h.op === 'read' && h.value !== null && !h.value.startsWith(`${h.client}:`)).length;
      totals.unknown += r.stats.unknown;
      totals.failed += r.stats.failed;
      totals.dropped += r.stats.dropped;
      totals.views += r.stats.views;
      totals.stateTransfers += r.stats.stateTransfers;
      totals.faults += r.faults.length;
    }
    expect(failed.map(isisReport).slice(0, 3).join('\n\n')).toBe('');
    // The runs exercised what they claim to: shared pages, faults, view changes, state transfers, lost frames.
    expect(totals.crossReads).toBeGreaterThan(SEEDS);
    expect(totals.faults).toBeGreaterThan(SEEDS);
    expect(totals.views).toBeGreaterThan(SEEDS * 2);
    expect(totals.stateTransfers).toBeGreaterThan(SEEDS / 2);
    expect(totals.dropped).toBeGreaterThan(0);
  });

  it(`${LOSSY_SEEDS} seeds with 1–5 % of frames lost and 0–5 % duplicated: members retransmit, one order, no hang, SC`, () => {
    const failed: IsisSimResult[] = [];
    let dropped = 0;
    let crossReads = 0;
    for (let seed = BASE; seed < BASE + LOSSY_SEEDS; seed++) {
      const r = runIsisSeed(seed, lossy(seed));
      if (!r.ok) failed.push(r);
      dropped += r.stats.dropped;
      crossReads += r.history.filter((h) => h.op === 'read' && h.value !== null && !h.value.startsWith(`${h.client}:`)).length;
    }
    expect(failed.map(isisReport).slice(0, 3).join('\n\n')).toBe('');
    expect(dropped).toBeGreaterThan(LOSSY_SEEDS * 10);
    expect(crossReads).toBeGreaterThan(LOSSY_SEEDS);
  });

  const mutants: [IsisMutant, string][] = [
    ['deliver-on-proposed', 'delivering the head on its proposed priority, without waiting for agreed'],
    ['skip-flush', 'installing a view without delivering what a survivor holds agreed'],
  ];
  it.each(mutants)('catches the broken variant %s (%s)', (mutant) => {
    let caught: IsisSimResult | null = null;
    for (let seed = BASE; seed < BASE + 300 && !caught; seed++) {
      const r = runIsisSeed(seed, { mutant });
      if (!r.ok) caught = r;
    }
    expect(caught, `no seed caught ${mutant}`).not.toBeNull();
    expect(caught!.problems.some((p) => p.startsWith('order:') || p.startsWith('sequential:') || p.startsWith('converge:'))).toBe(true);
  });
});

// Registered only when replaying, so a normal run reports no skipped test.
if (replay !== undefined) describe('ISIS replay', () => {
  it(`seed ${replay}`, () => {
    const r = runIsisSeed(Number(replay));
    console.log(`faults: ${r.faults.join(', ') || 'none'}\nstats: ${JSON.stringify(r.stats)}`);
    expect(r.ok, isisReport(r)).toBe(true);
  });
});
