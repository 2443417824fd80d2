// The client state machine: local hits, argument checks, its own per-page queue,
// epochs, timeouts and stray input. Protocol flows run through the real manager
// (the Cluster harness) with the invariants asserted after every step.
import { describe, expect, it } from 'vitest';
import { ClientCore } from '../../nodes/core/client.js';
import { checkInvariants } from '../../nodes/core/invariants.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { OpRequest, OpResult } from '../../nodes/core/types.js';
import type { ClientMemory, Message, NodeId } from '../../nodes/protocol/messages.js';
import { Cluster, summary } from '../sim/simulator.js';

const PAGE_SIZE = 256;
const TIMEOUT_MS = 100;

function cluster(clients: number, pages = 2): Cluster {
  const c = new Cluster({ clients, pages, pageSize: PAGE_SIZE, opTimeoutMs: TIMEOUT_MS });
  c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
  c.start();
  c.flush();
  return c;
}

/** A lone client core, for checks that need no manager. */
const lone = (epoch = 1, memory?: ClientMemory): ClientCore =>
  new ClientCore({
    ...(memory ? { memory } : {}),
    id: 'c0',
    endpoint: 'inproc://c0',
    managers: ['m0'],
    epoch,
    pages: 2,
    pageSize: PAGE_SIZE,
    opTimeoutMs: TIMEOUT_MS,
    incarnation: 0,
    heartbeatMs: 60_000,
    retryMs: 60_000,
  });

let nextOp = 1;
const readOp = (page: number, offset = 0, length = TOKEN_SPAN): OpRequest => ({ id: nextOp++, kind: 'read', page, offset, length });
const writeOp = (page: number, token: string, offset = 0): OpRequest => ({ id: nextOp++, kind: 'write', page, offset, data: encodeToken(token) });

function results(c: Cluster, id: NodeId): (OpResult & { value: string | null })[] {
  return c.results
    .filter((r) => r.client === id)
    .map(({ result }) => ({ ...result, value: result.ok && result.data ? decodeToken(result.data) : null }));
}
const last = (c: Cluster, id: NodeId) => results(c, id).at(-1)!;

/** Tick outputs without the heartbeat every first tick sends (heartbeats are not what these tests are about). */
const ticked = (c: Cluster, id: NodeId) => summary(c.tick(id)).filter((s) => s !== 'hb→m0');

/** Delivers a hand-made message to `to` through the cluster (so the invariants are still checked). */
const inject = (c: Cluster, to: NodeId, msg: Message) => c.deliver({ id: 0, from: msg.from, to, msg, sentAt: c.now });

describe('hits', () => {
  it('a write hit changes the bytes and the version, a read hit returns them; neither sends anything', () => {
    const c = cluster(2);
    c.submit('c0', writeOp(0, 'c0:1'));
    c.flush();
    const before = c.client('c0').counters.hits;
    expect(summary(c.submit('c0', writeOp(0, 'c0:22')))).toEqual(['done write ok']);
    expect(summary(c.submit('c0', readOp(0)))).toEqual(['done read ok']);
    expect(last(c, 'c0')).toMatchObject({ ok: true, fault: false, value: 'c0:22', version: 2 });
    expect(c.client('c0').counters.hits).toBe(before + 2);
    expect(c.inflight).toEqual([]);
  });

  it('reads exactly the requested byte range', () => {
    const c = cluster(1);
    c.submit('c0', { id: nextOp++, kind: 'write', page: 1, offset: 10, data: new Uint8Array([1, 2, 3]) });
    c.flush();
    c.submit('c0', readOp(1, 9, 5));
    const r = last(c, 'c0');
    expect(r.ok && r.data).toEqual(new Uint8Array([0, 1, 2, 3, 0]));
  });
});

