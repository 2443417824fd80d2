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
import { FairBarePath } from './fair-bare-path.js';
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

export interface ScaleReport extends ScaleShape {
  pages: number;
  read_ratio: number;
  /** The bare path has no manager seat to back up; the protocol runs with a backup, as `up --backup`. */
  bare: ScaleSide;
  ivy: ScaleSide & { linearizable: boolean | null };
  /** 1-minute load average before each path. */
  loadavg: { bare: number; ivy: number };
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

function side(summary: ReturnType<typeof sustainedSummary>, shape: ScaleShape, readyMs: number, windowS: number, cpu: { nodes: number; manager: number }): ScaleSide {
  const offered = Math.round(shape.clients * shape.rate * windowS);
  const served = summary.faults + summary.hits;
  return {
    ready_ms: Math.round(readyMs),
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

export async function runScale(opts: ScaleShape & { basePort: number; pageSize: number; clientMemory: ClientMemory; onProgress?: (m: string) => void }): Promise<ScaleReport> {
  const say = opts.onProgress ?? (() => undefined);
  const { pages, readRatio, seed } = SCALE_WORKLOAD;
  const what = `${opts.clients} clients at ${opts.rate} ops/s for ${opts.seconds} s on ${pages} pages`;

  const loadBare = load1();
  say(`scale, fair bare path: starting ${opts.clients} clients (load ${loadBare})`);
  const t0 = performance.now();
  const bare = await FairBarePath.open(opts.basePort, opts.clients, pages, opts.pageSize, opts.clientMemory);
  let bareSide: ScaleSide;
  try {
    const readyMs = performance.now() - t0;
    say(`scale, fair bare path: ${what} (load ${load1()})`);
    const all = bare.pids();
    const pids = [...all.manager, ...all.client];
    const cpu0 = { nodes: totalCpuMs(pids), manager: totalCpuMs(all.manager) };
    const w = await bare.rateWindow(readRatio, pages, opts.rate, opts.seconds, seed);
    const cpu = { nodes: totalCpuMs(pids) - cpu0.nodes, manager: totalCpuMs(all.manager) - cpu0.manager };
    const windowS = (w.toNs - w.fromNs) / 1e9;
    bareSide = side(sustainedSummary(w.ops, w.fromNs, w.toNs), opts, readyMs, windowS, cpu);
  } finally {
    await bare.stop();
  }

  const loadIvy = load1();
  say(`scale, protocol (with a backup manager): ${what} (load ${loadIvy})`);
  const t = await measureThroughput({ basePort: opts.basePort + 1000, clients: opts.clients, pages, readRatio, durationS: opts.seconds, seed, rate: opts.rate, backup: true, clientMemory: opts.clientMemory });
  const ivySide = side(t, opts, t.readyMs, t.durationS, { nodes: t.nodeCpuMs, manager: t.m0CpuMs });
  return {
    clients: opts.clients,
    rate: opts.rate,
    seconds: opts.seconds,
    pages,
    read_ratio: readRatio,
    bare: bareSide,
    ivy: { ...ivySide, linearizable: t.linearizable },
    loadavg: { bare: loadBare, ivy: loadIvy },
  };
}
