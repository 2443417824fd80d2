import { describe, expect, it } from 'vitest';
import { PageMap } from '../../nodes/core/page-map.js';
import { mulberry32, pick } from '../../nodes/core/random.js';

describe('PageMap', () => {
  it('does what a Map does, in the same order, over random operations', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = mulberry32(seed);
      const pages = 1 + pick(rng, 12);
      const model = new Map<number, number>();
      const map = new PageMap<number>(pages);
      for (let step = 0; step < 400; step++) {
        const page = pick(rng, pages);
        const roll = rng();
        if (roll < 0.45) {
          model.set(page, step);
          map.set(page, step);
        } else if (roll < 0.9) {
          expect(map.delete(page)).toBe(model.delete(page));
        } else if (roll < 0.93) {
          model.clear();
          map.clear();
        } else if (roll < 0.965) {
          // Delete the entry being visited, as tick() does with a page's emptied queue.
          const seen: number[] = [];
          for (const [p] of map) {
            seen.push(p);
            if (p % 2 === 0) map.delete(p);
          }
          const expected: number[] = [];
          for (const [p] of model) {
            expected.push(p);
            if (p % 2 === 0) model.delete(p);
          }
          expect(seen).toEqual(expected);
        } else {
          // The same through forEach, which allocates nothing.
          const seen: [number, number][] = [];
          map.forEach((v, p) => {
            seen.push([p, v]);
            if (p % 3 === 0) map.delete(p);
          });
          const expected: [number, number][] = [];
          model.forEach((v, p) => {
            expected.push([p, v]);
            if (p % 3 === 0) model.delete(p);
          });
          expect(seen).toEqual(expected);
        }
        expect(map.size).toBe(model.size);
        expect(map.has(page)).toBe(model.has(page));
        expect(map.get(page)).toBe(model.get(page));
        expect([...map]).toEqual([...model]);
        expect([...map.keys()]).toEqual([...model.keys()]);
        expect([...map.values()]).toEqual([...model.values()]);
        expect(Array.from({ length: map.size }, (_, i) => [map.keyAt(i), map.valueAt(i)])).toEqual([...model]);
      }
    }
  });

  it('visits entries added while iterating, as a Map does', () => {
    const map = new PageMap<string>(4);
    map.set(2, 'a');
    const seen: number[] = [];
    for (const [p] of map) {
      seen.push(p);
      if (p === 2) map.set(0, 'b');
    }
    expect(seen).toEqual([2, 0]);
  });

  it('keeps the place of a page set again', () => {
    const map = new PageMap<string>(4);
    map.set(3, 'a').set(1, 'b').set(3, 'c');
    expect([...map]).toEqual([
      [3, 'c'],
      [1, 'b'],
    ]);
  });

  it('refuses a position outside its entries', () => {
    const map = new PageMap<string>(4);
    map.set(2, 'a');
    expect(map.keyAt(0)).toBe(2);
    expect(map.valueAt(0)).toBe('a');
    expect(() => map.keyAt(1)).toThrow(/outside 0..0/);
    expect(() => map.valueAt(-1)).toThrow(RangeError);
  });

  it('refuses a page outside its range, and has none there', () => {
    const map = new PageMap<string>(4);
    expect(() => map.set(4, 'x')).toThrow(/outside 0..3/);
    expect(() => map.set(-1, 'x')).toThrow(RangeError);
    expect(() => map.set(1.5, 'x')).toThrow(RangeError);
    expect(map.has(4)).toBe(false);
    expect(map.get(-1)).toBeUndefined();
    expect(map.delete(9)).toBe(false);
    expect(map.size).toBe(0);
  });
});
