import { describe, expect, it } from 'vitest';
import { decode, encode, type Message } from '../../nodes/protocol/index.js';
import { FromNodeSchema, type TraceBatch, type TraceTuple } from '../../nodes/runtime/from-node.js';
import { decodeClock, envelope, nodeCode, nodeOfCode, openEnvelope, TRACED_MARK, VectorClock } from '../../nodes/runtime/trace-clock.js';
import { Tracer, TRACE_BATCH_MAX } from '../../nodes/runtime/tracer.js';
import { TraceMirror } from '../../nodes/control/trace/mirror.js';
import { mulberry32 } from '../../nodes/core/random.js';

const leq = (a: Record<string, number>, b: Record<string, number>): boolean => Object.entries(a).every(([k, v]) => (b[k] ?? 0) >= v);

describe('vector clock', () => {
  it('codes every node id and back', () => {
    for (const id of ['m0', 'm1', 'c0', 'c12', 'c9999', 'm9999']) expect(nodeOfCode(nodeCode(id))).toBe(id);
    expect(nodeCode('m0')).not.toBe(nodeCode('c0'));
  });

  it('ticks on send and puts the sender first on the wire', () => {
    const a = new VectorClock('c3', { m0: 4 });
    const wire = decodeClock(a.send())!;
    expect(wire.sender).toBe(nodeCode('c3'));
    expect(wire.count).toBe(1);
    expect(a.toJSON()).toEqual({ c3: 1, m0: 4 });
    const b = new VectorClock('m0');
    const delta: number[] = [];
    b.receive(wire, delta);
    // Merged the sender's clock (c3:1; its m0:4 is above m0's own 0 but a node's own entry is its own), then ticked.
    expect(b.toJSON()).toEqual({ m0: 1, c3: 1 });
    expect(delta).toEqual([nodeCode('c3'), 1, nodeCode('m0'), 1]);
  });

  it('a receive without a clock only ticks', () => {
    const a = new VectorClock('c0', { c0: 7, m1: 2 });
    const delta: number[] = [];
    a.receive(null, delta);
    expect(a.toJSON()).toEqual({ c0: 8, m1: 2 });
    expect(delta).toEqual([nodeCode('c0'), 8]);
  });

  it('rejects malformed clock parts', () => {
    const ok = new VectorClock('c1', { m0: 3 }).send(); // c1:1 m0:3 as varints: 2 1 1 3
    expect([...ok]).toEqual([2, 1, 1, 3]);
    expect(decodeClock(ok)).not.toBeNull();
    expect(decodeClock(ok.subarray(0, 3))).toBeNull(); // a key without its count
    expect(decodeClock(new Uint8Array(0))).toBeNull();
    expect(decodeClock(Buffer.from([2, 1, 2, 5]))).toBeNull(); // c1 twice
    expect(decodeClock(Buffer.from([0xa0, 0x9c, 0x01, 1]))).toBeNull(); // key 20000: c10000, not a node id
    expect(decodeClock(Buffer.from([2, 0x81]))).toBeNull(); // a count cut short
    expect(decodeClock(Buffer.from([2, 0x80, 0x80, 0x80, 0x80, 0x10]))).toBeNull(); // a count over 2^32 - 1
    expect(decodeClock(Buffer.from([0x82, 0x80, 0x80, 0x00, 1]))).toBeNull(); // a 4-byte key
    expect(decodeClock(Buffer.from([2, 0, 1, 3]))).toBeNull(); // a sender's own count is at least 1 after its send
    expect(decodeClock(Buffer.alloc(8 * 8193, 1))).toBeNull();
    // The largest values round-trip: m9999 and c9999 at 2^32 - 1.
    const top = new VectorClock('m9999', { c9999: 0xffff_ffff, m0: 0xffff_fffe });
    top.receive(null, []);
    expect(top.get('m9999')).toBe(1);
    const wire = decodeClock(top.send())!;
    expect(wire.sender).toBe(nodeCode('m9999'));
    const got = new Map<number, number>();
    for (let i = 0; i < wire.entries.length; i += 2) got.set(wire.entries[i]!, wire.entries[i + 1]!);
    expect(got).toEqual(new Map([[nodeCode('m9999'), 2], [nodeCode('c9999'), 0xffff_ffff], [nodeCode('m0'), 0xffff_fffe]]));
  });

  it('keeps the clock of a 13-node cluster short enough that a fault frame stays in one copied zeromq part (≤ 128 bytes)', () => {
    const start: Record<string, number> = { m0: 2_000_000, m1: 2_000_000 };
    for (let i = 0; i < 11; i++) start[`c${i}`] = 2_000_000;
    const part = new VectorClock('c3', start).send();
    const frame = encode({ t: 'read_fwd', from: 'm0', epoch: 1, page: 2, req: 17, requester: 'c10', inc: 1, n: 3 });
    expect(envelope(frame, part).byteLength).toBeLessThanOrEqual(128);
  });

  it('orders every receive after its send, and every event after the one before it at its node (random exchanges)', () => {
    const rng = mulberry32(42);
    const ids = ['m0', 'm1', 'c0', 'c1', 'c2', 'c3'];
    const clocks = new Map(ids.map((id) => [id, new VectorClock(id)]));
    const last = new Map<string, Record<string, number>>();
    const inFlight: { to: string; part: Buffer; sent: Record<string, number> }[] = [];
    for (let step = 0; step < 5000; step++) {
      if (inFlight.length === 0 || rng() < 0.5) {
        const from = ids[Math.floor(rng() * ids.length)]!;
        const to = ids.filter((x) => x !== from)[Math.floor(rng() * (ids.length - 1))]!;
        const c = clocks.get(from)!;
        const part = c.send();
        const sent = c.toJSON();
        const prev = last.get(from);
        if (prev) expect(leq(prev, sent) && sent[from]! > prev[from]!).toBe(true);
        last.set(from, sent);
        inFlight.push({ to, part, sent });
      } else {
        // Delivered in any order (links need not be FIFO).
        const [m] = inFlight.splice(Math.floor(rng() * inFlight.length), 1);
        const c = clocks.get(m!.to)!;
        c.receive(decodeClock(m!.part), []);
        const got = c.toJSON();
        expect(leq(m!.sent, got)).toBe(true);
        expect(leq(got, m!.sent)).toBe(false); // strictly after
        const prev = last.get(m!.to);
        if (prev) expect(leq(prev, got)).toBe(true);
        last.set(m!.to, got);
      }
    }
  });
});

