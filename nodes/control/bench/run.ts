// `ivy-cluster bench`: the protocol's fault latency against the bare transport's,
// then the aggregate fault throughput. Bare and protocol measurements alternate in
// blocks (rotating order) so the noise of a shared machine falls on all alike, and
// all are closed loop, one op at a time, driven the same way over the control
// channel: what is measured is latency, not queueing.
// Two bare paths: the hot pair (`bare`: the same requester and owner every time, the
// first figure this bench had) and the fair one (`fair.bare`: the protocol path's
// processes, rotation and hop shapes, minus the protocol), against which the
// targets are set; the fair throughput alternates windows of both paths too.
import type { ClientMemory } from '../../protocol/messages.js';
import { cpus, loadavg } from 'node:os';
import { percentile } from '../scenarios/figures.js';
import { BarePath } from './bare-path.js';
import { FairBarePath } from './fair-bare-path.js';
import { emptySamples, IvyPath, type Samples } from './ivy-path.js';
import { roleMemory, type RoleMemory } from './memory.js';
import { measureThroughput, type ThroughputResult } from './throughput.js';
import { DEFAULT_CLIENT_MEMORY, type Protocol } from '../api.js';
import { runCompare, runIsisBench, type CompareRow, type IsisReport } from './isis-run.js';
import { runClientMemoryBench, type ClientMemoryReport } from './client-memory.js';
import { interleavedBlocks, load1 } from './interleave.js';
import { runS1Compare, type S1Report } from './s1-rounds.js';

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
  /** Client memory mode of the IVY clusters (absent: the default, recoverable). */
  clientMemory?: ClientMemory;
  /** Two or more modes: measure those modes against each other (client-memory.ts) instead of the protocol against the transport. */
  memoryModes?: readonly ClientMemory[];
  /** `--s1`: also run the seed's s1 rounds on the protocol path and the fair bare path, this many trials each (s1-rounds.ts). */
  s1Trials?: number;
}

/** The headline write fault: one copy to invalidate, so the wait for acknowledgements is in it. */
export const HEADLINE_WRITE = 'write1';

type Kind = keyof Samples;
const KINDS: readonly Kind[] = ['read', 'write0', 'write1', 'write9'];

export type PathFigures = Record<`${Kind}_p50_us` | `${Kind}_p99_us` | 'write_p50_us' | 'write_p99_us', number> & { samples: number };

type FairFigures = { read_p50_us: number; write_p50_us: number; faults_per_s: number };

/** DESIGN §6 `fair`: bare path with the same processes, rotation and hop shapes as the protocol path. */
export interface FairReport {
  bare: FairFigures;
  ivy: FairFigures;
  ratio: { read_p50: number; write_p50: number; faults_per_s: number };
  /** Every latency kind of the fair bare path (`ivy` has the protocol's). */
  bare_detail: PathFigures;
  /** Clients working and pages in the throughput windows; seconds per path, in `windows` alternating windows. */
  throughput: { clients: number; pages: number; seconds: number; windows: number };
  anomalies: number;
}

/** Everything `bench` measured; the IVY keys when IVY ran, `isis` when write-update ran, `compare` when both did. */
export interface BenchReport extends Partial<Omit<IvyReport, 'linearizable'>> {
  protocols: Protocol[];
  isis?: IsisReport;
  /** Both protocols, same run: throughput and latency of every op by read ratio. */
  compare?: CompareRow[];
  /** `--client-memory` with several modes: write hit and fault latency per mode, ratios, recovery of 64 pages. (`memory` holds RSS readings.) */
  client_memory?: ClientMemoryReport;
  /** IVY read fault p50 / write-update local read p50 (the aim: ≥ 100). */
  read_speedup_isis_vs_ivy_fault?: number;
  /** IVY's histories linearizable (null: IVY did not run; write-update is checked for sequential consistency). */
  linearizable: boolean | null;
  /** Every history passed its protocol's check. */
  consistent: boolean;
  machine: { cpus: number; loadavg: number[] };
}

