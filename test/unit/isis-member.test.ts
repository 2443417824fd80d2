// Every step of the write-update member and registry, stepped by hand over real
// cores: proposals, agreement, stable delivery, writes returning on their own
// delivery, local reads, retransmission, view change with flush, state transfer,
// eviction, and registry takeover.
import { describe, expect, it } from 'vitest';
import { IsisNet, readToken, T } from './isis-harness.js';

/** Lets `ms` of time pass in small steps, delivering everything as it goes. */
function advance(net: IsisNet, ms: number): void {
  for (let t = 0; t < ms; t += 2) {
    net.tick(2);
    net.run();
  }
}

describe('ordering', () => {
  it('a member proposes above everything it has seen, with its own number; a repeated message gets the same proposal', () => {
    const net = IsisNet.group(['c0', 'c1', 'c2']);
    net.write('c0', 0, 'c0:1');
    const toC2 = net.pending('i_msg', 'c2');
    expect(toC2).toHaveLength(1);
    net.deliver(toC2[0]!);
    net.deliver(toC2[0]!); // duplicate
    const props = net.pending('i_propose').filter((f) => f.from === 'c2');
    expect(props).toHaveLength(2);
    expect(props[0]!.msg).toEqual(props[1]!.msg);
    expect(props[0]!.msg.t === 'i_propose' && props[0]!.msg.prio[1]).toBe(2);
  });

  it('the sender agrees on the maximum proposal once every member proposed, and multicasts it', () => {
    const net = IsisNet.group(['c0', 'c1', 'c2']);
    net.write('c0', 0, 'c0:1');
    net.run((f) => f.msg.t === 'i_msg');
    expect(net.pending('i_agreed')).toHaveLength(0);
    const props = net.pending('i_propose').map((f) => (f.msg.t === 'i_propose' ? f.msg.prio : [0, 0]));
    net.run((f) => f.msg.t === 'i_propose');
    const agreed = net.pending('i_agreed');
    expect(agreed.map((f) => f.to).sort()).toEqual(['c1', 'c2']);
    const max = [...props].sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]!)[0]!;
    expect(agreed[0]!.msg.t === 'i_agreed' && agreed[0]!.msg.prio).toEqual(max);
  });

  it('a write returns only once every member holds it agreed (stable), with its position; reads are local', () => {
    const net = IsisNet.group(['c0', 'c1']);
    const w = net.write('c0', 1, 'c0:1');
    net.run((f) => f.msg.t === 'i_msg' || f.msg.t === 'i_propose' || f.msg.t === 'i_agreed');
    expect(net.result(w)).toBeUndefined(); // c1's ack has not arrived
    expect(net.member('c1').pageBytes(1)?.[0]).toBe(0); // c1 holds it agreed, not stable: not delivered
    net.run((f) => f.msg.t === 'i_ack');
    expect(net.result(w)).toMatchObject({ ok: true, pos: 1, fault: true });
    const before = net.inflight.length;
    const r = net.read('c0', 1);
    expect(net.inflight.length).toBe(before); // no message for a read
    expect(r).toMatchObject({ ok: true, pos: 1, wpos: 1, fault: false });
    expect(readToken(r)).toBe('c0:1');
    // c1 delivers on the sender's stable.
    expect(readToken(net.read('c1', 1))).toBeNull();
    net.run();
    expect(net.read('c1', 1)).toMatchObject({ pos: 1, wpos: 1 });
  });

  it('concurrent writes are delivered in one order everywhere', () => {
    const net = IsisNet.group(['c0', 'c1', 'c2']);
    net.write('c0', 0, 'c0:1');
    net.write('c1', 0, 'c1:1');
    net.write('c2', 0, 'c2:1');
    // Deliver in a scrambled order: newest first.
    while (net.inflight.length > 0) net.deliver(net.inflight.pop()!);
    const final = ['c0', 'c1', 'c2'].map((id) => net.token(id, 0));
    expect(new Set(final).size).toBe(1);
    expect(['c0', 'c1', 'c2'].map((id) => net.member(id).protocolView().pos)).toEqual([3, 3, 3]);
  });

  it('a later write of the same member waits for the earlier one (program order)', () => {
    const net = IsisNet.group(['c0', 'c1']);
    net.write('c0', 0, 'c0:1');
    net.write('c0', 0, 'c0:2');
    expect(net.pending('i_msg')).toHaveLength(1);
    net.run();
    expect(net.results.filter((r) => r.node === 'c0').map((r) => r.result.ok && r.result.pos)).toEqual([1, 2]);
  });

  it('lost frames are recovered: the sender re-sends i_msg, a waiting member queries the sender', () => {
    const net = IsisNet.group(['c0', 'c1']);
    const w = net.write('c0', 0, 'c0:1');
    net.drop((f) => f.msg.t === 'i_msg');
    net.tick(T.retryMs);
    expect(net.pending('i_msg', 'c1')).toHaveLength(1);
    net.run((f) => f.msg.t !== 'i_stable');
    net.drop((f) => f.msg.t === 'i_stable');
    expect(net.result(w)?.ok).toBe(true);
    net.tick(T.retryMs);
    expect(net.pending('i_query', 'c0')).toHaveLength(1);
    net.run();
    expect(net.token('c1', 0)).toBe('c0:1');
  });
});

