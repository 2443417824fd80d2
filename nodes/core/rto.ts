// Adaptive retransmission timeout (Jacobson/Karels, RFC 6298): the retry interval of a request follows the
// round-trip times the core observes instead of a fixed retryMs. Pure: the caller measures the samples with
// the clock it was given and applies Karn's rule (no sample from a request that was sent more than once:
// its answer cannot be matched to one send).

export interface RtoBounds {
  /** The interval never drops below this: the timer's granularity and the slack a loaded machine needs. */
  minMs: number;
  /** Nor rises above this (the fixed retryMs of before): before the first sample, and after long backoff. */
  maxMs: number;
}

/** RFC 6298's gains: srtt moves 1/8 of the way to a sample, rttvar 1/4 of the way to its deviation. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
/** Deviations added to srtt: with 4, a healthy link's answers essentially never outlast the timeout. */
const K = 4;

export class RttEstimator {
  private srtt: number | null = null;
  private rttvar = 0;
  /** Samples taken (for tests and telemetry). */
  samples = 0;

  constructor(readonly bounds: RtoBounds) {}

  /** One round trip of a request sent once (Karn: never call it for a retransmitted one). */
  sample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.samples++;
    if (this.srtt === null) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      return;
    }
    this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - rttMs);
    this.srtt = (1 - ALPHA) * this.srtt + ALPHA * rttMs;
  }

  /** The smoothed round trip (null before any sample). */
  get smoothed(): number | null {
    return this.srtt;
  }

  /** The timeout of a first send: srtt + 4 rttvar within the bounds; the upper bound until a sample came. */
  rto(): number {
    const { minMs, maxMs } = this.bounds;
    if (this.srtt === null) return maxMs;
    return clamp(this.srtt + K * this.rttvar, minMs, maxMs);
  }

  /** The timeout after `tries` retransmissions of one request: doubled each time (exponential backoff), capped. */
  backoff(tries: number): number {
    return clamp(this.rto() * 2 ** Math.min(tries, 30), this.bounds.minMs, this.bounds.maxMs);
  }
}

/**
 * The floor the nodes use (the supervisor's minRetryMs and minRedriveMs). Localhost round trips are ~1 ms,
 * but a fault can queue behind others on its page and a loaded machine stalls a process for tens of ms: a
 * healthy run must not retransmit (engine.test asserts the counters stay 0), so the floor sits well above.
 */
export const DEFAULT_MIN_RETRY_MS = 250;

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** Bounds for a fixed interval (the behaviour before the estimator: min = max = retryMs). */
export function fixedBounds(ms: number): RtoBounds {
  return { minMs: ms, maxMs: ms };
}
