import { describe, expect, it } from 'vitest';
import { resolveScenarios, SCENARIOS, type ScenarioDef } from '../../nodes/control/scenarios/definitions.js';
import { buildSchedule, isInSlotOrder, MAX_DELAY_MS, maxSeatsDown } from '../../nodes/control/scenarios/schedule.js';

const def = (id: string): ScenarioDef => resolveScenarios([id])[0]!;
const shape = { trials: 5, rounds: 20, seed: 1 };

describe('scenario definitions', () => {
  it('has s1..s9 with the cluster shapes and defaults of DESIGN §5', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']);
    expect(SCENARIOS.map((s) => s.backup)).toEqual([false, true, true, true, true, true, true, true, true]);
    expect(SCENARIOS.map((s) => s.defaultTrials)).toEqual([5, 5, 5, 5, 6, 6, 5, 5, 5]);
  });

  it('resolves ids, names and all, in table order without duplicates', () => {
    expect(resolveScenarios(['primary-fail', 's1', 'S3']).map((s) => s.id)).toEqual(['s1', 's3']);
    expect(resolveScenarios(['all']).map((s) => s.id)).toContain('s9');
    expect(resolveScenarios(['all']).length).toBe(9);
    expect(resolveScenarios(['client-crash-reboot', 'S9']).map((s) => s.id)).toEqual(['s9']);
    expect(resolveScenarios(['partition-primary', 'lossy']).map((s) => s.id)).toEqual(['s7', 's8']);
    expect(() => resolveScenarios(['s10'])).toThrow(/unknown scenario "s10"/);
  });
});

