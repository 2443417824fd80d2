// The esbuild options every Node bundle of ours shares (the node/CLI bundles and the chaos driver).
export const NODE_BUNDLE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  // Bundle pure-JS dependencies (startup time of every node process); the native addon stays external.
  external: ['zeromq'],
  banner: { js: "import { createRequire as __ivyCreateRequire } from 'node:module'; const require = __ivyCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

/**
 * The V8 flags every node process runs with (nodes/control/supervisor.ts NODE_V8_FLAGS, kept equal by a unit
 * test): the start-up snapshot is built with them, since V8 refuses a snapshot built with other flags.
 */
export const NODE_SNAPSHOT_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];
