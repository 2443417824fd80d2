// Bundles the node process entry and the CLI into out/nodes so that nodes start as
// plain `node` processes (fast, no TypeScript loader) and `npx ivy-cluster` works.
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { NODE_BUNDLE } from './node-bundle.mjs';

// zod's namespace re-exports every locale (~300 KB of the ~800 KB node bundle, parsed and held by every
// process); nothing here uses any but the default English messages, so the bundle gets only that one.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

await build({
  plugins: [zodEnglishOnly],
  entryPoints: { node: 'nodes/runtime/main.ts', cli: 'nodes/cli.ts', bare: 'nodes/runtime/bare.ts', 'bare-fair': 'nodes/runtime/bare-fair.ts' },
  outdir: 'out/nodes',
  ...NODE_BUNDLE,
  // Every node holds its bundle's source in its heap. Comments and whitespace out, names kept (stack traces
  // in node logs stay readable; the source map has the rest); ASCII only, so V8 keeps the source as a
  // one-byte string: half the bytes of the two-byte string a single non-ASCII comment forces.
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  legalComments: 'none',
});
