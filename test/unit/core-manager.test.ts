// Every step of the central-manager protocol (DESIGN §2), driven by hand through the
// real ManagerCore and ClientCores. Each delivery, submit and tick is followed by
// checkInvariants(manager, clients) === [] (see `cluster()`).
import { describe, expect, it } from 'vitest';
import { ClientCore } from '../../nodes/core/client.js';
import { checkInvariants } from '../../nodes/core/invariants.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { OpResult } from '../../nodes/core/types.js';
import type { Message, MessageOf, MessageType, NodeId } from '../../nodes/protocol/messages.js';
import { Cluster, MANAGER_ID, summary, type Envelope } from '../sim/simulator.js';

const PAGE_SIZE = 512;

/** A joined cluster (hellos and member lists delivered) that asserts the invariants after every step. */
function cluster(clients: number, pages = 2, makeClient?: (cfg: ConstructorParameters<typeof ClientCore>[0]) => ClientCore): Cluster {
  const c = new Cluster({ clients, pages, pageSize: PAGE_SIZE, opTimeoutMs: 1000, makeClient });
  c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  c.start();
  c.flush();
  return c;
}

let nextOp = 1;
const read = (c: Cluster, id: NodeId, page: number) => c.submit(id, { id: nextOp++, kind: 'read', page, offset: 0, length: TOKEN_SPAN });
const write = (c: Cluster, id: NodeId, page: number, token: string) =>
  c.submit(id, { id: nextOp++, kind: 'write', page, offset: 0, data: encodeToken(token) });

/** The last result a client reported, with its token decoded. */
function last(c: Cluster, id: NodeId): OpResult & { value: string | null } {
  const r = c.results.filter((x) => x.client === id).at(-1);
  if (!r) throw new Error(`${id} has no results`);
  return { ...r.result, value: r.result.ok && r.result.data ? decodeToken(r.result.data) : null };
}

const record = (c: Cluster, page: number) => c.manager.recordCache()[page]!;
const view = (c: Cluster, id: NodeId, page: number) => c.client(id).pageTable()[page]!;
const sent = <T extends MessageType>(env: Envelope, t: T): MessageOf<T> => {
  expect(env.msg.t).toBe(t);
  return env.msg as MessageOf<T>;
};

/** c0 owns `page` with write access and has written `token`. */
function owned(c: Cluster, page: number, token: string, owner: NodeId = 'c0'): void {
  write(c, owner, page, token);
  c.flush();
  expect(view(c, owner, page)).toMatchObject({ access: 'write', owner: true });
}

/** `readers` fetch read copies of `page` one after another. */
function readCopies(c: Cluster, page: number, readers: NodeId[]): void {
  for (const r of readers) {
    read(c, r, page);
    c.flush();
  }
}

