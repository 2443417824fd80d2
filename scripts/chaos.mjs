// Chaos runs on real processes: `node scripts/chaos.mjs --protocol ivy,isis --runs 10`.
// Bundles nodes/control/chaos/main.ts (TypeScript) next to the node bundle and runs it;
// the nodes themselves run from out/nodes/node.js (`npm run build:nodes` first).
// Every flag: `node scripts/chaos.mjs --help`.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { NODE_BUNDLE } from './node-bundle.mjs';

if (!existsSync('out/nodes/node.js')) {
  console.error('out/nodes/node.js is missing: run `npm run build:nodes` first.');
  process.exit(2);
}
await build({
  entryPoints: { chaos: 'nodes/control/chaos/main.ts' },
  outdir: 'out/chaos',
  ...NODE_BUNDLE,
});
await import(pathToFileURL('out/chaos/chaos.js').href);
