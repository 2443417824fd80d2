// Fault latencies as HDR histograms in nanoseconds: cheap to record on the hot path,
// compact to ship to the supervisor, exact enough (3 significant digits) to merge.
import * as hdr from 'hdr-histogram-js';

export const newHistogram = (): hdr.Histogram =>
  hdr.build({ lowestDiscernibleValue: 100, highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: 3 });

export const encodeHistogram = (h: hdr.Histogram): string => hdr.encodeIntoCompressedBase64(h);

export const decodeHistogram = (s: string): hdr.Histogram => hdr.decodeFromCompressedBase64(s);

export type { Histogram } from 'hdr-histogram-js';
