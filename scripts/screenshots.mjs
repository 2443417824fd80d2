#!/usr/bin/env node
// `npm run screenshots`: regenerates the README's screenshots in docs/screenshots from the
// real app — real nodes, real Chromium — by running the end-to-end suites that take them
// with IVY_SCREENSHOTS_DIR pointed there. (Plain test runs write to test-results/screenshots,
// so tests never modify tracked files.) Builds first. Needs Chromium (CHROMIUM_PATH or
// /usr/bin/chromium); the 64-client screens (frame-time.test.ts) need a few minutes.
import { spawnSync } from 'node:child_process';
import { ROOT } from './packaged-app.mjs';

const shell = process.platform === 'win32';
const run = (cmd, args, env = process.env) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', shell, env });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run('npm', ['run', 'build', '--silent']);
const files = process.argv.slice(2).length ? process.argv.slice(2) : ['test/e2e/app.test.ts', 'test/e2e/frame-time.test.ts', 'test/e2e/network.test.ts'];
run('npx', ['vitest', 'run', '--project', 'e2e', ...files], { ...process.env, IVY_SCREENSHOTS_DIR: 'docs/screenshots' });
console.log('screenshots: docs/screenshots regenerated; review them with git diff --stat docs/screenshots before committing');