const msg = (m: Record<string, unknown>): Message => m as unknown as Message;

describe('tracer and the supervisor mirror', () => {
  it('ships valid batches whose deltas rebuild every node clock exactly', () => {
    const batches: TraceBatch[] = [];
    const mk = (id: string): Tracer => new Tracer(id, new VectorClock(id), (b) => batches.push(b), () => undefined);
    const c0 = mk('c0');
    const m0 = mk('m0');
    const c1 = mk('c1');
    const p1 = c0.onSend('m0', msg({ t: 'read_req', from: 'c0', epoch: 1, page: 2, req: 17 }));
    m0.onReceive(msg({ t: 'read_req', from: 'c0', epoch: 1, page: 2, req: 17 }), p1);
    const p2 = m0.onSend('c1', msg({ t: 'read_fwd', from: 'm0', epoch: 1, page: 2, req: 17, requester: 'c0' }));
    c1.onReceive(msg({ t: 'read_fwd', from: 'm0', epoch: 1, page: 2, req: 17, requester: 'c0' }), p2);
    for (const t of [c0, m0, c1]) t.flush();
    for (const b of batches) expect(FromNodeSchema.safeParse(JSON.parse(JSON.stringify(b))).success).toBe(true);
    const mirror = new TraceMirror();
    const records = batches.flatMap((b) => mirror.resolve(b.id, b.records));
    const fwdRecv = records.find((r) => r.node === 'c1')!;
    expect(fwdRecv).toMatchObject({ dir: 'recv', peer: 'm0', type: 'read_fwd', page: 2, req: 17, requester: 'c0', epoch: 1, frame: 'm0:2' });
    expect(fwdRecv.vc).toEqual({ c0: 1, m0: 2, c1: 1 });
    expect(fwdRecv.vc).toEqual(c1.clock.toJSON());
    const fwdSend = records.find((r) => r.node === 'm0' && r.dir === 'send')!;
    expect(fwdSend.frame).toBe('m0:2');
    expect(Object.keys(fwdSend).slice(0, 5)).toEqual(['node', 'dir', 'peer', 't', 'type']);
  });

  it('flushes a full batch at once, and a clock from someone else is counted, not merged', () => {
    const batches: TraceBatch[] = [];
    let bad = 0;
    const t = new Tracer('c0', new VectorClock('c0'), (b) => batches.push(b), () => bad++);
    for (let i = 0; i < TRACE_BATCH_MAX; i++) t.onSend('m0', msg({ t: 'hb', from: 'c0', epoch: 1 }));
    // A full batch ships with the next record (so the last receive stays markable while it is handled).
    expect(batches).toHaveLength(0);
    const forged = new VectorClock('c5').send();
    t.onReceive(msg({ t: 'members', from: 'm0', epoch: 1, members: [] }), forged);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.records).toHaveLength(TRACE_BATCH_MAX);
    t.onReceive(msg({ t: 'members', from: 'm0', epoch: 1, members: [] }), Buffer.from([1, 2, 3]));
    expect(bad).toBe(2);
    expect(t.clock.toJSON()).toEqual({ c0: TRACE_BATCH_MAX + 2 });
    t.flush();
    const last = batches[1]!.records.at(-1) as TraceTuple;
    expect(last[10]).toBeNull(); // no frame name: the clock part was not the sender's
  });

  it('starts a restarted node above anything its predecessor can have stamped', () => {
    const mirror = new TraceMirror('s1/ivy');
    expect(mirror.startFor('c0')).toEqual({ c0: 0 });
    const recs = mirror.resolve('c0', [[0, 'm0', 1, 'hb', 1, null, null, null, null, null, 1, [nodeCode('c0'), 1]]]);
    expect(recs[0]).toMatchObject({ run: 's1/ivy', frame: 'c0:1', vc: { c0: 1 } });
    // m0 saw c0 up to 5 (c0's records 2..5 were lost with it).
    mirror.resolve('m0', [[1, 'c0', 2, 'hb', 1, null, null, null, null, null, 5, [nodeCode('c0'), 5, nodeCode('m0'), 1]]]);
    expect(mirror.startFor('c0')).toEqual({ c0: 5 + TRACE_BATCH_MAX });
  });
});

