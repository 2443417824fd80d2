// Structural sharing between snapshots (renderer/src/state/share.ts): what did not
// change keeps its reference, what changed does not, and the result is deep-equal to
// the new snapshot.
import { describe, expect, it } from 'vitest';
import { share } from '../../renderer/src/state/share.js';

describe('share', () => {
  it('keeps the old reference wherever the value is deep-equal', () => {
    const prev = { seq: 1, nodes: [{ id: 'c0', rss: 5, exit: null }, { id: 'c1', rss: 6, exit: { code: 1 } }], tables: { c0: [{ p: 0 }, { p: 1 }] } };
    const next = JSON.parse(JSON.stringify({ ...prev, seq: 2, nodes: [prev.nodes[0], { ...prev.nodes[1], rss: 7 }] })) as typeof prev;
    const out = share(prev, next);
    expect(out).toEqual({ ...prev, seq: 2, nodes: [prev.nodes[0], { ...prev.nodes[1], rss: 7 }] });
    expect(out).not.toBe(prev);
    expect(out.tables).toBe(prev.tables);
    expect(out.nodes).not.toBe(prev.nodes);
    expect(out.nodes[0]).toBe(prev.nodes[0]);
    expect(out.nodes[1]).not.toBe(prev.nodes[1]);
    expect(out.nodes[1]?.exit).toBe(prev.nodes[1]?.exit);
  });

  it('returns the old value when all is equal, NaN included', () => {
    const prev = { a: [1, Number.NaN, { b: 'x' }], c: null };
    expect(share(prev, { a: [1, Number.NaN, { b: 'x' }], c: null })).toBe(prev);
  });

  it('sees added, removed and retyped keys and elements', () => {
    const prev = { a: 1, b: [1, 2] } as Record<string, unknown>;
    expect(share(prev, { a: 1 })).toEqual({ a: 1 });
    expect(share(prev, { a: 1, b: [1, 2], c: undefined })).not.toBe(prev);
    expect(share(prev, { a: 1, b: [1] })).toEqual({ a: 1, b: [1] });
    expect(share(prev, { a: 1, b: [1, 2, 3] })).toEqual({ a: 1, b: [1, 2, 3] });
    expect(share(prev, { a: '1', b: [1, 2] })).toEqual({ a: '1', b: [1, 2] });
    expect(share(prev, { a: 1, b: { 0: 1, 1: 2 } })).toEqual({ a: 1, b: { 0: 1, 1: 2 } });
    expect(share(null, { a: 1 })).toEqual({ a: 1 });
  });
});
