// The recovery rules for lossy links (issue 11's `lossy` nemesis): a lost forward, page, grant, confirm,
// nack, invalidation or hello is recovered by the requester's retransmission or the manager's re-drive
// timer, and every receiver takes a repeat as a duplicate.
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../nodes/core/invariants.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { NodeId } from '../../nodes/protocol/messages.js';
import { Cluster, summary } from '../sim/simulator.js';

const RETRY_MS = 10;
const REDRIVE_MS = 40;
let nextOp = 1;

/** `checked`: DESIGN §2 invariants after every step (off where a crash leaves the records describing the dead). */
function cluster(clients: number, checked = true): Cluster {
  const c = new Cluster({ clients, pages: 1, pageSize: TOKEN_SPAN, opTimeoutMs: 1000, retryMs: RETRY_MS, redriveMs: REDRIVE_MS, recoverLoss: true });
  if (checked) c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  c.start();
  c.flush();
  return c;
}
const read = (c: Cluster, id: NodeId) => c.submit(id, { id: nextOp++, kind: 'read', page: 0, offset: 0, length: TOKEN_SPAN });
const write = (c: Cluster, id: NodeId, token: string) => c.submit(id, { id: nextOp++, kind: 'write', page: 0, offset: 0, data: encodeToken(token) });
const lastValue = (c: Cluster, id: NodeId): string | null => {
  const r = c.results.filter((x) => x.client === id).at(-1)!.result;
  return r.ok && r.kind === 'read' ? decodeToken(r.data ?? new Uint8Array(0)) : r.ok ? 'ok' : `fail: ${r.error}`;
};
const ticked = (c: Cluster, id: NodeId): string[] => summary(c.tick(id));

describe('lossy links: the requester retransmission re-drives the active request', () => {
  it('a lost write page: the manager forwards again (with the requester address), the old owner re-sends the copy it gave', () => {
    const c = cluster(2);
    write(c, 'c0', 'c0:1');
    c.flush();
    write(c, 'c1', 'c1:1');
    c.step('write_req');
    c.step('write_fwd');
    c.take('page_data'); // lost
    c.now = RETRY_MS;
    expect(ticked(c, 'c1')).toEqual(['write_req→m0']);
    expect(summary(c.step('write_req'))).toEqual(['members→c0', 'write_fwd→c0']);
    c.step('members');
    expect(summary(c.step('write_fwd'))).toEqual(['page_data→c1']);
    c.flush();
    expect(lastValue(c, 'c1')).toBe('ok');
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c1', active: null });
    read(c, 'c0');
    c.flush();
    expect(lastValue(c, 'c0')).toBe('c1:1');
  });

  it('a lost read page: the owner sends the same copy again and stays owner', () => {
    const c = cluster(2);
    write(c, 'c0', 'c0:1');
    c.flush();
    read(c, 'c1');
    c.step('read_req');
    c.step('read_fwd');
    c.take('page_data'); // lost
    c.now = RETRY_MS;
    ticked(c, 'c1');
    c.flush();
    expect(lastValue(c, 'c1')).toBe('c0:1');
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c0', copyset: ['c1'], active: null });
  });

  it('a lost nack: a retransmission of the refused request is refused again', () => {
    const c = cluster(1);
    c.submit('c0', { id: nextOp++, kind: 'read', page: 0, offset: 0, length: TOKEN_SPAN });
    c.flush();
    const m = c.manager;
    m.receive({ t: 'read_req', from: 'c0', epoch: 1, page: 5, req: 77 }, 0);
    expect(summary(m.receive({ t: 'read_req', from: 'c0', epoch: 1, page: 5, req: 77 }, 1))).toEqual(['nack→c0']);
  });

  it('a lost invalidation: re-sent to the holders still unacknowledged; a repeat does not drop a copy fetched since', () => {
    const c = cluster(3);
    write(c, 'c0', 'c0:1');
    c.flush();
    read(c, 'c1');
    c.flush();
    write(c, 'c2', 'c2:1');
    c.step('write_req');
    const inv = c.take('invalidate'); // lost
    c.now = RETRY_MS;
    ticked(c, 'c2');
    expect(summary(c.step('write_req'))).toEqual(['invalidate→c1']);
    c.flush();
    expect(lastValue(c, 'c2')).toBe('ok');
    read(c, 'c1');
    c.flush();
    expect(c.client('c1').pageTable()[0]).toMatchObject({ access: 'read' });
    // The lost frame turns up after all: acknowledged again, the fresh copy kept.
    expect(summary(c.deliver(inv))).toEqual(['inv_ack→m0']);
    expect(c.client('c1').pageTable()[0]).toMatchObject({ access: 'read' });
    c.flush();
    expect(c.manager.recordCache()[0]).toMatchObject({ copyset: ['c1'] });
  });
});

