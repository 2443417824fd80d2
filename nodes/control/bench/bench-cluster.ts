// Start and stop of a real cluster for the bench's protocol paths (ivy-path.ts,
// isis-path.ts): a supervisor in a fresh temporary run folder, which is removed
// whether the start fails or the run ends; the end returns the merged history.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema, type ClusterConfigInput } from '../api.js';
import type { HistoryOp } from '../history/schema.js';
import { mergeClientLogs } from '../history/merge.js';
import type { Links } from '../../runtime/link-keys.js';
import { Supervisor } from '../supervisor.js';

export interface BenchCluster {
  sup: Supervisor;
  runDir: string;
}

/**
 * Starts the cluster in a temporary folder named `<runDirPrefix>…`; on failure shuts it down and removes the folder.
 * `links`: curve (authenticated, as every cluster runs) unless measuring what CURVE costs.
 */
export async function startBenchCluster(config: ClusterConfigInput, runDirPrefix: string, readyTimeoutMs?: number, links: Links = 'curve'): Promise<BenchCluster> {
  const parsed = ClusterConfigSchema.parse(config);
  const runDir = mkdtempSync(join(tmpdir(), runDirPrefix));
  const sup = new Supervisor({ config: parsed, runDir, links, ...(readyTimeoutMs !== undefined ? { readyTimeoutMs } : {}) });
  try {
    await sup.start();
  } catch (err) {
    await sup.shutdown();
    rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
  return { sup, runDir };
}

/** Shuts the cluster down, merges the clients' history logs and removes the run folder. */
export async function stopBenchCluster({ sup, runDir }: BenchCluster): Promise<HistoryOp[]> {
  await sup.shutdown();
  const ops = mergeClientLogs(sup.historyDir());
  rmSync(runDir, { recursive: true, force: true });
  return ops;
}
