// `bench --scale NxR`: many clients at a steady rate — N clients at R ops/s each for S
// seconds on 64 pages, read ratio 0.6, as `up --backup --clients N --pages 64 --read-ratio
// 0.6 --rate R --duration S` — on the fair bare path (the same clients, transport, links
// and hop shapes, no protocol) and on the protocol, one after the other in the same run.
// It reports the share of the offered operations each served, their fault latency, the
// ready time and the nodes' CPU over the window, so the protocol's figure at that scale
// can be read against what the transport alone does on the same machine.
import { cpus } from 'node:os';
import type { ClientMemory } from '../../protocol/messages.js';
import { sustainedSummary } from '../scenarios/figures.js';
import { FairBarePath, type WindowOp } from './fair-bare-path.js';
import { load1 } from './interleave.js';
import { totalCpuMs } from './proc-cpu.js';
import { measureThroughput } from './throughput.js';

export interface ScaleShape {
  clients: number;
  /** Ops per second per client. */
  rate: number;
  seconds: number;
}

/** What `up` runs in the test: 64 pages, 60 % reads. */
export const SCALE_WORKLOAD = { pages: 64, readRatio: 0.6, seed: 1 } as const;

export interface ScaleSide {
  ready_ms: number;
  /** clients × rate × seconds of the window. */
  offered: number;
  /** Successful ops (faults and hits) that started inside the window. */
  served: number;
  /** served ÷ offered. */
  served_share: number;
  failed: number;
  unknown: number;
  read_fault_p50_us: number;
  read_fault_p99_us: number;
  write_fault_p50_us: number;
  write_fault_p99_us: number;
  /** CPU of every node over the window, as a share of all the machine's cores. */
  cpu_share: number;
  /** Node CPU over the window per served op, ms. */
  cpu_ms_per_op: number;
  /** The manager seat m0 alone (the primary, unless a takeover moved the role), as a share of one core: every fault passes through the primary, one process. */
  manager_cpu_share: number;
}

/** One run of both paths, in the order given. */
export interface ScaleRun {
  order: ['bare', 'ivy'] | ['ivy', 'bare'];
  bare: ScaleSide;
  ivy: ScaleSide & { linearizable: boolean | null };
  /** 1-minute load average before each path. */
  loadavg: { bare: number; ivy: number };
}

export interface ScaleReport extends ScaleShape {
  pages: number;
  read_ratio: number;
  /** Runs of both paths, the order alternating (bare first, then ivy first, …). */
  pairs: number;
  /** Every run of the path pooled: ops and CPU summed, latency over every op, ready time the mean. The bare path has no manager seat to back up; the protocol runs with a backup, as `up --backup`. */
  bare: ScaleSide;
  /** `linearizable`: every run's history. */
  ivy: ScaleSide & { linearizable: boolean | null };
  runs: ScaleRun[];
}

/** Seconds of the window when the shape names none (the test: 15). */
export const SCALE_DEFAULT_SECONDS = 15;