describe('hello and members', () => {
  it('answers a newcomer with the whole list and tells earlier clients only about the newcomer', () => {
    const c = new Cluster({ clients: 3, pages: 1, pageSize: PAGE_SIZE, opTimeoutMs: 1000 });
    c.start();
    expect(c.pending().map((e) => `${e.msg.t}→${e.to}`)).toEqual(['hello→m0', 'hello→m0', 'hello→m0']);
    const late = c.take('hello', { from: 'c2' });
    expect(summary(c.step('hello', { from: 'c0' }))).toEqual(['members→c0']);
    expect(summary(c.step('hello', { from: 'c1' }))).toEqual(['members→c1', 'members→c0']);
    c.flush();
    const out = c.deliver(late);
    expect(summary(out)).toEqual(['members→c2', 'members→c0', 'members→c1']);
    const toNewcomer = sent(c.take('members', { to: 'c2' }), 'members');
    expect(toNewcomer.members.map((m) => m.id)).toEqual(['c0', 'c1', 'c2']);
    const toOld = sent(c.take('members', { to: 'c0' }), 'members');
    expect(toOld.members).toEqual([{ id: 'c2', endpoint: 'inproc://c2' }]);
    c.flush();
    expect(c.client('c0').endpointOf('c1')).toBe('inproc://c1');
    expect(c.client('c1').endpointOf('c2')).toBe('inproc://c2');
    expect(c.manager.clientList().map((m) => m.id)).toEqual(['c0', 'c1', 'c2']);
  });

  it('answers a repeated hello from the same incarnation without telling everyone again', () => {
    const c = cluster(2);
    const hello = c.client('c0').start()[0]!;
    expect(hello.type).toBe('send');
    if (hello.type !== 'send') return;
    expect(summary(c.deliver({ id: 0, from: 'c0', to: MANAGER_ID, msg: hello.msg, sentAt: 0 }))).toEqual(['members→c0']);
  });

  it('does not serve a client that has not said hello (tells it to start over), and ignores non-clients', () => {
    const c = new Cluster({ clients: 1, pages: 1, pageSize: PAGE_SIZE, opTimeoutMs: 1000 });
    expect(summary(c.manager.receive({ t: 'read_req', from: 'c0', epoch: 1, page: 0, req: 1 }, 0))).toEqual(['evict→c0']);
    expect(summary(c.manager.receive({ t: 'hello', from: 'm1', epoch: 1, endpoint: 'tcp://127.0.0.1:1', incarnation: 0 }, 0))).toEqual(['ignored hello']);
    expect(c.manager.counters.ignored).toBe(1);
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: null, active: null, queue: [] });
  });

  it('ignores client messages from an older epoch', () => {
    const c = new Cluster({ clients: 1, pages: 1, pageSize: PAGE_SIZE, opTimeoutMs: 1000, epoch: 3 });
    c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
    c.start();
    c.flush();
    const stale: Message = { t: 'read_req', from: 'c0', epoch: 2, page: 0, req: 1 };
    expect(c.deliver({ id: 0, from: 'c0', to: MANAGER_ID, msg: stale, sentAt: 0 })).toEqual([
      { type: 'ignored', msg: stale, reason: 'stale epoch 2 < 3' },
    ]);
    expect(record(c, 0)).toMatchObject({ active: null, queue: [] });
  });
});

describe('read fault on a page nobody owns', () => {
  it('grants a zero page: the requester becomes owner with write access', () => {
    const c = cluster(2);
    expect(summary(read(c, 'c0', 0))).toEqual(['read_req→m0']);
    expect(view(c, 'c0', 0)).toMatchObject({ access: 'none', pending: 'read' });

    expect(summary(c.step('read_req'))).toEqual(['grant→c0']);
    expect(sent(c.pending('grant')[0]!, 'grant')).toMatchObject({ access: 'write', zero: true, page: 0 });
    expect(record(c, 0).active).toMatchObject({ requester: 'c0', kind: 'read', phase: 'transferring' });

    expect(summary(c.step('grant'))).toEqual(['confirm→m0', 'done read ok']);
    expect(last(c, 'c0')).toMatchObject({ ok: true, fault: true, value: null, version: 0 });
    expect(view(c, 'c0', 0)).toMatchObject({ access: 'write', owner: true, pending: null });
    expect(sent(c.pending('confirm')[0]!, 'confirm')).toMatchObject({ access: 'write', version: 0 });

    expect(summary(c.step('confirm'))).toEqual([]);
    expect(record(c, 0)).toMatchObject({ owner: 'c0', copyset: [], active: null, queue: [] });
    expect(c.manager.counters.served).toBe(1);
  });

  it('grants a zero page on a first write too', () => {
    const c = cluster(2);
    write(c, 'c1', 1, 'c1:1');
    expect(summary(c.step('write_req'))).toEqual(['grant→c1']);
    expect(summary(c.step('grant'))).toEqual(['confirm→m0', 'done write ok']);
    c.flush();
    // The record holds the version handed over (0); the owner's own writes run ahead of it until the next transfer.
    expect(record(c, 1)).toMatchObject({ owner: 'c1', copyset: [], version: 0 });
    expect(view(c, 'c1', 1).version).toBe(1);
    expect(decodeToken(c.client('c1').pageBytes(1)!)).toBe('c1:1');
  });
});

describe('hits', () => {
  it('serves read and write hits locally with no message', () => {
    const c = cluster(2);
    owned(c, 0, 'c0:1');
    expect(summary(write(c, 'c0', 0, 'c0:2'))).toEqual(['done write ok']);
    expect(last(c, 'c0')).toMatchObject({ ok: true, fault: false, version: 2 });
    expect(summary(read(c, 'c0', 0))).toEqual(['done read ok']);
    expect(last(c, 'c0')).toMatchObject({ ok: true, fault: false, value: 'c0:2' });
    expect(c.inflight).toEqual([]);
  });

  it('serves read hits from a read copy with no message', () => {
    const c = cluster(2);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1']);
    expect(summary(read(c, 'c1', 0))).toEqual(['done read ok']);
    expect(last(c, 'c1')).toMatchObject({ fault: false, value: 'c0:1' });
    expect(c.inflight).toEqual([]);
  });
});

