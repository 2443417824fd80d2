import { describe, expect, it } from 'vitest';
import { encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import { faceOf, NO_FACE, PageFaces } from '../../nodes/runtime/page-faces.js';

const page = (token: string | null, size = 4096): Uint8Array => {
  const b = new Uint8Array(size);
  if (token !== null) b.set(encodeToken(token));
  return b;
};

describe('telemetry page faces', () => {
  it('are what the page table showed before: the first 16 bytes in hex and the token', () => {
    const faces = new PageFaces();
    const b = page('c3:17');
    expect(faces.of(0, b)).toEqual({ preview: Buffer.from(b.subarray(0, 16)).toString('hex'), token: 'c3:17' });
    expect(faces.of(1, page(null))).toEqual({ preview: '00'.repeat(16), token: null });
    expect(faces.of(2, null)).toBe(NO_FACE);
    // A page smaller than the preview: all of it.
    expect(faces.of(3, page('x', 4))).toEqual({ preview: '01780000', token: 'x' });
  });

  it('are made again when the page changes in place, and kept while it does not', () => {
    const faces = new PageFaces();
    const b = page('c1:1');
    const first = faces.of(7, b);
    expect(faces.of(7, b)).toBe(first); // unchanged: the same face, not a new one
    b.set(encodeToken('c2:99')); // a write into the same buffer
    expect(faces.of(7, b)).toEqual(faceOf(b));
    expect(faces.of(7, b).token).toBe('c2:99');
    // A byte the preview shows but the token does not.
    b[10] = 0xab;
    expect(faces.of(7, b)).toEqual(faceOf(b));
    // A byte past the head changes neither.
    const kept = faces.of(7, b);
    b[TOKEN_SPAN + 5] = 1;
    expect(faces.of(7, b)).toBe(kept);
    // Another buffer with other bytes for the same page (a new copy from the owner).
    const c = page('c4:5');
    expect(faces.of(7, c)).toEqual(faceOf(c));
  });

  it('match a fresh face over seeded random writes', () => {
    const faces = new PageFaces();
    const pages = Array.from({ length: 8 }, () => page(null, 512));
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const p = rnd(pages.length);
      const b = pages[p]!;
      if (rnd(2) === 0) b.set(encodeToken(`c${rnd(128)}:${rnd(100000)}`));
      else b[rnd(b.length)] = rnd(256);
      const q = rnd(pages.length);
      expect(faces.of(q, pages[q]!)).toEqual(faceOf(pages[q]!));
      expect(faces.of(p, b)).toEqual(faceOf(b));
    }
  });
});
