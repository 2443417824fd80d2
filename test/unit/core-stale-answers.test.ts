// Answers that outlive what they answer (issue 13). A client paused past its eviction wakes up to an inbox
// of frames sent for a cluster that has moved on, and links need not be FIFO: a frame sent before an evict
// or before a later hello can arrive after it. Each rule below closes a hole the pair simulator's client
// pauses found (test/sim/pair-sim.test.ts, `clientPause`); these pin them down one frame at a time.
import { describe, expect, it } from 'vitest';
import { ClientCore } from '../../nodes/core/client.js';
import { ManagerCore } from '../../nodes/core/manager.js';
import type { ClientOutput, ManagerOutput } from '../../nodes/core/types.js';
import type { Message, MessageOf } from '../../nodes/protocol/messages.js';
import { summary } from '../sim/simulator.js';

const PAGE_SIZE = 64;
const ME = { id: 'c0', endpoint: 'inproc://c0' } as const;

function client(memory?: 'recoverable'): ClientCore {
  return new ClientCore({
    id: 'c0',
    endpoint: ME.endpoint,
    managers: ['m0'],
    epoch: 1,
    pages: 2,
    pageSize: PAGE_SIZE,
    opTimeoutMs: 10_000,
    incarnation: 0,
    heartbeatMs: 60_000,
    retryMs: 60_000,
    ...(memory ? { memory } : {}),
  });
}

const sentOf = <T extends Message['t']>(out: readonly (ClientOutput | ManagerOutput)[], t: T): MessageOf<T>[] =>
  out.flatMap((o) => (o.type === 'send' && o.msg.t === t ? [o.msg as MessageOf<T>] : []));

const members = (n?: number): Message => ({ t: 'members', from: 'm0', epoch: 1, members: [ME], ...(n !== undefined ? { n } : {}) });
const hbAck = (n: number, ms = 1000): Message => ({ t: 'hb_ack', from: 'm0', epoch: 1, n, ms });
const evict = (n: number): Message => ({ t: 'evict', from: 'm0', epoch: 1, reason: 'silent for 2000 ms', inc: 0, n });

/** A client listed under hello #1 with a lease until t=900 (hb sent at 0, 1000 ms granted, 90% trusted). */
function listedClient(memory?: 'recoverable'): ClientCore {
  const c = client(memory);
  c.start();
  const hb = sentOf(c.receive(members(1), 0), 'hb')[0]!;
  c.receive(hbAck(hb.n!), 0);
  return c;
}

/** Makes `c` the owner of page 0 through a zero grant, at time `now`. */
function own(c: ClientCore, now: number): void {
  const req = sentOf(c.submit({ id: 1, kind: 'write', page: 0, offset: 0, data: new Uint8Array([7]) }, now), 'write_req')[0]!;
  c.receive({ t: 'grant', from: 'm0', epoch: 1, page: 0, req: req.req, access: 'write', zero: true }, now);
}

describe('a client whose lease ran out', () => {
  it('holds a forward until the manager renews the lease, then serves it', () => {
    const c = listedClient();
    own(c, 10);
    const fwd: Message = { t: 'write_fwd', from: 'm0', epoch: 1, page: 0, req: 5, requester: 'c1', inc: 0, n: 1 };
    // Past the lease (paused, say): the forward waits and the client asks for a lease.
    const held = c.receive(fwd, 2000);
    expect(summary(held)).toEqual(['hb→m0']);
    expect(c.pageTable()[0]).toMatchObject({ access: 'write', owner: true });
    const renewed = c.receive(hbAck(sentOf(held, 'hb')[0]!.n!), 2001);
    expect(summary(renewed)).toEqual(['page_data→c1']);
    expect(c.pageTable()[0]).toMatchObject({ access: 'none', owner: false });
  });

  it('drops the held forward when the answer is an evict: the manager gave that request up', () => {
    const c = listedClient();
    own(c, 10);
    expect(summary(c.receive({ t: 'write_fwd', from: 'm0', epoch: 1, page: 0, req: 5, requester: 'c1', inc: 0, n: 1 }, 2000))).toEqual(['hb→m0']);
    expect(summary(c.receive(evict(1), 2001))).toEqual(['hello→m0']);
    // Listed again and leased: nothing of the old forward is sent.
    const hb = sentOf(c.receive(members(2), 2002), 'hb')[0]!;
    expect(summary(c.receive(hbAck(hb.n!), 2003))).toEqual([]);
  });

  it('serves a forward at once while the lease holds', () => {
    const c = listedClient();
    own(c, 10);
    expect(summary(c.receive({ t: 'read_fwd', from: 'm0', epoch: 1, page: 0, req: 5, requester: 'c1', inc: 0, n: 1 }, 100))).toEqual(['page_data→c1']);
  });
});