describe('read fault forwarded to the owner', () => {
  it('owner downgrades to read and sends the page; requester installs, confirms, joins the copy set', () => {
    const c = cluster(3);
    owned(c, 0, 'c0:1');
    expect(summary(read(c, 'c1', 0))).toEqual(['read_req→m0']);
    expect(summary(c.step('read_req'))).toEqual(['read_fwd→c0']);
    expect(sent(c.pending('read_fwd')[0]!, 'read_fwd')).toMatchObject({ requester: 'c1', page: 0 });

    expect(summary(c.step('read_fwd'))).toEqual(['page_data→c1']);
    expect(view(c, 'c0', 0)).toMatchObject({ access: 'read', owner: true });
    const data = sent(c.pending('page_data')[0]!, 'page_data');
    expect(data).toMatchObject({ from: 'c0', access: 'read', version: 1 });
    expect(data.data.byteLength).toBe(PAGE_SIZE);

    expect(summary(c.step('page_data'))).toEqual(['confirm→m0', 'done read ok']);
    expect(last(c, 'c1')).toMatchObject({ ok: true, fault: true, value: 'c0:1', version: 1 });
    expect(view(c, 'c1', 0)).toMatchObject({ access: 'read', owner: false, version: 1 });
    expect(record(c, 0).copyset).toEqual([]); // not before the confirm

    expect(summary(c.step('confirm'))).toEqual([]);
    expect(record(c, 0)).toMatchObject({ owner: 'c0', copyset: ['c1'], version: 1, active: null });

    readCopies(c, 0, ['c2']);
    expect(record(c, 0).copyset).toEqual(['c1', 'c2']);
    expect(last(c, 'c2').value).toBe('c0:1');
  });

  it('a write by the owner after its page was copied is a fault again (it only has read access)', () => {
    const c = cluster(2);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1']);
    expect(summary(write(c, 'c0', 0, 'c0:2'))).toEqual(['write_req→m0']);
  });
});

