// The node processes import only the parts of hdr-histogram-js they use
// (nodes/runtime/latency.ts); what they build and ship must be what the package's
// own index builds and decodes, so histograms from either side merge and compare.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { FromNodeSchema } from '../../nodes/runtime/from-node.js';
import { addWindow, decodeHistogram, encodeHistogram, LatencyWindow, newHistogram, WINDOW_SAMPLES_MAX } from '../../nodes/runtime/latency.js';

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

  it('a telemetry window ships its few samples raw and the supervisor gets the same histogram as from an encoded one', () => {
    const values = [250_000, 480_123, 1_700_000, 99, 3_000_000_000];
    const w = new LatencyWindow();
    for (const v of values) w.record(v);
    expect(w.count).toBe(5);
    const shipped = w.take();
    expect(shipped).toEqual([250_000, 480_123, 1_700_000, 100, 3_000_000_000]); // below 100 ns counts as 100, as before
    expect(w.count).toBe(0);
    expect(w.take()).toEqual([]);
    const direct = newHistogram();
    for (const v of values) direct.recordValue(Math.max(100, v));
    const viaSamples = newHistogram();
    const viaEncoded = newHistogram();
    addWindow(shipped, [viaSamples]);
    addWindow(encodeHistogram(direct), [viaEncoded]);
    for (const p of [0, 50, 90, 99, 100]) expect(viaSamples.getValueAtPercentile(p)).toBe(viaEncoded.getValueAtPercentile(p));
    expect(viaSamples.totalCount).toBe(5);
  });

  it('past WINDOW_SAMPLES_MAX samples the window ships an encoded histogram of all of them', () => {
    const w = new LatencyWindow();
    for (let i = 0; i < WINDOW_SAMPLES_MAX + 10; i++) w.record(1000 + i * 997);
    const shipped = w.take();
    expect(typeof shipped).toBe('string');
    const into = [newHistogram(), newHistogram()];
    addWindow(shipped, into);
    for (const h of into) expect(h.totalCount).toBe(WINDOW_SAMPLES_MAX + 10);
    // The next window starts empty and raw again.
    w.record(5000);
    expect(w.take()).toEqual([5000]);
  });

  it('the control channel accepts both forms and rejects out-of-range or too many samples', () => {
    const tel = (latency: unknown) => ({ type: 'telemetry', id: 'c1', epoch: 1, rssBytes: 1, dropped: {}, counters: {}, pageTable: [], latency });
    expect(FromNodeSchema.safeParse(tel({ read: [100, 5000], write: encodeHistogram(newHistogram()) })).success).toBe(true);
    expect(FromNodeSchema.safeParse(tel({ read: [50], write: [] })).success).toBe(false);
    expect(FromNodeSchema.safeParse(tel({ read: [1.5e12], write: [] })).success).toBe(false);
    expect(FromNodeSchema.safeParse(tel({ read: new Array(WINDOW_SAMPLES_MAX + 1).fill(1000), write: [] })).success).toBe(false);
    expect(FromNodeSchema.safeParse(tel({ read: [1000.5], write: [] })).success).toBe(false);
  });
});
