// `ivy-cluster bench --client-memory volatile,recoverable,durable` (issue 10): the cost
// of each client memory mode on writes, and what a reboot gets back, in one run.
//
// One small IVY cluster per mode (a manager, three clients, 64 pages), all started at
// once and measured in blocks whose order rotates, so the noise of a shared machine
// falls on every mode alike. In a block c1 and c2 take page 0 from each other in turn:
// each takes it with a write fault (0 copies: the other one owned it) and writes it
// again at once (a write hit). Both are timed by the client itself, closed loop.
// A write hit in recoverable memory includes the pwrite of the page into the client's
// segment; durable adds the fdatasync.
//
// Then recovery, per mode that keeps pages: c1 writes each of the 64 pages (so it alone
// holds all of them), is SIGKILLed, and once the manager shows them "held by c1" it is
// rebooted; c0 reads the 64 pages back one after another (each a fault served by c1).
// Recovery time = reboot -> the last of those reads served; the history then says
// whether every read returned the bytes of c1's last write (restored) and whether the
// whole run is linearizable. Volatile memory has nothing to recover and is not asked.
import type { ClientMemory } from '../../protocol/messages.js';
import type { ClusterEvent } from '../api.js';
import { checkHistory } from '../history/linearizability.js';
import type { HistoryOp } from '../history/schema.js';
import { percentile } from '../scenarios/figures.js';
import { startBenchCluster, stopBenchCluster, type BenchCluster } from './bench-cluster.js';
import { interleavedBlocks } from './interleave.js';

/** The recovery figure: 64 pages of 4 KiB. */
export const RECOVERY_PAGES = 64;
const CLIENTS = 3;
const PAGE = 0;
/** The line a client logs once the manager has ruled on every page it recovered (client-node.ts). */
const SERVED_AGAIN = 'recovered pages served again';

export interface MemoryModeFigures {
  write_hit_p50_us: number;
  write_hit_p99_us: number;
  write_fault_p50_us: number;
  write_fault_p99_us: number;
  /** Samples of each kind. */
  samples: number;
}

export interface MemoryRecovery {
  pages: number;
  page_size: number;
  /** Reads after the reboot that returned the bytes of c1's last write before the kill. */
  restored: number;
  /** Reads after the reboot that failed, or returned anything else. */
  failed: number;
  /** Kill -> the manager showing every page "held by c1" (null: not seen within 10 s). */
  held_ms: number | null;
  /** Reboot -> the first / the last read served (null: none served). */
  first_page_ms: number | null;
  all_pages_ms: number | null;
  /** Reboot -> the client's "recovered pages served again" log line (null: not seen). */
  served_log_ms: number | null;
}

type Ratios = Record<'write_hit_p50' | 'write_hit_p99' | 'write_fault_p50' | 'write_fault_p99', number>;

export interface ClientMemoryReport extends Partial<Record<ClientMemory, MemoryModeFigures>> {
  modes: ClientMemory[];
  /** What the ratios divide by: volatile when it ran, else the first mode listed. */
  baseline: ClientMemory;
  /** Each mode against the baseline (mode / baseline). */
  ratio: Partial<Record<ClientMemory, Ratios>>;
  /** Reboot -> all 64 pages served again from the rebooted client (null: volatile, or not all served). */
  recovery_ms: Partial<Record<ClientMemory, number | null>>;
  recovery: Partial<Record<ClientMemory, MemoryRecovery>>;
  iterations: number;
  blocks: number;
  page_size: number;
  /** Ops that were not the fault or hit the cycle expected (should stay 0). */
  anomalies: number;
  /** Every mode's history (kill and reboot included) linearizable. */
  linearizable: boolean;
}

export interface ClientMemoryBenchOptions {
  modes: readonly ClientMemory[];
  iterations: number;
  blockSize: number;
  basePort: number;
  pageSize: number;
  onProgress?: (message: string) => void;
}

const nowNs = (): number => Number(process.hrtime.bigint());
const us1 = (x: number): number => Math.round(x * 10) / 10;
const ms2 = (ns: number): number => Math.round(ns / 1e4) / 100;
const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Samples {
  hit: number[];
  fault: number[];
}

export interface RecoveryRun {
  killNs: number;
  rebootNs: number;
  heldNs: number | null;
  servedLogNs: number | null;
  reads: { ok: boolean; endNs: number }[];
}

class MemoryPath {
  anomalies = 0;
  private recoveryRun: RecoveryRun | null = null;

  private constructor(
    readonly mode: ClientMemory,
    private readonly cluster: BenchCluster,
  ) {}

