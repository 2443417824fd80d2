// The wire codec: every message type survives a round trip, and decode() turns any
// garbage (random, truncated, oversize, wrong-typed, mutated) into {ok:false}
// without throwing, because a node must never crash on what it receives.
import { encode as msgpack } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decode, encode, type DecodeResult } from '../../nodes/protocol/codec.js';
import { LIMITS, MESSAGE_TYPES, MessageSchema, type Message, type MessageOf, type MessageType } from '../../nodes/protocol/messages.js';
import { mulberry32, type Rng } from '../sim/simulator.js';

const head = { from: 'c3', epoch: 7 } as const;
const fault = { ...head, page: 2, req: 4_000_000_001 } as const;
function page(n: number): Uint8Array<ArrayBuffer> {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 31 + 7) & 0xff;
  return p;
}

/** One sample per message type; the mapped type makes a new message type a compile error here until it has one. */
const SAMPLES: { [T in MessageType]: MessageOf<T>[] } = {
  hello: [
    { t: 'hello', ...head, endpoint: 'tcp://127.0.0.1:7003', incarnation: 2 },
    { t: 'hello', ...head, endpoint: 'tcp://127.0.0.1:7003', incarnation: 3, memory: 'recoverable', recovered: [{ page: 1, version: 7 }] },
  ],
  read_req: [{ t: 'read_req', ...fault }],
  write_req: [{ t: 'write_req', ...fault, page: LIMITS.maxPages - 1, req: 0 }],
  confirm: [{ t: 'confirm', ...fault, access: 'read', version: 0xffff_ffff }],
  inv_ack: [{ t: 'inv_ack', ...fault, requester: 'c12' }],
  members: [
    { t: 'members', from: 'm0', epoch: 1, members: [] },
    { t: 'members', from: 'm1', epoch: 2, members: [{ id: 'c0', endpoint: 'ipc:///tmp/c0' }, { id: 'c1', endpoint: 'inproc://c1' }] },
  ],
  read_fwd: [{ t: 'read_fwd', ...fault, from: 'm0', requester: 'c1' }],
  write_fwd: [{ t: 'write_fwd', ...fault, from: 'm0', requester: 'c1' }],
  invalidate: [{ t: 'invalidate', ...fault, from: 'm1', requester: 'c9999' }],
  grant: [
    { t: 'grant', ...fault, from: 'm0', access: 'write', zero: true },
    { t: 'grant', ...fault, from: 'm0', access: 'read', zero: false },
  ],
  nack: [{ t: 'nack', ...fault, from: 'm0', reason: 'page 9 is outside 0..3 — ünïcode ok' }],
  own: [{ t: 'own', ...head, from: 'm0', page: 1, version: 12 }],
  resume: [{ t: 'resume', ...fault, from: 'm1' }],
  evict: [{ t: 'evict', ...head, from: 'm0', reason: 'no heartbeat for 200 ms' }],
  takeover: [{ t: 'takeover', ...head, from: 'm1' }],
  reclaim: [{ t: 'reclaim', ...fault, from: 'm0', requester: 'c3' }],
  reclaimed: [{ t: 'reclaimed', ...fault, requester: 'c3', ok: true, version: 4 }],
  restore: [
    { t: 'restore', ...head, from: 'm0', page: 1, version: 7, keep: true },
    { t: 'restore', ...head, from: 'm1', page: 2, version: 0, keep: false },
  ],
  hb: [{ t: 'hb', ...head }, { t: 'hb', ...head, n: 0xffff_ffff }],
  hb_ack: [{ t: 'hb_ack', ...head, from: 'm0', n: 17, ms: 1000 }],
  report: [
    {
      t: 'report',
      ...head,
      endpoint: 'tcp://127.0.0.1:7003',
      incarnation: 1,
      pages: [
        { page: 0, access: 'write', owner: true, version: 5, served: null },
        { page: 2, access: 'read', owner: true, version: 1, served: { to: 'c4', req: 9, kind: 'read' } },
      ],
      pending: [{ page: 1, req: 10, kind: 'write' }],
    },
  ],
  epoch_reject: [{ t: 'epoch_reject', ...head, seen: 9 }],
  mping: [{ t: 'mping', from: 'm0', epoch: 3, role: 'primary' }],
  mpong: [{ t: 'mpong', from: 'm1', epoch: 3, role: 'backup' }],
  sync: [
    {
      t: 'sync',
      from: 'm0',
      epoch: 3,
      full: true,
      records: [
        { page: 0, owner: 'c1', lostWith: null, copyset: ['c2', 'c3'], version: 4 },
        { page: 1, owner: null, lostWith: 'c5', copyset: [], version: 0 },
      ],
      clients: [{ id: 'c1', endpoint: 'tcp://127.0.0.1:7001', incarnation: 0 }],
    },
  ],
  handback_req: [{ t: 'handback_req', from: 'm0', epoch: 4 }],
  handback_ok: [{ t: 'handback_ok', from: 'm1', epoch: 4 }],
  page_data: [
    { t: 'page_data', ...fault, access: 'write', version: 3, data: page(4096) },
    { t: 'page_data', ...fault, access: 'read', version: 0, data: new Uint8Array(0) },
  ],
  // write-update (ISIS)
  i_join: [{ t: 'i_join', ...head, endpoint: 'tcp://127.0.0.1:7003', incarnation: 2, evictions: 0 }],
  i_hb: [{ t: 'i_hb', ...head, incarnation: 0, view: 3, prepared: 5, pos: 17 }],
  i_flush: [
    {
      t: 'i_flush',
      ...head,
      view: 5,
      incarnation: 1,
      installed: 3,
      hasState: true,
      pos: 9,
      queue: [{ sender: 'c1', seq: 4, page: 1, offset: 0, data: page(16), prio: [12, 3], agreed: true }],
      lastInstall: {
        view: 3,
        members: [{ id: 'c1', endpoint: 'tcp://127.0.0.1:7001', incarnation: 0 }],
        closings: [{ view: 1, decisions: [{ sender: 'c1', seq: 2, page: 0, offset: 8, data: page(8), prio: [4, 1] }] }],
        donor: 'c1',
        joiners: ['c3'],
      },
    },
    { t: 'i_flush', ...head, view: 1, incarnation: 0, installed: 0, hasState: false, pos: 0, queue: [], lastInstall: null },
  ],
  i_installed: [{ t: 'i_installed', ...head, view: 5 }],
  i_prepare: [{ t: 'i_prepare', from: 'm0', epoch: 1, view: 5, members: [{ id: 'c3', endpoint: 'tcp://127.0.0.1:7003', incarnation: 2 }] }],
  i_install: [{ t: 'i_install', from: 'm1', epoch: 2, view: 6, members: [], closings: [], donor: null, joiners: [] }],
  i_commit: [{ t: 'i_commit', from: 'm0', epoch: 1, view: 5 }],
  i_evict: [{ t: 'i_evict', from: 'm0', epoch: 1, view: 5, reason: 'not in view 5' }],
  i_msg: [{ t: 'i_msg', ...head, view: 5, seq: 3_000_001, page: 2, offset: 4, data: page(32) }],
  i_propose: [{ t: 'i_propose', ...head, view: 5, seq: 1, prio: [7, 3] }],
  i_agreed: [{ t: 'i_agreed', ...head, view: 5, seq: 1, prio: [9, 12] }],
  i_ack: [{ t: 'i_ack', ...head, view: 5, seq: 1 }],
  i_stable: [{ t: 'i_stable', ...head, view: 5, seq: 1 }],
  i_query: [{ t: 'i_query', ...head, view: 5, seq: 1 }],
  i_state: [{ t: 'i_state', ...head, view: 5, pos: 40, last: [3, 1], part: 0, parts: 1, pages: [{ page: 0, wpos: 40, data: page(4096) }] }],
  i_state_req: [{ t: 'i_state_req', ...head, view: 5 }],
  i_ping: [{ t: 'i_ping', from: 'm1', epoch: 2, role: 'backup', view: 4 }],
  i_sync: [{ t: 'i_sync', from: 'm0', epoch: 1, view: 3, members: [{ id: 'c0', endpoint: 'tcp://127.0.0.1:7001', incarnation: 0 }], known: [] }],
};
const ALL: Message[] = Object.values(SAMPLES).flat();

