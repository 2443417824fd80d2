// Differential test of the hand-checked fast path (nodes/protocol/fast-validate.ts)
// against the zod schema it sits in front of: over seeded random mutations of every
// hot frame type, whatever the fast path accepts zod accepts with a deep-equal
// result, so decode() rejects exactly the frames zod rejects. Frames also go through
// real msgpack, as they arrive off the wire.
import { decode as unpack, encode as pack } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decode } from '../../nodes/protocol/codec.js';
import { fastValidate } from '../../nodes/protocol/fast-validate.js';
import { LIMITS, MessageSchema, type Message } from '../../nodes/protocol/messages.js';
import { mulberry32, type Rng } from '../sim/simulator.js';

const f = { from: 'c3', epoch: 7, page: 2, req: 41 };
const HOT: Message[] = [
  { t: 'read_req', ...f },
  { t: 'write_req', ...f },
  { t: 'resume', ...f, from: 'm1' },
  { t: 'inv_ack', ...f, requester: 'c12' },
  { t: 'read_fwd', ...f, from: 'm0', requester: 'c1' },
  { t: 'write_fwd', ...f, from: 'm0', requester: 'c1' },
  { t: 'invalidate', ...f, from: 'm0', requester: 'c9999' },
  { t: 'read_fwd', ...f, from: 'm0', requester: 'c1', inc: 2, n: 3 },
  { t: 'write_fwd', ...f, from: 'm0', requester: 'c1', inc: 0 },
  { t: 'invalidate', ...f, from: 'm0', requester: 'c2', inc: 1, n: 1 },
  { t: 'confirm', ...f, access: 'read', version: 3 },
  { t: 'grant', ...f, from: 'm0', access: 'write', zero: true },
  { t: 'page_data', ...f, access: 'write', version: 9, data: new Uint8Array(4096).fill(5) },
  { t: 'hb', from: 'c1', epoch: 1 },
  { t: 'hb', from: 'c1', epoch: 1, n: 17 },
  { t: 'hb', from: 'c1', epoch: 1, n: 18, v: 17 },
  { t: 'hb', from: 'c1', epoch: 1, v: 3 },
  { t: 'hb', from: 'c1', epoch: 1, n: 19, v: 18, w: 250 },
  { t: 'hb_ack', from: 'm0', epoch: 1, n: 17, ms: 1000 },
  { t: 'takeover', from: 'm1', epoch: 2 },
  { t: 'takeover', from: 'm1', epoch: 2, n: 4 },
  { t: 'takeover', from: 'm1', epoch: 2, n: 5, firm: true },
  { t: 'handback_req', from: 'm0', epoch: 3 },
  { t: 'handback_ok', from: 'm1', epoch: 3 },
  { t: 'handback_req', from: 'm0', epoch: 3, n: 7 },
  { t: 'handback_ok', from: 'm1', epoch: 3, n: 7 },
  { t: 'mping', from: 'm0', epoch: 1, role: 'primary' },
  { t: 'mpong', from: 'm1', epoch: 1, role: 'backup' },
  { t: 'mping', from: 'm0', epoch: 1, role: 'primary', n: 9 },
  { t: 'mpong', from: 'm1', epoch: 1, role: 'backup', n: 9 },
];

/** Values chosen to sit on and around every boundary the schema draws. */
const WEIRD: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 0.5, 1e-9, 2 ** 32 - 1, 2 ** 32, 2 ** 53, LIMITS.maxPages - 1, LIMITS.maxPages,
  NaN, Infinity, -Infinity, '', '0', 'c', 'c1', 'm0', 'c12345', 'C1', 'x1', ' c1', 'c1 ', 'c1\n', 'c١', 'm9999', 'c-1',
  'none', 'read', 'write', 'admin', 'primary', 'backup', 'candidate', 'rejoining', 'read_req', [], [1], {}, { a: 1 },
  new Uint8Array(0), new Uint8Array(3), Buffer.from([1, 2]), new Uint8Array(LIMITS.maxPageSize + 1), new Uint16Array(2), new ArrayBuffer(4),
];
const KEYS = ['t', 'from', 'epoch', 'page', 'req', 'requester', 'access', 'version', 'zero', 'data', 'role', 'extra', 'reason', 'seen', 'inc', 'n', 'ms', 'v', 'w', 'firm'];

