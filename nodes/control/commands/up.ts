// `ivy-cluster up`: a local cluster in the foreground until Ctrl-C, the duration
// ends, or every client finished its --ops. Prints a summary, writes the history.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema, PROTOCOL_LABELS, type ClusterConfig, type Protocol } from '../api.js';
import { mergeClientLogs, writeHistory } from '../history/merge.js';
import { sustainedSummary } from '../scenarios/figures.js';
import { LiveStats } from '../stats.js';
import type { ClientMemory } from '../../protocol/messages.js';
import { writeStatusFile } from '../status-file.js';
import { Supervisor } from '../supervisor.js';
import { TraceWriter } from '../trace/writer.js';
import type { WorkloadSpec } from '../../runtime/control.js';
import { describeRule, initialRoles, resolveNemesis, type NemesisSpec } from '../nemesis/spec.js';

export interface UpOptions {
  protocol: Protocol;
  clients: number;
  backup: boolean;
  pages: number;
  pageSize: number;
  readRatio?: number;
  ops?: number;
  rate?: number;
  duration?: number;
  history?: string;
  status?: string;
  seed: number;
  basePort: number;
  clientMemory?: ClientMemory;
  /** Write every frame sent and received here (DESIGN §6). */
  trace?: string;
  /** Network nemesis applied once the cluster is ready (DESIGN §6 `--nemesis`). */
  nemesis?: NemesisSpec;
}

export interface Out {
  log(s: string): void;
  error(s: string): void;
}