describe('trace boundaries', () => {
  it('the supervisor rejects malformed trace batches; the service rejects malformed trace commands', async () => {
    const { CommandSchema } = await import('../../nodes/control/api.js');
    const { ToNodeSchema } = await import('../../nodes/runtime/control.js');
    const good: TraceTuple = [0, 'm0', 1, 'hb', 1, null, null, null, null, null, 1, [5, 1]];
    expect(FromNodeSchema.safeParse({ type: 'trace', id: 'c5', records: [good] }).success).toBe(true);
    for (const bad of [
      { type: 'trace', id: 'c5', records: [[2, ...good.slice(1)]] }, // direction
      { type: 'trace', id: 'c5', records: [[0, 'x1', ...good.slice(2)]] }, // peer
      { type: 'trace', id: 'c5', records: [good.slice(0, 11)] }, // short tuple
      { type: 'trace', id: 'c5', records: [[...good.slice(0, 11), [-1]]] }, // clock delta
      { type: 'trace', id: 'c5', records: Array.from({ length: 1025 }, () => good) }, // batch too long
      { type: 'trace', id: 'zz', records: [] },
    ]) {
      expect(FromNodeSchema.safeParse(bad).success).toBe(false);
    }
    expect(ToNodeSchema.safeParse({ type: 'trace', on: true, clock: { c0: 3 } }).success).toBe(true);
    expect(ToNodeSchema.safeParse({ type: 'trace', on: 'yes' }).success).toBe(false);
    expect(ToNodeSchema.safeParse({ type: 'trace', on: true, clock: { q0: 3 } }).success).toBe(false);
    expect(CommandSchema.safeParse({ cmd: 'setTracing', on: true }).success).toBe(true);
    expect(CommandSchema.safeParse({ cmd: 'setTracing' }).success).toBe(false);
    expect(CommandSchema.safeParse({ cmd: 'runOp', client: 'c1', kind: 'read', page: 0 }).success).toBe(true);
    expect(CommandSchema.safeParse({ cmd: 'runOp', client: 'c1', kind: 'delete', page: 0 }).success).toBe(false);
    expect(CommandSchema.safeParse({ cmd: 'runOp', client: 'c1', kind: 'read', page: -1 }).success).toBe(false);
  });
});

describe('the traced frame envelope (one ZeroMQ part: mark, clock, frame)', () => {
  it('round-trips frame and clock; a plain frame passes whole; a short marked part is left to fail decode', () => {
    const frame = encode({ t: 'read_req', from: 'c1', epoch: 1, page: 2, req: 3 });
    const clock = new VectorClock('c1', { m0: 4, c2: 9 }).send();
    const env = envelope(frame, clock);
    expect(env[0]).toBe(TRACED_MARK);
    const open = openEnvelope(env);
    expect(Buffer.compare(open.frame, frame)).toBe(0);
    expect(Buffer.compare(open.clock!, clock)).toBe(0);
    expect(decodeClock(open.clock!)!.entries).toEqual(decodeClock(clock)!.entries);
    // No MessagePack frame starts with the mark, so a plain frame is never mistaken for a traced one.
    expect(frame[0]).not.toBe(TRACED_MARK);
    expect(openEnvelope(frame)).toEqual({ frame, clock: undefined });
    const short = env.subarray(0, 3 + clock.byteLength - 1);
    expect(openEnvelope(short)).toEqual({ frame: short, clock: undefined });
    expect(decode(openEnvelope(short).frame).ok).toBe(false);
  });
});
