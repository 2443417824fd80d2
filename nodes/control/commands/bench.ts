// `ivy-cluster bench [--json]`: prints the bare-path and protocol fault latencies,
// their ratios and the aggregate fault throughput; --json prints the DESIGN §6
// object (and more keys). IVY_BENCH_ITERATIONS / IVY_BENCH_SECONDS shorten a run
// (tests); the flags win over them. `--protocol isis` measures write-update (local
// reads, writes against two bare multicast rounds, writes by group size);
// `--compare` (= --protocol ivy,isis) measures both and their throughput by read
// ratio in the same run. IVY_BENCH_CLIENT_STEPS / IVY_BENCH_READ_RATIOS (comma
// lists) shorten those parts. `--client-memory a,b,...` (two or more modes) measures
// the client memory modes against each other instead (bench/client-memory.ts).
import type { ClientMemory } from '../../protocol/messages.js';
import type { Protocol } from '../api.js';
import type { ClientMemoryReport } from '../bench/client-memory.js';
import type { CompareRow, IsisReport } from '../bench/isis-run.js';
import { runBench, type BenchReport, type IvyReport, type PathFigures } from '../bench/run.js';
import { renderTraceOverhead, runTraceOverhead } from '../bench/trace-overhead.js';
import { renderCurveOverhead, runCurveOverhead } from '../bench/curve-overhead.js';
import type { AbOptions } from '../bench/ab-figures.js';
import type { S1Figures } from '../bench/s1-rounds.js';
import { runScale, type ScaleReport, type ScaleShape, type ScaleSide } from '../bench/scale.js';
import { DEFAULT_CLIENT_MEMORY } from '../api.js';
import type { Out } from './up.js';

export interface BenchCliOptions {
  /** One mode: the usual bench in that mode; several: the modes compared (client-memory.ts). */
  clientMemory?: ClientMemory[];
  json: boolean;
  protocol: Protocol[];
  compare: boolean;
  iterations?: number;
  throughputSeconds?: number;
  basePort: number;
  /** Only measure what message tracing costs (fault latency with tracing on vs off, same run). */
  traceOverhead?: boolean;
  /** Only measure what authenticated links cost (fault latency with CurveZMQ vs plain links, same run). */
  curveOverhead?: boolean;
  /** Also run the seed's s1 rounds on the protocol and fair bare paths: true (the scenario's 5 trials) or a trial count. */
  s1?: boolean | number;
  /** Only measure many clients at a steady rate on both paths (scale.ts). */
  scale?: ScaleShape;
  /** Runs of both paths with --scale, the order alternating (default 1). */
  scalePairs?: number;
}

/** `--s1` without a count: as many trials as `scenario s1` runs. */
const S1_DEFAULT_TRIALS = 5;

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

function envList(name: string, min: number, max: number): number[] | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const xs = raw.split(',').map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isFinite(x) || x < min || x > max)) throw new Error(`${name} must be a comma list of numbers from ${min} to ${max}, got "${raw}"`);
  return xs;
}

function renderIsis(r: IsisReport): string[] {
  const lines = [
    `write-update (ISIS total order; real cluster: 1 registry, ${r.clients} members), ${r.samples} samples per kind:`,
    `  ${'local read'.padEnd(24)} p50 ${us(r.read_p50_us)}   p99 ${us(r.read_p99_us)}`,
    `  ${'write (total order)'.padEnd(24)} p50 ${us(r.write_p50_us)}   p99 ${us(r.write_p99_us)}`,
    `bare: two multicast rounds to ${r.bare.members} members (same sockets and codec, ISIS frames, trivial handlers), ${r.bare.samples} samples:`,
    `  ${'2 multicast rounds'.padEnd(24)} p50 ${us(r.bare.multicast2_p50_us)}   p99 ${us(r.bare.multicast2_p99_us)}`,
    `ratio write / two bare rounds: ${r.ratio.write_p50}x at p50, ${r.ratio.write_p99}x at p99`,
  ];
  for (const w of r.write_by_clients) lines.push(`  write with ${String(w.clients).padStart(3)} members: p50 ${us(w.write_p50_us)}   p99 ${us(w.write_p99_us)}  (${w.samples} samples)`);
  lines.push(`write-update histories: ${r.sequential ? 'sequentially consistent' : 'NOT sequentially consistent'} (checked in the sequential model: reads are local, so not linearizable by design)`);
  return lines;
}

const opt = (x: number | null): string => (x === null ? '—' : us(x).trim());

