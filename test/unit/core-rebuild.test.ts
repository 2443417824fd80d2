// rebuildRecords for recoverable clients: a page the replica says a now-silent client held comes back to it
// on reboot only from a copy not older than the replica's (pair sim seed 85, recoverable memory).
import { describe, expect, it } from 'vitest';
import { ManagerCore } from '../../nodes/core/manager.js';
import { noteHellos, rebuildRecords, type Report } from '../../nodes/core/rebuild.js';
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

describe('rebuild: a write transfer to a client written off while cut off (pair sim partition seeds 138, 558)', () => {
  // c4 sent its only copy of page 0 (v40) to c1 for write request 22; the partition lost it, and the primary
  // wrote c1 off. c1's report to this takeover was refused (it starts over), but it still listed r22 as pending.
  const replica = [{ page: 0, owner: 'c4', lostWith: null, heldBy: null, copyset: ['c0', 'c1', 'c3'], version: 40 }];
  const sender: Report = {
    t: 'report',
    from: 'c4',
    epoch: 3,
    endpoint: 'tcp://127.0.0.1:7004',
    incarnation: 0,
    pages: [{ page: 0, access: 'none', owner: false, version: 40, served: { to: 'c1', req: 22, kind: 'write' } }],
    pending: [],
    n: 1,
  };
  const reports = new Map([['c4', sender]]);

  it('is lost with a volatile requester that may have installed it (no evidence it did not)', () => {
    const rec = rebuildRecords(self, reports, replica, 0, () => 'volatile').records[0]!;
    expect(rec.owner).toBeNull();
    expect(rec.lostWith).not.toBeNull();
  });

  it('is taken back from its sender when the written-off requester still waited for that request', () => {
    const abandoned = new Map([['c1', [{ page: 0, req: 22, kind: 'write' as const }]]]);
    const { records, outputs } = rebuildRecords(self, reports, replica, 0, () => 'volatile', abandoned);
    expect(records[0]).toMatchObject({ owner: 'c4', lostWith: null, version: 40, reclaiming: { owner: 'c4', req: 22, requester: 'c1' } });
    expect(outputs).toContainEqual({ type: 'send', to: 'c4', msg: { t: 'reclaim', from: 'm0', epoch: 3, page: 0, req: 22, requester: 'c1' } });
  });

  it('is not taken back for another request of that client (only the very transfer the sender made)', () => {
    const abandoned = new Map([['c1', [{ page: 0, req: 23, kind: 'write' as const }]]]);
    const rec = rebuildRecords(self, reports, replica, 0, () => 'volatile', abandoned).records[0]!;
    expect(rec.owner).toBeNull();
    expect(rec.reclaiming).toBeNull();
  });
});

describe('rebuild: a client\'s hello overtaken by its report and its next request (pair sim client-pause seed 927)', () => {
  // The candidacy took c5's hello #2; c5 was evicted again (a stale report), said hello #3 (its requests up to
  // 21 were before it), reported #3 to this takeover and asked for page 0 (write r22); c2 sent it its copy.
  // The hello #3 itself arrives only now, after the rebuild.
  const reports = new Map<string, Report>([
    [
      'c2',
      {
        t: 'report',
        from: 'c2',
        epoch: 3,
        endpoint: 'tcp://127.0.0.1:7012',
        incarnation: 0,
        pages: [{ page: 0, access: 'none', owner: false, version: 432, served: { to: 'c5', req: 22, kind: 'write' } }],
        pending: [],
        n: 1,
        memory: 'recoverable',
      },
    ],
    ['c5', { t: 'report', from: 'c5', epoch: 3, endpoint: 'tcp://127.0.0.1:7015', incarnation: 0, pages: [], pending: [{ page: 0, req: 22, kind: 'write' }], n: 3, memory: 'recoverable' }],
  ]);
  const hello = (n: number): MessageOf<'hello'> => ({ t: 'hello', from: 'c5', epoch: 3, endpoint: 'tcp://127.0.0.1:7015', incarnation: 0, n, seq: 21, memory: 'recoverable', recovered: [] });
  const core = (): ManagerCore => {
    const { records, clients } = rebuildRecords(self, reports, null, 0, () => 'recoverable');
    noteHellos(clients, new Map([['c5', { incarnation: 0, n: 2, seq: 21 }]]));
    expect(clients.get('c5')).toMatchObject({ hellos: 3, seqFloor: 21 });
    return new ManagerCore({ id: 'm0', epoch: 3, pages: 1, clientTimeoutMs: 0 }, { records, clients });
  };
  const reclaims = (out: ReturnType<ManagerCore['receive']>) => out.filter((o) => o.type === 'send' && o.msg.t === 'reclaim');

  it('takes the late hello its report named as no start-over: the transfer on its way to the client stands', () => {
    const m = core();
    expect(reclaims(m.receive(hello(3), 10))).toEqual([]);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c2', active: { requester: 'c5', req: 22, kind: 'write', phase: 'transferring' } });
  });

  it('still takes a later hello for a start-over (the client dropped r22): the sender takes its copy back', () => {
    const m = core();
    expect(reclaims(m.receive(hello(4), 10))).toHaveLength(1);
    expect(m.recordCache()[0]?.active).toBeFalsy();
  });
});
