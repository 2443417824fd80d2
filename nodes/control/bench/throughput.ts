// Aggregate fault throughput: a fresh cluster whose clients all run a random
// workload back to back for a fixed time. Counted from the merged history (ops that
// started inside the window), not from telemetry, so nothing in flight is lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema } from '../api.js';
import { checkHistory } from '../history/linearizability.js';
import { mergeClientLogs } from '../history/merge.js';
import { sustainedSummary, type SustainedSummary } from '../scenarios/figures.js';
import { Supervisor } from '../supervisor.js';

export interface ThroughputOptions {
  basePort: number;
  clients: number;
  pages: number;
  readRatio: number;
  durationS: number;
  seed: number;
}

export interface ThroughputResult extends SustainedSummary {
  clients: number;
  pages: number;
  readRatio: number;
  linearizable: boolean;
}

export async function measureThroughput(opts: ThroughputOptions): Promise<ThroughputResult> {
  const config = ClusterConfigSchema.parse({ clients: opts.clients, pages: opts.pages, basePort: opts.basePort });
  const runDir = mkdtempSync(join(tmpdir(), 'ivy-bench-tput-'));
  const sup = new Supervisor({ config, runDir });
  try {
    let fromNs: number;
    let toNs: number;
    try {
      await sup.start();
      fromNs = Number(process.hrtime.bigint());
      sup.setWorkload({ readRatio: opts.readRatio, rate: 0, ops: 0, pages: opts.pages, seed: opts.seed });
      await new Promise((r) => setTimeout(r, opts.durationS * 1000));
      toNs = Number(process.hrtime.bigint());
      sup.setWorkload(null);
      await new Promise((r) => setTimeout(r, 300)); // ops in flight complete
    } finally {
      await sup.shutdown();
    }
    const ops = mergeClientLogs(sup.historyDir());
    const summary = sustainedSummary(ops, fromNs, toNs);
    return { ...summary, clients: opts.clients, pages: opts.pages, readRatio: opts.readRatio, linearizable: checkHistory(ops).ok };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