describe('buildSchedule', () => {
  it('is deterministic for a seed', () => {
    for (const s of SCENARIOS) expect(buildSchedule(s, shape)).toEqual(buildSchedule(s, shape));
  });

  it('differs between seeds', () => {
    for (const id of ['s3', 's4', 's5', 's6']) {
      expect(buildSchedule(def(id), { ...shape, seed: 1 }), id).not.toEqual(buildSchedule(def(id), { ...shape, seed: 2 }));
    }
  });

  it('s7: one partition window in a seeded trial, in the first half, healed 3–4 s later', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const events = buildSchedule(def('s7'), { ...shape, seed });
      expect(events.map((e) => e.action)).toEqual(['nemesis', 'heal']);
      const [on, off] = events as [(typeof events)[0], (typeof events)[0]];
      expect(on.round).toBeLessThan(shape.rounds / 2);
      expect([off.trial, off.round]).toEqual([on.trial, on.round]);
      expect(off.delayMs).toBeGreaterThanOrEqual(3000);
      expect(off.delayMs).toBeLessThanOrEqual(4000);
      expect(on.nemesis?.rules[0]).toMatchObject({ from: ['primary'], to: ['backup', 'half-a'], partition: true, symmetric: true });
      expect(maxSeatsDown(events)).toBe(0);
    }
    expect(buildSchedule(def('s7'), { ...shape, seed: 1 })).not.toEqual(buildSchedule(def('s7'), { ...shape, seed: 2 }));
  });

  it('s8: no scheduled events (its nemesis holds for the whole run)', () => {
    expect(buildSchedule(def('s8'), shape)).toEqual([]);
    expect(def('s8').nemesis).toMatchObject({ when: 'whole-run', spec: { presets: ['lossy'] } });
  });

  it('schedules no faults for s1 and s2', () => {
    expect(buildSchedule(def('s1'), shape)).toEqual([]);
    expect(buildSchedule(def('s2'), shape)).toEqual([]);
  });

  it('kills the primary once and never reboots it in s3', () => {
    const events = buildSchedule(def('s3'), shape);
    expect(events.map((e) => [e.action, e.node])).toEqual([['kill', 'm0']]);
  });

  it('kills then reboots the primary once in s4, the reboot after the kill', () => {
    const [kill, reboot, ...rest] = buildSchedule(def('s4'), shape);
    expect(rest).toEqual([]);
    expect([kill?.action, kill?.node, reboot?.action, reboot?.node]).toEqual(['kill', 'm0', 'reboot', 'm0']);
    expect(reboot!.trial).toBe(kill!.trial);
    expect(reboot!.round).toBeGreaterThan(kill!.round);
  });

  it('kills and reboots the primary in every trial of s5 (k = trials)', () => {
    const events = buildSchedule(def('s5'), { ...shape, trials: 6 });
    expect(events.filter((e) => e.action === 'kill').map((e) => e.trial)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events.every((e) => e.node === 'm0')).toBe(true);
    expect(maxSeatsDown(events)).toBe(1);
  });

  it('alternates primary and backup in s6 and never has both down, for many seeds and shapes', () => {
    for (let seed = 0; seed < 300; seed++) {
      for (const [trials, rounds] of [
        [6, 20],
        [2, 1],
        [7, 3],
      ] as const) {
        const events = buildSchedule(def('s6'), { trials, rounds, seed });
        expect(events.filter((e) => e.action === 'kill').map((e) => e.node)).toEqual(Array.from({ length: trials }, (_, i) => (i % 2 ? 'm1' : 'm0')));
        expect(maxSeatsDown(events)).toBe(1);
        expect(isInSlotOrder(events)).toBe(true);
      }
    }
  });

  it('puts every event inside the run, each reboot after its kill', () => {
    for (const s of SCENARIOS) {
      for (let seed = 0; seed < 50; seed++) {
        const sh = { trials: 4, rounds: 10, seed };
        const events = buildSchedule(s, sh);
        expect(isInSlotOrder(events)).toBe(true);
        for (const e of events) {
          expect(e.trial).toBeGreaterThanOrEqual(0);
          expect(e.trial).toBeLessThan(sh.trials);
          expect(e.round).toBeGreaterThanOrEqual(0);
          expect(e.round).toBeLessThan(sh.rounds);
          expect(e.delayMs).toBeGreaterThanOrEqual(0);
          if (e.action === 'heal') continue; // s7: held 2–3 s, checked in its own test
          const after = s.faults?.rebootAfterMs;
          if (e.action === 'reboot' && after) {
            // A short reboot delay after the kill, in the kill's own round.
            const kill = events.find((k) => k.cycle === e.cycle && k.action === 'kill')!;
            expect(e.round).toBe(kill.round);
            expect(e.delayMs).toBeGreaterThanOrEqual(after[0]);
            expect(e.delayMs).toBeLessThanOrEqual(after[1]);
            continue;
          }
          expect(e.delayMs).toBeLessThanOrEqual(MAX_DELAY_MS);
          if (e.action === 'reboot') {
            const kill = events.find((k) => k.cycle === e.cycle && k.action === 'kill')!;
            expect(e.round).toBeGreaterThan(kill.round);
          }
        }
      }
    }
  });

  it('kills a page-owning client and reboots it shortly after, once in every trial of s9 (k = trials)', () => {
    for (let seed = 0; seed < 200; seed++) {
      const events = buildSchedule(def('s9'), { trials: 5, rounds: 20, seed });
      expect(events.map((e) => [e.action, e.node, e.trial])).toEqual([0, 1, 2, 3, 4].flatMap((t) => [['kill', 'client', t], ['reboot', 'client', t]]));
      for (const e of events.filter((x) => x.action === 'kill')) {
        expect(e.choice).toBeGreaterThanOrEqual(0);
        expect(e.choice).toBeLessThan(1);
        expect(e.round).toBeLessThan(10); // first half of the trial
      }
      expect(maxSeatsDown(events)).toBe(1);
    }
    expect(buildSchedule(def('s9'), { ...shape, seed: 1 })).not.toEqual(buildSchedule(def('s9'), { ...shape, seed: 2 }));
  });

  it('leaves the manager scenarios\' schedules untouched by s9', () => {
    // s9 draws from its own stream: s5's schedule for seed 1 is what it was before (pinned).
    const s5 = buildSchedule(def('s5'), { trials: 2, rounds: 20, seed: 1 });
    expect(s5.map((e) => e.node)).toEqual(['m0', 'm0', 'm0', 'm0']);
    expect(s5.every((e) => e.choice === undefined)).toBe(true);
  });

  it('detects both seats down in a hand-made schedule', () => {
    const kill = (node: 'm0' | 'm1', cycle: number) => ({ cycle, action: 'kill' as const, node, trial: 0, round: cycle, delayMs: 0 });
    expect(maxSeatsDown([kill('m0', 0), kill('m1', 1)])).toBe(2);
  });
});