const pickOf = <T,>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

function mutate(rng: Rng, base: Message): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base };
  const n = Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.55) o[pickOf(rng, Object.keys(o))] = pickOf(rng, WEIRD);
    else if (r < 0.7) delete o[pickOf(rng, Object.keys(o))];
    else if (r < 0.85) o[pickOf(rng, KEYS)] = pickOf(rng, WEIRD);
    else o.t = pickOf(rng, HOT).t;
  }
  return o;
}

function agree(raw: unknown): 'fast' | 'zod-ok' | 'rejected' {
  const zod = MessageSchema.safeParse(raw);
  const fast = fastValidate(raw);
  if (fast !== null) {
    expect(zod.success, `fast path accepted what zod rejects: ${String(JSON.stringify(raw))?.slice(0, 300)}`).toBe(true);
    expect(fast).toEqual(zod.data);
    return 'fast';
  }
  return zod.success ? 'zod-ok' : 'rejected';
}

describe('fast-path validation agrees with the zod schema', () => {
  it('accepts every valid hot frame on the fast path', () => {
    for (const m of HOT) expect(fastValidate(m), m.t).toBe(m);
  });

  it('over 20,000 seeded mutations, as objects and after msgpack', () => {
    const rng = mulberry32(9);
    const tally = { fast: 0, 'zod-ok': 0, rejected: 0 };
    const fastTypes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const raw = mutate(rng, pickOf(rng, HOT));
      const v = agree(raw);
      tally[v]++;
      if (v === 'fast') fastTypes.add(String(raw.t));
      // Off the wire: msgpack turns undefined into nothing, Buffers and typed arrays into Uint8Array, and so on.
      // (Packing a megabyte per frame would make this test slow; the size limit is covered as an object above.)
      if (Object.values(raw).some((v) => ArrayBuffer.isView(v) && v.byteLength > 65_536)) continue;
      let bytes: Uint8Array;
      try {
        bytes = pack(raw, { ignoreUndefined: true });
      } catch {
        continue;
      }
      const r = decode(bytes);
      let unpacked: unknown;
      try {
        unpacked = unpack(bytes);
      } catch {
        expect(r.ok).toBe(false);
        continue;
      }
      if (unpacked !== null && typeof unpacked === 'object' && 'data' in unpacked && Buffer.isBuffer(unpacked.data)) {
        const b = unpacked.data;
        (unpacked as { data: Uint8Array }).data = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      }
      tally[agree(unpacked)]++;
      // decode() says ok exactly when zod does (past its own size limits, which refuse some frames before any schema).
      if (r.ok || r.reason === 'invalid') expect(r.ok).toBe(MessageSchema.safeParse(unpacked).success);
    }
    // The mutations must exercise every outcome, and the fast path every hot type.
    expect(tally.fast).toBeGreaterThan(2000);
    expect(tally.rejected).toBeGreaterThan(2000);
    expect(tally['zod-ok']).toBeGreaterThan(100); // extra keys: valid, stripped by zod, not taken by the fast path
    expect(fastTypes).toEqual(new Set(HOT.map((m) => m.t)));
  }, 60_000);

  it('leaves the cold types to zod', () => {
    expect(fastValidate({ t: 'members', from: 'm0', epoch: 1, members: [] })).toBeNull();
    expect(fastValidate({ t: 'hello', from: 'c1', epoch: 1, endpoint: 'tcp://127.0.0.1:1', incarnation: 0 })).toBeNull();
    expect(fastValidate([{ t: 'hb', from: 'c1', epoch: 1 }])).toBeNull();
    // Inherited keys are not the frame's: both sides look at own keys only.
    expect(agree(Object.assign(Object.create({ extra: 1 }) as object, { t: 'hb', from: 'c1', epoch: 1 }))).toBe('fast');
  });
});
