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

function cluster(clients: number): Cluster {
  const c = new Cluster({ clients, pages: 1, pageSize: TOKEN_SPAN, opTimeoutMs: 1000, retryMs: RETRY_MS, redriveMs: REDRIVE_MS, recoverLoss: true });
  c.afterStep = () => expect(checkInvariants(c.manager, c.clients)).toEqual([]);
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