const fmtUs = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`);

export async function runUp(opts: UpOptions, out: Out): Promise<number> {
  const config: ClusterConfig = ClusterConfigSchema.parse({
    protocol: opts.protocol,
    clients: opts.clients,
    backup: opts.backup,
    pages: opts.pages,
    pageSize: opts.pageSize,
    basePort: opts.basePort,
    ...(opts.clientMemory ? { clientMemory: opts.clientMemory } : {}),
  });
  if (opts.nemesis) {
    // Names that fit no node of this cluster are refused before any process starts.
    try {
      resolveNemesis(opts.nemesis, initialRoles(config.clients, config.backup));
    } catch (err) {
      out.error(`error: --nemesis: ${err instanceof Error ? err.message : String(err)}`);
      return 2;
    }
  }
  const runDir = mkdtempSync(join(tmpdir(), 'ivy-run-'));
  const sup = new Supervisor({ config, runDir, trace: opts.trace !== undefined, nemesisSeed: opts.seed });
  const traceWriter = opts.trace !== undefined ? new TraceWriter(opts.trace) : null;
  if (traceWriter) sup.on('trace', (records) => traceWriter.write(records));
  const stats = new LiveStats();
  const writeStatus = (): void => {
    if (opts.status) writeStatusFile(opts.status, sup.nodeInfos());
  };
  sup.on('event', (e) => {
    if (e.level !== 'info') out.error(`${e.level}: ${e.message}`);
  });
  sup.on('change', writeStatus);
  sup.on('telemetry', (t) => stats.onTelemetry(t));

  let stopRequested: (() => void) | null = null;
  const stopped = new Promise<void>((r) => (stopRequested = r));
  const onSignal = (): void => {
    out.log('stopping…');
    stopRequested?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const readyMs = await sup.start();
    writeStatus();
    out.log(`${PROTOCOL_LABELS[config.protocol]} cluster ready in ${readyMs.toFixed(0)} ms: ${sup.nodeInfos().map((n) => `${n.id}(${n.role}) pid ${n.pid} ${n.endpoint}`).join(', ')}`);
    if (opts.nemesis) {
      const state = sup.setNemesis(opts.nemesis);
      out.log(state ? `nemesis: ${state.rules.map(describeRule).join('; ')}` : 'nemesis: no rules');
    }
    const workload = opts.readRatio !== undefined || opts.ops !== undefined || opts.rate !== undefined;
    if (workload) {
      const spec: WorkloadSpec = { readRatio: opts.readRatio ?? 0.5, rate: opts.rate ?? 0, ops: opts.ops ?? 0, pages: opts.pages, seed: opts.seed };
      let remaining = sup.clientIds().length;
      sup.on('workloadDone', () => {
        if (--remaining === 0) stopRequested?.();
      });
      sup.setWorkload(spec);
      out.log(`workload: read ratio ${spec.readRatio}, ${spec.rate ? `${spec.rate} ops/s` : 'back to back'} per client${spec.ops ? `, ${spec.ops} ops each` : ''}, ${opts.pages} pages`);
    } else {
      out.log('idle cluster (no workload flags); Ctrl-C to stop');
    }
    const statusTimer = opts.status ? setInterval(writeStatus, 500) : null;
    const durationTimer = opts.duration ? setTimeout(() => stopRequested?.(), opts.duration * 1000) : null;
    await stopped;
    if (durationTimer) clearTimeout(durationTimer);
    if (statusTimer) clearInterval(statusTimer);
    if (workload) {
      sup.setWorkload(null);
      await new Promise((r) => setTimeout(r, 200)); // let operations in flight complete
    }
  } catch (err) {
    out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    await sup.shutdown();
    await traceWriter?.close().catch(() => undefined);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  await sup.shutdown();
  writeStatus();
  if (traceWriter) {
    // Every node's last batch came before its exit, on the same channel: the trace is complete.
    const n = await traceWriter.close();
    out.log(`trace: ${opts.trace} (${n} frames sent and received; for ShiViz: ivy-cluster trace ${opts.trace} --shiviz OUT)`);
  }
  const history = mergeClientLogs(sup.historyDir());
  if (opts.history) writeHistory(opts.history, history);
  const counts = { ok: 0, fail: 0, unknown: 0, faults: 0, hits: 0 };
  for (const op of history) {
    counts[op.outcome]++;
    if (op.outcome === 'ok') counts[op.fault ? 'faults' : 'hits']++;
  }
  const dropped = sup.nodeInfos().reduce((a, n) => a + n.dropped, 0);
  const isis = config.protocol === 'isis';
  out.log(`ops: ${history.length} (${counts.ok} ok, ${counts.fail} failed, ${counts.unknown} unknown); ${isis ? `writes ${history.filter((o) => o.op === 'write' && o.outcome === 'ok').length}, local reads ${history.filter((o) => o.op === 'read' && o.outcome === 'ok').length}` : `faults ${counts.faults}, hits ${counts.hits}`}`);
  if (isis) {
    // Write-update: every read is local and every write a total-order multicast; taken from the history.
    const s = sustainedSummary(history, 0, Number.MAX_SAFE_INTEGER, 'isis');
    out.log(`local reads: ${s.read.count}  p50 ${fmtUs(s.read.p50Us)}  p99 ${fmtUs(s.read.p99Us)}  max ${fmtUs(s.read.maxUs)}`);
    out.log(`writes:      ${s.write.count}  p50 ${fmtUs(s.write.p50Us)}  p99 ${fmtUs(s.write.p99Us)}  max ${fmtUs(s.write.maxUs)}`);
  } else {
    const { read, write } = stats.totals();
    out.log(`read faults:  ${read.count}  p50 ${fmtUs(read.p50Us)}  p99 ${fmtUs(read.p99Us)}  max ${fmtUs(read.maxUs)}`);
    out.log(`write faults: ${write.count}  p50 ${fmtUs(write.p50Us)}  p99 ${fmtUs(write.p99Us)}  max ${fmtUs(write.maxUs)}`);
  }
  // By reason, most first: a handshake storm, a stale epoch after a takeover and a full queue are different troubles.
  const reasons = new Map<string, number>();
  for (const n of sup.nodeInfos()) for (const [k, v] of Object.entries(sup.telemetryOf(n.id)?.dropped ?? {})) if (v > 0) reasons.set(k, (reasons.get(k) ?? 0) + v);
  const byReason = [...reasons].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
  out.log(`frames dropped: ${dropped}${byReason.length > 0 ? ` (${byReason.join(', ')})` : ''}`);
  const nem = sup.nodeInfos().filter((n) => n.nemesis);
  if (nem.length > 0) {
    const sum = (k: 'partitioned' | 'lost' | 'duplicated' | 'delayed'): number => nem.reduce((a, n) => a + (n.nemesis?.[k] ?? 0), 0);
    out.log(`nemesis: ${sum('partitioned')} frames cut by partitions, ${sum('lost')} lost, ${sum('duplicated')} duplicated, ${sum('delayed')} delayed (as of each node's last telemetry)`);
  }
  if (opts.history) {
    const model = isis ? 'sequential consistency (write-update reads are local: SC, not linearizable)' : 'linearizability';
    out.log(`history: ${opts.history} (check it for ${model} with: ivy-cluster check ${opts.history})`);
  }
  return 0;
}