describe('argument checks', () => {
  it.each([
    ['page -1', readOp(-1), 'page -1 is outside 0..1'],
    ['page = pages', readOp(2), 'page 2 is outside 0..1'],
    ['fractional page', readOp(0.5), 'page 0.5 is outside 0..1'],
  ])('fails an op on %s at once with a clear error and sends nothing', (_name, op, error) => {
    const out = lone().submit(op, 0);
    expect(out).toEqual([{ type: 'done', result: { id: op.id, kind: op.kind, page: op.page, ok: false, fault: false, error } }]);
  });

  it.each([
    ['read past the end', readOp(0, PAGE_SIZE - 4, 5), `bytes ${PAGE_SIZE - 4}..${PAGE_SIZE + 1} do not fit in a ${PAGE_SIZE}-byte page`],
    ['negative offset', readOp(0, -1, 4), `bytes -1..3 do not fit in a ${PAGE_SIZE}-byte page`],
    ['fractional offset', readOp(0, 1.5, 4), `bytes 1.5..5.5 do not fit in a ${PAGE_SIZE}-byte page`],
    ['negative length', readOp(0, 0, -2), `bytes 0..-2 do not fit in a ${PAGE_SIZE}-byte page`],
    ['write past the end', writeOp(1, 'c0:1', PAGE_SIZE - 2), `bytes ${PAGE_SIZE - 2}..${PAGE_SIZE + 3} do not fit in a ${PAGE_SIZE}-byte page`],
  ])('fails a bad offset (%s) at once and sends nothing', (_name, op, error) => {
    const c = lone();
    const out = c.submit(op, 0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ type: 'done', result: { ok: false, fault: false, error } });
    expect(c.pageTable().every((v) => v.pending === null)).toBe(true);
    expect(c.counters.failed).toBe(1);
  });

  it('accepts a range that ends exactly at the end of the page', () => {
    expect(summary(lone().submit(readOp(0, PAGE_SIZE - 1, 1), 0))).toEqual(['read_req→m0']);
  });
});

describe('ops waiting behind a fault', () => {
  it('parks ops on a faulting page and runs them in order once the page arrives, faulting again for more access', () => {
    const c = cluster(2);
    c.submit('c1', writeOp(0, 'c1:1'));
    c.flush();
    expect(summary(c.submit('c0', readOp(0)))).toEqual(['read_req→m0']);
    expect(summary(c.submit('c0', readOp(0)))).toEqual([]); // one fault per page
    expect(summary(c.submit('c0', writeOp(0, 'c0:1')))).toEqual([]);
    expect(summary(c.submit('c0', readOp(1)))).toEqual(['read_req→m0']); // other pages are not held up
    c.step('read_req', { page: 0 });
    c.step('read_fwd');
    // Both reads are served by the one copy; the write needs more access and opens the next fault.
    expect(summary(c.step('page_data'))).toEqual(['confirm→m0', 'done read ok', 'done read ok', 'write_req→m0']);
    c.flush();
    expect(results(c, 'c0').map((r) => `${r.kind} p${r.page} ${r.value ?? '-'} ${r.fault ? 'fault' : 'hit'}`)).toEqual([
      'read p0 c1:1 fault',
      'read p0 c1:1 fault',
      'read p1 - fault',
      'write p0 - fault',
    ]);
    expect(c.client('c0').pageTable()[0]).toMatchObject({ access: 'write', owner: true, pending: null });
  });

  it('a nack fails every op waiting on that page', () => {
    const c = lone();
    c.start();
    c.submit(readOp(1), 0);
    c.submit(writeOp(1, 'c0:1'), 0);
    const req = c.submit(readOp(0), 0)[0]!;
    expect(req.type === 'send' && req.msg.t).toBe('read_req');
    const out = c.receive({ t: 'nack', from: 'm0', epoch: 1, page: 1, req: 1, reason: 'no' }, 1);
    expect(out.map((o) => o.type === 'done' && !o.result.ok && o.result.error)).toEqual(['manager refused: no', 'manager refused: no']);
    expect(c.pageTable().map((v) => v.pending)).toEqual(['read', null]);
  });
});

