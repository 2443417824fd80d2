// `ivy-cluster bench --trace-overhead`: what message tracing costs the faults it traces.
// One real cluster (the protocol path's: 1 manager, 11 clients, the same rotation of fault
// shapes), blocks with tracing off and on alternating (ABBA) in the same run, so machine
// noise falls on both alike. While on, every record goes the whole way: node batches over
// the control channel, the supervisor's clock mirror, and a JSON Lines file (as `--trace`).
import type { ClientMemory } from '../../protocol/messages.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../scenarios/figures.js';
import { TraceWriter } from '../trace/writer.js';
import { interleavedBlocks } from './interleave.js';
import { emptySamples, IvyPath, type Samples } from './ivy-path.js';

export interface TraceOverheadOptions {
  /** Samples per fault kind and mode. */
  iterations: number;
  blockSize: number;
  basePort: number;
  pageSize: number;
  clientMemory?: ClientMemory;
  onProgress?: (message: string) => void;
}

type Figures = { read_p50_us: number; read_p99_us: number; write_p50_us: number; write_p99_us: number; samples: number };

export interface TraceOverheadReport {
  off: Figures;
  on: Figures;
  /** on / off: 1.15 = tracing makes the fault 15 % slower. */
  ratio: { read_p50: number; write_p50: number; read_p99: number; write_p99: number };
  /** Frames traced (sent + received) while on. */
  records: number;
  blocks: number;
}

const us1 = (x: number): number => Math.round(x * 10) / 10;
const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

function figures(s: Samples): Figures {
  // The headline write fault is the one-copy write (bench/run.ts HEADLINE_WRITE).
  return {
    read_p50_us: us1(percentile(s.read, 50)),
    read_p99_us: us1(percentile(s.read, 99)),
    write_p50_us: us1(percentile(s.write1, 50)),
    write_p99_us: us1(percentile(s.write1, 99)),
    samples: s.read.length,
  };
}

export async function runTraceOverhead(opts: TraceOverheadOptions): Promise<TraceOverheadReport> {
  const say = opts.onProgress ?? (() => undefined);
  say('starting the cluster (1 manager, 11 clients)');
  const path = await IvyPath.start(opts.basePort, opts.pageSize, false, 1, opts.clientMemory);
  const dir = mkdtempSync(join(tmpdir(), 'ivy-trace-bench-'));
  const writer = new TraceWriter(join(dir, 'trace.jsonl'));
  const sup = path.supervisor;
  sup.on('trace', (records) => writer.write(records));
  const s = { off: emptySamples(), on: emptySamples() };
  let blocks: number;
  try {
    // Warm both modes before anything counts.
    await path.block(20, null);
    sup.setTracing(true);
    await path.block(20, null);
    sup.setTracing(false);
    // ABBA: off, on, on, off, off, on, …
    const run = await interleavedBlocks(
      ['off', 'on'] as const,
      opts,
      async (mode, n) => {
        sup.setTracing(mode === 'on');
        await new Promise((r) => setTimeout(r, 20)); // every node has the switch before the block's first op
        await path.block(n, s[mode]);
      },
      (b, of, n, load) => say(`block ${b}/${of}: ${n} of each fault kind with tracing off and on (load ${load})`),
    );
    blocks = run.blocks;
    sup.setTracing(false);
  } finally {
    await path.stop();
    await writer.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const off = figures(s.off);
  const on = figures(s.on);
  return {
    off,
    on,
    ratio: { read_p50: ratio(on.read_p50_us, off.read_p50_us), write_p50: ratio(on.write_p50_us, off.write_p50_us), read_p99: ratio(on.read_p99_us, off.read_p99_us), write_p99: ratio(on.write_p99_us, off.write_p99_us) },
    records: writer.records,
    blocks,
  };
}

export function renderTraceOverhead(r: TraceOverheadReport): string[] {
  const row = (label: string, f: Figures): string => `  tracing ${label.padEnd(4)} read fault p50 ${f.read_p50_us} µs  p99 ${f.read_p99_us} µs   write fault (1 copy) p50 ${f.write_p50_us} µs  p99 ${f.write_p99_us} µs`;
  return [
    `trace overhead (real cluster: 1 manager, 11 clients; ${r.off.samples} samples per kind and mode in ${r.blocks} alternating blocks; ${r.records} frames traced while on):`,
    row('off', r.off),
    row('on', r.on),
    `ratio on / off at p50: read ${r.ratio.read_p50}x, write ${r.ratio.write_p50}x; at p99: read ${r.ratio.read_p99}x, write ${r.ratio.write_p99}x`,
  ];
}
