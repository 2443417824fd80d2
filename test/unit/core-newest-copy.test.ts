// A page held for a down (or written-off) recoverable client never comes back as an older copy over a newer
// recovered one. The case (pair-sim partition seed 2554; the crash path in pair-sim's sender-crash plan): the
// owner c0 sent its only copy to c1 for a write; c1 installed it and wrote (acknowledged: its store has it),
// but its confirm was lost. c0 went down (SIGKILL, or written off by a cut) and the page was held for it. Both
// stores then report the page: c0's is the copy it sent, c1's the newer one with c1's writes. Restoring c0's
// (the held client's, `back` in rebuild.ts, or restoreFrom) lost c1's writes: a stale read.
// Single writer: a version names one content and versions only grow along the page's history, so the newest
// copy at or above the held floor is the page.
import { describe, expect, it } from 'vitest';
import { emptyRecord, ManagerCore, type ClientEntry } from '../../nodes/core/manager.js';
import { rebuildRecords, type Report } from '../../nodes/core/rebuild.js';
import type { ManagerOutput } from '../../nodes/core/types.js';
import type { ClientMemory, MessageOf } from '../../nodes/protocol/messages.js';
import { endpoint, hello, report as reportN, restores } from './recovery-fixtures.js';

/** Reports of the second hello (n 2). */
const report = (from: string, fields: Partial<Report>): Report => reportN(from, fields, 2);

const sent = (out: readonly ManagerOutput[], t: string) => out.filter((o) => o.type === 'send' && o.msg.t === t).map((o) => (o.type === 'send' ? o.to : ''));

describe('rebuild: the newest recovered copy at or above the held version is the page', () => {
  const self = { id: 'm0', epoch: 3, pages: 1 };
  // Held for c0 at v45 (the records of the primary that wrote c0 off); c1's store has the page at v55.
  const replica = [{ page: 0, owner: null, lostWith: null, heldBy: 'c0', copyset: [], version: 45 }];

  it.each([true, false])('restores the requester\'s newer copy, not the held client\'s older one (exact records: %s)', (exact) => {
    const reports = new Map([
      ['c0', report('c0', { recovered: [{ page: 0, version: 45 }] })],
      ['c1', report('c1', { recovered: [{ page: 0, version: 55 }] })],
      ['c2', report('c2', { pages: [{ page: 0, access: 'none', owner: false, version: 41, served: { to: 'c0', req: 12, kind: 'write' } }] })],
    ]);
    const { records, outputs } = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), exact);
    expect(records[0]).toMatchObject({ owner: 'c1', version: 55, heldBy: null, lostWith: null });
    expect(restores(outputs)).toEqual(
      expect.arrayContaining([
        { to: 'c1', version: 55, keep: true },
        { to: 'c0', version: 45, keep: false },
      ]),
    );
  });

  it('gives a tie to the held client (one version, one content)', () => {
    const reports = new Map([
      ['c0', report('c0', { recovered: [{ page: 0, version: 45 }] })],
      ['c1', report('c1', { recovered: [{ page: 0, version: 45 }] })],
    ]);
    expect(rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), true).records[0]).toMatchObject({ owner: 'c0', version: 45 });
  });

  it('keeps a newer copy unvouched while the held client is down, and prefers it when that client comes back older', () => {
    const reports = new Map([['c1', report('c1', { recovered: [{ page: 0, version: 55 }] })]]);
    const { records, clients, outputs } = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), false);
    // Before: c1 was told to drop its copy (keep false) and the page waited for c0's older one.
    expect(records[0]).toMatchObject({ owner: null, heldBy: 'c0', spare: { client: 'c1', version: 55 } });
    expect(restores(outputs)).toEqual([]);
    clients.set('c0', { endpoint: endpoint('c0'), incarnation: 1, hellos: 1, lastHeard: 0, memory: 'recoverable' });
    const m = new ManagerCore({ id: 'm0', epoch: 3, pages: 1, clientTimeoutMs: 0 }, { records, clients });
    const hello: MessageOf<'hello'> = { t: 'hello', from: 'c0', epoch: 3, endpoint: endpoint('c0'), incarnation: 1, n: 1, memory: 'recoverable', recovered: [{ page: 0, version: 45 }] };
    expect(restores(m.receive(hello, 10))).toEqual(
      expect.arrayContaining([
        { to: 'c0', version: 45, keep: false },
        { to: 'c1', version: 55, keep: true },
      ]),
    );
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1', version: 55, heldBy: null });
  });
});