describe('epochs', () => {
  it('ignores manager messages from an older epoch and follows a newer manager', () => {
    const c = lone(2);
    c.submit(readOp(0), 0);
    const stale = c.receive({ t: 'grant', from: 'm0', epoch: 1, page: 0, req: 1, access: 'write', zero: true }, 1);
    // Ignored, and the deposed manager is told which epoch it lost to.
    expect(stale).toEqual([
      { type: 'ignored', msg: expect.objectContaining({ t: 'grant' }), reason: 'stale epoch 1 < 2' },
      { type: 'send', to: 'm0', msg: { t: 'epoch_reject', from: 'c0', epoch: 2, seen: 2 } },
    ]);
    expect(c.pageTable()[0]).toMatchObject({ access: 'none', pending: 'read' });

    expect(c.receive({ t: 'members', from: 'm1', epoch: 3, members: [] }, 2)).toEqual([]);
    expect(c.currentManager).toBe('m1');
    expect(c.currentEpoch).toBe(3);
    expect(c.receive({ t: 'members', from: 'm0', epoch: 2, members: [{ id: 'c9', endpoint: 'tcp://x:1' }] }, 3)).toMatchObject([
      { type: 'ignored', reason: 'stale epoch 2 < 3' },
      { type: 'send', to: 'm0', msg: { t: 'epoch_reject' } },
    ]);
    expect(c.endpointOf('c9')).toBeUndefined();
    const next = c.submit(readOp(1), 4);
    expect(next).toMatchObject([{ type: 'send', to: 'm1', msg: { t: 'read_req', epoch: 3 } }]);
  });

  it('holds a page sent under an older epoch until the manager vouches for it with resume', () => {
    const c = cluster(2);
    c.submit('c1', writeOp(0, 'c1:1'));
    c.flush();
    c.submit('c0', readOp(0));
    c.step('read_req');
    c.step('read_fwd');
    const data = c.take('page_data');
    const req = data.msg.t === 'page_data' ? data.msg.req : -1;
    // A page from before a takeover might belong to a transfer the new manager never heard of.
    expect(summary(c.deliver({ ...data, msg: { ...data.msg, epoch: 0 } }))).toEqual([]);
    expect(c.client('c0').pageTable()[0]).toMatchObject({ access: 'none', pending: 'read' });
    expect(summary(inject(c, 'c0', { t: 'resume', from: 'm0', epoch: 1, page: 0, req }))).toEqual(['confirm→m0', 'done read ok']);
    expect(last(c, 'c0').value).toBe('c1:1');
    c.flush();
  });
});

