// A page held for a client that comes back ALIVE without it is not written off while another client's store
// still has it at the held version (pair-sim partition seeds 906 and 1854, split-clients, recoverable memory).
// The cut left the owner c3 (read access, a read copy at c1) and c1 on the losing side; the primary evicted c3
// and made c1 heir (its `own` was lost to the cut), then evicted c1 and held the page for it. c1 never stored
// the page (read copies are not stored), c3 did. Before the fix the page was ruled lost ("held by c0, which
// crashed", named from a stale tombstone) although no client ever crashed: every later op on it failed.
import { describe, expect, it } from 'vitest';
import { emptyRecord, ManagerCore, type ClientEntry, type PageRecord } from '../../nodes/core/manager.js';
import { rebuildRecords, type Report } from '../../nodes/core/rebuild.js';
import type { MessageOf } from '../../nodes/protocol/messages.js';
import { endpoint, hello, report, restores } from './recovery-fixtures.js';

const self = { id: 'm0', epoch: 3, pages: 1 };

describe('rebuild: a page held for a client that reports alive without it (pair sim partition seed 906)', () => {
  // The candidate's own records as it stopped serving: held for c1 at v63.
  const replica = [{ page: 0, owner: null, lostWith: null, heldBy: 'c1', copyset: [], version: 63 }];
  // Earlier write transfers (tombstones, all older than v63), and c3's store with the page at v63.
  const others = (): Map<string, Report> =>
    new Map([
      ['c4', report('c4', { pages: [{ page: 0, access: 'none', owner: false, version: 59, served: { to: 'c0', req: 22, kind: 'write' } }] })],
      ['c0', report('c0', { pages: [{ page: 0, access: 'none', owner: false, version: 62, served: { to: 'c3', req: 25, kind: 'write' } }] })],
      ['c3', report('c3', { recovered: [{ page: 0, version: 63 }], n: 2 })],
    ]);

  it('passes to the client whose store has it at the held version, once the claimant reported it has nothing', () => {
    const reports = others().set('c1', report('c1', { n: 2 }));
    const { records, outputs } = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), true);
    expect(records[0]).toMatchObject({ owner: 'c3', version: 63, lostWith: null, heldBy: null });
    expect(restores(outputs)).toEqual([{ to: 'c3', version: 63, keep: true }]);
  });

  it('is never named lost with a client from a tombstone older than the records (the old fallback said c0)', () => {
    const reports = others().set('c1', report('c1', { n: 2 }));
    const rec = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), true).records[0]!;
    expect(rec.lostWith).not.toBe('c0');
  });

  it('is not restored from a replica that may lag (a peer\'s sync): the page may have moved on since', () => {
    const reports = others().set('c1', report('c1', { n: 2 }));
    const rec = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), false).records[0]!;
    expect(rec).toMatchObject({ owner: null, lostWith: 'c1', version: 63 });
  });

  it('goes back to the claimant when it reports its own copy (the spare is told to drop its copy)', () => {
    const reports = others().set('c1', report('c1', { recovered: [{ page: 0, version: 63 }], n: 2 }));
    const { records, outputs } = rebuildRecords(self, reports, replica, 0, () => 'recoverable', new Map(), true);
    expect(records[0]).toMatchObject({ owner: 'c1', version: 63 });
    expect(restores(outputs)).toEqual(
      expect.arrayContaining([
        { to: 'c1', version: 63, keep: true },
        { to: 'c3', version: 63, keep: false },
      ]),
    );
  });

  it('waits for a claimant that has not reported, keeping the spare unvouched; its empty hello then restores the spare', () => {
    const { records, clients, outputs } = rebuildRecords(self, others(), replica, 0, () => 'recoverable', new Map(), true);
    expect(records[0]).toMatchObject({ owner: null, heldBy: 'c1', spare: { client: 'c3', version: 63 } });
    // No verdict yet: c3 keeps its stored copy (unusable) instead of dropping it.
    expect(restores(outputs)).toEqual([]);
    const m = new ManagerCore({ id: 'm0', epoch: 3, pages: 1, clientTimeoutMs: 0 }, { records, clients });
    const hello: MessageOf<'hello'> = { t: 'hello', from: 'c1', epoch: 3, endpoint: endpoint('c1'), incarnation: 0, n: 3, memory: 'recoverable', recovered: [] };
    expect(restores(m.receive(hello, 10))).toEqual([{ to: 'c3', version: 63, keep: true }]);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c3', version: 63, heldBy: null, lostWith: null });
  });
});

describe('live manager: the same page held for an heir cut off with its owner', () => {
  const clients = (): Map<string, ClientEntry> =>
    new Map(['c1', 'c3', 'c0'].map((id) => [id, { endpoint: endpoint(id), incarnation: 0, hellos: 1, lastHeard: 0, memory: 'recoverable' as const }]));
  // c3 owns page 0 with read access at v63, c1 has a read copy.
  const record = (): PageRecord => ({ ...emptyRecord(), owner: 'c3', copyset: new Set(['c1']), version: 63 });

  /** c3 evicted first (c1 made heir), then c1: the page is held for c1. c0 keeps heartbeating. */
  function evicted(): ManagerCore {
    const m = new ManagerCore({ id: 'm0', epoch: 1, pages: 1, clientTimeoutMs: 2000 }, { records: [record()], clients: clients() });
    m.receive({ t: 'hb', from: 'c1', epoch: 1 }, 15);
    m.receive({ t: 'hb', from: 'c0', epoch: 1 }, 1990);
    m.tick(2005);
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1', version: 63 });
    m.tick(2020);
    expect(m.recordCache()[0]).toMatchObject({ owner: null, heldBy: 'c1', lostWith: null });
    return m;
  }

  it('restores the old owner\'s stored copy when the heir comes back alive with nothing (hellos in either order)', () => {
    const a = evicted();
    expect(restores(a.receive(hello('c3', [{ page: 0, version: 63 }]), 4000))).toEqual([]);
    expect(restores(a.receive(hello('c1', []), 4001))).toEqual([{ to: 'c3', version: 63, keep: true }]);
    expect(a.recordCache()[0]).toMatchObject({ owner: 'c3', version: 63, heldBy: null, lostWith: null });

    // The heir first: with no spare reported yet, its empty store writes the page off (as before).
    const b = evicted();
    b.receive(hello('c1', []), 4000);
    expect(b.recordCache()[0]).toMatchObject({ owner: null, lostWith: 'c1' });
  });

  it('gives the page back to the heir if its store has it, and tells the spare to drop its copy', () => {
    const m = evicted();
    m.receive(hello('c3', [{ page: 0, version: 63 }]), 4000);
    expect(restores(m.receive(hello('c1', [{ page: 0, version: 63 }]), 4001))).toEqual(
      expect.arrayContaining([
        { to: 'c1', version: 63, keep: true },
        { to: 'c3', version: 63, keep: false },
      ]),
    );
    expect(m.recordCache()[0]).toMatchObject({ owner: 'c1' });
  });

  it('never takes an older stored copy as the spare (a stale read)', () => {
    const m = evicted();
    expect(restores(m.receive(hello('c3', [{ page: 0, version: 60 }]), 4000))).toEqual([{ to: 'c3', version: 60, keep: false }]);
    m.receive(hello('c1', []), 4001);
    expect(m.recordCache()[0]).toMatchObject({ owner: null, lostWith: 'c1' });
  });
});
