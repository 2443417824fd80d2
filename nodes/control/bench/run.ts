// `ivy-cluster bench`: the protocol's fault latency against the bare transport's,
// then the aggregate fault throughput. Bare and protocol measurements alternate in
// blocks (ABBA order) so the noise of a shared machine falls on both alike, and both
// are closed loop, one op at a time, driven the same way over the control channel:
// what is measured is latency, not queueing.
import { cpus, loadavg } from 'node:os';
import { percentile } from '../scenarios/figures.js';
import { BarePath } from './bare-path.js';
import { emptySamples, IvyPath, type Samples } from './ivy-path.js';
import { measureThroughput, type ThroughputResult } from './throughput.js';
import type { Protocol } from '../api.js';
import { runCompare, runIsisBench, type CompareRow, type IsisReport } from './isis-run.js';

export interface BenchOptions {
  /** Samples per fault kind and path. */
  iterations: number;
  blockSize: number;
  /** Seconds of each throughput run. */
  throughputS: number;
  basePort: number;
  pageSize: number;
  /** Which protocols to measure (default ivy); both adds the comparison by read ratio. */
  protocols?: readonly Protocol[];
  /** Write-update group sizes for write latency by client count (default 2, 10, 32). */
  clientSteps?: readonly number[];
  /** Read ratios of the comparison (default 0, 0.5, 0.9, 0.99). */
  readRatios?: readonly number[];
  onProgress?: (message: string) => void;
}

/** The headline write fault: one copy to invalidate, so the wait for acknowledgements is in it. */
export const HEADLINE_WRITE = 'write1';

type Kind = keyof Samples;
const KINDS: readonly Kind[] = ['read', 'write0', 'write1', 'write9'];

export type PathFigures = Record<`${Kind}_p50_us` | `${Kind}_p99_us` | 'write_p50_us' | 'write_p99_us', number> & { samples: number };

/** Everything `bench` measured; the IVY keys when IVY ran, `isis` when write-update ran, `compare` when both did. */
export interface BenchReport extends Partial<Omit<IvyReport, 'linearizable'>> {
  protocols: Protocol[];
  isis?: IsisReport;
  /** Both protocols, same run: throughput and latency of every op by read ratio. */
  compare?: CompareRow[];
  /** IVY read fault p50 / write-update local read p50 (the aim: ≥ 100). */
  read_speedup_isis_vs_ivy_fault?: number;
  /** IVY's histories linearizable (null: IVY did not run; write-update is checked for sequential consistency). */
  linearizable: boolean | null;
  /** Every history passed its protocol's check. */
  consistent: boolean;
  machine: { cpus: number; loadavg: number[] };
}

export interface IvyReport {
  bare: PathFigures;
  ivy: PathFigures;
  /** The protocol path with a backup manager replicating the records (measured in the same blocks). */
  ivy_backup: PathFigures;
  /** Cost of running with a backup: ivy_backup / ivy. */
  backup_cost: Record<'read_p50' | 'write_p50' | 'read_p99' | 'write_p99', number>;
  ratio: Record<'read_p50' | 'read_p99' | 'write_p50' | 'write_p99' | 'write0_p50' | 'write1_p50' | 'write9_p50', number>;
  /** 10 clients back to back on 64 pages, read ratio 0.5. */
  faults_per_s: number;
  /** The same on the seed's 3 pages (per-page serialisation at the manager bounds it). */
  faults_per_s_3_pages: number;
  throughput: ThroughputResult[];
  headline_write: string;
  iterations: number;
  blocks: number;
  anomalies: number;
  linearizable: boolean;
  machine: { cpus: number; loadavg: number[] };
}

const us1 = (x: number): number => Math.round(x * 10) / 10;

function figures(s: Samples): PathFigures {
  const out: Record<string, number> = { samples: s.read.length };
  for (const k of KINDS) {
    out[`${k}_p50_us`] = us1(percentile(s[k], 50));
    out[`${k}_p99_us`] = us1(percentile(s[k], 99));
  }
  out.write_p50_us = out[`${HEADLINE_WRITE}_p50_us`]!;
  out.write_p99_us = out[`${HEADLINE_WRITE}_p99_us`]!;
  return out as PathFigures;
}

const ratio = (ivy: number, bare: number): number => Math.round((ivy / bare) * 100) / 100;

async function bareBlock(bare: BarePath, n: number, into: Samples | null): Promise<void> {
  const take = (list: number[] | undefined, t: { startNs: number; endNs: number }): void => void list?.push((t.endNs - t.startNs) / 1000);
  for (let i = 0; i < n; i++) {
    // Same order of kinds as the protocol block.
    take(into?.read, await bare.op('read', 0));
    take(into?.write1, await bare.op('write', 1));
    take(into?.write0, await bare.op('write', 0));
    take(into?.write9, await bare.op('write', 9));
  }
}

