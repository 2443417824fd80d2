// Slot file vs redo log with checkpoint (issue 10): `npx tsx scripts/bench-page-store.ts [--commits N] [--dir DIR] [--json]`.
// Take figures on a quiet machine only.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPageStores } from '../nodes/control/bench/page-store.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const commits = Number(arg('--commits') ?? 5000);
if (!Number.isInteger(commits) || commits < 1) throw new Error('--commits must be a positive integer');
const figures = benchPageStores({ dir: arg('--dir') ?? join(tmpdir(), `ivy-page-store-bench-${process.pid}`), pages: 64, pageSize: 4096, commits, seed: 1 });
if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
else for (const f of figures) console.log(`${f.design.padEnd(15)} ${f.mode.padEnd(12)} commit p50 ${f.commit_p50_us} µs  p99 ${f.commit_p99_us} µs  recover 64×4 KiB ${f.recover_ms} ms  ${f.bytes_per_commit} B/commit`);
