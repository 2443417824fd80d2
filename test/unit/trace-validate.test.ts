// Differential test of the hand-checked trace-batch fast path (nodes/runtime/trace-validate.ts)
// against the zod schema it sits in front of (FromNodeSchema's `trace`): over seeded random
// mutations of batches, whatever the fast path accepts zod accepts with a deep-equal result, so
// the supervisor rejects exactly the batches zod rejects. Batches also go through a JSON round
// trip, as they arrive over the control channel.
import { describe, expect, it } from 'vitest';
import { FromNodeSchema, type TraceTuple } from '../../nodes/runtime/from-node.js';
import { fastTraceBatch } from '../../nodes/runtime/trace-validate.js';
import { mulberry32, type Rng } from '../sim/simulator.js';

const TUPLES: TraceTuple[] = [
  [0, 'm0', 123456789, 'read_req', 1, 0, 17, null, null, null, 5, [32768, 5]],
  [1, 'c3', 0, 'read_fwd', 2, 4, 1, 'c12', null, null, 9, [3, 9, 32768, 12]],
  [1, 'c9999', 2 ** 60, 'hb', 0, null, null, null, 3, 4, null, []],
  [0, 'm1', 5.5, 'x', 0xffff_ffff, 0xffff_ffff, 0, 'm0', 0, 0xffff_ffff, 1, [1, 2]],
  // With a note: the nemesis's verdict on a send, a refusal on a receive.
  [0, 'm0', 7, 'hb', 1, null, null, null, null, null, 6, [32768, 6], ['drop', 'm0>m1:partition']],
  [1, 'm0', 8, 'grant', 1, 2, 3, null, null, null, 7, [3, 9], ['refused', 'stale epoch 1 < 2']],
];
const WEIRD: unknown[] = [
  undefined, null, true, 0, -0, 1, -1, 0.5, 2, 2 ** 32 - 1, 2 ** 32, NaN, Infinity, -Infinity, '', 'c1', 'm0', 'c12345', 'C1', ' c1',
  'c١', 'x'.repeat(32), 'x'.repeat(33), 'read_req', [], [1, 2], [-1], [0.5], {}, { a: 1 },
  ['dup', 'c0>m0:dup=0.5'], ['delay', ''], ['lost', 'x'], ['refused', 'x'.repeat(160)], ['refused', 'x'.repeat(161)], ['drop'], ['drop', 'x', 1], ['drop', 5],
];

const pickOf = <T,>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
/** A fresh copy each time: mutations must not reach into the shared table (or make cycles). */
const weird = (rng: Rng): unknown => structuredClone(pickOf(rng, WEIRD));

function mutate(rng: Rng): Record<string, unknown> {
  const records: unknown[] = Array.from({ length: 1 + Math.floor(rng() * 4) }, () => structuredClone(pickOf(rng, TUPLES)));
  const o: Record<string, unknown> = { type: 'trace', id: pickOf(rng, ['c3', 'm0']), records };
  const n = Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) {
    const r = rng();
    const picked = records[Math.floor(rng() * records.length)];
    const rec = Array.isArray(picked) ? (picked as unknown[]) : [];
    if (r < 0.5) rec[Math.floor(rng() * 14)] = weird(rng);
    else if (r < 0.6) rec.pop();
    else if (r < 0.7 && Array.isArray(rec[11])) (rec[11] as unknown[]).push(weird(rng));
    else if (r < 0.8) o[pickOf(rng, ['type', 'id', 'records', 'extra'])] = weird(rng);
    else if (r < 0.9) records.push(weird(rng));
    else delete o[pickOf(rng, ['type', 'id', 'records'])];
  }
  return o;
}

function agree(raw: unknown): 'fast' | 'zod-ok' | 'rejected' {
  const zod = FromNodeSchema.safeParse(raw);
  const fast = fastTraceBatch(raw);
  if (fast !== null) {
    expect(zod.success, `fast path accepted what zod rejects: ${String(JSON.stringify(raw)).slice(0, 300)}`).toBe(true);
    expect(fast).toEqual(zod.data);
    return 'fast';
  }
  return zod.success ? 'zod-ok' : 'rejected';
}

describe('trace-batch fast-path validation agrees with the zod schema', () => {
  it('accepts valid batches on the fast path', () => {
    const batch = { type: 'trace', id: 'c3', records: TUPLES };
    expect(fastTraceBatch(batch)).toBe(batch);
    expect(fastTraceBatch({ type: 'trace', id: 'm0', records: [] })).not.toBeNull();
    expect(fastTraceBatch({ type: 'trace', id: 'm0', records: Array.from({ length: 1025 }, () => TUPLES[0]) })).toBeNull();
  });

  it('over 10,000 seeded mutations, as objects and after JSON', () => {
    const rng = mulberry32(11);
    const tally = { fast: 0, 'zod-ok': 0, rejected: 0 };
    for (let i = 0; i < 5_000; i++) {
      const raw = mutate(rng);
      tally[agree(raw)]++;
      const json = JSON.stringify(raw);
      if (json !== undefined) tally[agree(JSON.parse(json))]++;
    }
    expect(tally.fast).toBeGreaterThan(1500);
    expect(tally.rejected).toBeGreaterThan(1500);
    expect(tally['zod-ok']).toBeGreaterThan(50); // an extra key: valid, stripped by zod, not taken by the fast path
  }, 60_000);
});