  static async start(mode: ClientMemory, basePort: number, pageSize: number): Promise<MemoryPath> {
    // A generous start: these clusters are small, but the machine may be busy.
    const cluster = await startBenchCluster({ clients: CLIENTS, pages: RECOVERY_PAGES, pageSize, basePort, clientMemory: mode }, `ivy-bench-mem-${mode}-`, 60_000);
    return new MemoryPath(mode, cluster);
  }

  private async op(client: string, kind: 'read' | 'write', page: number): Promise<{ ok: boolean; fault: boolean; us: number; endNs: number }> {
    const r = await this.cluster.sup.op(client, kind, page, 0);
    return { ok: r.ok, fault: r.fault, us: (r.endNs - r.startNs) / 1000, endNs: r.endNs };
  }

  /** c1 and c2 take page 0 from each other in turn: a write fault (0 copies), then a write hit. */
  async block(n: number, into: Samples | null): Promise<void> {
    for (let i = 0; i < n; i++) {
      for (const client of ['c1', 'c2']) {
        const fault = await this.op(client, 'write', PAGE);
        const hit = await this.op(client, 'write', PAGE);
        if (!fault.ok || !hit.ok) throw new Error(`${this.mode}: a write on ${client} failed`);
        if (into) {
          if (fault.fault) into.fault.push(fault.us);
          else this.anomalies++;
          if (!hit.fault) into.hit.push(hit.us);
          else this.anomalies++;
        }
      }
    }
  }

  /** c1 writes every page, is SIGKILLed, rebooted once its pages are held, and c0 reads them all back. */
  async recover(say: (m: string) => void): Promise<void> {
    const sup = this.cluster.sup;
    for (let p = 0; p < RECOVERY_PAGES; p++) {
      const w = await this.op('c1', 'write', p);
      if (!w.ok) throw new Error(`${this.mode}: c1's write of page ${p} failed before the kill`);
    }
    let servedLogNs: number | null = null;
    let rebootNs = Number.POSITIVE_INFINITY;
    const onEvent = (e: ClusterEvent): void => {
      if (e.node === 'c1' && e.message.startsWith(SERVED_AGAIN) && servedLogNs === null && nowNs() >= rebootNs) servedLogNs = nowNs();
    };
    sup.on('event', onEvent);
    try {
      const killNs = nowNs();
      await sup.kill('c1');
      // The manager holds the pages for c1 once it noticed the death (connection drop or client timeout).
      let heldNs: number | null = null;
      for (const until = Date.now() + 10_000; Date.now() < until; await sleep(5)) {
        const held = sup.telemetryOf('m0')?.records?.filter((r) => r.heldBy === 'c1').length ?? 0;
        if (held >= RECOVERY_PAGES) {
          heldNs = nowNs();
          break;
        }
      }
      if (heldNs === null) say(`${this.mode}: the manager did not show all ${RECOVERY_PAGES} pages held by c1 within 10 s; rebooting anyway`);
      rebootNs = nowNs();
      await sup.reboot('c1');
      const reads: RecoveryRun['reads'] = [];
      for (let p = 0; p < RECOVERY_PAGES; p++) {
        const r = await this.op('c0', 'read', p);
        reads.push({ ok: r.ok, endNs: r.endNs });
      }
      for (const until = Date.now() + 5000; servedLogNs === null && Date.now() < until; ) await sleep(10);
      this.recoveryRun = { killNs, rebootNs, heldNs, servedLogNs, reads };
    } finally {
      sup.off('event', onEvent);
    }
  }

  /** Shuts the cluster down; the history decides what was restored and whether the run is linearizable. */
  async stop(pageSize: number): Promise<{ recovery: MemoryRecovery | null; linearizable: boolean }> {
    const ops = await stopBenchCluster(this.cluster);
    const run = this.recoveryRun;
    return { recovery: run ? recoveryFigures(run, ops, pageSize) : null, linearizable: checkHistory(ops).ok };
  }
}

