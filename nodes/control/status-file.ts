// Keeps the `--status FILE` JSON current. Written to a temporary file and renamed,
// so a reader never sees half a file.
import { renameSync, writeFileSync } from 'node:fs';
import type { NodeInfo } from './api.js';

export function writeStatusFile(file: string, nodes: readonly NodeInfo[]): void {
  const body = {
    nodes: nodes.map((n) => ({
      id: n.id,
      role: n.role,
      pid: n.pid,
      endpoint: n.endpoint,
      state: n.state,
      epoch: n.epoch,
      restarts: n.restarts,
    })),
    updated: new Date().toISOString(),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n');
  renameSync(tmp, file);
}
