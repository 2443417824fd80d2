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

/** Largest latency a histogram holds (ns): newHistogram's highest trackable value. */
export const LATENCY_MAX_NS = 600_000_000_000;
/** Raw samples a telemetry window ships at most; past that, a histogram. */
export const WINDOW_SAMPLES_MAX = 256;

/**
 * Fault latencies of one telemetry window, as shipped: the raw samples (ns) while there are few, an
 * encoded histogram once there are more than WINDOW_SAMPLES_MAX. A window of a lightly loaded client
 * holds a handful of faults, and encoding a histogram (~24k buckets, deflated) and decoding it again in
 * the supervisor cost a millisecond or more each, 5 times a second per client: with 128 clients that
 * was most of the machine. The supervisor records raw samples into the same histograms, so the
 * statistics are the same either way.
 */
export type WindowLatency = string | number[];

export class LatencyWindow {
  private samples: number[] = [];
  /** Only once the window overflows its samples (a histogram is ~100 KB). */
  private histogram: Histogram | null = null;
  /** The histogram of an earlier overflowing window, kept for the next (a busy client overflows every window). */
  private spare: Histogram | null = null;
  private n = 0;

  get count(): number {
    return this.n;
  }

  record(ns: number): void {
    const v = Math.min(LATENCY_MAX_NS, Math.max(100, Math.round(ns)));
    this.n++;
    if (this.histogram !== null) {
      this.histogram.recordValue(v);
      return;
    }
    this.samples.push(v);
    if (this.samples.length > WINDOW_SAMPLES_MAX) {
      this.histogram = this.spare ?? newHistogram();
      this.spare = null;
      for (const s of this.samples) this.histogram.recordValue(s);
      this.samples = [];
    }
  }

  /** What this window ships, and a new, empty window. */
  take(): WindowLatency {
    const out = this.histogram !== null ? encodeHistogram(this.histogram) : this.samples;
    if (this.histogram !== null) {
      this.histogram.reset();
      this.spare = this.histogram;
      this.histogram = null;
    }
    this.samples = [];
    this.n = 0;
    return out;
  }
}

/** Adds a shipped window to each of `into` (the supervisor's per-client, total and rolling histograms). Throws on a corrupt histogram. */
export function addWindow(w: WindowLatency, into: readonly Histogram[]): void {
  if (typeof w === 'string') {
    const h = decodeHistogram(w);
    for (const t of into) t.add(h);
    return;
  }
  for (const v of w) for (const t of into) t.recordValue(v);
}
