// The op draws both clients share (nodes/runtime/op-draw.ts) give exactly the ops the protocol client drew
// before they were shared: checked against that code, over seeded tables and seeds.
import { describe, expect, it } from 'vitest';
import { mulberry32, pick, type Rng } from '../../nodes/core/random.js';
import type { Access } from '../../nodes/protocol/index.js';
import { drawOp, drawWorkloadOp } from '../../nodes/runtime/op-draw.js';

const ACCESS: readonly Access[] = ['none', 'read', 'write'];

/** client-node.ts onControl + missingPage, as they were. */
function before(kind: 'read' | 'write' | 'random', page: number | 'missing', seed: number, table: readonly Access[], pages: number): { kind: string; page: number } {
  const rng = mulberry32(seed);
  const k = kind === 'random' ? (rng() < 0.5 ? 'read' : 'write') : kind;
  if (page !== 'missing') return { kind: k, page };
  const candidates = table.map((access, p) => ({ access, page: p })).filter((p) => (k === 'read' ? p.access === 'none' : p.access !== 'write')).map((p) => p.page);
  return { kind: k, page: candidates.length > 0 ? candidates[pick(rng, candidates.length)]! : pick(rng, pages) };
}

describe('op draws', () => {
  it('an op command: the same kind and page as the protocol client drew', () => {
    const gen = mulberry32(99);
    for (let i = 0; i < 2000; i++) {
      const pages = 1 + Math.floor(gen() * 8);
      const table = Array.from({ length: pages }, () => ACCESS[Math.floor(gen() * 3)]!);
      const kind = (['read', 'write', 'random'] as const)[i % 3]!;
      const page = i % 5 === 0 ? Math.floor(gen() * pages) : 'missing';
      const seed = Math.floor(gen() * 0x7fff_ffff);
      expect(drawOp(kind, page, seed, table, pages)).toEqual(before(kind, page, seed, table, pages));
    }
  });

  it('a missing page is one the client does not hold for the kind, unless it holds them all', () => {
    expect(drawOp('read', 'missing', 5, ['read', 'none', 'write'], 3)).toEqual({ kind: 'read', page: 1 });
    expect(drawOp('write', 'missing', 5, ['write', 'write', 'read'], 3)).toEqual({ kind: 'write', page: 2 });
    const all = drawOp('write', 'missing', 5, ['write', 'write'], 2);
    expect([0, 1]).toContain(all.page);
  });

  it('a workload op: the kind by the read ratio, then a page, from the client stream', () => {
    const a: Rng = mulberry32(7);
    const b: Rng = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const kind = b() < 0.6 ? 'read' : 'write';
      expect(drawWorkloadOp(a, 0.6, 64)).toEqual({ kind, page: pick(b, 64) });
    }
  });
});