describe('views', () => {
  it('join: the registry prepares, collects flushes, installs, commits; the joiner gets the state at the cut', () => {
    const net = IsisNet.group(['c0']);
    net.write('c0', 0, 'c0:1');
    net.run();
    net.addMember('c1');
    net.run((f) => f.msg.t === 'i_join');
    expect(net.pending('i_prepare').map((f) => f.to).sort()).toEqual(['c0', 'c1']);
    net.run((f) => f.msg.t === 'i_prepare' || f.msg.t === 'i_flush');
    expect(net.seat().protocolView().change?.phase).toBe('install');
    net.run((f) => f.msg.t === 'i_install' || f.msg.t === 'i_installed');
    expect(net.pending('i_commit')).toHaveLength(2);
    net.run();
    expect(net.member('c1').joined).toBe(true);
    expect(net.token('c1', 0)).toBe('c0:1');
    expect(net.read('c1', 0)).toMatchObject({ pos: 1, wpos: 1 });
    expect(net.seat().protocolView().members.map((m) => m.id)).toEqual(['c0', 'c1']);
  });

  it('prepare freezes a member: its flush reports its queue, and a new write waits for the next view', () => {
    const net = IsisNet.group(['c0', 'c1']);
    net.write('c1', 0, 'c1:1');
    net.run((f) => f.msg.t === 'i_msg');
    net.addMember('c2');
    net.run((f) => f.msg.t === 'i_join' || f.msg.t === 'i_prepare');
    const flush = net.pending('i_flush').find((f) => f.from === 'c0')!.msg;
    expect(flush.t === 'i_flush' && flush.queue.map((e) => [e.sender, e.agreed])).toEqual([['c1', false]]);
    const w = net.write('c0', 1, 'c0:1');
    expect(net.pending('i_msg').filter((f) => f.from === 'c0')).toHaveLength(0);
    // Old-view proposals are ignored now; the undecided write is dropped and re-sent in the new view.
    net.run();
    net.settle();
    expect(net.result(w)?.ok).toBe(true);
    expect(['c0', 'c1', 'c2'].map((id) => net.token(id, 0))).toEqual(['c1:1', 'c1:1', 'c1:1']);
  });

  it('a crash: the survivors deliver what any of them holds agreed, and drop what nobody does', () => {
    const net = IsisNet.group(['c0', 'c1', 'c2']);
    // c2's write is agreed at c2 and reaches c1 only; c2 dies.
    net.write('c2', 0, 'c2:1');
    net.run((f) => f.msg.t === 'i_msg' || f.msg.t === 'i_propose');
    net.run((f) => f.msg.t === 'i_agreed' && f.to === 'c1');
    net.crash('c2');
    // c0's write is only proposed everywhere: undecided, so dropped at the flush and re-sent after.
    const w = net.write('c0', 1, 'c0:1');
    net.run((f) => f.msg.t === 'i_msg');
    net.drop((f) => f.msg.t === 'i_propose');
    net.route('m0', net.seat().memberConnectionLost('c2', net.now));
    net.settle();
    expect(net.token('c0', 0)).toBe('c2:1');
    expect(net.token('c1', 0)).toBe('c2:1');
    expect(net.result(w)).toMatchObject({ ok: true, pos: 2 });
    expect(net.seat().protocolView().members.map((m) => m.id)).toEqual(['c0', 'c1']);
  });

  it('most members crashing at once: the registry refuses the next view and says so (blocked) until a view commits', () => {
    const net = IsisNet.group(['c0', 'c1', 'c2', 'c3']);
    const before = net.seat().protocolView();
    expect(before.blocked ?? null).toBeNull();
    for (const id of ['c1', 'c2', 'c3']) net.crash(id);
    for (const id of ['c1', 'c2', 'c3']) net.route('m0', net.seat().memberConnectionLost(id, net.now));
    advance(net, 30);
    const v = net.seat().protocolView();
    // One of the four members of the view it would replace answers: no quorum, nothing installed.
    expect(v.blocked).toEqual({ view: before.view, have: 1, of: 4 });
    expect(v.view).toBe(before.view);
    expect(v.members.map((m) => m.id)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(net.seat().counters.blocked).toBe(1);
    // A write waits (nothing can order it) rather than fail or go through a minority view.
    const w = net.write('c0', 0, 'c0:1');
    advance(net, 100);
    expect(net.result(w)).toBeUndefined();
  });

  it('a member silent past the timeout is dropped; told it is not in the view, it starts over with a state transfer', () => {
    const net = IsisNet.group(['c0', 'c1']);
    net.write('c0', 0, 'c0:1');
    net.run();
    net.down.add('c1'); // paused: hears nothing, says nothing
    for (let t = 0; t < T.clientTimeoutMs + 50; t += 5) {
      net.tick(5);
      net.run();
    }
    expect(net.seat().protocolView().members.map((m) => m.id)).toEqual(['c0']);
    net.write('c0', 0, 'c0:2');
    net.run();
    const transfers = net.member('c1').counters.stateTransfers!;
    net.down.delete('c1');
    advance(net, 200);
    expect(net.member('c1').counters.evictions).toBe(1);
    expect(net.member('c1').counters.stateTransfers).toBe(transfers + 1);
    expect(net.token('c1', 0)).toBe('c0:2');
  });

  it('a rebooted member (new incarnation) rejoins with a state transfer', () => {
    const net = IsisNet.group(['c0', 'c1']);
    net.write('c1', 0, 'c1:1');
    net.run();
    net.crash('c1');
    net.addMember('c1', 1);
    net.settle(200);
    expect(net.member('c1').joined).toBe(true);
    expect(net.token('c1', 0)).toBe('c1:1');
    expect(net.seat().protocolView().members).toEqual([
      { id: 'c0', incarnation: 0, pos: expect.any(Number) },
      { id: 'c1', incarnation: 1, pos: expect.any(Number) },
    ]);
  });
});

describe('registry roles', () => {
  it('the backup takes over with a higher epoch when the primary dies, and runs the next view change', () => {
    const net = IsisNet.group(['c0', 'c1'], ['m0', 'm1']);
    advance(net, 600); // pings and syncs reach the backup
    expect(net.seat('m1').currentRole).toBe('backup');
    net.crash('m0');
    net.route('m1', net.seat('m1').peerConnectionLost(net.now));
    expect(net.seat('m1').currentRole).toBe('primary');
    expect(net.seat('m1').currentEpoch).toBeGreaterThan(1);
    net.settle(200);
    const v = net.seat('m1').protocolView();
    expect(v.members.map((m) => m.id)).toEqual(['c0', 'c1']);
    expect(v.view).toBeGreaterThan(net.seat('m0').protocolView().view);
    net.write('c0', 0, 'c0:1');
    net.run();
    expect(net.token('c1', 0)).toBe('c0:1');
    expect(net.member('c0').currentEpoch).toBe(net.seat('m1').currentEpoch);
  });
});
