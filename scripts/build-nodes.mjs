// Bundles the node process entry and the CLI into out/nodes so that nodes start as
// plain `node` processes (fast, no TypeScript loader) and `npx ivy-cluster` works.
import { build } from 'esbuild';

await build({
  entryPoints: { node: 'nodes/runtime/main.ts', cli: 'nodes/cli.ts', bare: 'nodes/runtime/bare.ts', 'bare-fair': 'nodes/runtime/bare-fair.ts' },
  outdir: 'out/nodes',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  // Bundle pure-JS dependencies (startup time of every node process); the native addon stays external.
  external: ['zeromq'],
  banner: { js: "import { createRequire as __ivyCreateRequire } from 'node:module'; const require = __ivyCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