/** Restored: c0's read of a page after the reboot returned the value of c1's last write of it before the kill. */
export function recoveryFigures(run: RecoveryRun, ops: readonly HistoryOp[], pageSize: number): MemoryRecovery {
  const last = new Map<number, { start: number; value: string | null }>();
  for (const o of ops) {
    if (o.client !== 'c1' || o.op !== 'write' || o.start >= run.killNs) continue;
    const seen = last.get(o.page);
    if (!seen || o.start > seen.start) last.set(o.page, { start: o.start, value: o.value });
  }
  let restored = 0;
  for (let p = 0; p < RECOVERY_PAGES; p++) {
    const read = ops.find((o) => o.client === 'c0' && o.op === 'read' && o.page === p && o.start >= run.rebootNs);
    const want = last.get(p)?.value;
    if (read?.outcome === 'ok' && want != null && read.value === want) restored++;
  }
  const served = run.reads.filter((r) => r.ok).map((r) => r.endNs);
  const all = run.reads.length === RECOVERY_PAGES && run.reads.every((r) => r.ok);
  return {
    pages: RECOVERY_PAGES,
    page_size: pageSize,
    restored,
    failed: RECOVERY_PAGES - restored,
    held_ms: run.heldNs === null ? null : ms2(run.heldNs - run.killNs),
    first_page_ms: served.length ? ms2(Math.min(...served) - run.rebootNs) : null,
    all_pages_ms: all ? ms2(Math.max(...served) - run.rebootNs) : null,
    served_log_ms: run.servedLogNs === null ? null : ms2(run.servedLogNs - run.rebootNs),
  };
}

function figures(s: Samples): MemoryModeFigures {
  return {
    write_hit_p50_us: us1(percentile(s.hit, 50)),
    write_hit_p99_us: us1(percentile(s.hit, 99)),
    write_fault_p50_us: us1(percentile(s.fault, 50)),
    write_fault_p99_us: us1(percentile(s.fault, 99)),
    samples: Math.min(s.hit.length, s.fault.length),
  };
}

export async function runClientMemoryBench(o: ClientMemoryBenchOptions): Promise<ClientMemoryReport> {
  const say = o.onProgress ?? (() => undefined);
  const modes = [...new Set(o.modes)];
  if (modes.length === 0) throw new Error('no client memory mode to measure');
  say(`starting one cluster per client memory mode (${modes.join(', ')}): 1 manager + ${CLIENTS} clients, ${RECOVERY_PAGES} pages of ${o.pageSize} bytes`);
  // One after another: twelve processes starting at once on a small, busy machine miss their ready time.
  const paths: MemoryPath[] = [];
  let failed: { reason: unknown } | null = null;
  for (const [i, m] of modes.entries()) {
    try {
      paths.push(await MemoryPath.start(m, o.basePort + 50 * i, o.pageSize));
    } catch (err) {
      failed = { reason: err };
      break;
    }
  }
  const samples = new Map(modes.map((m) => [m, { hit: [], fault: [] } as Samples]));
  let blocks: number;
  const results = new Map<ClientMemory, { recovery: MemoryRecovery | null; linearizable: boolean }>();
  try {
    if (failed) throw failed.reason;
    for (const p of paths) await p.block(10, null); // warm: connections, JIT, the segment files' pages
    const run = await interleavedBlocks(
      paths,
      o,
      (p, n) => p.block(n, samples.get(p.mode)!),
      (b, of, n) => say(`client memory latency block ${b}/${of} (${n} write faults and hits per client and mode)`),
    );
    blocks = run.blocks;
    for (const p of paths) {
      if (p.mode === 'volatile') continue;
      say(`${p.mode}: kill -9 of c1 owning ${RECOVERY_PAGES} pages, reboot, read them back`);
      await p.recover(say);
    }
  } finally {
    for (const p of paths) {
      try {
        results.set(p.mode, await p.stop(o.pageSize));
      } catch (err) {
        say(`${p.mode}: stopping its cluster failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  const baseline: ClientMemory = modes.includes('volatile') ? 'volatile' : modes[0]!;
  const report: ClientMemoryReport = {
    modes,
    baseline,
    ratio: {},
    recovery_ms: {},
    recovery: {},
    iterations: o.iterations,
    blocks,
    page_size: o.pageSize,
    anomalies: paths.reduce((a, p) => a + p.anomalies, 0),
    linearizable: modes.every((m) => results.get(m)?.linearizable === true),
  };
  for (const m of modes) report[m] = figures(samples.get(m)!);
  const base = report[baseline]!;
  for (const m of modes) {
    const f = report[m]!;
    report.ratio[m] = {
      write_hit_p50: ratio(f.write_hit_p50_us, base.write_hit_p50_us),
      write_hit_p99: ratio(f.write_hit_p99_us, base.write_hit_p99_us),
      write_fault_p50: ratio(f.write_fault_p50_us, base.write_fault_p50_us),
      write_fault_p99: ratio(f.write_fault_p99_us, base.write_fault_p99_us),
    };
    const rec = results.get(m)?.recovery ?? null;
    report.recovery_ms[m] = rec?.all_pages_ms ?? null;
    if (rec) report.recovery[m] = rec;
  }
  return report;
}
