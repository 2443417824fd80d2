#!/usr/bin/env node
// `npm run test:packaged`: the smoke test of the packaged desktop app (test/packaged). It
// runs where a packaged app exists (release/, after `npm run package`) and a window can
// open; anywhere else it prints one line saying why it cannot run and exits 0. Not part
// of `npm test`: the release workflow runs it on each OS right after packaging.
import { spawnSync } from 'node:child_process';
import { ROOT, displayProblem, findPackagedApp } from './packaged-app.mjs';

const app = findPackagedApp();
if (!app.ok) {
  console.log(`test:packaged: cannot run here: ${app.reason}.`);
  process.exit(0);
}
const display = displayProblem();
if (display && 'reason' in display) {
  console.log(`test:packaged: cannot run here: ${display.reason}.`);
  process.exit(0);
}
console.log(`test:packaged: ${app.kind}: ${app.executable}`);
const vitest = ['vitest', 'run', '--project', 'packaged'];
const [cmd, args] = display ? ['xvfb-run', ['--auto-servernum', '--server-args=-screen 0 1440x960x24', 'npx', ...vitest]] : ['npx', vitest];
const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32', env: { ...process.env, IVY_PACKAGED_APP: app.executable } });
process.exit(r.status ?? 1);