export interface IvyReport {
  /** The hot-pair bare path: the same requester and owner every time. */
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
  fair: FairReport;
  /** DESIGN §6: resident memory per role (MiB, the largest process), protocol cluster after its throughput windows. */
  rss_mib: { manager: number; client: number };
  /** Proportional set size per role (shared pages divided among the processes that map them). */
  pss_mib: { manager: number; client: number };
  /**
   * `--s1`: the seed's s1 on both paths, trials alternating; `per_read_fault_p50`: each path's s1 Average ÷ its own
   * read fault p50 of this run's latency blocks (the protocol's: `ivy`; the fair bare path's: `fair.bare`).
   */
  s1?: S1Report & { per_read_fault_p50: { ivy: number; bare: number } };
  /** The same readings in full, protocol and fair bare clusters; `loadavg` before each latency block. */
  memory: { ivy: Record<'manager' | 'client', RoleMemory | null>; fair_bare: Record<'manager' | 'client', RoleMemory | null> };
  loadavg_blocks: number[];
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

/** Clients and pages of the fair throughput windows (the seed's 10 clients; 64 pages as `faults_per_s`). */
const FAIR_TPUT = { clients: 10, pages: 64 } as const;
/** Seconds of the uncounted warm-up each path runs before the fair throughput windows, and each throughput run before its window (at most 2.4× the run's seconds). */
const FAIR_TPUT_WARMUP_S = 12;
const fairWarmupS = (throughputS: number): number => Math.min(FAIR_TPUT_WARMUP_S, 2.4 * throughputS);

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const protocols = opts.protocols?.length ? [...opts.protocols] : (['ivy'] as Protocol[]);
  const machine = (): BenchReport['machine'] => ({ cpus: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) });
  if (opts.memoryModes && opts.memoryModes.length > 1) {
    const cm = await runClientMemoryBench({
      modes: opts.memoryModes,
      iterations: opts.iterations,
      blockSize: opts.blockSize,
      basePort: opts.basePort,
      pageSize: opts.pageSize,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    return { protocols: ['ivy'], client_memory: cm, linearizable: cm.linearizable, consistent: cm.linearizable, machine: machine() };
  }
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
  say('starting the bare nodes and the clusters');
  const started = await Promise.allSettled([
    BarePath.start(opts.basePort, opts.pageSize),
    IvyPath.start(opts.basePort + 100, opts.pageSize, false, FAIR_TPUT.pages, opts.clientMemory),
    IvyPath.start(opts.basePort + 150, opts.pageSize, true, 1, opts.clientMemory),
    FairBarePath.start(opts.basePort + 400, opts.pageSize, FAIR_TPUT.pages, opts.clientMemory ?? DEFAULT_CLIENT_MEMORY),
  ]);
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop().then(() => undefined) : undefined)));
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [bare, ivy, ivyB, fair] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [BarePath, IvyPath, IvyPath, FairBarePath];
  const s = { bare: emptySamples(), ivy: emptySamples(), ivyB: emptySamples(), fair: emptySamples() };
  let blocks: number;
  let loadBlocks: number[];
  const windows = Math.max(2, 2 * Math.round(opts.throughputS / 2));
  const windowS = opts.throughputS / windows;
  let memory: BenchReport['memory'] | undefined;
  try {
    // Warm every path (connections, JIT, caches) before anything counts.
    await bareBlock(bare, 20, null);
    await fair.block(20, null);
    await ivy.block(20, null);
    await ivyB.block(20, null);
    // Rotate the order so drifts in machine load fall on every path alike.
    const paths = [(n: number) => bareBlock(bare, n, s.bare), (n: number) => fair.block(n, s.fair), (n: number) => ivy.block(n, s.ivy), (n: number) => ivyB.block(n, s.ivyB)];
    const run = await interleavedBlocks(paths, opts, (path, n) => path(n), (b, of, n, load) => say(`latency block ${b}/${of} (${n} of each fault kind per path; load ${load})`));
    blocks = run.blocks;
    loadBlocks = run.loadavg;
    // Fair throughput: first an uncounted warm-up window per path. The latency blocks never run the workload
    // generator nor ten clients' frames at once, and V8 runs that code in its baseline tier until it has
    // run a few thousand times: a client, which handles a tenth of the frames, takes seconds to get there.
    // Both paths' CPU per fault falls for the first ~10 s of workload and is flat after
    // (scripts/tput-cost.mjs --fair --warmup 0 --windows 8 --window 2.5); after 3 s the protocol's more
    // numerous functions were still warming, and the ratio read 0.66-0.71 against 0.76-0.80 after 12-15 s
    // (--bench-like 3,12 and 3,15; docs/BENCHMARKS.md, session eleven). Measured windows then see the code a
    // running cluster runs. A short run (the tests' 1 s) warms for proportionally less.
    const warmS = fairWarmupS(opts.throughputS);
    say(`fair throughput warm-up: ${warmS} s per path, not counted (load ${load1()})`);
    await fair.throughputWindow(FAIR_TPUT.clients, FAIR_TPUT.pages, warmS, 0, false);
    await ivy.throughputWindow(FAIR_TPUT.clients, FAIR_TPUT.pages, warmS, 0, false);
    // Then windows of the two paths alternate (ABBA), the same clients, pages and workload.
    for (let w = 0; w < windows; w++) {
      say(`fair throughput window ${w + 1}/${windows}: ${FAIR_TPUT.clients} clients back to back on ${FAIR_TPUT.pages} pages, ${windowS.toFixed(2)} s per path (load ${load1()})`);
      const pair = [() => fair.throughputWindow(FAIR_TPUT.clients, FAIR_TPUT.pages, windowS, w + 1), () => ivy.throughputWindow(FAIR_TPUT.clients, FAIR_TPUT.pages, windowS, w + 1)];
      if (w % 4 === 1 || w % 4 === 2) pair.reverse();
      for (const run of pair) await run();
    }
    const ivyPids = ivy.pids();
    const fairPids = fair.pids();
    memory = {
      ivy: { manager: roleMemory(ivyPids.manager), client: roleMemory(ivyPids.client) },
      fair_bare: { manager: roleMemory(fairPids.manager), client: roleMemory(fairPids.client) },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
  const anomalies = ivy.anomalies + ivyB.anomalies;
  const fairAnomalies = fair.anomalies;
  const fairTput = fair.throughput();
  const [, history, historyB] = await Promise.all([bare.stop(), ivy.stop(), ivyB.stop(), fair.stop()]);
  if (memory === undefined) throw new Error('memory was not read');

  const throughput: ThroughputResult[] = [];
  // Warmed as the fair windows are (above): the figure is the protocol's throughput, not V8's warm-up.
  const warmupS = fairWarmupS(opts.throughputS);
  for (const [i, pages] of [64, 3].entries()) {
    say(`throughput: 10 clients back to back on ${pages} pages for ${opts.throughputS} s after ${warmupS} s uncounted (load ${load1()})`);
    throughput.push(await measureThroughput({ basePort: opts.basePort + 200 + 100 * i, clients: 10, pages, readRatio: 0.5, durationS: opts.throughputS, seed: 1, warmupS }));
  }

  const bareF = figures(s.bare);
  const ivyF = figures(s.ivy);
  const ivyBF = figures(s.ivyB);
  const fairF = figures(s.fair);
  const s1 = opts.s1Trials
    ? await runS1Compare({ basePort: opts.basePort + 600, pageSize: opts.pageSize, clientMemory: opts.clientMemory ?? DEFAULT_CLIENT_MEMORY, trials: opts.s1Trials, seed: 1, onProgress: say })
    : null;
  const perS = (faults: number, seconds: number): number => Math.round(faults / Math.max(1e-9, seconds));
  const fairBareTput = perS(fairTput.windowFaults, fairTput.windowSeconds);
  const fairIvyTput = perS(history.windowFaults, history.windowSeconds);
  const mem = memory;
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
    linearizable: history.linearizable && historyB.linearizable && throughput.every((t) => t.linearizable) && (s1?.linearizable ?? true),
    machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
    fair: {
      bare: { read_p50_us: fairF.read_p50_us, write_p50_us: fairF.write_p50_us, faults_per_s: fairBareTput },
      ivy: { read_p50_us: ivyF.read_p50_us, write_p50_us: ivyF.write_p50_us, faults_per_s: fairIvyTput },
      ratio: {
        read_p50: ratio(ivyF.read_p50_us, fairF.read_p50_us),
        write_p50: ratio(ivyF.write_p50_us, fairF.write_p50_us),
        faults_per_s: ratio(fairIvyTput, fairBareTput),
      },
      bare_detail: fairF,
      throughput: { ...FAIR_TPUT, seconds: Math.round(fairTput.windowSeconds * 100) / 100, windows },
      anomalies: fairAnomalies,
    },
    rss_mib: { manager: mem.ivy.manager?.rss ?? 0, client: mem.ivy.client?.rss ?? 0 },
    pss_mib: { manager: mem.ivy.manager?.pss ?? 0, client: mem.ivy.client?.pss ?? 0 },
    memory: mem,
    loadavg_blocks: loadBlocks,
    ...(s1
      ? { s1: { ...s1, per_read_fault_p50: { ivy: ratio(s1.ivy.average_ms * 1000, ivyF.read_p50_us), bare: ratio(s1.bare.average_ms * 1000, fairF.read_p50_us) } } }
      : {}),
  };
}