describe('op timeout', () => {
  it('fails the op after the timeout, yet confirms the page when it arrives late', () => {
    const c = cluster(2);
    c.submit('c1', writeOp(0, 'c1:1'));
    c.flush();
    c.now = 1000;
    expect(summary(c.submit('c0', readOp(0)))).toEqual(['read_req→m0']);
    c.step('read_req');
    c.step('read_fwd');
    c.now = 1000 + TIMEOUT_MS - 1;
    expect(ticked(c, 'c0')).toEqual([]);
    c.now = 1000 + TIMEOUT_MS;
    expect(ticked(c, 'c0')).toEqual(['done read fail']);
    const r = last(c, 'c0');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe(`timed out after ${TIMEOUT_MS} ms waiting for the manager`);
    expect(r.fault).toBe(true);
    // The fault stays open: the manager holds the page's queue for us until we confirm.
    expect(c.client('c0').pageTable()[0]!.pending).toBe('read');

    expect(summary(c.step('page_data'))).toEqual(['confirm→m0']); // no second result for the failed op
    expect(summary(c.step('confirm'))).toEqual([]);
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c1', copyset: ['c0'], active: null, queue: [] });
    expect(summary(c.submit('c0', readOp(0)))).toEqual(['done read ok']);
    expect(last(c, 'c0')).toMatchObject({ fault: false, value: 'c1:1' });
  });

  it('an op submitted while a timed-out fault is still open waits for it and is reported as a fault, not a hit', () => {
    const c = cluster(2);
    c.submit('c1', writeOp(0, 'c1:1'));
    c.flush();
    c.submit('c0', readOp(0));
    c.now = TIMEOUT_MS;
    c.tick('c0');
    expect(summary(c.submit('c0', readOp(0)))).toEqual([]);
    c.flush();
    expect(results(c, 'c0').map((r) => `${r.ok ? 'ok' : 'fail'} ${r.fault ? 'fault' : 'hit'}`)).toEqual(['fail fault', 'ok fault']);
    expect(last(c, 'c0').value).toBe('c1:1');
  });

  it('a timeout on one page leaves others alone', () => {
    const c = cluster(1);
    c.submit('c0', readOp(0));
    c.now = TIMEOUT_MS / 2;
    c.submit('c0', readOp(1));
    c.now = TIMEOUT_MS;
    expect(c.tick('c0').flatMap((o) => (o.type === 'done' ? [o.result.page] : []))).toEqual([0]);
    c.flush();
    expect(results(c, 'c0').map((r) => `${r.page}:${r.ok}`)).toEqual(['0:false', '1:true']);
  });
});

describe('retries', () => {
  it('resends an unanswered fault under the same request id, and the manager serves it only once', () => {
    const c = new Cluster({ clients: 2, pages: 1, pageSize: PAGE_SIZE, opTimeoutMs: TIMEOUT_MS, retryMs: 10 });
    c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
    c.start();
    c.flush();
    c.submit('c1', writeOp(0, 'c1:1'));
    c.flush();
    c.now = 100;
    expect(summary(c.submit('c0', readOp(0)))).toEqual(['read_req→m0']);
    c.now = 109;
    expect(ticked(c, 'c0')).toEqual([]);
    c.now = 110;
    expect(ticked(c, 'c0')).toEqual(['read_req→m0']);
    c.now = 120;
    expect(ticked(c, 'c0')).toEqual(['read_req→m0']);
    const [first, second, third] = c.pending('read_req').map((e) => c.take('read_req', { from: e.from }));
    expect(new Set([first, second, third].map((e) => e && e.msg.t === 'read_req' && e.msg.req)).size).toBe(1);

    // The retry overtakes the original: it is served, and the original is then a duplicate.
    expect(summary(c.deliver(second!))).toEqual(['read_fwd→c1']);
    expect(summary(c.deliver(first!))).toEqual([]);
    c.flush();
    // A retry that arrives after the fault was served must not start a transfer nobody will confirm.
    expect(summary(c.deliver(third!))).toEqual([]);
    expect(c.manager.counters.duplicates).toBe(2);
    expect(results(c, 'c0').map((r) => r.value)).toEqual(['c1:1']);
    expect(c.manager.recordCache()[0]).toMatchObject({ owner: 'c1', copyset: ['c0'], active: null, queue: [] });
    // Nothing is pending any more, so nothing is retried.
    c.now = 200;
    expect(ticked(c, 'c0')).toEqual([]);
  });
});

