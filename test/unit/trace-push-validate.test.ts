// Differential test of the trace-push fast path (renderer/src/api/trace-push.ts) against the zod
// schema it sits in front of: over seeded random mutations of realistic pushes, whatever the fast
// path accepts zod accepts with a deep-equal result, and parsePush (fast path, then zod) accepts
// and rejects exactly what zod does. Pushes also go through JSON, as they arrive off the WebSocket.
import { describe, expect, it } from 'vitest';
import { fastTracePush } from '../../renderer/src/api/trace-push.js';
import { parsePush, parseServerMessage, ServerPushSchema } from '../../renderer/src/api/wire.js';
import { mulberry32, type Rng } from '../sim/simulator.js';

/**
 * A push as the engine sends it: records with every optional field some time. The engine pushes records
 * without their vector clocks; the schema is loose, so a record with one (or any other extra key) is
 * taken as it is by both: the mutations below also add clocks, good and bad.
 */
function goodPush(rng: Rng, n = 6): Record<string, unknown> {
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const node = `c${Math.floor(rng() * 64)}`;
    const r: Record<string, unknown> = { node, dir: i % 2 ? 'recv' : 'send', peer: 'm0', t: 1_000_000 + i * 1000, type: 'read_req', page: 2, req: 17 + i, epoch: 1, frame: `${node}:${i + 1}` };
    if (i === 1) r.refused = 'stale epoch 3 < 4';
    if (i === 2) Object.assign(r, { nemesis: 'dup', rule: 'c1>m0:dup' });
    if (i === 3) Object.assign(r, { requester: 'c9', view: 2, seq: 4, run: 'trial 1' });
    records.push(r);
  }
  return { type: 'trace', records, skipped: 0, cluster: 1 };
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const BAD_VALUES: readonly unknown[] = [null, undefined, 'x', '', 7, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, [], {}, [1], 'c1', 'send', 'x'.repeat(33), 'x'.repeat(161)];
/** A bad value of its own (objects and arrays copied, so no two places share one). */
const bad = (rng: Rng): unknown => {
  const v = pick(rng, BAD_VALUES);
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
};
const FIELDS = ['node', 'dir', 'peer', 't', 'type', 'page', 'req', 'requester', 'view', 'seq', 'epoch', 'frame', 'nemesis', 'rule', 'refused', 'vc', 'extra'];

/** One random change somewhere in the push: a field of a record, of its clock, or of the envelope. */
function mutate(rng: Rng, push: Record<string, unknown>): void {
  // An earlier change may have replaced what this one would change: then nothing more.
  if (!Array.isArray(push.records) || push.records.length === 0) return;
  const records = push.records as Record<string, unknown>[];
  const r = pick(rng, records);
  if (typeof r !== 'object' || r === null) return;
  const roll = rng();
  if (roll < 0.55) {
    const f = pick(rng, FIELDS);
    if (rng() < 0.15) delete r[f];
    else r[f] = bad(rng);
  } else if (roll < 0.75) {
    // An extra key on a record (loose): a clock, good or with a bad entry, or anything else.
    const vc: Record<string, unknown> = { m0: 3, c1: 9 };
    vc[pick(rng, ['c1', 'm0', 'c63', '__proto__', 'toString', 'x'])] = bad(rng);
    r[pick(rng, ['vc', 'extra', 'toString'])] = rng() < 0.5 ? vc : bad(rng);
  } else if (roll < 0.85) {
    const f = pick(rng, ['type', 'records', 'skipped', 'cluster', 'extra']);
    push[f] = f === 'type' ? pick(rng, ['trace', 'snapshot', 'event', 7]) : bad(rng);
  } else if (roll < 0.92) {
    records[Math.floor(rng() * records.length)] = bad(rng) as Record<string, unknown>;
  } else {
    // Strings at and just over their limits.
    const [f, max] = pick(rng, [['type', 32], ['frame', 40], ['rule', 160], ['refused', 160]] as const);
    r[f] = 'y'.repeat(max + (rng() < 0.5 ? 0 : 1));
  }
}

/** The value as it arrives: JSON text, parsed (so a `__proto__` key is an own property, as off the wire). */
const viaJson = (v: unknown): unknown => {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
};

describe('trace push fast path', () => {
  it('accepts real pushes on its own, as they are', () => {
    const push = viaJson(goodPush(mulberry32(1), 50));
    const fast = fastTracePush(push);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(ServerPushSchema.parse(push));
    expect(fast!.records).toBe((push as { records: unknown }).records);
  });

  it('accepts only what zod accepts, with a deep-equal result, over 10,000 random mutations', () => {
    const rng = mulberry32(20_261_126);
    let fastAccepted = 0;
    let zodAccepted = 0;
    let rejected = 0;
    for (let i = 0; i < 10_000; i++) {
      const push = goodPush(rng, 1 + Math.floor(rng() * 4));
      const changes = 1 + Math.floor(rng() * 3);
      for (let c = 0; c < changes; c++) mutate(rng, push);
      const value = viaJson(push);
      const fast = fastTracePush(value);
      const zod = ServerPushSchema.safeParse(value);
      if (fast) {
        fastAccepted++;
        expect(zod.success, JSON.stringify(value)).toBe(true);
        expect(fast).toEqual(zod.data);
      }
      if (zod.success) zodAccepted++;
      else rejected++;
      // What the renderer does with it: the fast path first, then zod; the verdict is zod's.
      expect('push' in parsePush(value)).toBe(zod.success);
    }
    // The fuzzing reaches both sides: many bad pushes, and good ones the fast path takes itself.
    expect(rejected).toBeGreaterThan(2_500);
    expect(fastAccepted).toBeGreaterThan(500);
    expect(fastAccepted).toBeLessThanOrEqual(zodAccepted);
  }, 60_000);

  it('rejects bad records off the WebSocket with zod\'s reasons', () => {
    const cases: [string, (p: Record<string, unknown>) => void][] = [
      ['a node name of another shape', (p) => ((p.records as Record<string, unknown>[])[0]!.node = 'node1')],
      ['a missing time', (p) => delete (p.records as Record<string, unknown>[])[1]!.t],
      ['an unknown nemesis', (p) => ((p.records as Record<string, unknown>[])[2]!.nemesis = 'eat')],
      ['a type too long', (p) => ((p.records as Record<string, unknown>[])[0]!.type = 'z'.repeat(33))],
      ['a record that is not an object', (p) => ((p.records as unknown[])[3] = 'c1')],
      ['too many records', (p) => (p.records = Array.from({ length: 10_001 }, () => (p.records as unknown[])[0]))],
    ];
    for (const [what, bad] of cases) {
      const push = goodPush(mulberry32(7));
      bad(push);
      const msg = parseServerMessage(JSON.stringify(push));
      expect(msg.kind, what).toBe('invalid');
      if (msg.kind === 'invalid') expect(msg.error.length, what).toBeGreaterThan(0);
    }
    // A record with a `__proto__` key: zod takes it (and leaves the key out), so the renderer does too.
    const push = goodPush(mulberry32(8));
    const text = JSON.stringify(push).replace('{"node":', '{"__proto__":5,"node":');
    const msg = parseServerMessage(text);
    expect(msg.kind).toBe('push');
    if (msg.kind === 'push' && msg.push.type === 'trace') expect(Object.hasOwn(msg.push.records[0]!, '__proto__')).toBe(false);
  });
});