describe('lossy links: the manager re-drives a stalled request', () => {
  it('a lost confirm: after redriveMs the grant goes again, and the client confirms again', () => {
    const c = cluster(1);
    write(c, 'c0', 'c0:1');
    c.step('write_req');
    c.step('grant');
    const confirm = c.take('confirm'); // lost
    expect(summary(c.manager.tick(0))).toEqual([]);
    expect(summary(c.manager.tick(REDRIVE_MS - 1))).toEqual([]);
    c.route('m0', c.manager.tick(REDRIVE_MS));
    expect(summary(c.step('grant'))).toEqual(['confirm→m0']);
    expect(c.take('confirm').msg).toEqual(confirm.msg);
    c.deliver(confirm);
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c0', active: null });
  });
});

describe('lossy links: the adaptive re-drive interval (rto.ts)', () => {
  it('after transfers confirmed ~2 ms after their step, a lost confirm is re-driven after the floor, then after twice it', () => {
    const c = new Cluster({ clients: 2, pages: 1, pageSize: TOKEN_SPAN, opTimeoutMs: 100_000, retryMs: 100_000, redriveMs: 400, minRedriveMs: 5, recoverLoss: true });
    c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
    c.start();
    c.flush();
    write(c, 'c0', 'c0:0');
    c.flush();
    /** A write transfer from the other client's copy, each hop 1 ms; its confirm lost if asked. */
    const transfer = (to: NodeId, token: string, loseConfirm: boolean): void => {
      write(c, to, token);
      c.step('write_req');
      c.now += 1;
      c.step('write_fwd');
      c.now += 1;
      c.step('page_data');
      if (loseConfirm) c.take('confirm');
      else c.step('confirm');
    };
    for (let i = 1; i <= 10; i++) transfer(i % 2 === 1 ? 'c1' : 'c0', `c${i % 2}:${i}`, false);
    // The tenth transfer went to c0: the next goes to c1, and its confirm is lost.
    const stepAt = c.now;
    transfer('c1', 'c1:11', true);
    const redrives = c.manager.counters.redrives;
    c.route('m0', c.manager.tick(stepAt + 4));
    expect(c.manager.counters.redrives).toBe(redrives);
    c.route('m0', c.manager.tick(stepAt + 5));
    expect(c.manager.counters.redrives).toBe(redrives + 1);
    // Backoff: the next re-drive 10 ms later, not 5.
    c.route('m0', c.manager.tick(stepAt + 14));
    expect(c.manager.counters.redrives).toBe(redrives + 1);
    c.route('m0', c.manager.tick(stepAt + 15));
    expect(c.manager.counters.redrives).toBe(redrives + 2);
    // The re-driven forward is answered from the copy given (a repeat), and the requester confirms again.
    c.now = stepAt + 15;
    c.flush();
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c1', active: null });
  });

  it('without minRedriveMs the interval stays redriveMs however fast the steps were answered', () => {
    const c = new Cluster({ clients: 1, pages: 1, pageSize: TOKEN_SPAN, opTimeoutMs: 100_000, retryMs: 100_000, redriveMs: 400, recoverLoss: true });
    c.start();
    c.flush();
    write(c, 'c0', 'c0:1');
    c.step('write_req');
    c.take('grant'); // lost
    const redrives = c.manager.counters.redrives;
    c.route('m0', c.manager.tick(399));
    expect(c.manager.counters.redrives).toBe(redrives);
    c.route('m0', c.manager.tick(400));
    expect(c.manager.counters.redrives).toBe(redrives + 1);
  });
});

describe('lossy links: joining', () => {
  it('re-sends the same hello until a welcome lists it', () => {
    const c = new Cluster({ clients: 1, pages: 1, pageSize: TOKEN_SPAN, opTimeoutMs: 1000, retryMs: RETRY_MS, recoverLoss: true });
    c.start();
    const hello = c.take('hello'); // lost
    c.now = RETRY_MS;
    expect(ticked(c, 'c0')).toEqual(['hello→m0']);
    expect(c.pending('hello')[0]!.msg).toEqual(hello.msg);
    c.flush();
    expect(c.client('c0').joined).toBe(true);
    c.now = 2 * RETRY_MS;
    expect(ticked(c, 'c0')).toEqual([]);
  });
});

