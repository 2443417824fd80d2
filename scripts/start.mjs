#!/usr/bin/env node
// `npm start`: build if anything is missing or older than its sources, then open the
// desktop app. When Electron cannot run here — its binary was never downloaded
// (ELECTRON_SKIP_BINARY_DOWNLOAD=1), or Linux has no display — say exactly why and
// fall back to browser mode: `ivy-cluster serve`, whose output (the URL with its
// token) is passed straight through. `npm start -- --browser` forces browser mode;
// other arguments after `--` go to `serve` (e.g. `npm start -- --port 8080`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const forceBrowser = args.includes('--browser') || process.env.IVY_BROWSER === '1';
const serveArgs = args.filter((a) => a !== '--browser');
const say = (line) => console.error(`[ivy] ${line}`);

const OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'out/nodes/node.js', 'out/nodes/cli.js'];
const SOURCES = ['electron', 'renderer', 'nodes', 'scripts/build-nodes.mjs', 'electron.vite.config.ts', 'package.json'];

function newestMtime(path) {
  const full = join(root, path);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}

function buildReason() {
  const missing = OUTPUTS.filter((o) => !existsSync(join(root, o)));
  if (missing.length) return `missing ${missing.join(', ')}`;
  const built = Math.min(...OUTPUTS.map((o) => statSync(join(root, o)).mtimeMs));
  const source = Math.max(...SOURCES.map(newestMtime));
  return source > built ? 'sources changed since the last build' : null;
}

function run(command, argv, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, stdio: 'inherit', ...opts });
    const forward = (sig) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const started = Date.now();
    child.once('error', (error) => resolve({ error, code: null, signal: null, ms: Date.now() - started }));
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve({ error: null, code, signal, ms: Date.now() - started });
    });
  });
}

/** Why Electron cannot be started here, or null if it can. Sets `electronPath`. */
let electronPath = null;
function electronProblem() {
  if (forceBrowser) return 'browser mode was asked for (--browser / IVY_BROWSER=1)';
  const require = createRequire(join(root, 'package.json'));
  try {
    electronPath = require('electron');
  } catch (err) {
    const first = String(err?.message ?? err).split('\n')[0];
    return (
      `the Electron binary is not installed (require('electron') failed: ${first}). ` +
      'It is skipped when npm install runs with ELECTRON_SKIP_BINARY_DOWNLOAD=1; ' +
      'to get it: unset ELECTRON_SKIP_BINARY_DOWNLOAD && node node_modules/electron/install.js'
    );
  }
  if (typeof electronPath !== 'string' || !existsSync(electronPath)) {
    return `the Electron binary is missing: ${String(electronPath)} does not exist (run node node_modules/electron/install.js)`;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'there is no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  }
  return null;
}

async function browserMode(reason) {
  say(`not opening the desktop app: ${reason}.`);
  const bin = join(root, 'bin', 'ivy-cluster.js');
  if (!existsSync(bin)) {
    say(`cannot fall back to browser mode either: ${bin} does not exist.`);
    process.exit(1);
  }
  say(`falling back to browser mode: node bin/ivy-cluster.js serve ${serveArgs.join(' ')}`.trimEnd());
  say('open the http:// URL below (it carries the access token) in a browser; Ctrl-C stops the cluster.');
  const r = await run(process.execPath, [bin, 'serve', ...serveArgs]);
  if (r.error) {
    say(`could not start ivy-cluster serve: ${r.error.message}`);
    process.exit(1);
  }
  process.exit(r.code ?? (r.signal ? 0 : 1));
}

// --- 1. build if needed -----------------------------------------------------------------
const reason = buildReason();
if (reason) {
  say(`building (${reason}): npm run build`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = await run(npm, ['run', 'build'], { shell: process.platform === 'win32' });
  if (r.error || r.code !== 0) {
    say(`the build failed${r.error ? `: ${r.error.message}` : ` (exit code ${r.code})`}; fix the errors above and run npm start again.`);
    process.exit(1);
  }
}

// --- 2. desktop app, or 3. browser mode ----------------------------------------------------
const problem = electronProblem();
if (problem) await browserMode(problem);

say(`opening the desktop app: ${electronPath} .`);
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE; // inherited, it would make Electron a plain Node.js
const r = await run(electronPath, ['.'], { env });
if (r.error) await browserMode(`Electron could not be started (${r.error.message})`);
if (r.code !== 0 && r.code !== null && r.ms < 5000) {
  // A crash at start-up is usually missing system libraries (libnss3, libgtk-3, …) on a server.
  await browserMode(`Electron exited with code ${r.code} right after starting (see its message above; often missing system libraries)`);
}
process.exit(r.code ?? 0);