describe('answers to an earlier hello', () => {
  it('counts itself listed only by the welcome to its latest hello', () => {
    const c = client();
    c.start();
    c.receive(evict(1), 1); // start over: hello #2
    // The welcome to hello #1 comes late: the manager has yet to take hello #2, which will start us over there.
    expect(summary(c.receive(members(1), 2))).toEqual(['ignored members']);
    expect(c.endpointOf('c0')).toBe(ME.endpoint);
    // An op waits for the listing rather than faulting under the old one.
    expect(summary(c.submit({ id: 1, kind: 'read', page: 0, offset: 0, length: 1 }, 3))).toEqual([]);
    const listed = c.receive(members(2), 4);
    expect(summary(listed)).toEqual(['hb→m0', 'read_req→m0']);
  });

  it('ignores a restore verdict on an earlier hello: the latest one is judged afresh', () => {
    const c = listedClient('recoverable');
    own(c, 10);
    c.receive(evict(1), 20); // the page is stashed, hello #2 says so
    c.receive(evict(2), 21); // and again: hello #3
    expect(c.pageTable()[0]).toMatchObject({ access: 'none', recovered: true });
    const stale: Message = { t: 'restore', from: 'm0', epoch: 1, page: 0, version: 1, keep: true, n: 2 };
    expect(summary(c.receive(stale, 22))).toEqual(['ignored restore']);
    expect(c.pageTable()[0]).toMatchObject({ access: 'none', recovered: true });
    expect(summary(c.receive({ ...stale, n: 3 } as Message, 23))).toEqual([]);
    expect(c.pageTable()[0]).toMatchObject({ access: 'write', owner: true });
  });

  it('lets only a forward sent after its latest hello vouch for a recovered copy', () => {
    const c = listedClient('recoverable');
    own(c, 10);
    c.receive(evict(1), 20);
    const hb = sentOf(c.receive(members(2), 21), 'hb')[0]!;
    c.receive(hbAck(hb.n!), 21);
    const fwd: Message = { t: 'read_fwd', from: 'm0', epoch: 1, page: 0, req: 5, requester: 'c1', inc: 0, n: 1 };
    expect(summary(c.receive(fwd, 22))).toEqual(['ignored read_fwd']);
    expect(summary(c.receive({ ...fwd, n: 2 } as Message, 23))).toEqual(['page_data→c1']);
  });
});

describe('the manager and requests that outlive what they asked', () => {
  const hello = (n: number, seq: number, memory?: 'recoverable'): Message => ({ t: 'hello', from: 'c0', epoch: 1, endpoint: ME.endpoint, incarnation: 0, n, seq, ...(memory ? { memory } : {}) });

  it('drops a request sent before the hello that started its client over', () => {
    const m = new ManagerCore({ id: 'm0', epoch: 1, pages: 1, clientTimeoutMs: 0 });
    m.receive(hello(1, 0), 0);
    // Request 1 was sent, then the client was evicted and said hello #2 (having used request numbers up to 1).
    m.receive(hello(2, 1), 1);
    expect(m.receive({ t: 'write_req', from: 'c0', epoch: 1, page: 0, req: 1 }, 2)).toEqual([
      { type: 'ignored', msg: { t: 'write_req', from: 'c0', epoch: 1, page: 0, req: 1 }, reason: "request 1 was sent before c0's hello #2" },
    ]);
    expect(summary(m.receive({ t: 'write_req', from: 'c0', epoch: 1, page: 0, req: 2 }, 3))).toEqual(['grant→c0']);
  });

  it('answers a request on a held page once: a retransmission that crossed the nack is a duplicate', () => {
    const m = new ManagerCore({ id: 'm0', epoch: 1, pages: 1, clientTimeoutMs: 100, heldWaitMs: 50 });
    m.receive(hello(1, 0, 'recoverable'), 0);
    m.receive({ t: 'hello', from: 'c1', epoch: 1, endpoint: 'inproc://c1', incarnation: 0, n: 1, seq: 0 }, 0);
    m.receive({ t: 'write_req', from: 'c0', epoch: 1, page: 0, req: 1 }, 1);
    m.receive({ t: 'confirm', from: 'c0', epoch: 1, page: 0, req: 1, access: 'write', version: 0 }, 1);
    // c0 falls silent and is evicted; its page is held for it.
    for (let t = 10; t <= 150; t += 10) {
      m.receive({ t: 'hb', from: 'c1', epoch: 1 }, t);
      m.tick(t);
    }
    expect(m.recordCache()[0]).toMatchObject({ heldBy: 'c0' });
    m.receive({ t: 'write_req', from: 'c1', epoch: 1, page: 0, req: 7 }, 160);
    expect(summary(m.tick(170))).toEqual([]);
    expect(summary(m.tick(215))).toEqual(['nack→c1']);
    const late: Message = { t: 'write_req', from: 'c1', epoch: 1, page: 0, req: 7 };
    expect(summary(m.receive(late, 220))).toEqual([]);
    expect(m.recordCache()[0]).toMatchObject({ queue: [] });
  });
});
