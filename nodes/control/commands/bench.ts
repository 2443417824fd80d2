// `ivy-cluster bench [--json]`: prints the bare-path and protocol fault latencies,
// their ratios and the aggregate fault throughput; --json prints the DESIGN §6
// object (and more keys). IVY_BENCH_ITERATIONS / IVY_BENCH_SECONDS shorten a run
// (tests); the flags win over them.
import { runBench, type BenchReport, type PathFigures } from '../bench/run.js';
import type { Out } from './up.js';

export interface BenchCliOptions {
  json: boolean;
  iterations?: number;
  throughputSeconds?: number;
  basePort: number;
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

const us = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(0)} µs`).padStart(8);

function pathLines(f: PathFigures): string[] {
  const row = (label: string, k: 'read' | 'write0' | 'write1' | 'write9'): string => `  ${label.padEnd(24)} p50 ${us(f[`${k}_p50_us`])}   p99 ${us(f[`${k}_p99_us`])}`;
  return [row('read fault', 'read'), row('write fault, 0 copies', 'write0'), row('write fault, 1 copy', 'write1'), row('write fault, 9 copies', 'write9')];
}

const ratioOf = (ivy: number, bare: number): number => Math.round((ivy / bare) * 100) / 100;

function render(r: BenchReport): string[] {
  const f = r.fair;
  const mem = (m: BenchReport['memory']['ivy']['client']): string => (m ? `RSS ${m.rss} MiB (PSS ${m.pss}: ${m.anon} private, ${m.file} file-backed)` : 'n/a');
  const lines = [
    `FAIR bare path (same processes as the protocol path: 1 manager seat + 11 clients; same rotation and hop shapes, no protocol), ${f.bare_detail.samples} samples per kind:`,
    ...pathLines(f.bare_detail),
    `FAIR ratio ivy / bare at p50: read ${f.ratio.read_p50}x (${f.ivy.read_p50_us} / ${f.bare.read_p50_us} µs), write (1 copy) ${f.ratio.write_p50}x (${f.ivy.write_p50_us} / ${f.bare.write_p50_us} µs); 9 copies ${ratioOf(r.ivy.write9_p50_us, f.bare_detail.write9_p50_us)}x, 0 copies ${ratioOf(r.ivy.write0_p50_us, f.bare_detail.write0_p50_us)}x`,
    `FAIR throughput, ${f.throughput.clients} clients back to back on ${f.throughput.pages} pages, ${f.throughput.windows} alternating windows (${f.throughput.seconds} s per path): bare ${f.bare.faults_per_s} faults/s, ivy ${f.ivy.faults_per_s} faults/s, ratio ${f.ratio.faults_per_s}x`,
    `memory after the throughput windows (largest process of the role): ivy manager ${mem(r.memory.ivy.manager)}, ivy client ${mem(r.memory.ivy.client)}; fair bare client ${mem(r.memory.fair_bare.client)}`,
    `hot-pair bare transport (the same requester and owner every time; the first figure this bench had), ${r.bare.samples} samples per kind:`,
    ...pathLines(r.bare),
    `ivy protocol (real cluster: 1 manager, 11 clients), ${r.ivy.samples} samples per kind:`,
    ...pathLines(r.ivy),
    `hot-pair ratio ivy / bare at p50: read ${r.ratio.read_p50}x, write ${r.ratio.write0_p50}x (0 copies), ${r.ratio.write1_p50}x (1 copy), ${r.ratio.write9_p50}x (9 copies); at p99: read ${r.ratio.read_p99}x, write ${r.ratio.write_p99}x`,
    `ivy protocol with a backup manager (same cluster shape + m1), ${r.ivy_backup.samples} samples per kind:`,
    ...pathLines(r.ivy_backup),
    `cost of the backup (with / without) at p50: read ${r.backup_cost.read_p50}x, write ${r.backup_cost.write_p50}x; at p99: read ${r.backup_cost.read_p99}x, write ${r.backup_cost.write_p99}x`,
    `(measured in ${r.blocks} rotating blocks; every path closed loop, one op at a time)`,
  ];
  for (const t of r.throughput) {
    lines.push(
      `throughput: ${t.clients} clients back to back, ${t.pages} pages, read ratio ${t.readRatio}: ${t.faultsPerS} faults/s (${t.opsPerS} ops/s over ${t.durationS} s; fault p50 read ${us(t.read.p50Us).trim()}, write ${us(t.write.p50Us).trim()}; ${t.failed} failed)`,
      `  1+${t.clients} cluster ready in ${t.readyMs} ms; resident memory: manager ${t.rssMiB.manager} MiB, clients ${t.rssMiB.clientMean} MiB mean / ${t.rssMiB.clientMax} MiB max`,
    );
  }
  lines.push(`histories: ${r.linearizable ? 'linearizable' : 'NOT linearizable'}${r.anomalies ? `; ${r.anomalies} ops were not the fault the cycle expected` : ''}`);
  lines.push(`machine: ${r.machine.cpus} CPUs, load average ${r.machine.loadavg.join(' ')} (1-minute load before each latency block: ${r.loadavg_blocks.join(' ')})`);
  return lines;
}

export async function runBenchCommand(opts: BenchCliOptions, out: Out): Promise<number> {
  let report: BenchReport;
  try {
    const iterations = Math.round(opts.iterations ?? envNumber('IVY_BENCH_ITERATIONS') ?? 1000);
    const throughputS = opts.throughputSeconds ?? envNumber('IVY_BENCH_SECONDS') ?? 5;
    report = await runBench({
      iterations,
      blockSize: Math.min(100, iterations),
      throughputS,
      basePort: opts.basePort,
      pageSize: 4096,
      onProgress: (m) => out.error(m),
    });
  } catch (err) {
    out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (opts.json) out.log(JSON.stringify(report));
  else for (const line of render(report)) out.log(line);
  return report.linearizable ? 0 : 1;
}
