// `ivy-cluster bench --curve-overhead`: what authenticated links (CurveZMQ, DESIGN §3)
// cost a fault. CURVE is a property of a socket, fixed before it connects, so unlike
// tracing it cannot be switched on a live cluster: two clusters of the protocol path's
// shape (1 manager, 11 clients, the same rotation of fault shapes) run side by side,
// one with curve links and one with plain, measured in interleaved blocks (ABBA) in
// the same run so the machine's noise falls on both alike. The load average before
// each block is reported: the ratio is only as good as the machine was quiet.
import { loadavg } from 'node:os';
import type { Links } from '../../runtime/link-keys.js';
import { abFigures, abRatio, type AbFigures, type AbOptions, type AbRatio } from './ab-figures.js';
import { interleavedBlocks } from './interleave.js';
import { emptySamples, IvyPath, type Samples } from './ivy-path.js';

export type CurveOverheadOptions = AbOptions;


export interface CurveOverheadReport {
  curve: AbFigures;
  plain: AbFigures;
  /** curve / plain: 1.05 = authenticated links make the fault 5 % slower. */
  ratio: AbRatio;
  blocks: number;
  /** 1-minute load average before each block, and at the end. */
  loadavg_blocks: number[];
  loadavg: number[];
  /** Ops that were not the fault the rotation expected (should stay 0). */
  anomalies: number;
  /** Both clusters' histories linearizable. */
  linearizable: boolean;
}



export async function runCurveOverhead(opts: CurveOverheadOptions): Promise<CurveOverheadReport> {
  const say = opts.onProgress ?? (() => undefined);
  say('starting two clusters (1 manager, 11 clients each): curve links and plain links');
  // One after the other: 24 processes starting at once on a small, busy machine miss their ready time.
  const paths = new Map<Links, IvyPath>();
  const s: Record<Links, Samples> = { curve: emptySamples(), plain: emptySamples() };
  let blocks: number;
  let loads: number[];
  const stopped = new Map<Links, boolean>();
  try {
    paths.set('curve', await IvyPath.start(opts.basePort, opts.pageSize, false, 1, opts.clientMemory, 'curve'));
    paths.set('plain', await IvyPath.start(opts.basePort + 100, opts.pageSize, false, 1, opts.clientMemory, 'plain'));
    // Warm both (connections and handshakes, JIT) before anything counts.
    for (const p of paths.values()) await p.block(20, null);
    const run = await interleavedBlocks(
      ['curve', 'plain'] as const,
      opts,
      (mode, n) => paths.get(mode)!.block(n, s[mode]),
      (b, of, n, load) => say(`block ${b}/${of}: ${n} of each fault kind on curve and on plain links (load ${load})`),
    );
    blocks = run.blocks;
    loads = run.loadavg;
  } finally {
    for (const [mode, p] of paths) stopped.set(mode, (await p.stop().catch(() => ({ linearizable: false }))).linearizable);
  }
  const curve = abFigures(s.curve);
  const plain = abFigures(s.plain);
  return {
    curve,
    plain,
    ratio: abRatio(curve, plain),
    blocks,
    loadavg_blocks: loads,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    anomalies: [...paths.values()].reduce((a, p) => a + p.anomalies, 0),
    linearizable: stopped.get('curve') === true && stopped.get('plain') === true,
  };
}

export function renderCurveOverhead(r: CurveOverheadReport): string[] {
  const row = (label: string, f: AbFigures): string => `  ${label.padEnd(12)} read fault p50 ${f.read_p50_us} µs  p99 ${f.read_p99_us} µs   write fault (1 copy) p50 ${f.write_p50_us} µs  p99 ${f.write_p99_us} µs`;
  return [
    `CURVE overhead (two real clusters of 1 manager + 11 clients, one with CurveZMQ links and one with plain; ${r.curve.samples} samples per kind and mode in ${r.blocks} alternating blocks):`,
    row('curve links', r.curve),
    row('plain links', r.plain),
    `ratio curve / plain at p50: read ${r.ratio.read_p50}x, write ${r.ratio.write_p50}x; at p99: read ${r.ratio.read_p99}x, write ${r.ratio.write_p99}x`,
    `histories: ${r.linearizable ? 'linearizable' : 'NOT linearizable'}${r.anomalies ? `; ${r.anomalies} ops were not the fault the cycle expected` : ''}`,
    `1-minute load average before each block: ${r.loadavg_blocks.join(' ')}; at the end: ${r.loadavg.join(' ')}`,
  ];
}
