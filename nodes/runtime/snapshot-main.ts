// The same node entry as main.ts, built into a V8 start-up snapshot (out/nodes/node.blob,
// scripts/build-nodes.mjs): every module of a node is evaluated once at build time (the
// zod schemas built, the bundle compiled), so a node started with `node --snapshot-blob
// node.blob CONFIG` skips that work: most of its start-up CPU, times 66 processes on 2
// cores. Started from a snapshot, process.argv[1] is the first argument (there is no script).
import './zod-jitless.js';
import { dirname, join } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { setRequireBase } from './lazy-require.js';
import { runNode } from './run-node.js';
import { warmUpForSnapshot } from './snapshot-warmup.js';

warmUpForSnapshot();

startupSnapshot.setDeserializeMainFunction(() => {
  // The blob sits next to node.js: zeromq resolves from there, as it does for node.js itself.
  const at = process.execArgv.findIndex((a) => a === '--snapshot-blob' || a.startsWith('--snapshot-blob='));
  const blob = at < 0 ? undefined : process.execArgv[at]!.includes('=') ? process.execArgv[at]!.split('=')[1] : process.execArgv[at + 1];
  if (blob !== undefined) setRequireBase(join(dirname(blob), 'node.js'));
  runNode(process.argv[1] ?? process.env.IVY_NODE_CONFIG);
});
