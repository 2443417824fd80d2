// Fault latencies as HDR histograms in nanoseconds: cheap to record on the hot path,
// compact to ship to the supervisor, exact enough (3 significant digits) to merge.
// Only the parts used are imported: the package's index also loads its log
// reader/writer (which build an Intl.NumberFormat at load: ICU initialisation) and
// its WebAssembly build, ~7 MiB resident and ~12 ms of start-up in every node.
// These are the same classes and wire format that `hdr.build()` (defaults: 32-bit
// buckets, no WebAssembly) and `hdr.encodeIntoCompressedBase64` /
// `decodeFromCompressedBase64` use.
import type { Histogram } from 'hdr-histogram-js';
import { JsHistogram } from 'hdr-histogram-js/dist/JsHistogram.js';
import { constructorFromBucketSize } from 'hdr-histogram-js/dist/JsHistogramFactory.js';
// Installs encodeIntoCompressedBase64 on JsHistogram and JsHistogram.decode; decompress undoes the former.
import { decompress } from 'hdr-histogram-js/dist/JsHistogram.encoding.js';

// Named exports only: they import alike from a bundle, Node's ESM loader and vitest (CommonJS interop).
const Int32Histogram = constructorFromBucketSize(32);

export const newHistogram = (): Histogram => new Int32Histogram(100, 600_000_000_000, 3);

export const encodeHistogram = (h: Histogram): string => {
  if (!(h instanceof JsHistogram)) throw new TypeError('not a JS histogram');
  return h.encodeIntoCompressedBase64();
};

export const decodeHistogram = (s: string): Histogram => JsHistogram.decode(decompress(Buffer.from(s.trim(), 'base64')), 32, 0);

export type { Histogram };
