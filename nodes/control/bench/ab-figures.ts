// What the same-run A/B comparisons of the bench (--trace-overhead, --curve-overhead) share:
// their options, and fault latency figures per arm with the ratio between two arms.
import type { ClientMemory } from '../../protocol/messages.js';
import { percentile } from '../scenarios/figures.js';
import type { Samples } from './ivy-path.js';

export interface AbOptions {
  /** Samples per fault kind and arm. */
  iterations: number;
  blockSize: number;
  basePort: number;
  pageSize: number;
  clientMemory?: ClientMemory;
  onProgress?: (message: string) => void;
}

export type AbFigures = { read_p50_us: number; read_p99_us: number; write_p50_us: number; write_p99_us: number; samples: number };
export type AbRatio = { read_p50: number; write_p50: number; read_p99: number; write_p99: number };

const us1 = (x: number): number => Math.round(x * 10) / 10;
const ratioOf = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);

export function abFigures(s: Samples): AbFigures {
  // The headline write fault is the one-copy write (bench/run.ts HEADLINE_WRITE).
  return {
    read_p50_us: us1(percentile(s.read, 50)),
    read_p99_us: us1(percentile(s.read, 99)),
    write_p50_us: us1(percentile(s.write1, 50)),
    write_p99_us: us1(percentile(s.write1, 99)),
    samples: s.read.length,
  };
}

/** `a` over `b`, per figure: 1.15 = arm a's fault is 15 % slower. */
export function abRatio(a: AbFigures, b: AbFigures): AbRatio {
  return {
    read_p50: ratioOf(a.read_p50_us, b.read_p50_us),
    write_p50: ratioOf(a.write_p50_us, b.write_p50_us),
    read_p99: ratioOf(a.read_p99_us, b.read_p99_us),
    write_p99: ratioOf(a.write_p99_us, b.write_p99_us),
  };
}
