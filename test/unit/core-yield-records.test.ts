// A backup that ran for an epoch and yielded to the serving primary (a candidate without authority hears
// it) is ahead of that primary's epoch without having served: the primary's syncs are the newest records
// anyone made. It dropped them as a deposed primary's ("stale epoch"), so its next takeover rebuilt from
// records older than a page's first write, and handed the page out as a zero page after its only owner
// crashed and came back empty (pair-sim recordless-rejoin seed 26). A backup that did serve the newer
// epoch still refuses an older primary's records: its own are newer.
import { describe, expect, it } from 'vitest';
import { ManagerRoleCore, type RoleOutput } from '../../nodes/core/manager-role.js';
import type { MessageOf } from '../../nodes/protocol/messages.js';

const clients = ['c0', 'c1', 'c2'].map((id, i) => ({ id, endpoint: `tcp://127.0.0.1:${7010 + i}`, incarnation: 1 }));
const backup = (): ManagerRoleCore =>
  new ManagerRoleCore({ id: 'm1', peer: 'm0', pages: 2, parity: 0, home: false, heartbeatMs: 50, heartbeatTimeoutMs: 500, clientTimeoutMs: 2000, start: 'backup', epoch: 1, clients });
const empty = { owner: null, lostWith: null, heldBy: null, copyset: [], version: 0 };
const sync = (full: boolean, records: MessageOf<'sync'>['records']): MessageOf<'sync'> => ({ t: 'sync', from: 'm0', epoch: 1, full, records, clients, of: 1 });
/** The first write of page 1, by c1, as the primary of epoch 1 syncs it. */
const c1Wrote = sync(false, [{ page: 1, ...empty, owner: 'c1' }]);
const report = (id: string, epoch: number, incarnation: number): MessageOf<'report'> => ({
  t: 'report',
  from: id,
  epoch,
  endpoint: clients.find((c) => c.id === id)!.endpoint,
  incarnation,
  pages: [],
  pending: [],
  n: 1,
});
/** Every client reports empty; c1 as a new incarnation (it crashed and restarted: its page is gone). */
const reportAll = (m: ManagerRoleCore, epoch: number, at: number): RoleOutput[] =>
  [report('c0', epoch, 1), report('c1', epoch, 2), report('c2', epoch, 1)].flatMap((r, i) => m.receive(r, at + i));

function yieldedBackup(): ManagerRoleCore {
  const m1 = backup();
  m1.tick(0);
  m1.receive({ t: 'mping', from: 'm0', epoch: 1, role: 'primary', n: 1 }, 10);
  m1.receive(sync(true, [0, 1].map((page) => ({ page, ...empty }))), 15);
  // The primary's frames stall: m1 runs for epoch 2 (no authority: its takeovers are not firm) ...
  for (let t = 20; t <= 700 && m1.currentRole === 'backup'; t += 10) m1.tick(t);
  expect([m1.currentRole, m1.currentEpoch]).toEqual(['candidate', 2]);
  // ... then hears the primary still serving, and yields to it, ahead of its epoch.
  m1.receive({ t: 'mpong', from: 'm0', epoch: 1, role: 'primary' }, 710);
  expect([m1.currentRole, m1.currentEpoch]).toEqual(['backup', 2]);
  return m1;
}

describe('a backup ahead of its primary', () => {
  it('that only ran for its epoch keeps the primary\'s records: a page lost with a crashed client stays lost at the next takeover', () => {
    const m1 = yieldedBackup();
    expect(m1.receive(c1Wrote, 711)).toEqual([]);
    expect(m1.recordCache()[1]).toMatchObject({ owner: 'c1' });
    // The primary dies; c1 has crashed and restarted meanwhile (its report holds nothing).
    m1.peerConnectionLost(800);
    expect([m1.currentRole, m1.currentEpoch]).toEqual(['candidate', 4]);
    reportAll(m1, 4, 810);
    expect(m1.currentRole).toBe('primary');
    expect(m1.recordCache()[1]).toMatchObject({ owner: null, lostWith: 'c1' });
  });

  it('that served its epoch refuses a deposed primary\'s records: its own are newer', () => {
    const m1 = backup();
    m1.tick(0);
    m1.receive({ t: 'mping', from: 'm0', epoch: 1, role: 'primary', n: 1 }, 10);
    m1.receive(sync(true, [0, 1].map((page) => ({ page, ...empty }))), 15);
    m1.peerConnectionLost(20);
    reportAll(m1, 2, 30);
    expect([m1.currentRole, m1.currentEpoch]).toEqual(['primary', 2]);
    // The home seat comes back and asks for the role: m1 hands back (its own records as the replica).
    m1.receive({ t: 'handback_req', from: 'm0', epoch: 2 }, 100);
    expect(m1.currentRole).toBe('backup');
    // A sync the old primary of epoch 1 sent before it died arrives late.
    expect(m1.receive(c1Wrote, 110)).toEqual([{ type: 'ignored', msg: c1Wrote, reason: 'stale epoch 1 < 2' }]);
    expect(m1.recordCache()[1]).toMatchObject({ owner: null, lostWith: null });
  });
});
