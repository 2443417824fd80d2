// Bundles the node process entry and the CLI into out/nodes so that nodes start as
// plain `node` processes (fast, no TypeScript loader) and `npx ivy-cluster` works.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { NODE_BUNDLE, NODE_SNAPSHOT_FLAGS } from './node-bundle.mjs';

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

// Every node holds its bundle's source in its heap. Comments and whitespace out, names kept (stack traces
// in node logs stay readable; the source map has the rest); ASCII only, so V8 keeps the source as a
// one-byte string: half the bytes of the two-byte string a single non-ASCII comment forces.
const MINIFY = { minifyWhitespace: true, minifySyntax: true, charset: 'ascii', legalComments: 'none' };

// hdr-histogram-js deflates histograms with Node's zlib whenever `require` works (it does in every bundle here)
// and falls back to pako only in a browser; pako (~70 KB, tables built at load) would sit unused in every node's
// heap and start-up snapshot. The renderer's own bundle (Vite) keeps it.
const noPako = {
  name: 'no-pako',
  setup(b) {
    b.onResolve({ filter: /^pako$/ }, () => ({ path: 'pako', namespace: 'no-pako' }));
    b.onLoad({ filter: /.*/, namespace: 'no-pako' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
  },
};
const plugins = [zodEnglishOnly, noPako];

await build({
  plugins,
  entryPoints: { node: 'nodes/runtime/main.ts', cli: 'nodes/cli.ts', bare: 'nodes/runtime/bare.ts', 'bare-fair': 'nodes/runtime/bare-fair.ts' },
  outdir: 'out/nodes',
  ...NODE_BUNDLE,
  ...MINIFY,
});

await buildSnapshot();

/**
 * The node entry again, as a V8 start-up snapshot (out/nodes/node.blob): the same modules, evaluated at
 * build time, so a node started from it skips compiling the bundle and building its zod schemas (~50 of
 * ~150 ms of start-up CPU per node; 66 nodes start at once on 2 cores). A snapshot works only with the
 * `node` binary and V8 flags it was built with, so node.blob.json records both and the supervisor starts
 * nodes from node.js whenever they differ (another Node, IVY_NODE_FLAGS, Electron). Failing to build one
 * is not an error: nodes then start from node.js, as before.
 */
async function buildSnapshot() {
  const blob = 'out/nodes/node.blob';
  const meta = `${blob}.json`;
  rmSync(blob, { force: true });
  rmSync(meta, { force: true });
  await build({
    plugins,
    entryPoints: { 'node-snapshot': 'nodes/runtime/snapshot-main.ts' },
    outdir: 'out/nodes',
    outExtension: { '.js': '.cjs' },
    ...NODE_BUNDLE,
    // A snapshot's entry is one CommonJS script that requires only Node's own modules (zeromq is required
    // lazily, at run time: lazy-require.ts); import.meta does not exist there.
    format: 'cjs',
    banner: { js: "var __ivyModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__ivyModuleUrl' },
    ...MINIFY,
    // Local names minified too: every node keeps this bundle's source in its heap and again in the blob copy
    // Node holds, so each KB saved is ~2 KB resident per node. The source map (not loaded at run time) maps a
    // snapshot node's stack trace back to the sources, names included.
    minifyIdentifiers: true,
    sourcemap: 'linked',
  });
  // IVY_NODE_FLAGS replaces the node flags at run time (supervisor.ts nodeExecArgv): a snapshot built under it
  // matches the nodes started under it, so a flag can be measured with the snapshot as nodes really start.
  const override = process.env.IVY_NODE_FLAGS;
  const flags = override === undefined ? NODE_SNAPSHOT_FLAGS : override.split(' ').filter(Boolean);
  // Without the code cache of Node's own modules: Node keeps the whole blob in its malloc heap for the
  // process's life, and that cache was half of it (blob 6.5 → 3.5 MB). IVY_SNAPSHOT_CODE_CACHE=1 keeps it (A/B).
  const config = `${blob}.config.json`;
  writeFileSync(config, JSON.stringify({ builder: 'out/nodes/node-snapshot.cjs', withoutCodeCache: process.env.IVY_SNAPSHOT_CODE_CACHE !== '1' }));
  const r = spawnSync(process.execPath, [...flags, '--snapshot-blob', blob, '--build-snapshot-config', config], { encoding: 'utf8' });
  rmSync(config, { force: true });
  if (r.status !== 0) {
    rmSync(blob, { force: true });
    // Our own warm-up's checks failing is a broken bundle, not a platform without snapshots: fail the build.
    const ours = /^\w*Error: (snapshot warm-up: .*)$/m.exec(r.stderr ?? '');
    if (ours) throw new Error(`build-nodes: ${ours[1]}`);
    console.warn(`build-nodes: no start-up snapshot (nodes start from node.js): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
    return;
  }
  writeFileSync(meta, `${JSON.stringify({ node: process.version, execPath: process.execPath, flags })}\n`);
}