describe('lossy links: repeats of a served forward, whichever manager sends them (pair sim)', () => {
  it('a forward repeated after the page came back is dropped, not served afresh from the current copy', () => {
    const c = cluster(2);
    write(c, 'c0', 'c0:1');
    c.flush();
    write(c, 'c1', 'c1:1');
    c.step('write_req');
    const fwd = c.take('write_fwd');
    c.deliver(fwd);
    c.flush();
    write(c, 'c0', 'c0:2');
    c.flush();
    expect(c.client('c0').pageTable()[0]).toMatchObject({ access: 'write', owner: true });
    // The manager re-drove c1's request (a retransmission crossed its page): the late copy of the forward
    // must not hand c0's page (now c0:2) to c1, from this manager or from a newer one.
    expect(summary(c.deliver(fwd))).toEqual([]);
    expect(summary(c.deliver({ ...fwd, msg: { ...fwd.msg, epoch: 2 } }))).toEqual([]);
    expect(c.client('c0').pageTable()[0]).toMatchObject({ access: 'write', owner: true });
    expect(c.client('c0').counters.repeats).toBe(0);
  });

  it('a new primary re-driving a transfer whose page was lost gets the copy that was given, again', () => {
    const c = cluster(2);
    write(c, 'c0', 'c0:1');
    c.flush();
    write(c, 'c1', 'c1:1');
    c.step('write_req');
    const fwd = c.take('write_fwd');
    c.deliver(fwd);
    c.take('page_data'); // lost, and then the primary dies; the next one rebuilt the transfer from c0's report
    const again = c.deliver({ ...fwd, msg: { ...fwd.msg, epoch: 2 } });
    expect(summary(again)).toEqual(['page_data→c1']);
    const resent = again.find((o) => o.type === 'send')!;
    expect(resent.type === 'send' && resent.msg.t === 'page_data' && decodeToken(resent.msg.data)).toBe('c0:1');
    expect(c.client('c0').counters.repeats).toBe(1);
  });
});

describe('lossy links: a requester that dies mid-transfer', () => {
  /** c0 owns page 0 (c0:1); c1 asks to write it; returns the forward, taken off the network. */
  function transferToC1(): { c: Cluster; fwd: ReturnType<Cluster['take']> } {
    const c = cluster(2, false);
    write(c, 'c0', 'c0:1');
    c.flush();
    write(c, 'c1', 'c1:1');
    c.step('write_req');
    return { c, fwd: c.take('write_fwd') };
  }

  it('its forward was lost: the sender keeps the page (reclaim unsent), and the forward turning up late is void', () => {
    const { c, fwd } = transferToC1();
    c.crash('c1');
    c.restart('c1'); // a new incarnation: the manager forgets the old one's request
    c.step('hello');
    const reclaim = c.take('reclaim');
    expect(reclaim.msg).toMatchObject({ t: 'reclaim', requester: 'c1', unsent: true });
    expect(summary(c.deliver(reclaim))).toEqual(['reclaimed→m0']);
    c.flush();
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c0', lostWith: null, active: null });
    expect(c.client('c0').pageTable()[0]).toMatchObject({ access: 'write', owner: true });
    expect(summary(c.deliver(fwd)).filter((s) => s.startsWith('page_data'))).toEqual([]);
    read(c, 'c1');
    c.flush();
    expect(lastValue(c, 'c1')).toBe('c0:1');
    expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  });

  it('its page was sent: it may have written it before dying, so the page is lost (never a stale copy back)', () => {
    const { c, fwd } = transferToC1();
    c.deliver(fwd);
    c.take('page_data'); // in the dead requester's socket
    c.crash('c1');
    c.restart('c1');
    c.flush();
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: null, lostWith: 'c1' });
    read(c, 'c0');
    c.flush();
    expect(lastValue(c, 'c0')).toMatch(/^fail: .*was lost/);
  });
});

describe('lossy links: a page lost with its owner, with frames lost around it', () => {
  it('caught in flight: the refusal goes again until the requester that installed the page confirms it again', () => {
    const c = cluster(2, false);
    write(c, 'c0', 'c0:1');
    c.flush();
    write(c, 'c1', 'c1:1');
    c.step('write_req');
    c.step('write_fwd');
    c.step('page_data');
    c.take('confirm'); // lost
    c.crash('c0');
    c.restart('c0');
    c.step('hello');
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: null, lostWith: 'c0' });
    c.take('nack', { to: 'c1' }); // lost too
    c.route('m0', c.manager.tick(0));
    c.route('m0', c.manager.tick(REDRIVE_MS));
    expect(summary(c.step('nack', { to: 'c1' }))).toEqual(['confirm→m0']);
    c.flush();
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c1', lostWith: null });
    expect(c.client('c1').pageTable()[0]).toMatchObject({ access: 'write', owner: true });
    expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  });

  it('mid-invalidation: a holder whose invalidation was lost is asked again until it drops its copy', () => {
    const c = cluster(2, false);
    write(c, 'c0', 'c0:1');
    c.flush();
    read(c, 'c1');
    c.flush();
    write(c, 'c0', 'c0:2'); // an upgrade: c1's copy is invalidated first
    c.step('write_req');
    c.take('invalidate'); // lost
    c.crash('c0');
    c.restart('c0');
    c.step('hello');
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: null, lostWith: 'c0', copyset: [] });
    expect(c.client('c1').pageTable()[0]).toMatchObject({ access: 'read' });
    c.route('m0', c.manager.tick(REDRIVE_MS));
    expect(summary(c.step('invalidate', { to: 'c1' }))).toEqual(['inv_ack→m0']);
    c.flush();
    expect(c.client('c1').pageTable()[0]).toMatchObject({ access: 'none' });
    c.route('m0', c.manager.tick(3 * REDRIVE_MS));
    expect(c.pending('invalidate')).toEqual([]);
    expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  });
});

