// rebuildRecords for recoverable clients: a page the replica says a now-silent client held comes back to it
// on reboot only from a copy not older than the replica's (pair sim seed 85, recoverable memory).
import { describe, expect, it } from 'vitest';
import { ManagerCore } from '../../nodes/core/manager.js';
import { rebuildRecords, type Report } from '../../nodes/core/rebuild.js';
import type { MessageOf } from '../../nodes/protocol/messages.js';

const self = { id: 'm0', epoch: 3, pages: 1 };

/** The replica says c4 owns page 0 at v261 (it was made heir of a read copy it never stored); c4 is silent. */
function rebuilt() {
  const replica = [{ page: 0, owner: 'c4', lostWith: null, heldBy: null, copyset: [], version: 261 }];
  return rebuildRecords(self, new Map<string, Report>(), replica, 0, () => 'recoverable');
}

function helloWith(version: number): MessageOf<'hello'> {
  return { t: 'hello', from: 'c4', epoch: 1, endpoint: 'tcp://127.0.0.1:7004', incarnation: 1, memory: 'recoverable', recovered: [{ page: 0, version }] };
}

function verdicts(version: number): { keep: boolean; version: number }[] {
  const { records, clients } = rebuilt();
  const core = new ManagerCore({ id: 'm0', epoch: 3, pages: 1, clientTimeoutMs: 0 }, { records, clients });
  return core
    .receive(helloWith(version), 10)
    .flatMap((o) => (o.type === 'send' && o.msg.t === 'restore' ? [{ keep: o.msg.keep, version: o.msg.version }] : []));
}

describe('rebuild: a page held by a silent recoverable client', () => {
  it('is held by it with the replica version as floor', () => {
    const rec = rebuilt().records[0]!;
    expect(rec.heldBy).toBe('c4');
    expect(rec.owner).toBeNull();
    expect(rec.heldFloor).toBe(261);
  });

  it('drops an older copy its store kept from an earlier turn as owner (never a stale read)', () => {
    expect(verdicts(250)).toEqual([{ keep: false, version: 250 }]);
  });

  it('restores a copy at the replica version', () => {
    expect(verdicts(261)).toEqual([{ keep: true, version: 261 }]);
  });
});

describe('rebuild: a first-touch grant the replica names as unconfirmed (pair sim seed 998, lossy)', () => {
  const replica = [{ page: 0, owner: null, lostWith: null, heldBy: null, copyset: [], version: 0, granted: { to: 'c1', req: 5 } }];
  const report = (pending: Report['pending']): Report => ({ t: 'report', from: 'c1', epoch: 3, endpoint: 'tcp://127.0.0.1:7001', incarnation: 0, pages: [], pending, n: 1 });

  it('is lost with its requester when the requester does not report: it may have written the zero page', () => {
    const rec = rebuildRecords(self, new Map<string, Report>(), replica, 0).records[0]!;
    expect(rec).toMatchObject({ owner: null, lostWith: 'c1' });
  });

  it('is untouched when its requester still waits for that request (the grant never arrived)', () => {
    const rec = rebuildRecords(self, new Map([['c1', report([{ page: 0, req: 5, kind: 'write' }])]]), replica, 0).records[0]!;
    expect(rec).toMatchObject({ owner: null, lostWith: null });
  });

  it('is lost with a requester that reports without it and without the request (it crashed and came back)', () => {
    const rec = rebuildRecords(self, new Map([['c1', report([])]]), replica, 0).records[0]!;
    expect(rec).toMatchObject({ owner: null, lostWith: 'c1' });
  });
});
