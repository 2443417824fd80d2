// Aggregate fault throughput: a fresh cluster whose clients all run a random
// workload back to back for a fixed time. Counted from the merged history (ops that
// started inside the window), not from telemetry, so nothing in flight is lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema, type Protocol } from '../api.js';
import type { ClientMemory } from '../../protocol/messages.js';
import { checkProtocol } from '../history/models.js';
import { mergeClientLogs } from '../history/merge.js';
import { sustainedSummary, type SustainedSummary } from '../scenarios/figures.js';
import { newHistogram } from '../../runtime/latency.js';
import { summarize } from '../stats.js';
import type { HistoryOp } from '../history/schema.js';
import type { LatencySummary } from '../api.js';
import { Supervisor } from '../supervisor.js';
import { totalCpuMs } from './proc-cpu.js';

export interface ThroughputOptions {
  /** Default ivy. */
  protocol?: Protocol;
  basePort: number;
  clients: number;
  pages: number;
  readRatio: number;
  durationS: number;
  seed: number;
  /** Ops per second per client (default 0: back to back). */
  rate?: number;
  /** Run a backup manager too (default no), as `up --backup`. */
  backup?: boolean;
  /** Where clients keep pages (default: the cluster's default, recoverable). */
  clientMemory?: ClientMemory;
  /**
   * Seconds the workload runs before the window opens, uncounted (default 0: the window is a fresh cluster's
   * first seconds, as `bench --scale` wants). bench's own throughput runs warm up as its fair windows do.
   */
  warmupS?: number;
  /** Given the merged history and the window, before the summary (`bench --scale` pools several runs' ops). */
  onHistory?: (ops: readonly HistoryOp[], fromNs: number, toNs: number) => void;
}

export interface ThroughputResult extends SustainedSummary {
  /** Spawn of every process -> every node ready. */
  readyMs: number;
  /** Resident memory of each node at the end of the run, in MiB (from its own telemetry). */
  rssMiB: { manager: number; clientMean: number; clientMax: number };
  clients: number;
  pages: number;
  readRatio: number;
  protocol: Protocol;
  /** IVY: the history is linearizable; write-update: null (not asked: its reads are local, SC is the claim). */
  linearizable: boolean | null;
  /** The history passed its protocol's check. */
  consistent: boolean;
  /** Every successful op of each kind, hits and local reads included: what a program waits for, comparable across protocols. */
  all: { read: LatencySummary; write: LatencySummary };
  /** CPU time of every node process over the window (user + system, every thread), ms. */
  nodeCpuMs: number;
  /** The same for the manager seat m0 alone (the primary, unless a takeover moved the role): every fault passes through the primary. */
  m0CpuMs: number;
}

export async function measureThroughput(opts: ThroughputOptions): Promise<ThroughputResult> {
  const protocol = opts.protocol ?? 'ivy';
  const config = ClusterConfigSchema.parse({ protocol, clients: opts.clients, pages: opts.pages, basePort: opts.basePort, backup: opts.backup ?? false, ...(opts.clientMemory ? { clientMemory: opts.clientMemory } : {}) });
  const runDir = mkdtempSync(join(tmpdir(), 'ivy-bench-tput-'));
  const sup = new Supervisor({ config, runDir });
  try {
    let fromNs: number;
    let toNs: number;
    let readyMs: number;
    let rss: { id: string; bytes: number }[] = [];
    let nodeCpuMs: number;
    let m0CpuMs: number;
    try {
      readyMs = await sup.start();
      const pids = sup.nodeInfos().flatMap((n) => (n.pid === null ? [] : [n.pid]));
      const m0 = sup.nodeInfos().flatMap((n) => (n.id === 'm0' && n.pid !== null ? [n.pid] : []));
      const spec = { readRatio: opts.readRatio, rate: opts.rate ?? 0, ops: 0, pages: opts.pages, seed: opts.seed };
      const warmS = opts.warmupS ?? 0;
      // Warming, the workload runs on into the window: it counts the ops that start inside it, as without.
      if (warmS > 0) {
        sup.setWorkload(spec);
        await new Promise((r) => setTimeout(r, warmS * 1000));
      }
      const cpu0 = totalCpuMs(pids);
      const m0Cpu0 = totalCpuMs(m0);
      fromNs = Number(process.hrtime.bigint());
      if (warmS === 0) sup.setWorkload(spec);
      await new Promise((r) => setTimeout(r, opts.durationS * 1000));
      toNs = Number(process.hrtime.bigint());
      nodeCpuMs = totalCpuMs(pids) - cpu0;
      m0CpuMs = totalCpuMs(m0) - m0Cpu0;
      rss = sup.nodeInfos().map((n) => ({ id: n.id, bytes: n.rssBytes ?? 0 }));
      sup.setWorkload(null);
      await new Promise((r) => setTimeout(r, 300)); // ops in flight complete
    } finally {
      await sup.shutdown();
    }
    const ops = mergeClientLogs(sup.historyDir());
    opts.onHistory?.(ops, fromNs, toNs);
    const summary = sustainedSummary(ops, fromNs, toNs, protocol);
    const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
    const clientRss = rss.filter((r) => r.id.startsWith('c')).map((r) => r.bytes);
    const rssMiB = {
      manager: mib(rss.find((r) => r.id === 'm0')?.bytes ?? 0),
      clientMean: mib(clientRss.reduce((a, b) => a + b, 0) / Math.max(1, clientRss.length)),
      clientMax: mib(Math.max(0, ...clientRss)),
    };
    const { result } = checkProtocol(protocol, ops);
    return {
      ...summary,
      readyMs: Math.round(readyMs),
      rssMiB,
      clients: opts.clients,
      pages: opts.pages,
      readRatio: opts.readRatio,
      protocol,
      linearizable: protocol === 'ivy' ? result.ok : null,
      consistent: result.ok,
      all: allOps(ops, fromNs, toNs),
      nodeCpuMs,
      m0CpuMs,
    };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** Latency of every successful op that started in the window, by kind (IVY hits and write-update local reads included). */
export function allOps(ops: readonly HistoryOp[], fromNs: number, toNs: number): { read: LatencySummary; write: LatencySummary } {
  const read = newHistogram();
  const write = newHistogram();
  for (const o of ops) {
    if (o.outcome !== 'ok' || o.end === null || o.start < fromNs || o.start > toNs) continue;
    (o.op === 'read' ? read : write).recordValue(Math.max(100, o.end - o.start));
  }
  return { read: summarize(read), write: summarize(write) };
}
