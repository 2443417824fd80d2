// The pure pieces of the write-update protocol: the delivery queue (priority order,
// delivery from the head once stable), the view-change decision and the partition rule.
import { describe, expect, it } from 'vitest';
import { checkQuorum, decideViewChange, type FlushReport } from '../../nodes/core/isis/flush.js';
import { DeliveryQueue, type QueueEntry } from '../../nodes/core/isis/queue.js';
import type { InstallBody, Prio } from '../../nodes/core/isis/types.js';

const entry = (sender: string, seq: number, proposed: Prio, agreed: Prio | null = null, stable = false): QueueEntry => ({
  sender,
  seq,
  page: 0,
  offset: 0,
  data: new Uint8Array([seq]),
  proposed,
  agreed,
  stable,
  since: 0,
});
const q = (sender: string, seq: number, prio: [number, number], agreed: boolean): FlushReport['queue'][number] => ({ sender, seq, page: 0, offset: 0, data: new Uint8Array([seq]), prio, agreed });
const report = (id: string, installed: number, queue: FlushReport['queue'] = [], lastInstall: InstallBody | null = null, hasState = true): FlushReport => ({ id, incarnation: 0, installed, hasState, queue, lastInstall });

describe('delivery queue', () => {
  it('orders by priority, counter first, then proposer number', () => {
    const dq = new DeliveryQueue();
    dq.add(entry('c1', 1, [3, 1]));
    dq.add(entry('c2', 1, [2, 7]));
    dq.add(entry('c0', 1, [3, 0]));
    expect(dq.list().map((e) => e.sender)).toEqual(['c2', 'c0', 'c1']);
  });

  it('delivers the head only once it is stable, and never past an undecided head', () => {
    const dq = new DeliveryQueue();
    const a = entry('c0', 1, [1, 0]);
    const b = entry('c1', 1, [2, 1], [2, 1], true);
    dq.add(a);
    dq.add(b);
    expect(dq.popDeliverable('stable')).toBeUndefined(); // b is stable, but a (lower) is undecided
    // a's agreed priority moves it behind b: b is now the head, and stable.
    a.agreed = [5, 2];
    expect(dq.head()).toBe(b);
    expect(dq.popDeliverable('stable')).toBe(b);
    expect(dq.popDeliverable('stable')).toBeUndefined(); // a is agreed, not yet stable
  });

  it('pops in priority order as entries become stable', () => {
    const dq = new DeliveryQueue();
    const a = entry('c0', 1, [1, 0], [4, 1], false);
    const b = entry('c1', 1, [2, 1], [2, 1], true);
    dq.add(a);
    dq.add(b);
    expect(dq.popDeliverable('stable')).toBe(b);
    expect(dq.popDeliverable('stable')).toBeUndefined();
    a.stable = true;
    expect(dq.popDeliverable('stable')).toBe(a);
    expect(dq.size).toBe(0);
  });

  it("the broken 'proposed' rule delivers an undecided head", () => {
    const dq = new DeliveryQueue();
    dq.add(entry('c0', 1, [1, 0]));
    expect(dq.popDeliverable('proposed')?.sender).toBe('c0');
  });
});

describe('view-change decision', () => {
  it('delivers every message any survivor holds agreed, at its agreed priority, and drops the rest', () => {
    const d = decideViewChange([
      report('c0', 7, [q('c2', 1, [5, 2], true), q('c3', 1, [4, 0], false)]),
      report('c1', 7, [q('c2', 2, [3, 1], true), q('c3', 1, [6, 1], false)]),
    ]);
    expect(d.closings).toHaveLength(1);
    expect(d.closings[0]!.view).toBe(7);
    expect(d.closings[0]!.decisions.map((x) => `${x.sender}#${x.seq}@${x.prio.join('.')}`)).toEqual(['c2#2@3.1', 'c2#1@5.2']);
    expect(d.donor).toBe('c0');
    expect(d.joiners).toEqual([]);
  });

  it('lists the same message once when several survivors hold it', () => {
    const d = decideViewChange([report('c0', 3, [q('c2', 1, [5, 2], true)]), report('c1', 3, [q('c2', 1, [5, 2], true)])]);
    expect(d.closings[0]!.decisions).toHaveLength(1);
  });

  it('members without state become joiners; with nobody holding state there is no donor', () => {
    const d = decideViewChange([report('c0', 3), report('c5', 0, [], null, false)]);
    expect(d.joiners).toEqual(['c5']);
    expect(d.donor).toBe('c0');
    const fresh = decideViewChange([report('c0', 0, [], null, false)]);
    expect(fresh).toEqual({ closings: [], donor: null, joiners: ['c0'] });
  });

  it('reuses the closing an interrupted install handed out, and brings a laggard through it', () => {
    const handedOut: InstallBody = {
      view: 9,
      members: [
        { id: 'c0', endpoint: 'tcp://127.0.0.1:1', incarnation: 0 },
        { id: 'c1', endpoint: 'tcp://127.0.0.1:2', incarnation: 0 },
      ],
      closings: [{ view: 7, decisions: [{ sender: 'c2', seq: 4, page: 0, offset: 0, data: new Uint8Array([4]), prio: [8, 2] }] }],
      donor: 'c0',
      joiners: [],
    };
    // c0 installed view 9 (committed), c1 never saw its install: it is still at 7 and holds other agreed messages.
    const d = decideViewChange([report('c0', 9, [], handedOut), report('c1', 7, [q('c2', 5, [9, 1], true)], null)]);
    expect(d.closings.map((c) => c.view)).toEqual([7, 9]);
    expect(d.closings[0]).toBe(handedOut.closings[0]); // not recomputed from c1's queue
    expect(d.joiners).toEqual([]);
  });

  it('a member behind the newest view and not among its members gets a state transfer (that view may have delivered without it)', () => {
    const other: InstallBody = { view: 9, members: [{ id: 'c0', endpoint: 'tcp://127.0.0.1:1', incarnation: 0 }], closings: [{ view: 7, decisions: [] }], donor: 'c0', joiners: [] };
    // The other side of a healed partition: c0 went on in view 9 without c1, which stayed at 7.
    const d = decideViewChange([report('c0', 9, [], other), report('c1', 7, [q('c2', 5, [9, 1], true)], null)]);
    expect(d.donor).toBe('c0');
    expect(d.joiners).toEqual(['c1']);
  });

  it('a member at a view whose closing nobody can supply gets a state transfer instead', () => {
    const d = decideViewChange([report('c0', 9), report('c1', 4)]);
    expect(d.joiners).toEqual(['c1']);
    expect(d.donor).toBe('c0');
  });

  it('the broken skip-flush variant closes the view with nothing', () => {
    const d = decideViewChange([report('c0', 7, [q('c2', 1, [5, 2], true)])], { skipFlush: true });
    expect(d.closings[0]!.decisions).toEqual([]);
  });
});

