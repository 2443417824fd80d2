#!/usr/bin/env node
// `npm run test:packaged`: the smoke test of the packaged desktop app (test/packaged). It
// runs where a packaged app exists (release/, after `npm run package`) and a window can
// open; anywhere else it prints one line saying why it cannot run and exits 0. Not part
// of `npm test`: the release workflow runs it on each OS right after packaging, with
// IVY_PACKAGED_REQUIRED=1 so that "cannot run here" fails the build there.
import { spawnSync } from 'node:child_process';
import { ROOT, displayProblem, findPackagedApp } from './packaged-app.mjs';

const required = process.env.IVY_PACKAGED_REQUIRED === '1';
const cannot = (reason) => {
  console.log(`test:packaged: cannot run here: ${reason}.`);
  process.exit(required ? 1 : 0);
};
const app = findPackagedApp();
if (!app.ok) cannot(app.reason);
const display = displayProblem();
if (display && 'reason' in display) cannot(display.reason);
console.log(`test:packaged: ${app.kind}: ${app.executable}`);
const vitest = ['vitest', 'run', '--project', 'packaged'];
const [cmd, args] = display ? ['xvfb-run', ['--auto-servernum', '--server-args=-screen 0 1440x960x24', 'npx', ...vitest]] : ['npx', vitest];
const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32', env: { ...process.env, IVY_PACKAGED_APP: app.executable } });
process.exit(r.status ?? 1);