function renderCompare(rows: readonly CompareRow[]): string[] {
  const head = ['read ratio', 'protocol', 'ops/s', 'read p50', 'read p99', 'write p50', 'write p99', 'check'];
  const grid = [
    head,
    ...rows.map((c) => [String(c.read_ratio), c.protocol, String(c.ops_per_s), opt(c.read_p50_us), opt(c.read_p99_us), opt(c.write_p50_us), opt(c.write_p99_us), c.consistent ? 'ok' : 'FAILED']),
  ];
  const widths = head.map((_, i) => Math.max(...grid.map((g) => g[i]!.length)));
  const clients = rows[0]?.clients ?? 0;
  return [
    `both protocols, ${clients} clients back to back on ${rows[0]?.pages ?? 0} pages (latency of every op: IVY hits and write-update local reads included):`,
    ...grid.map((g) => '  ' + g.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')),
  ];
}

const msOrDash = (x: number | null | undefined): string => (x == null ? '—' : `${x} ms`);

function renderClientMemory(r: ClientMemoryReport): string[] {
  const head = ['mode', 'write hit p50', 'p99', 'write fault p50', 'p99', `hit / ${r.baseline}`, `fault / ${r.baseline}`, 'recovery (64 pages)'];
  const grid = [
    head,
    ...r.modes.map((m) => {
      const f = r[m]!;
      const q = r.ratio[m]!;
      return [m, us(f.write_hit_p50_us).trim(), us(f.write_hit_p99_us).trim(), us(f.write_fault_p50_us).trim(), us(f.write_fault_p99_us).trim(), `${q.write_hit_p50}x`, `${q.write_fault_p50}x`, m === 'volatile' ? 'nothing kept' : msOrDash(r.recovery_ms[m])];
    }),
  ];
  const widths = head.map((_, i) => Math.max(...grid.map((g) => g[i]!.length)));
  const samples = r[r.modes[0]!]?.samples ?? 0;
  const lines = [
    `client memory modes (one cluster per mode: 1 manager + 3 clients, ${r.recovery[r.modes.find((m) => m !== 'volatile') ?? r.baseline]?.pages ?? 64} pages of ${r.page_size} bytes; ${samples} write faults (0 copies) and hits per mode, ${r.blocks} rotating blocks; ratios at p50):`,
    ...grid.map((g) => '  ' + g.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')),
  ];
  for (const m of r.modes) {
    const rec = r.recovery[m];
    if (!rec) continue;
    lines.push(
      `  ${m}: kill -9 of the owner of ${rec.pages} pages -> held on the manager in ${msOrDash(rec.held_ms)}; reboot -> first page served ${msOrDash(rec.first_page_ms)}, all ${rec.pages} ${msOrDash(rec.all_pages_ms)}, "served again" logged ${msOrDash(rec.served_log_ms)}; ${rec.restored}/${rec.pages} read back with the bytes of the last write before the kill`,
    );
  }
  lines.push(`histories (kill and reboot included): ${r.linearizable ? 'linearizable' : 'NOT linearizable'}${r.anomalies ? `; ${r.anomalies} ops were not the fault or hit expected` : ''}`);
  return lines;
}

function render(r: BenchReport): string[] {
  const lines: string[] = [];
  if (r.client_memory) lines.push(...renderClientMemory(r.client_memory));
  if (isIvy(r)) lines.push(...renderIvy(r));
  if (r.isis) lines.push(...renderIsis(r.isis));
  if (r.compare) lines.push(...renderCompare(r.compare));
  if (r.read_speedup_isis_vs_ivy_fault !== undefined) lines.push(`write-update local read vs IVY read fault at p50: ${r.read_speedup_isis_vs_ivy_fault}x faster`);
  lines.push(`machine: ${r.machine.cpus} CPUs, load average ${r.machine.loadavg.join(' ')}`);
  return lines;
}

const isIvy = (r: BenchReport): r is BenchReport & IvyReport => r.ivy !== undefined && r.bare !== undefined;

const ratioOf = (ivy: number, bare: number): number => Math.round((ivy / bare) * 100) / 100;

function renderIvy(r: IvyReport): string[] {
  const f = r.fair;
  const mem = (m: IvyReport['memory']['ivy']['client']): string => (m ? `RSS ${m.rss} MiB (PSS ${m.pss}: ${m.anon} private, ${m.file} file-backed)` : 'n/a');
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
  if (r.s1) lines.push(...renderS1(r.s1));
  lines.push(`histories: ${r.linearizable ? 'linearizable' : 'NOT linearizable'}${r.anomalies ? `; ${r.anomalies} ops were not the fault the cycle expected` : ''}`);
  lines.push(`1-minute load average before each latency block: ${r.loadavg_blocks.join(' ')}`);
  return lines;
}

function renderS1(s: NonNullable<IvyReport['s1']>): string[] {
  const row = (label: string, f: S1Figures, perRead: number): string =>
    `  ${label.padEnd(10)} Average ${f.average_ms} ms (high avg ${f.high_average_ms}, low avg ${f.low_average_ms}), p50 ${f.p50_ms} ms, p99 ${f.p99_ms} ms over ${f.faults} faults${f.failed ? ` (${f.failed} failed)` : ''}; Average = ${perRead}x its read fault p50`;
  return [
    `s1, the seed's rounds (${s.clients} clients fault at once on ${s.pages} pages; ${s.trials} trials of ${s.rounds} rounds per path, alternating; load ${s.loadavg.join(' ')}):`,
    row('fair bare', s.bare, s.per_read_fault_p50.bare),
    row('ivy', s.ivy, s.per_read_fault_p50.ivy),
    `  ratio ivy / fair bare: Average ${s.ratio.average}x, p50 ${s.ratio.p50}x; s1 history ${s.linearizable ? 'linearizable' : 'NOT linearizable'}`,
  ];
}

/** Samples per arm in each block of an A/B comparison. */
const AB_BLOCK = 20;

/** One same-run A/B comparison (--trace-overhead, --curve-overhead): its report as `{key: …}` with --json, else as lines. */
async function abCommand<R>(
  opts: BenchCliOptions,
  out: Out,
  key: string,
  run: (o: AbOptions) => Promise<R>,
  render: (r: R) => string[],
  ok: (r: R) => boolean = () => true,
): Promise<number> {
  try {
    const iterations = Math.round(opts.iterations ?? envNumber('IVY_BENCH_ITERATIONS') ?? 1000);
    const r = await run({
      iterations,
      // Short blocks: the other jobs on a shared machine come in bursts of seconds, which blocks of 100
      // (3 per 300 iterations) let land on one arm; blocks of 20 cut the run-to-run spread of the ratio.
      blockSize: Math.min(AB_BLOCK, iterations),
      basePort: opts.basePort,
      pageSize: 4096,
      // One mode only: the overhead is measured with one client memory mode.
      ...(opts.clientMemory?.length === 1 ? { clientMemory: opts.clientMemory[0]! } : {}),
      onProgress: (m) => out.error(m),
    });
    if (opts.json) out.log(JSON.stringify({ [key]: r }));
    else for (const line of render(r)) out.log(line);
    return ok(r) ? 0 : 1;
  } catch (err) {
    out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

const traceOverheadCommand = (opts: BenchCliOptions, out: Out): Promise<number> => abCommand(opts, out, 'trace_overhead', runTraceOverhead, renderTraceOverhead);
const curveOverheadCommand = (opts: BenchCliOptions, out: Out): Promise<number> =>
  abCommand(opts, out, 'curve_overhead', runCurveOverhead, renderCurveOverhead, (r) => r.linearizable);

function renderScale(r: ScaleReport): string[] {
  const row = (label: string, s: ScaleSide): string =>
    `  ${label.padEnd(12)} served ${s.served} of ${s.offered} offered (${(s.served_share * 100).toFixed(1)} %), ${s.failed} failed, ${s.unknown} unknown; read fault p50 ${us(s.read_fault_p50_us).trim()} p99 ${us(s.read_fault_p99_us).trim()}, write fault p50 ${us(s.write_fault_p50_us).trim()} p99 ${us(s.write_fault_p99_us).trim()}; ready ${s.ready_ms} ms; node CPU ${(s.cpu_share * 100).toFixed(0)} % of the cores, ${s.cpu_ms_per_op} ms per op (the manager ${(s.manager_cpu_share * 100).toFixed(0)} % of a core)`;
  const lines = [`${r.clients} clients at ${r.rate} ops/s each for ${r.seconds} s on ${r.pages} pages, read ratio ${r.read_ratio} (offered ${r.clients * r.rate} ops/s):`];
  r.runs.forEach((run, i) => {
    if (r.pairs > 1) lines.push(`  run ${i + 1} (${run.order.join(' first, then ')}; load before bare ${run.loadavg.bare}, ivy ${run.loadavg.ivy}):`);
    lines.push(row(r.pairs > 1 ? '  fair bare' : 'fair bare', run.bare), row(r.pairs > 1 ? '  ivy' : 'ivy', run.ivy));
    if (r.pairs === 1) lines.push(`  load before each: bare ${run.loadavg.bare}, ivy ${run.loadavg.ivy}`);
  });
  if (r.pairs > 1) lines.push(`  all ${r.pairs} runs pooled:`, row('  fair bare', r.bare), row('  ivy', r.ivy));
  lines.push(
    `  served ivy / fair bare: ${(r.ivy.served / Math.max(1, r.bare.served)).toFixed(2)}x; ivy runs with a backup manager, as \`up --backup\` (the bare path has no manager to back up); ivy histories ${r.ivy.linearizable ? 'linearizable' : 'NOT linearizable'}`,
  );
  return lines;
}

async function scaleCommand(opts: BenchCliOptions & { scale: ScaleShape }, out: Out): Promise<number> {
  try {
    const r = await runScale({
      ...opts.scale,
      pairs: opts.scalePairs ?? 1,
      basePort: opts.basePort,
      pageSize: 4096,
      clientMemory: opts.clientMemory?.length === 1 ? opts.clientMemory[0]! : DEFAULT_CLIENT_MEMORY,
      onProgress: (m) => out.error(m),
    });
    if (opts.json) out.log(JSON.stringify({ scale: r }));
    else for (const line of renderScale(r)) out.log(line);
    return r.ivy.linearizable === false ? 1 : 0;
  } catch (err) {
    out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

export async function runBenchCommand(opts: BenchCliOptions, out: Out): Promise<number> {
  if ([opts.traceOverhead, opts.curveOverhead, opts.scale !== undefined].filter(Boolean).length > 1) {
    out.error('error: --trace-overhead, --curve-overhead and --scale are separate runs: give one of them');
    return 2;
  }
  const only = opts.traceOverhead ? '--trace-overhead' : opts.curveOverhead ? '--curve-overhead' : opts.scale ? '--scale' : null;
  if (only && opts.clientMemory && opts.clientMemory.length > 1) {
    out.error(`error: ${only} measures one client memory mode: give --client-memory one mode, not a list`);
    return 2;
  }
  if (opts.scalePairs !== undefined && !opts.scale) {
    out.error('error: --scale-pairs goes with --scale NxR: give both');
    return 2;
  }
  if (opts.scale && (opts.compare || opts.protocol.some((p) => p !== 'ivy'))) {
    out.error('error: --scale measures IVY against the fair bare path: leave out --protocol isis and --compare');
    return 2;
  }
  if (opts.s1 !== undefined && opts.s1 !== false && (only || (opts.clientMemory && opts.clientMemory.length > 1) || !(opts.compare || opts.protocol.includes('ivy')))) {
    out.error('error: --s1 runs with the IVY bench (--protocol ivy or --compare), not with --trace-overhead, --curve-overhead, --scale or a list of memory modes');
    return 2;
  }
  if (opts.scale) return scaleCommand({ ...opts, scale: opts.scale }, out);
  if (opts.traceOverhead) return traceOverheadCommand(opts, out);
  if (opts.curveOverhead) return curveOverheadCommand(opts, out);
  let report: BenchReport;
  try {
    const iterations = Math.round(opts.iterations ?? envNumber('IVY_BENCH_ITERATIONS') ?? 1000);
    const throughputS = opts.throughputSeconds ?? envNumber('IVY_BENCH_SECONDS') ?? 5;
    const protocols: Protocol[] = opts.compare ? ['ivy', 'isis'] : opts.protocol;
    const clientSteps = envList('IVY_BENCH_CLIENT_STEPS', 1, 128);
    const readRatios = envList('IVY_BENCH_READ_RATIOS', 0, 1);
    report = await runBench({
      protocols,
      ...(clientSteps ? { clientSteps } : {}),
      ...(readRatios ? { readRatios } : {}),
      iterations,
      blockSize: Math.min(100, iterations),
      throughputS,
      basePort: opts.basePort,
      pageSize: 4096,
      ...(opts.clientMemory?.length === 1 ? { clientMemory: opts.clientMemory[0]! } : {}),
      ...(opts.clientMemory && opts.clientMemory.length > 1 ? { memoryModes: opts.clientMemory } : {}),
      ...(opts.s1 === true ? { s1Trials: S1_DEFAULT_TRIALS } : typeof opts.s1 === 'number' ? { s1Trials: opts.s1 } : {}),
      onProgress: (m) => out.error(m),
    });
  } catch (err) {
    out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (opts.json) out.log(JSON.stringify(report));
  else for (const line of render(report)) out.log(line);
  return report.consistent ? 0 : 1;
}
