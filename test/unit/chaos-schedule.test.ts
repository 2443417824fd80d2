// The chaos driver's fault plan: repeatable from its seed, pauses on both sides of every
// timeout, and no client SIGSTOP when a run leaves them out (IVY issue 13).
import { describe, expect, it } from 'vitest';
import { pauseBands, planFaults, planNemesis, type PlanOptions } from '../../nodes/control/chaos/schedule.js';

const base: PlanOptions = { seed: 1, durationMs: 10_000, backup: true, clientStops: true, heartbeatTimeoutMs: 500, clientTimeoutMs: 2000 };

describe('chaos fault plan', () => {
  it('is the same for the same seed and differs between seeds', () => {
    expect(planFaults(base)).toEqual(planFaults(base));
    expect(planFaults({ ...base, seed: 2 })).not.toEqual(planFaults(base));
  });

  it('draws pauses shorter than the heartbeat timeout, between the timeouts, and longer than the client timeout', () => {
    const [short, mid, long] = pauseBands(base);
    expect(short![1]).toBeLessThan(500);
    expect(mid![0]).toBeGreaterThan(500);
    expect(mid![1]).toBeLessThan(2000);
    expect(long![0]).toBeGreaterThan(2000);
    const pauses = Array.from({ length: 30 }, (_, seed) => planFaults({ ...base, seed }))
      .flat()
      .flatMap((f) => (f.kind === 'stop' ? [f.pauseMs] : []));
    expect(pauses.some((ms) => ms < 500)).toBe(true);
    expect(pauses.some((ms) => ms > 500 && ms < 2000)).toBe(true);
    expect(pauses.some((ms) => ms > 2000)).toBe(true);
  });

  it('hits every seat with both kinds of fault, inside the window', () => {
    const all = Array.from({ length: 30 }, (_, seed) => planFaults({ ...base, seed })).flat();
    for (const target of ['primary', 'backup', 'client'] as const) {
      expect(all.some((f) => f.target === target && f.kind === 'kill')).toBe(true);
      expect(all.some((f) => f.target === target && f.kind === 'stop')).toBe(true);
    }
    expect(all.every((f) => f.at > 0 && f.at < base.durationMs)).toBe(true);
  });

  it('leaves client SIGSTOPs out when asked, and the backup seat when there is none', () => {
    const plans = Array.from({ length: 30 }, (_, seed) => planFaults({ ...base, seed, clientStops: false, backup: false })).flat();
    expect(plans.some((f) => f.target === 'client' && f.kind === 'stop')).toBe(false);
    expect(plans.some((f) => f.target === 'backup')).toBe(false);
    expect(plans.some((f) => f.target === 'client' && f.kind === 'kill')).toBe(true);
  });

  it('spares clients from SIGKILL when asked, pausing them instead', () => {
    const plans = Array.from({ length: 30 }, (_, seed) => planFaults({ ...base, seed, clientKills: false })).flat();
    expect(plans.some((f) => f.target === 'client' && f.kind === 'kill')).toBe(false);
    expect(plans.some((f) => f.target === 'client' && f.kind === 'stop')).toBe(true);
    expect(plans.some((f) => f.target === 'primary' && f.kind === 'kill')).toBe(true);
  });
});

describe('planNemesis (chaos --nemesis)', () => {
  it('is seeded, one window at a time inside the run, each a valid spec, and leaves the process-fault plan alone', () => {
    const a = planNemesis({ seed: 5, durationMs: 20_000, clients: 6 });
    expect(planNemesis({ seed: 5, durationMs: 20_000, clients: 6 })).toEqual(a);
    expect(planNemesis({ seed: 6, durationMs: 20_000, clients: 6 })).not.toEqual(a);
    expect(a.length).toBeGreaterThan(3);
    for (const [i, w] of a.entries()) {
      expect(w.at).toBeLessThan(20_000);
      expect(w.holdMs).toBeGreaterThanOrEqual(300);
      expect(w.holdMs).toBeLessThanOrEqual(3000);
      if (i > 0) expect(w.at).toBeGreaterThanOrEqual(a[i - 1]!.at + a[i - 1]!.holdMs);
      expect(w.spec.presets.length + w.spec.rules.length).toBeGreaterThan(0);
    }
    // Over many seeds every kind of window comes up.
    const kinds = new Set(Array.from({ length: 50 }, (_, s) => planNemesis({ seed: s, durationMs: 20_000, clients: 4 })).flat().map((w) => JSON.stringify(w.spec)));
    expect(kinds.size).toBe(8);
  });
});