describe('rebuild: a held page whose holder went down serving a write transfer (the replica names it in `granted`)', () => {
  const self = { id: 'm1', epoch: 3, pages: 1 };
  // Held for c0 at v10, with c0's write transfer to c1 (req 7) unconfirmed; c1 is down and does not report.
  const replica = [{ page: 0, owner: null, lostWith: null, heldBy: 'c0', copyset: [], version: 10, granted: { to: 'c1', req: 7 } }];

  it('does not restore the holder while the requester, which may have a newer copy, has not reported', () => {
    const reports = new Map([['c0', report('c0', { recovered: [{ page: 0, version: 10 }] })]]);
    const { records, clients, outputs } = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), false);
    // Before: c0's copy was restored at once, and c1's newer one dropped when c1 came back.
    expect(records[0]).toMatchObject({ owner: null, heldBy: 'c1', heldFloor: 10, spare: { client: 'c0', version: 10 } });
    expect(restores(outputs)).toEqual([]);
    const m = new ManagerCore({ id: 'm1', epoch: 3, pages: 1, clientTimeoutMs: 0 }, { records, clients });
    const hello: MessageOf<'hello'> = { t: 'hello', from: 'c1', epoch: 3, endpoint: endpoint('c1'), incarnation: 1, n: 1, memory: 'recoverable', recovered: [{ page: 0, version: 13 }] };
    expect(restores(m.receive(hello, 10))).toEqual(
      expect.arrayContaining([
        { to: 'c1', version: 13, keep: true },
        { to: 'c0', version: 10, keep: false },
      ]),
    );
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1', version: 13, heldBy: null });
  });

  it('restores the holder when the requester reported (still waiting for the page, or without a newer copy)', () => {
    const waiting = report('c1', { pending: [{ page: 0, req: 7, kind: 'write' }] });
    const reports = new Map([
      ['c0', report('c0', { recovered: [{ page: 0, version: 10 }] })],
      ['c1', waiting],
    ]);
    expect(rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), false).records[0]).toMatchObject({ owner: 'c0', version: 10, heldBy: null });
  });

  it('keeps the transfer in the rebuilt record when neither has reported: the holder then waits for the requester', () => {
    const { records } = rebuildRecords(self, new Map(), replica, 0, () => 'recoverable', new Map(), false);
    expect(records[0]).toMatchObject({ heldBy: 'c0', lostInFlight: { requester: 'c1', req: 7, gone: true } });
  });

  it('a volatile requester that has not reported: the page is lost with it, never the holder\'s older copy', () => {
    const reports = new Map([['c0', report('c0', { recovered: [{ page: 0, version: 10 }] })]]);
    const { records, outputs } = rebuildRecords(self, reports, replica, 0, (id) => (id === 'c1' ? 'volatile' : 'recoverable'), new Map(), false);
    expect(records[0]).toMatchObject({ owner: null, heldBy: null, lostWith: 'c1' });
    expect(restores(outputs)).toEqual([{ to: 'c0', version: 10, keep: false }]);
  });
});

