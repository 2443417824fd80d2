// The fault injector's reading of the supervisor's marks, per protocol. IVY hands the
// primary role back to a rebooted m0, so m0 returning to primary is a hand-back; a
// write-update registry never hands back, so m0 taking over from a dead m1 is a failover.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Mark, NodeInfo } from '../../nodes/control/api.js';
import { FaultInjector, type InjectorDriver } from '../../nodes/control/scenarios/injector.js';
import type { FaultEvent } from '../../nodes/control/scenarios/schedule.js';

class FakeSupervisor extends EventEmitter {
  live = new Set(['m0', 'm1']);
  kill(id: string): Promise<void> {
    this.live.delete(id);
    return Promise.resolve();
  }
  reboot(id: string): Promise<void> {
    this.live.add(id);
    return Promise.resolve();
  }
  nodeInfos(): NodeInfo[] {
    return ['m0', 'm1'].map((id) => ({ id, role: 'backup', state: 'up', pid: this.live.has(id) ? 1 : null, endpoint: '', epoch: 1, upSince: 0, restarts: 0, lastExit: null, dropped: 0, rssBytes: null }));
  }
  mark(kind: Mark['kind'], node: string): void {
    this.emit('mark', { t: Date.now(), kind, node, atNs: Number(process.hrtime.bigint()) });
  }
}

const events: FaultEvent[] = [
  { cycle: 0, action: 'kill', node: 'm0', trial: 0, round: 0, delayMs: 0 },
  { cycle: 0, action: 'reboot', node: 'm0', trial: 0, round: 1, delayMs: 0 },
  { cycle: 1, action: 'kill', node: 'm1', trial: 0, round: 2, delayMs: 0 },
];

async function run(handback: boolean) {
  const sup = new FakeSupervisor();
  const notes: string[] = [];
  const inj = new FaultInjector(sup as unknown as InjectorDriver, events, { settleMs: 0, failoverWaitMs: 300, handbackWaitMs: 300, handback, note: (m) => notes.push(m) });
  const done = inj.run();
  inj.reach(0, 0);
  await new Promise((r) => setTimeout(r, 10));
  sup.mark('failover', 'm1'); // m1 takes over from the killed m0
  inj.reach(0, 1);
  await new Promise((r) => setTimeout(r, 20));
  inj.reach(0, 2);
  await new Promise((r) => setTimeout(r, 10));
  sup.mark('handback', 'm0'); // m0 primary again: the supervisor always calls that a hand-back
  await done;
  return { kills: inj.finish(), notes };
}

describe('fault injector marks per protocol', () => {
  it('write-update: m0 taking over from a dead m1 is the second failover; no hand-back is awaited', async () => {
    const { kills, notes } = await run(false);
    expect(kills.map((k) => k.failoverMs !== null)).toEqual([true, true]);
    expect(notes.some((n) => n.startsWith('no hand-back'))).toBe(false);
  });

  it('IVY: the same mark is the hand-back of the rebooted m0, and m0 serving again makes the kill of m1 no failover', async () => {
    const { kills } = await run(true);
    expect(kills[0]!.failoverMs).not.toBeNull();
    expect(kills[0]!.handbackMs).not.toBeNull();
    expect(kills[1]!.serving).toBe(false);
    expect(kills[1]!.failoverMs).toBeNull();
  });

  it('write-update: after the first failover m1 serves, so killing it is a kill of the serving registry', async () => {
    const { kills } = await run(false);
    expect(kills[1]!.serving).toBe(true);
    expect(kills[0]!.handbackMs).toBeNull();
  });
});
