// The node processes import only the parts of hdr-histogram-js they use
// (nodes/runtime/latency.ts); what they build and ship must be what the package's
// own index builds and decodes, so histograms from either side merge and compare.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram, newHistogram } from '../../nodes/runtime/latency.js';

const fill = (h: hdr.Histogram): void => {
  for (let i = 1; i <= 5000; i++) h.recordValue(100 + ((i * 7919) % 50_000_000));
  h.recordValue(599_000_000_000);
};

describe('latency histograms (subset imports of hdr-histogram-js)', () => {
  it('build, encode and decode as the package index does', () => {
    const ours = newHistogram();
    const theirs = hdr.build({ lowestDiscernibleValue: 100, highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: 3 });
    fill(ours);
    fill(theirs);
    expect(encodeHistogram(ours)).toBe(hdr.encodeIntoCompressedBase64(theirs));
    const back = decodeHistogram(encodeHistogram(ours));
    const viaIndex = hdr.decodeFromCompressedBase64(encodeHistogram(ours));
    for (const p of [0, 50, 90, 99, 99.9, 100]) {
      expect(back.getValueAtPercentile(p)).toBe(theirs.getValueAtPercentile(p));
      expect(viaIndex.getValueAtPercentile(p)).toBe(theirs.getValueAtPercentile(p));
    }
    expect(back.totalCount).toBe(5001);
    // Decoded histograms merge into new ones, as the supervisor's statistics do.
    const total = newHistogram();
    total.add(back);
    total.add(viaIndex);
    expect(total.totalCount).toBe(10_002);
  });

  it('rejects a corrupt histogram with an exception (the supervisor counts it and goes on)', () => {
    expect(() => decodeHistogram('not a histogram')).toThrow();
  });
});