describe('live manager: the sender went down serving a write whose confirm was lost', () => {
  const clients = (memory: ClientMemory, requester: ClientMemory = memory): Map<string, ClientEntry> =>
    new Map(['c0', 'c1', 'c2'].map((id) => [id, { endpoint: endpoint(id), incarnation: 0, hellos: 1, lastHeard: 0, memory: id === 'c1' ? requester : memory }]));

  /** c0 owns page 0 at v10 and is forwarded c1's write (req 7); c1's confirm never comes; c0 falls silent and is written off. */
  function held(memory: ClientMemory = 'recoverable', requester: ClientMemory = memory): ManagerCore {
    const m = new ManagerCore({ id: 'm0', epoch: 1, pages: 1, clientTimeoutMs: 2000 }, { records: [{ ...emptyRecord(), owner: 'c0', version: 10 }], clients: clients(memory, requester) });
    expect(sent(m.receive({ t: 'write_req', from: 'c1', epoch: 1, page: 0, req: 7 }, 5), 'write_fwd')).toEqual(['c0']);
    m.receive({ t: 'hb', from: 'c1', epoch: 1 }, 1990);
    m.receive({ t: 'hb', from: 'c2', epoch: 1 }, 1990);
    m.tick(2005);
    const rec = m.recordCache()[0]!;
    // recoverable: held for c0; volatile: lost with it, its confirm still able to recover the page.
    expect(rec).toMatchObject(memory === 'recoverable' ? { owner: null, heldBy: 'c0' } : { owner: null, lostWith: 'c0' });
    return m;
  }

  it('names the transfer in its record view, for the backup\'s replica (replicaOf puts it in `granted`)', () => {
    expect(held().recordCache()[0]!.inFlight).toEqual({ requester: 'c1', req: 7 });
  });

  it('restores the requester whose store has a newer copy (it installed the page and wrote)', () => {
    const m = held();
    // c1 starts over (written off, or rebooted) with the page at v12 in its store: before, it was told to drop it.
    expect(restores(m.receive(hello('c1', [{ page: 0, version: 12 }]), 2100))).toEqual([{ to: 'c1', version: 12, keep: true }]);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1', version: 12, heldBy: null });
    // c0's copy, when it comes back, is the older one it sent: dropped.
    expect(restores(m.receive(hello('c0', [{ page: 0, version: 10 }]), 2200))).toEqual([{ to: 'c0', version: 10, keep: false }]);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1', version: 12 });
  });

  it('a requester at the sent version is a spare: the sender\'s newer copy wins, a tie goes to the sender', () => {
    const m = held();
    expect(restores(m.receive(hello('c1', [{ page: 0, version: 10 }]), 2100))).toEqual([]);
    expect(restores(m.receive(hello('c0', [{ page: 0, version: 10 }]), 2200))).toEqual(
      expect.arrayContaining([
        { to: 'c0', version: 10, keep: true },
        { to: 'c1', version: 10, keep: false },
      ]),
    );
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c0', version: 10 });
  });

  /** Then c1 falls silent too and is written off before c0 comes back. */
  function bothDown(requester: ClientMemory = 'recoverable'): ManagerCore {
    const m = held('recoverable', requester);
    // Regular ticks (a long gap between two reads as our own stall, and forgives the silence).
    for (let now = 2100; now <= 4000; now += 100) {
      m.receive({ t: 'hb', from: 'c2', epoch: 1 }, now - 5);
      m.tick(now);
    }
    expect(m.recordCache()[0]!.queue).toEqual([]);
    return m;
  }

  it('a sender back before its requester waits for the requester\'s store; a newer copy there is the page', () => {
    const m = bothDown();
    // Before: c0's copy was restored at once, and c1's newer one dropped when it came back.
    expect(restores(m.receive(hello('c0', [{ page: 0, version: 10 }]), 4100))).toEqual([]);
    expect(m.recordCache()[0]).toMatchObject({ owner: null, heldBy: 'c1' });
    expect(restores(m.receive(hello('c1', [{ page: 0, version: 12 }]), 4200))).toEqual(
      expect.arrayContaining([
        { to: 'c1', version: 12, keep: true },
        { to: 'c0', version: 10, keep: false },
      ]),
    );
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1', version: 12, heldBy: null });
  });

  it('... and the sender\'s copy is the page if the requester comes back without one (it never installed it)', () => {
    const m = bothDown();
    m.receive(hello('c0', [{ page: 0, version: 10 }]), 4100);
    expect(restores(m.receive(hello('c1', []), 4200))).toEqual([{ to: 'c0', version: 10, keep: true }]);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c0', version: 10, heldBy: null, lostWith: null });
  });

  it('a requester that said hello with nothing before the sender came back does not hold the sender up', () => {
    const m = bothDown();
    m.receive(hello('c1', []), 4100);
    expect(restores(m.receive(hello('c0', [{ page: 0, version: 10 }]), 4200))).toEqual([{ to: 'c0', version: 10, keep: true }]);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c0', version: 10 });
  });

  it('a volatile requester written off mid-transfer may have taken acknowledged writes with it: the page is lost, never the sender\'s older copy', () => {
    const m = bothDown('volatile');
    expect(m.recordCache()[0]).toMatchObject({ owner: null, heldBy: null, lostWith: 'c1' });
    expect(restores(m.receive(hello('c0', [{ page: 0, version: 10 }]), 4100))).toEqual([{ to: 'c0', version: 10, keep: false }]);
  });
});