/** `128x10` (15 s) or `128x10x30` → clients, ops/s per client, seconds; null if it is not that shape or out of range. */
export function parseScale(text: string): ScaleShape | null {
  const m = /^(\d{1,4})x(\d+(?:\.\d+)?)(?:x(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (!m) return null;
  const clients = Number(m[1]);
  const rate = Number(m[2]);
  const seconds = m[3] === undefined ? SCALE_DEFAULT_SECONDS : Number(m[3]);
  const ok = clients >= 1 && clients <= 1024 && rate > 0 && rate <= 1000 && seconds >= 1 && seconds <= 3600;
  return ok ? { clients, rate, seconds } : null;
}

const share = (a: number, b: number): number => Math.round((a / Math.max(1, b)) * 1000) / 1000;

/** What one run of a path gives: its ops that started in the window, and what it took. */
interface PathRun {
  ops: WindowOp[];
  windowS: number;
  readyMs: number;
  cpu: { nodes: number; manager: number };
}

/** A path's figures over one or more runs: their ops pooled (each run's already cut to its own window). */
function side(runs: readonly PathRun[], shape: ScaleShape): ScaleSide {
  const windowS = runs.reduce((a, r) => a + r.windowS, 0);
  const cpu = { nodes: runs.reduce((a, r) => a + r.cpu.nodes, 0), manager: runs.reduce((a, r) => a + r.cpu.manager, 0) };
  const summary = sustainedSummary(
    runs.flatMap((r) => r.ops),
    Number.NEGATIVE_INFINITY,
    Number.POSITIVE_INFINITY,
  );
  const offered = Math.round(shape.clients * shape.rate * windowS);
  const served = summary.faults + summary.hits;
  return {
    ready_ms: Math.round(runs.reduce((a, r) => a + r.readyMs, 0) / Math.max(1, runs.length)),
    offered,
    served,
    served_share: share(served, offered),
    failed: summary.failed,
    unknown: summary.unknown,
    read_fault_p50_us: summary.read.p50Us,
    read_fault_p99_us: summary.read.p99Us,
    write_fault_p50_us: summary.write.p50Us,
    write_fault_p99_us: summary.write.p99Us,
    cpu_share: share(cpu.nodes, windowS * 1000 * cpus().length),
    cpu_ms_per_op: Math.round((cpu.nodes / Math.max(1, served)) * 100) / 100,
    manager_cpu_share: share(cpu.manager, windowS * 1000),
  };
}

type ScaleOptions = ScaleShape & { basePort: number; pageSize: number; clientMemory: ClientMemory; pairs?: number; onProgress?: (m: string) => void };

async function runBare(opts: ScaleOptions): Promise<PathRun> {
  const { pages, readRatio, seed } = SCALE_WORKLOAD;
  const t0 = performance.now();
  const bare = await FairBarePath.open(opts.basePort, opts.clients, pages, opts.pageSize, opts.clientMemory);
  try {
    const readyMs = performance.now() - t0;
    const all = bare.pids();
    const pids = [...all.manager, ...all.client];
    const cpu0 = { nodes: totalCpuMs(pids), manager: totalCpuMs(all.manager) };
    const w = await bare.rateWindow(readRatio, pages, opts.rate, opts.seconds, seed);
    const cpu = { nodes: totalCpuMs(pids) - cpu0.nodes, manager: totalCpuMs(all.manager) - cpu0.manager };
    return { ops: w.ops, windowS: (w.toNs - w.fromNs) / 1e9, readyMs, cpu };
  } finally {
    await bare.stop();
  }
}

async function runIvy(opts: ScaleOptions): Promise<PathRun & { linearizable: boolean | null }> {
  const { pages, readRatio, seed } = SCALE_WORKLOAD;
  let ops: WindowOp[] = [];
  const t = await measureThroughput({
    basePort: opts.basePort + 1000,
    clients: opts.clients,
    pages,
    readRatio,
    durationS: opts.seconds,
    seed,
    rate: opts.rate,
    backup: true,
    clientMemory: opts.clientMemory,
    onHistory: (all, fromNs, toNs) => (ops = all.filter((o) => o.start >= fromNs && o.start <= toNs)),
  });
  return { ops, windowS: t.durationS, readyMs: t.readyMs, cpu: { nodes: t.nodeCpuMs, manager: t.m0CpuMs }, linearizable: t.linearizable };
}

export async function runScale(opts: ScaleOptions): Promise<ScaleReport> {
  const say = opts.onProgress ?? (() => undefined);
  const pairs = opts.pairs ?? 1;
  const what = `${opts.clients} clients at ${opts.rate} ops/s for ${opts.seconds} s on ${SCALE_WORKLOAD.pages} pages`;
  const bareRuns: PathRun[] = [];
  const ivyRuns: (PathRun & { linearizable: boolean | null })[] = [];
  const runs: ScaleRun[] = [];
  for (let p = 0; p < pairs; p++) {
    // Alternating order (bare first, then ivy first): what the first run leaves behind falls on both paths.
    const order: ScaleRun['order'] = p % 2 === 0 ? ['bare', 'ivy'] : ['ivy', 'bare'];
    const loads = { bare: 0, ivy: 0 };
    let bareRun: PathRun | null = null;
    let ivyRun: (PathRun & { linearizable: boolean | null }) | null = null;
    for (const path of order) {
      loads[path] = load1();
      const label = path === 'bare' ? 'fair bare path' : 'protocol (with a backup manager)';
      say(`scale ${p + 1}/${pairs}, ${label}: ${what} (load ${loads[path]})`);
      if (path === 'bare') bareRun = await runBare(opts);
      else ivyRun = await runIvy(opts);
    }
    bareRuns.push(bareRun!);
    ivyRuns.push(ivyRun!);
    runs.push({ order, bare: side([bareRun!], opts), ivy: { ...side([ivyRun!], opts), linearizable: ivyRun!.linearizable }, loadavg: loads });
  }
  const lin = ivyRuns.map((r) => r.linearizable);
  return {
    clients: opts.clients,
    rate: opts.rate,
    seconds: opts.seconds,
    pages: SCALE_WORKLOAD.pages,
    read_ratio: SCALE_WORKLOAD.readRatio,
    pairs,
    bare: side(bareRuns, opts),
    ivy: { ...side(ivyRuns, opts), linearizable: lin.includes(false) ? false : lin.includes(null) ? null : true },
    runs,
  };
}