describe('write fault with copies', () => {
  it('invalidates every copy holder and sends write_fwd only after the LAST inv_ack', () => {
    const c = cluster(4);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1', 'c2']);

    expect(summary(write(c, 'c3', 0, 'c3:1'))).toEqual(['write_req→m0']);
    // The owner is not invalidated: it hands the page over itself.
    expect(summary(c.step('write_req'))).toEqual(['invalidate→c1', 'invalidate→c2']);
    expect(record(c, 0).active).toMatchObject({ requester: 'c3', kind: 'write', phase: 'invalidating' });

    expect(summary(c.step('invalidate', { to: 'c2' }))).toEqual(['inv_ack→m0']);
    expect(view(c, 'c2', 0)).toMatchObject({ access: 'none' });
    expect(c.client('c2').pageBytes(0)).toBeNull();
    expect(summary(c.step('inv_ack', { from: 'c2' }))).toEqual([]);
    expect(c.pending('write_fwd')).toEqual([]);
    expect(record(c, 0)).toMatchObject({ copyset: ['c1'], active: { phase: 'invalidating' } });

    // c1 still holds its copy and may read it: the write has not happened yet.
    expect(summary(read(c, 'c1', 0))).toEqual(['done read ok']);
    expect(last(c, 'c1').value).toBe('c0:1');

    expect(summary(c.step('invalidate', { to: 'c1' }))).toEqual(['inv_ack→m0']);
    expect(c.pending('write_fwd')).toEqual([]);
    expect(summary(c.step('inv_ack', { from: 'c1' }))).toEqual(['write_fwd→c0']);
    expect(record(c, 0)).toMatchObject({ copyset: [], active: { phase: 'transferring' } });

    expect(summary(c.step('write_fwd'))).toEqual(['page_data→c3']);
    expect(view(c, 'c0', 0)).toMatchObject({ access: 'none', owner: false });
    expect(c.client('c0').pageBytes(0)).toBeNull();
    expect(sent(c.pending('page_data')[0]!, 'page_data')).toMatchObject({ access: 'write', version: 1 });

    expect(summary(c.step('page_data'))).toEqual(['confirm→m0', 'done write ok']);
    expect(last(c, 'c3')).toMatchObject({ ok: true, fault: true, version: 2 });
    expect(view(c, 'c3', 0)).toMatchObject({ access: 'write', owner: true, version: 2 });
    expect(summary(c.step('confirm'))).toEqual([]);
    expect(record(c, 0)).toMatchObject({ owner: 'c3', copyset: [], version: 1, active: null });
    expect(c.manager.counters.invalidations).toBe(2);

    // The old copy holders now fault and see the new value.
    expect(summary(read(c, 'c1', 0))).toEqual(['read_req→m0']);
    c.flush();
    expect(last(c, 'c1').value).toBe('c3:1');
  });

  it('does not invalidate the requester itself when it holds a read copy', () => {
    const c = cluster(3);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1', 'c2']);
    write(c, 'c1', 0, 'c1:1');
    expect(summary(c.step('write_req'))).toEqual(['invalidate→c2']);
    c.step('invalidate');
    expect(summary(c.step('inv_ack'))).toEqual(['write_fwd→c0']);
    // While the page is on its way the requester still holds its old copy, but its reads wait behind its write.
    expect(summary(read(c, 'c1', 0))).toEqual([]);
    c.flush();
    expect(c.results.filter((r) => r.client === 'c1').slice(-2).map((r) => r.result.kind)).toEqual(['write', 'read']);
    expect(last(c, 'c1')).toMatchObject({ kind: 'read', value: 'c1:1' });
    expect(record(c, 0)).toMatchObject({ owner: 'c1', copyset: [] });
  });

  it('ignores an inv_ack from a node it did not ask, or a second one from the same node', () => {
    const c = cluster(4);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1', 'c2']);
    write(c, 'c3', 0, 'c3:1');
    c.step('write_req');
    c.step('invalidate', { to: 'c1' });
    const ack = c.take('inv_ack');
    c.deliver(ack);
    expect(summary(c.deliver(ack))).toEqual(['ignored inv_ack']); // a repeated ack must not count twice
    const forged: Message = { t: 'inv_ack', from: 'c3', epoch: 1, page: 0, req: sent(ack, 'inv_ack').req, requester: 'c3' };
    expect(summary(c.deliver({ ...ack, from: 'c3', msg: forged }))).toEqual(['ignored inv_ack']);
    expect(c.pending('write_fwd')).toEqual([]);
    c.flush();
    expect(record(c, 0)).toMatchObject({ owner: 'c3', copyset: [] });
  });
});

describe('owner upgrade', () => {
  it('invalidates the copies, then grants write access without sending data', () => {
    const c = cluster(3);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1', 'c2']);
    expect(summary(write(c, 'c0', 0, 'c0:2'))).toEqual(['write_req→m0']);
    expect(summary(c.step('write_req'))).toEqual(['invalidate→c1', 'invalidate→c2']);
    c.step('invalidate', { to: 'c1' });
    c.step('invalidate', { to: 'c2' });
    expect(summary(c.step('inv_ack', { from: 'c1' }))).toEqual([]);
    expect(summary(c.step('inv_ack', { from: 'c2' }))).toEqual(['grant→c0']);
    expect(sent(c.pending('grant')[0]!, 'grant')).toMatchObject({ access: 'write', zero: false });
    expect(summary(c.step('grant'))).toEqual(['confirm→m0', 'done write ok']);
    expect(c.pending('page_data')).toEqual([]);
    expect(last(c, 'c0')).toMatchObject({ ok: true, fault: true, version: 2 });
    c.flush();
    expect(record(c, 0)).toMatchObject({ owner: 'c0', copyset: [], version: 1 });
    expect(decodeToken(c.client('c0').pageBytes(0)!)).toBe('c0:2');
  });
});

