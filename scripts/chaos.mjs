// Chaos runs on real processes: `node scripts/chaos.mjs --protocol ivy,isis --runs 10`.
// Bundles nodes/control/chaos/main.ts (TypeScript) next to the node bundle and runs it;
// the nodes themselves run from out/nodes/node.js (`npm run build:nodes` first).
// Every flag: `node scripts/chaos.mjs --help`.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

if (!existsSync('out/nodes/node.js')) {
  console.error('out/nodes/node.js is missing: run `npm run build:nodes` first.');
  process.exit(2);
}
await build({
  entryPoints: { chaos: 'nodes/control/chaos/main.ts' },
  outdir: 'out/chaos',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: ['zeromq'],
  banner: { js: "import { createRequire as __ivyCreateRequire } from 'node:module'; const require = __ivyCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
await import(pathToFileURL('out/chaos/chaos.js').href);