async function ivyBlock(ivy: IvyPath, n: number, into: Samples | null): Promise<void> {
  for (let i = 0; i < n; i++) {
    await ivy.readThenWrite1(into);
    await ivy.write0(into);
    await ivy.write9(into);
  }
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const protocols = opts.protocols?.length ? [...opts.protocols] : (['ivy'] as Protocol[]);
  const machine = (): BenchReport['machine'] => ({ cpus: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) });
  const ivy = protocols.includes('ivy') ? await runIvyBench(opts) : null;
  const isis = protocols.includes('isis')
    ? await runIsisBench({
        iterations: opts.iterations,
        blockSize: opts.blockSize,
        basePort: opts.basePort + 500,
        pageSize: opts.pageSize,
        clientSteps: opts.clientSteps ?? [2, 10, 32],
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      })
    : null;
  const compare =
    ivy && isis
      ? await runCompare({
          basePort: opts.basePort + 800,
          durationS: opts.throughputS,
          readRatios: opts.readRatios ?? [0, 0.5, 0.9, 0.99],
          clients: 10,
          pages: 64,
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        })
      : null;
  const report: BenchReport = {
    ...(ivy ?? {}),
    protocols,
    linearizable: ivy ? ivy.linearizable : null,
    consistent: (ivy?.linearizable ?? true) && (isis?.sequential ?? true) && (compare?.rows.every((r) => r.consistent) ?? true),
    machine: machine(),
  };
  if (isis) report.isis = isis;
  if (compare) report.compare = compare.rows;
  if (ivy && isis && isis.read_p50_us > 0) report.read_speedup_isis_vs_ivy_fault = Math.round(ivy.ivy.read_p50_us / isis.read_p50_us);
  return report;
}

async function runIvyBench(opts: BenchOptions): Promise<IvyReport> {
  const say = opts.onProgress ?? (() => undefined);
  say('starting the bare nodes and the cluster');
  const [bare, ivy, ivyB] = await Promise.all([
    BarePath.start(opts.basePort, opts.pageSize),
    IvyPath.start(opts.basePort + 100, opts.pageSize),
    IvyPath.start(opts.basePort + 150, opts.pageSize, true),
  ]);
  const s = { bare: emptySamples(), ivy: emptySamples(), ivyB: emptySamples() };
  const blocks = Math.ceil(opts.iterations / opts.blockSize);
  try {
    // Warm both paths (connections, JIT, caches) before anything counts.
    await bareBlock(bare, 20, null);
    await ivyBlock(ivy, 20, null);
    await ivyBlock(ivyB, 20, null);
    for (let b = 0; b < blocks; b++) {
      const n = Math.min(opts.blockSize, opts.iterations - b * opts.blockSize);
      say(`latency block ${b + 1}/${blocks} (${n} of each fault kind per path)`);
      // Rotate the order so drifts in machine load fall on every path alike.
      const order = [() => bareBlock(bare, n, s.bare), () => ivyBlock(ivy, n, s.ivy), () => ivyBlock(ivyB, n, s.ivyB)];
      for (let k = 0; k < order.length; k++) await order[(b + k) % order.length]!();
    }
  } catch (err) {
    await Promise.all([bare.stop(), ivy.stop(), ivyB.stop()]);
    throw err;
  }
  const anomalies = ivy.anomalies + ivyB.anomalies;
  const [, history, historyB] = await Promise.all([bare.stop(), ivy.stop(), ivyB.stop()]);

  const throughput: ThroughputResult[] = [];
  for (const [i, pages] of [64, 3].entries()) {
    say(`throughput: 10 clients back to back on ${pages} pages for ${opts.throughputS} s`);
    throughput.push(await measureThroughput({ basePort: opts.basePort + 200 + 100 * i, clients: 10, pages, readRatio: 0.5, durationS: opts.throughputS, seed: 1 }));
  }

  const bareF = figures(s.bare);
  const ivyF = figures(s.ivy);
  const ivyBF = figures(s.ivyB);
  return {
    bare: bareF,
    ivy: ivyF,
    ivy_backup: ivyBF,
    backup_cost: {
      read_p50: ratio(ivyBF.read_p50_us, ivyF.read_p50_us),
      write_p50: ratio(ivyBF.write_p50_us, ivyF.write_p50_us),
      read_p99: ratio(ivyBF.read_p99_us, ivyF.read_p99_us),
      write_p99: ratio(ivyBF.write_p99_us, ivyF.write_p99_us),
    },
    ratio: {
      read_p50: ratio(ivyF.read_p50_us, bareF.read_p50_us),
      read_p99: ratio(ivyF.read_p99_us, bareF.read_p99_us),
      write_p50: ratio(ivyF.write_p50_us, bareF.write_p50_us),
      write_p99: ratio(ivyF.write_p99_us, bareF.write_p99_us),
      write0_p50: ratio(ivyF.write0_p50_us, bareF.write0_p50_us),
      write1_p50: ratio(ivyF.write1_p50_us, bareF.write1_p50_us),
      write9_p50: ratio(ivyF.write9_p50_us, bareF.write9_p50_us),
    },
    faults_per_s: throughput[0]!.faultsPerS,
    faults_per_s_3_pages: throughput[1]!.faultsPerS,
    throughput,
    headline_write: HEADLINE_WRITE,
    iterations: opts.iterations,
    blocks,
    anomalies,
    linearizable: history.linearizable && historyB.linearizable && throughput.every((t) => t.linearizable),
    machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
  };
}