describe('per-page request queue', () => {
  it('serves queued requests one at a time, each only after the previous confirm', () => {
    const c = cluster(4);
    owned(c, 0, 'c0:1');
    read(c, 'c1', 0);
    write(c, 'c2', 0, 'c2:1');
    read(c, 'c3', 0);
    expect(summary(c.step('read_req', { from: 'c1' }))).toEqual(['read_fwd→c0']);
    expect(summary(c.step('write_req', { from: 'c2' }))).toEqual([]);
    expect(summary(c.step('read_req', { from: 'c3' }))).toEqual([]);
    expect(record(c, 0).queue.map((q) => `${q.kind}:${q.requester}`)).toEqual(['write:c2', 'read:c3']);

    c.step('read_fwd');
    c.step('page_data');
    // c1 has its copy but has not confirmed: nothing for c2 may start yet.
    expect(c.pending().map((e) => e.msg.t)).toEqual(['confirm']);
    expect(summary(c.step('confirm'))).toEqual(['invalidate→c1']);
    c.step('invalidate');
    expect(summary(c.step('inv_ack'))).toEqual(['write_fwd→c0']);
    c.step('write_fwd');
    c.step('page_data');
    expect(record(c, 0).queue.map((q) => q.requester)).toEqual(['c3']);
    expect(summary(c.step('confirm'))).toEqual(['read_fwd→c2']);
    c.flush();
    expect(last(c, 'c1').value).toBe('c0:1');
    expect(last(c, 'c3').value).toBe('c2:1');
    expect(record(c, 0)).toMatchObject({ owner: 'c2', copyset: ['c3'], active: null, queue: [] });
  });

  it('keeps pages independent: a busy page does not hold up another', () => {
    const c = cluster(3);
    owned(c, 0, 'c0:1');
    read(c, 'c1', 0);
    c.step('read_req');
    read(c, 'c2', 1);
    expect(summary(c.step('read_req', { from: 'c2' }))).toEqual(['grant→c2']);
    c.flush();
    expect(record(c, 1)).toMatchObject({ owner: 'c2' });
    expect(record(c, 0)).toMatchObject({ owner: 'c0', copyset: ['c1'] });
  });
});

describe('duplicate requests', () => {
  it('ignores a repeated request while it is active or queued', () => {
    const c = cluster(3);
    owned(c, 0, 'c0:1');
    read(c, 'c1', 0);
    read(c, 'c2', 0);
    const r1 = c.take('read_req', { from: 'c1' });
    const r2 = c.take('read_req', { from: 'c2' });
    expect(summary(c.deliver(r1))).toEqual(['read_fwd→c0']);
    expect(summary(c.deliver(r2))).toEqual([]);
    expect(summary(c.deliver(r1))).toEqual([]); // active
    expect(summary(c.deliver(r2))).toEqual([]); // queued
    expect(c.manager.counters.duplicates).toBe(2);
    expect(record(c, 0).queue).toHaveLength(1);
    c.flush();
    expect(c.manager.counters.served).toBe(3); // c0's first write, c1, c2: each once
    expect(record(c, 0)).toMatchObject({ copyset: ['c1', 'c2'], queue: [] });
  });

  it('ignores a late duplicate of a request that was already served (it would wedge the page otherwise)', () => {
    const c = cluster(2);
    owned(c, 0, 'c0:1');
    read(c, 'c1', 0);
    const req = c.take('read_req');
    c.deliver(req);
    c.flush();
    // Served and confirmed; a copy of the same request now arrives (a client retry after failover looks the same).
    expect(summary(c.deliver(req))).toEqual([]);
    expect(record(c, 0)).toMatchObject({ active: null, queue: [], copyset: ['c1'] });
    expect(c.manager.counters.duplicates).toBe(1);
  });
});

describe('out-of-range pages', () => {
  it('nacks a request for a page the manager does not have; the client fails the op with the reason', () => {
    // A client configured with more pages than the manager (a mismatched config) is the only way to send one.
    const c = cluster(2, 4, (cfg) => new ClientCore({ ...cfg, pages: 8 }));
    expect(summary(read(c, 'c0', 6))).toEqual(['read_req→m0']);
    expect(summary(c.step('read_req'))).toEqual(['nack→c0']);
    expect(sent(c.pending('nack')[0]!, 'nack').reason).toBe('page 6 is outside 0..3');
    expect(summary(c.step('nack'))).toEqual(['done read fail']);
    const r = last(c, 'c0');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('manager refused: page 6 is outside 0..3');
    expect(view(c, 'c0', 6).pending).toBeNull();
  });

  it('ignores other messages about pages out of range', () => {
    const c = cluster(2, 2);
    const confirm: Message = { t: 'confirm', from: 'c0', epoch: 1, page: 2, req: 1, access: 'read', version: 0 };
    const ack: Message = { t: 'inv_ack', from: 'c0', epoch: 1, page: 9, req: 1, requester: 'c1' };
    for (const msg of [confirm, ack]) {
      expect(summary(c.deliver({ id: 0, from: msg.from, to: MANAGER_ID, msg, sentAt: 0 }))).toEqual([`ignored ${msg.t}`]);
    }
  });
});