function decodeOk(frame: Uint8Array): Message {
  const r = decode(frame);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}: ${r.detail}`);
  return r.msg;
}

/** decode() must return a well-formed result, never throw; ok results must satisfy the schema. */
function decodeSafely(frame: Uint8Array): DecodeResult {
  let r: DecodeResult;
  try {
    r = decode(frame);
  } catch (err) {
    throw new Error(`decode threw on ${Buffer.from(frame).toString('hex').slice(0, 200)}: ${String(err)}`, { cause: err });
  }
  if (r.ok) expect(MessageSchema.safeParse(r.msg).success).toBe(true);
  else {
    expect(['oversize', 'undecodable', 'invalid']).toContain(r.reason);
    expect(typeof r.detail).toBe('string');
  }
  return r;
}

// Raw msgpack, bypassing encode(), to forge frames a correct sender would never produce.
const raw = { pack: (v: unknown): Buffer => Buffer.from(msgpack(v)) };
const forge = (value: unknown): Uint8Array => raw.pack(value);

describe('round trip', () => {
  it('has a sample for every message type', () => {
    expect(new Set(ALL.map((m) => m.t))).toEqual(new Set(MESSAGE_TYPES));
  });

  it.each(ALL.map((m) => [m.t, m] as const))('%s decodes to what was encoded', (_t, msg) => {
    const frame = encode(msg);
    const back = decodeOk(frame);
    expect(back).toEqual(msg);
    // Page bytes come back as a plain Uint8Array (not a Buffer) so the cores see one type.
    if (back.t === 'page_data') expect(Object.getPrototypeOf(back.data)).toBe(Uint8Array.prototype);
    // And a decoded message re-encodes to the same bytes.
    expect(Buffer.from(encode(back)).equals(Buffer.from(frame))).toBe(true);
  });

  it('carries a full-size page', () => {
    const data = page(LIMITS.maxPageSize);
    const back = decodeOk(encode({ t: 'page_data', ...fault, access: 'read', version: 1, data }));
    expect(back.t === 'page_data' && Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
  });
});

describe('rejection', () => {
  it('rejects an oversize frame before parsing it', () => {
    const r = decodeSafely(new Uint8Array(LIMITS.maxFrameBytes + 1));
    expect(r).toMatchObject({ ok: false, reason: 'oversize' });
  });

  it('rejects page data larger than a page even inside the frame limit', () => {
    const frame = forge({ t: 'page_data', ...fault, access: 'read', version: 1, data: new Uint8Array(LIMITS.maxPageSize + 1) });
    expect(frame.byteLength).toBeLessThanOrEqual(LIMITS.maxFrameBytes);
    // Refused by the decoder's own size limit before any allocation, or by the schema.
    const r = decodeSafely(frame);
    expect(r.ok).toBe(false);
    expect(r.ok === false && ['undecodable', 'invalid'].includes(r.reason)).toBe(true);
  });

  it('rejects every truncation of every valid frame', () => {
    for (const msg of ALL) {
      const frame = encode(msg);
      for (let n = 0; n < frame.byteLength; n++) {
        expect(decodeSafely(frame.subarray(0, n)).ok, `${msg.t} cut to ${n} bytes`).toBe(false);
      }
    }
  });

  it('rejects trailing bytes after a valid frame', () => {
    const frame = encode(SAMPLES.read_req[0]!);
    expect(decodeSafely(Buffer.concat([frame, Buffer.from([0xc0])]))).toMatchObject({ ok: false, reason: 'undecodable' });
  });

  it.each<[string, unknown]>([
    ['an empty frame', undefined],
    ['a number', 42],
    ['a string', 'hello'],
    ['null', null],
    ['an array', [1, 2, 3]],
    ['an empty map', {}],
    ['an unknown type', { t: 'reboot', ...head }],
    ['a missing field', { t: 'read_req', from: 'c1', epoch: 1, page: 0 }],
    ['a page as a string', { t: 'read_req', ...fault, page: '2' }],
    ['a negative page', { t: 'read_req', ...fault, page: -1 }],
    ['a page beyond the hard limit', { t: 'read_req', ...fault, page: LIMITS.maxPages }],
    ['a fractional request id', { t: 'read_req', ...fault, req: 1.5 }],
    ['an epoch beyond u32', { t: 'read_req', ...fault, epoch: 2 ** 32 }],
    ['a bad node id', { t: 'read_req', ...fault, from: 'x1' }],
    ['a node id with a path', { t: 'read_req', ...fault, from: 'c1/../m0' }],
    ['a bad access', { t: 'confirm', ...fault, access: 'admin', version: 1 }],
    ['zero as a number', { t: 'grant', ...fault, access: 'read', zero: 0 }],
    ['page data as a string', { t: 'page_data', ...fault, access: 'read', version: 1, data: 'AAAA' }],
    ['page data as an array', { t: 'page_data', ...fault, access: 'read', version: 1, data: [1, 2, 3] }],
    ['an endpoint that is not ZeroMQ', { t: 'hello', ...head, endpoint: 'http://evil', incarnation: 0 }],
    ['an overlong nack reason', { t: 'nack', ...fault, reason: 'x'.repeat(201) }],
    ['too many members', { t: 'members', ...head, members: Array.from({ length: LIMITS.maxMembers + 1 }, (_, i) => ({ id: `c${i % 9999}`, endpoint: 'inproc://x' })) }],
  ])('rejects %s', (_name, value) => {
    const frame = value === undefined ? new Uint8Array(0) : forge(value);
    const r = decodeSafely(frame);
    expect(r.ok).toBe(false);
  });

  it('does not let a __proto__ key reach the prototype chain', () => {
    const frame = Buffer.from(
      // {"__proto__": {"polluted": 1}, "t": "hello"} spelled out in msgpack
      '82a95f5f70726f746f5f5f81a8706f6c6c75746564' + '01a174a568656c6c6f',
      'hex',
    );
    expect(decodeSafely(frame).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('fuzz', () => {
  const randomBytes = (rng: Rng, n: number): Uint8Array<ArrayBuffer> => Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));

  it('never throws on random bytes', () => {
    const rng = mulberry32(0xc0dec);
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rng() ** 2 * 300);
      if (decodeSafely(randomBytes(rng, len)).ok) accepted++;
    }
    expect(accepted).toBe(0); // random bytes never make a valid message
  });

  it('never throws on random bytes that start like a map (past the first parser check)', () => {
    const rng = mulberry32(0xf00d);
    for (let i = 0; i < 3000; i++) {
      const body = randomBytes(rng, 1 + Math.floor(rng() * 120));
      body[0] = 0x80 | Math.floor(rng() * 16); // fixmap header
      decodeSafely(body);
    }
  });

  it('never throws on mutated valid frames (flips, overwrites, inserts, deletes, splices)', () => {
    const rng = mulberry32(0xbadf00d);
    // Small pages keep each frame short, so mutations land on headers and fields rather than page bytes.
    const frames = ALL.map((m): Uint8Array => encode(m.t === 'page_data' && m.data.byteLength > 0 ? { ...m, data: page(16) } : m));
    const cat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.concat(parts));
    const outcomes = { ok: 0, undecodable: 0, invalid: 0, oversize: 0 };
    for (let i = 0; i < 10_000; i++) {
      const base = frames[Math.floor(rng() * frames.length)]!;
      let f: Uint8Array<ArrayBuffer> = Uint8Array.from(base);
      const edits = 1 + Math.floor(rng() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rng() * Math.max(1, f.byteLength));
        switch (Math.floor(rng() * 5)) {
          case 0: // bit flip
            if (f.byteLength > 0) f[at] = f[at]! ^ (1 << Math.floor(rng() * 8));
            break;
          case 1: // interesting byte (msgpack type markers, limits)
            if (f.byteLength > 0) f[at] = [0x00, 0x7f, 0x80, 0xc0, 0xc1, 0xc4, 0xc6, 0xcb, 0xd4, 0xd9, 0xdb, 0xdf, 0xff][Math.floor(rng() * 13)]!;
            break;
          case 2: // insert random bytes
            f = cat(f.subarray(0, at), randomBytes(rng, 1 + Math.floor(rng() * 8)), f.subarray(at));
            break;
          case 3: // delete a run
            f = cat(f.subarray(0, at), f.subarray(at + 1 + Math.floor(rng() * 8)));
            break;
          case 4: {
            // splice in a piece of another valid frame
            const other = frames[Math.floor(rng() * frames.length)]!;
            const from = Math.floor(rng() * other.byteLength);
            f = cat(f.subarray(0, at), other.subarray(from, from + 1 + Math.floor(rng() * 16)));
            break;
          }
        }
      }
      const r = decodeSafely(f);
      if (r.ok) {
        outcomes.ok++;
        // Anything accepted is a real message that survives its own round trip.
        expect(decodeOk(encode(r.msg))).toEqual(r.msg);
      } else outcomes[r.reason]++;
    }
    // The mix exercised both parser failures and schema failures (and some harmless mutations passed).
    expect(outcomes.undecodable).toBeGreaterThan(500);
    expect(outcomes.invalid).toBeGreaterThan(500);
    expect(outcomes.ok).toBeGreaterThan(0);
  }, 30_000);
});
