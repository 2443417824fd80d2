// `ivy-cluster bench --trace-overhead`: what message tracing costs the faults it traces.
// One real cluster (the protocol path's: 1 manager, 11 clients, the same rotation of fault
// shapes), blocks with tracing off and on alternating (ABBA) in the same run, so machine
// noise falls on both alike. While on, every record goes the whole way: node batches over
// the control channel, the supervisor's clock mirror, and a JSON Lines file (as `--trace`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceWriter } from '../trace/writer.js';
import { abFigures, abRatio, type AbFigures, type AbOptions, type AbRatio } from './ab-figures.js';
import { interleavedBlocks } from './interleave.js';
import { emptySamples, IvyPath } from './ivy-path.js';

export type TraceOverheadOptions = AbOptions;


export interface TraceOverheadReport {
  off: AbFigures;
  on: AbFigures;
  /** on / off: 1.15 = tracing makes the fault 15 % slower. */
  ratio: AbRatio;
  /** Frames traced (sent + received) while on. */
  records: number;
  blocks: number;
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
  const off = abFigures(s.off);
  const on = abFigures(s.on);
  return {
    off,
    on,
    ratio: abRatio(on, off),
    records: writer.records,
    blocks,
  };
}

export function renderTraceOverhead(r: TraceOverheadReport): string[] {
  const row = (label: string, f: AbFigures): string => `  tracing ${label.padEnd(4)} read fault p50 ${f.read_p50_us} µs  p99 ${f.read_p99_us} µs   write fault (1 copy) p50 ${f.write_p50_us} µs  p99 ${f.write_p99_us} µs`;
  return [
    `trace overhead (real cluster: 1 manager, 11 clients; ${r.off.samples} samples per kind and mode in ${r.blocks} alternating blocks; ${r.records} frames traced while on):`,
    row('off', r.off),
    row('on', r.on),
    `ratio on / off at p50: read ${r.ratio.read_p50}x, write ${r.ratio.write_p50}x; at p99: read ${r.ratio.read_p99}x, write ${r.ratio.write_p99}x`,
  ];
}