describe('partition rule: a new view needs a quorum of the view it replaces', () => {
  const member = (id: string, incarnation = 0): InstallBody['members'][number] => ({ id, endpoint: `tcp://127.0.0.1:${1000 + Number(id.slice(1))}`, incarnation });
  const body = (view: number, ids: string[]): InstallBody => ({ view, members: ids.map((id) => member(id)), closings: [], donor: null, joiners: [] });
  const at = (id: string, view: number, b: InstallBody | null, extra: Partial<FlushReport> = {}): FlushReport => ({ ...report(id, view, [], b), ...extra });
  const v5 = body(5, ['c0', 'c1', 'c2', 'c3']);

  it('a strict majority of the last view installs; a minority does not', () => {
    expect(checkQuorum([at('c1', 5, v5), at('c2', 5, v5), at('c3', 5, v5)]).ok).toBe(true);
    expect(checkQuorum([at('c2', 5, v5)])).toEqual({ ok: false, view: 5, have: 1, of: 4 });
  });

  it('exactly half wins only with the lowest-numbered member of the view: two disjoint halves never both win', () => {
    const withC0 = checkQuorum([at('c0', 5, v5), at('c3', 5, v5)]);
    const without = checkQuorum([at('c1', 5, v5), at('c2', 5, v5)]);
    expect([withC0.ok, without.ok]).toEqual([true, false]);
  });

  it('a restarted member (another incarnation) and an evicted one (no install left) do not count', () => {
    const restarted = at('c1', 0, null, { incarnation: 1, hasState: false });
    const evicted = at('c2', 0, null, { hasState: false, maxInstalled: 5 });
    expect(checkQuorum([at('c0', 5, v5), restarted, evicted]).ok).toBe(false);
  });

  it('a newer install some member holds binds too (it may have been committed), unless a member of it never installed it', () => {
    const v6 = body(6, ['c0', 'c1', 'c2']);
    // c2 and c3 are still at 5; c0 holds the install of 6 (c0, c1, c2): with c1 gone, only c0 and c2 of 6's three.
    expect(checkQuorum([at('c0', 5, v6), at('c2', 5, v6, { maxInstalled: 6 }), at('c3', 5, v5)]).ok).toBe(true);
    // c1, c2 and c3: a majority of 5, but 6 may have been committed by c0, c1, c2, and of those only c2 holds it.
    expect(checkQuorum([at('c1', 5, v5), at('c2', 5, v6, { maxInstalled: 6 }), at('c3', 5, v5)])).toEqual({ ok: false, view: 6, have: 1, of: 3 });
    // If c2 never installed 6 (and prepared our view, so never will), 6 was never committed and binds nothing.
    expect(checkQuorum([at('c0', 5, v6), at('c2', 5, v5, { maxInstalled: 5 }), at('c3', 5, v5)]).ok).toBe(true);
  });

  it("the registry's own view binds when no report is newer; the first view needs a quorum of the spawned clients", () => {
    const known = { view: 5, members: v5.members };
    expect(checkQuorum([at('c3', 0, null, { incarnation: 1, hasState: false })], { known }).ok).toBe(false);
    const everyone = ['c0', 'c1', 'c2', 'c3', 'c4'].map((id) => ({ id, incarnation: 0 }));
    const fresh = (id: string): FlushReport => at(id, 0, null, { hasState: false });
    expect(checkQuorum([fresh('c3'), fresh('c4')], { everyone }).ok).toBe(false);
    expect(checkQuorum([fresh('c0'), fresh('c1'), fresh('c2')], { everyone }).ok).toBe(true);
    // The unsafe variant the simulator runs: no rule at all.
    expect(checkQuorum([fresh('c3')], { everyone, off: true }).ok).toBe(true);
  });
});