describe('stray messages at the manager', () => {
  it('ignores confirms for no transfer and message types meant for clients', () => {
    const c = cluster(2);
    owned(c, 0, 'c0:1');
    const stray: Message[] = [
      { t: 'confirm', from: 'c1', epoch: 1, page: 0, req: 42, access: 'write', version: 9 },
      { t: 'grant', from: 'c1', epoch: 1, page: 0, req: 1, access: 'write', zero: true },
      { t: 'page_data', from: 'c1', epoch: 1, page: 0, req: 1, access: 'write', version: 3, data: new Uint8Array(PAGE_SIZE) },
    ];
    for (const msg of stray) {
      expect(summary(c.deliver({ id: 0, from: msg.from, to: MANAGER_ID, msg, sentAt: 0 }))).toEqual([`ignored ${msg.t}`]);
    }
    expect(record(c, 0)).toMatchObject({ owner: 'c0', copyset: [], version: 0, active: null });
  });
});

// A restarted client is a new incarnation of the same id (request numbers carry it). Links need not
// be FIFO, so messages of the dead incarnation can arrive after its successor's hello and the other
// way round. Invariants are asserted once the manager has heard of the restart: until then its
// records rightly still describe the dead incarnation.
describe('client restart (new incarnation)', () => {
  /** Crash and restart `id`; its new hello is returned undelivered. */
  function restart(c: Cluster, id: NodeId): Envelope {
    c.afterStep = () => {};
    c.crash(id);
    c.restart(id);
    return c.take('hello', { from: id });
  }
  const settle = (c: Cluster): void => {
    c.flush();
    expect(checkInvariants(c.manager, c.clients)).toEqual([]);
    for (const r of c.manager.recordCache()) expect(r).toMatchObject({ active: null, queue: [] });
  };
  const failure = (c: Cluster, id: NodeId): string => {
    const r = last(c, id);
    return r.ok ? 'ok' : r.error;
  };

  it('ignores a request of the dead incarnation that arrives after the new hello', () => {
    const c = cluster(2);
    read(c, 'c0', 0);
    const stale = c.take('read_req');
    c.deliver(restart(c, 'c0'));
    expect(c.deliver(stale)).toMatchObject([{ type: 'ignored', reason: 'request 1 is from an earlier incarnation of c0' }]);
    settle(c);
    read(c, 'c0', 0);
    settle(c);
    expect(last(c, 'c0')).toMatchObject({ ok: true, value: null });
  });

  it('takes a request that overtook its own incarnation’s hello as proof of the restart; the hello then forgets nothing', () => {
    const c = cluster(2);
    owned(c, 1, 'c0:1'); // held only by the incarnation about to die
    const hello = restart(c, 'c0');
    expect(summary(read(c, 'c0', 0))).toEqual(['read_req→m0']);
    // The dead incarnation's page is written off and the new request served, all at once.
    expect(summary(c.step('read_req', { from: 'c0' }))).toEqual(['grant→c0']);
    expect(record(c, 1)).toMatchObject({ owner: null, lostWith: 'c0' });
    c.flush();
    expect(last(c, 'c0')).toMatchObject({ ok: true, value: null });
    expect(summary(c.deliver(hello))).toEqual(['members→c0']);
    settle(c);
    expect(record(c, 0)).toMatchObject({ owner: 'c0' });
  });

  it('ignores a late hello of the dead incarnation instead of forgetting its successor', () => {
    const c = cluster(2);
    const oldHello: Message = { t: 'hello', from: 'c0', epoch: 1, endpoint: 'inproc://c0', incarnation: 0 };
    c.deliver(restart(c, 'c0'));
    settle(c);
    write(c, 'c0', 0, 'c0:new');
    settle(c);
    expect(c.deliver({ id: 0, from: 'c0', to: MANAGER_ID, msg: oldHello, sentAt: 0 })).toMatchObject([
      { type: 'ignored', reason: 'hello from earlier incarnation 0 of c0' },
    ]);
    expect(c.manager.clientEntries().find((e) => e.id === 'c0')?.incarnation).toBe(1);
    expect(record(c, 0)).toMatchObject({ owner: 'c0', lostWith: null });
    settle(c);
  });

  it('declares a zero page lost when its grantee dies before confirming (it may have written it)', () => {
    const c = cluster(2);
    read(c, 'c0', 0);
    c.step('read_req');
    c.step('grant');
    c.take('confirm'); // lost with the dying process
    write(c, 'c0', 0, 'c0:1');
    expect(last(c, 'c0')).toMatchObject({ ok: true, fault: false });
    c.deliver(restart(c, 'c0'));
    settle(c);
    expect(record(c, 0)).toMatchObject({ owner: null, lostWith: 'c0' });
    // Never a fresh zero page: that would "un-write" c0:1.
    read(c, 'c1', 0);
    settle(c);
    expect(failure(c, 'c1')).toBe('manager refused: page 0 was lost: its only copy was held by c0, which crashed or came back without it');
  });

  it('does not serve a late retry of a request it already refused (page lost, then recovered)', () => {
    const c = cluster(3);
    owned(c, 0, 'c2:1', 'c2');
    write(c, 'c1', 0, 'c1:1');
    c.step('write_req');
    c.step('write_fwd');
    c.step('page_data'); // c1 has the page; its confirm is still on the way when c2 dies
    c.deliver(restart(c, 'c2'));
    expect(record(c, 0)).toMatchObject({ owner: null, lostWith: 'c2' });
    read(c, 'c0', 0);
    const req = c.take('read_req', { from: 'c0' });
    expect(summary(c.deliver(req))).toEqual(['nack→c0']);
    c.step('nack', { to: 'c0' });
    expect(failure(c, 'c0')).toMatch(/page 0 was lost/);
    expect(summary(c.step('confirm', { from: 'c1' }))).toEqual(['own→c1']); // the page survived at c1
    // The same request again (a retry sent before the nack arrived) must not start a transfer nobody confirms.
    expect(summary(c.deliver(req))).toEqual([]);
    settle(c);
    read(c, 'c0', 0);
    settle(c);
    expect(last(c, 'c0')).toMatchObject({ ok: true, value: 'c1:1' });
  });

  it('does not hand a dead owner’s page to a holder its own write was invalidating', () => {
    const c = cluster(2);
    owned(c, 0, 'c0:1');
    readCopies(c, 0, ['c1']);
    write(c, 'c0', 0, 'c0:2'); // owner upgrade: invalidates c1 first
    c.step('write_req');
    c.step('invalidate'); // c1 dropped its copy; its inv_ack is still on the way
    c.deliver(restart(c, 'c0'));
    // The only copy was c0's: the page is lost, not given to c1 (which would be asked for data it no longer has).
    expect(c.pending('own')).toEqual([]);
    settle(c);
    expect(record(c, 0)).toMatchObject({ owner: null, lostWith: 'c0' });
    read(c, 'c1', 0);
    settle(c);
    expect(failure(c, 'c1')).toMatch(/page 0 was lost/);
  });
});

