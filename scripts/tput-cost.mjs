// CPU per fault of bench's throughput phase (scripts/tput-cost.ts: what it measures and its flags).
// Bundled next to the node bundle and run with plain `node`, not tsx: nodes inherit the parent's
// execArgv, so under tsx every node would run tsx's loader (and without the start-up snapshot).
//   node scripts/tput-cost.mjs [--entries out/nodes/node.js,out/ab-base/out/nodes/node.js] [--rounds 2] [--window 4] [--base-port 23000] [--fair]
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { NODE_BUNDLE } from './node-bundle.mjs';

if (!existsSync('out/nodes/node.js')) {
  console.error('out/nodes/node.js is missing: run `npm run build:nodes` first.');
  process.exit(2);
}
await build({ entryPoints: { 'tput-cost': 'scripts/tput-cost.ts' }, outdir: 'out/tput-cost', ...NODE_BUNDLE });
await import(pathToFileURL('out/tput-cost/tput-cost.js').href);