describe('stray messages at a client', () => {
  it('ignores answers to requests it does not have outstanding', () => {
    const c = cluster(2);
    c.submit('c0', writeOp(0, 'c0:1'));
    c.flush();
    const m = { from: 'm0', epoch: 1, page: 1, req: 99 } as const;
    const stray: [NodeId, Message, string][] = [
      ['c1', { t: 'grant', ...m, access: 'write', zero: true }, 'grant for request 99 not outstanding'],
      ['c1', { t: 'nack', ...m, reason: 'x' }, 'nack for request 99 not outstanding'],
      ['c1', { t: 'page_data', ...m, from: 'c0', access: 'write', version: 4, data: new Uint8Array(PAGE_SIZE) }, 'page data for request 99 not outstanding'],
      ['c1', { t: 'read_fwd', ...m, requester: 'c0' }, 'asked to forward page 1 it does not hold'],
      ['c1', { t: 'write_fwd', ...m, page: 0, requester: 'c0' }, 'asked to forward page 0 it does not hold'],
      ['c0', { t: 'invalidate', ...m, page: 0, requester: 'c1' }, 'owner of page 0 asked to invalidate'],
      ['c1', { t: 'read_req', ...m, from: 'c0' }, 'a client does not handle read_req'],
      ['c1', { t: 'grant', ...m, page: 7, access: 'write', zero: true }, 'page 7 out of range'],
    ];
    for (const [to, msg, reason] of stray) {
      expect(inject(c, to, msg)).toEqual([{ type: 'ignored', msg, reason }]);
    }
    expect(c.client('c1').counters.ignored).toBe(stray.length - 1);
    expect(c.client('c0').pageTable()[0]).toMatchObject({ access: 'write', owner: true, version: 1 });
  });

  it('ignores page data of the wrong size and keeps waiting for the real page', () => {
    const c = cluster(2);
    c.submit('c1', writeOp(0, 'c1:1'));
    c.flush();
    c.submit('c0', readOp(0));
    c.step('read_req');
    c.step('read_fwd');
    const data = c.take('page_data');
    const short = { ...data.msg, data: new Uint8Array(PAGE_SIZE - 1) } as Message;
    expect(summary(c.deliver({ ...data, msg: short }))).toEqual(['ignored page_data']);
    expect(c.client('c0').pageTable()[0]!.pending).toBe('read');
    expect(summary(c.deliver(data))).toEqual(['confirm→m0', 'done read ok']);
    c.flush();
  });

  it('ignores a repeated grant or page for an already served request', () => {
    const c = cluster(2);
    c.submit('c0', readOp(0));
    c.step('read_req');
    const grant = c.take('grant');
    expect(summary(c.deliver(grant))).toEqual(['confirm→m0', 'done read ok']);
    expect(summary(c.deliver(grant))).toEqual(['ignored grant']);
    c.flush();
    expect(results(c, 'c0')).toHaveLength(1);
  });

  it('ignores an upgrade grant when it holds no copy to upgrade', () => {
    const c = lone();
    c.submit(writeOp(0, 'c0:1'), 0);
    const out = c.receive({ t: 'grant', from: 'm0', epoch: 1, page: 0, req: 1, access: 'write', zero: false }, 1);
    expect(out).toMatchObject([{ type: 'ignored', reason: 'upgrade of page 0 granted but no copy is held' }]);
    expect(c.pageTable()[0]).toMatchObject({ access: 'none', pending: 'write' });
  });
});