describe('a client that started over without a new incarnation', () => {
  // An evict that reached a listed client (one from a manager that does not name the hello it ends) wiped
  // the write transfer under way to it; the page data that came next was ignored and no confirm came.
  // Its next hello, of the same incarnation, must end what we still recorded for it, as a reboot does.
  it('takes a later hello of the same incarnation as a start-over: the sender takes the page back', () => {
    const c = new Cluster({ clients: 2, pages: 1, pageSize: PAGE_SIZE, opTimeoutMs: 1000, memory: 'recoverable' });
    c.start();
    c.flush();
    write(c, 'c0', 0, 'c0:1');
    c.flush();
    expect(last(c, 'c0')).toMatchObject({ ok: true });
    write(c, 'c1', 0, 'c1:1');
    c.step('write_req', { from: 'c1' });
    c.step('write_fwd', { to: 'c0' });
    expect(c.pending('page_data', { to: 'c1' })).toHaveLength(1);
    const wiped = c.deliver({ id: 0, from: MANAGER_ID, to: 'c1', msg: { t: 'evict', from: MANAGER_ID, epoch: 1, reason: 'stale' }, sentAt: c.now });
    expect(summary(wiped)).toEqual(['done write fail', 'hello→m0']);
    c.step('page_data', { to: 'c1' }); // ignored: its request is gone
    expect(summary(c.step('hello', { from: 'c1' }))).toEqual(['members→c1', 'reclaim→c0']);
    c.flush();
    expect(record(c, 0)).toMatchObject({ owner: 'c0', active: null, queue: [] });
    read(c, 'c1', 0);
    c.flush();
    expect(last(c, 'c1')).toMatchObject({ ok: true, value: 'c0:1' });
    expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  });
});