describe('evictions', () => {
  // Links are not FIFO: a rebooted client's reports of a queued takeover, answered with evicts by a
  // manager that had not yet taken its hello, reached it after its welcome (pair sim seed 85, recoverable).
  // Obeying such an evict wiped the write the manager was serving: the page stayed transferring for good.
  it('ignores an evict sent before the hello it already re-sent, and obeys a current one', () => {
    const c = lone();
    const hello = c.start()[0]!;
    expect(hello.type === 'send' && hello.msg.t === 'hello' && hello.msg.n).toBe(1);
    const evict = (n: number): Message => ({ t: 'evict', from: 'm0', epoch: 1, reason: 'reported after the takeover completed', inc: 0, n });
    // The first evict is current: start over with a second hello.
    const again = c.receive(evict(1), 1);
    expect(summary(again)).toEqual(['hello→m0']);
    expect(again[0]!.type === 'send' && again[0]!.msg.t === 'hello' && again[0]!.msg.n).toBe(2);
    const listed = c.receive({ t: 'members', from: 'm0', epoch: 1, members: [{ id: 'c0', endpoint: 'inproc://c0' }] }, 2);
    expect(summary(listed)).toEqual(['hb→m0']);
    const hb = listed[0]!.type === 'send' && listed[0]!.msg.t === 'hb' ? listed[0]!.msg.n : undefined;
    const op = writeOp(0, 'c0:1');
    const req = c.submit(op, 3)[0]!;
    expect(req.type === 'send' && req.msg.t).toBe('write_req');
    const reqNo = req.type === 'send' && 'req' in req.msg ? req.msg.req : -1;
    // A second evict of the same burst arrives after the welcome: it is stale, the write stays outstanding.
    const stale = evict(1);
    expect(c.receive(stale, 4)).toEqual([{ type: 'ignored', msg: stale, reason: 'evict sent before our hello #2 was taken: stale' }]);
    // One meant for an earlier incarnation is dropped too.
    expect(summary(c.receive({ ...evict(9), inc: 7 } as Message, 4))).toEqual(['ignored evict']);
    // The grant is installed and confirmed (the manager's transfer completes); the write waits for the lease.
    expect(summary(c.receive({ t: 'grant', from: 'm0', epoch: 1, page: 0, req: reqNo, access: 'write', zero: true }, 5))).toEqual(['confirm→m0', 'hb→m0']);
    expect(summary(c.receive({ t: 'hb_ack', from: 'm0', epoch: 1, n: hb ?? -1, ms: 1000 }, 5))).toEqual(['done write ok']);
    // An evict naming our latest hello (or none, from an older manager) is obeyed.
    expect(summary(c.receive(evict(2), 6))).toEqual(['hello→m0']);
    expect(summary(c.receive({ t: 'evict', from: 'm0', epoch: 1, reason: 'silent' }, 7))).toEqual(['hello→m0']);
    expect(c.counters.evictions).toBe(3);
  });

  // Pair-sim partition seeds 570 and 1294: a recoverable owner wrote the page, sent its only copy to a writer
  // on the other side of a cut (the cut dropped it) and was written off. Starting over, it dropped the copy it
  // gave, so the page was lost though no client crashed; a reboot would have recovered it from the store.
  it.each([
    ['recoverable', [{ page: 0, version: 1 }]],
    ['volatile', undefined],
  ] as const)('a %s client keeps a copy it gave away, as its store does through a crash: %j', (memory, recovered) => {
    const c = lone(1, memory);
    c.start();
    c.receive({ t: 'members', from: 'm0', epoch: 1, members: [{ id: 'c0', endpoint: 'inproc://c0' }] }, 1);
    const req = c.submit(writeOp(0, 'c0:1'), 2)[0]!;
    const reqNo = req.type === 'send' && 'req' in req.msg ? req.msg.req : -1;
    const granted = c.receive({ t: 'grant', from: 'm0', epoch: 1, page: 0, req: reqNo, access: 'write', zero: true }, 3);
    const hb = granted.find((o) => o.type === 'send' && o.msg.t === 'hb');
    c.receive({ t: 'hb_ack', from: 'm0', epoch: 1, n: hb?.type === 'send' && hb.msg.t === 'hb' ? (hb.msg.n ?? -1) : -1, ms: 1000 }, 3);
    // The page goes to c1 for its write (the frame is lost to a cut), then the manager writes us off.
    const sent = c.receive({ t: 'write_fwd', from: 'm0', epoch: 1, page: 0, req: 7, requester: 'c1' }, 4);
    expect(summary(sent)).toContain('page_data→c1');
    const hello = c.receive({ t: 'evict', from: 'm0', epoch: 1, reason: 'silent for 2001 ms' }, 5).find((o) => o.type === 'send' && o.msg.t === 'hello');
    expect(hello?.type === 'send' && hello.msg.t === 'hello' ? hello.msg.recovered : 'no hello').toEqual(recovered);
  });
});
