// The packaged desktop app as users get it — not `electron .`: the executable electron-builder
// produced (AppImage extracted and started through AppRun on Linux, the .app on macOS, the
// unpacked exe on Windows), driven by playwright-core's Electron support. The page-level steps
// are the ones the Chromium suite runs every CI (test/e2e/steps.ts); here they prove the
// sandboxed preload, the native save dialog, the unpacked zeromq addon and node processes
// started with ELECTRON_RUN_AS_NODE. Run it with `npm run test:packaged` (it finds the app
// and says why when it cannot run); the release workflow runs it after packaging on each OS.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { WebPreferences } from 'electron';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../nodes/control/serve.js';
import { findPackagedApp } from '../../scripts/packaged-app.mjs';
import { RESULTS, ensureDir, nodeStatus, screenshot, showView } from '../e2e/harness.js';
import { checkHistory, exportHistory, exportTimingCsv, killPrimaryAndTimeFailover, rebootPrimary, runScenario, startCluster, type SaveFile } from '../e2e/steps.js';
import { isAlive, nodeProcessesOf } from './processes.js';

const CLIENTS = 4;
const found = findPackagedApp();

declare global {
  // A global the test installs in the app's main process (a `var` is how a global is declared).
  var __ivySaveCalls: { defaultPath?: string; filters?: unknown }[] | undefined;
}

if (!found.ok) console.log(`packaged smoke test: not run: ${found.reason}`);

describe.skipIf(!found.ok)('the packaged app (real Electron, real nodes)', () => {
  const executable = found.ok ? found.executable : '';
  // The folder holding the app's own files: node entries run from below it.
  const appRoot = process.platform === 'darwin' ? dirname(dirname(executable)) : dirname(executable);
  const userData = mkdtempSync(join(tmpdir(), 'ivy-packaged-profile-'));
  const outDir = ensureDir(join(RESULTS, 'packaged'));
  let electronApp: ElectronApplication;
  let page: Page;
  const pidsSeen = new Set<number>();
  const clusterPids = async (): Promise<number[]> => {
    const pids: number[] = [];
    for (const id of ['m0', 'm1', ...Array.from({ length: CLIENTS }, (_, i) => `c${i}`)]) {
      const pid = Number((await nodeStatus(page, id)).pid);
      if (Number.isInteger(pid) && pid > 0) pids.push(pid);
    }
    return pids;
  };

  /** The native save dialog, stubbed at the dialog API in the main process; the app writes the file itself. */
  const nativeSave: SaveFile = async (p, click, suggestedName) => {
    const file = join(outDir, `saved-${suggestedName}`);
    rmSync(file, { force: true });
    await electronApp.evaluate(({ dialog }, target) => {
      globalThis.__ivySaveCalls = [];
      const stub = async (...args: unknown[]) => {
        const options = args[args.length - 1] as { defaultPath?: string; filters?: unknown };
        globalThis.__ivySaveCalls?.push({ defaultPath: options.defaultPath, filters: options.filters });
        return { canceled: false, filePath: target };
      };
      dialog.showSaveDialog = stub as typeof dialog.showSaveDialog;
    }, file);
    await click();
    await p.getByTestId('notice').filter({ hasText: file }).first().waitFor({ timeout: 30_000 });
    const calls = await electronApp.evaluate(() => globalThis.__ivySaveCalls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.defaultPath?.endsWith(suggestedName)).toBe(true);
    expect(existsSync(file)).toBe(true);
    return file;
  };

  const rememberPids = async () => {
    for (const pid of await clusterPids()) pidsSeen.add(pid);
  };

  beforeAll(async () => {
    electronApp = await _electron.launch({
      executablePath: executable,
      // Let the app (and on Linux the AppImage's launcher) decide about the OS sandbox, as for a user.
      chromiumSandbox: true,
      env: { ...(process.env as Record<string, string>), IVY_USER_DATA_DIR: userData },
      timeout: 90_000,
    });
    electronApp.process().stderr?.on('data', (d: Buffer) => process.stderr.write(`[app] ${d.toString()}`));
    page = await electronApp.firstWindow();
    await page.getByTestId('connection-status').waitFor({ timeout: 60_000 });
  });

  afterAll(async () => {
    if (electronApp) await electronApp.close().catch(() => {});
    // Never leave nodes behind, even when a test failed half-way.
    for (const p of nodeProcessesOf(appRoot)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    // Keep the app's log with the test results (CI uploads them), then drop the profile.
    const log = join(userData, 'logs', 'main.log');
    if (existsSync(log)) copyFileSync(log, join(outDir, 'main.log'));
    rmSync(userData, { recursive: true, force: true });
  });

  it('runs with contextIsolation, the renderer sandbox, no Node in the page and the strict CSP', async () => {
    const prefs = await electronApp.evaluate(({ BrowserWindow }) => {
      const w = BrowserWindow.getAllWindows()[0];
      // Present in every Electron since 5 but left out of its type declarations: the preferences the page really runs with.
      const p = (w?.webContents as unknown as { getLastWebPreferences(): WebPreferences | null } | undefined)?.getLastWebPreferences();
      return p && w
        ? { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, nodeIntegrationInWorker: p.nodeIntegrationInWorker, webSecurity: p.webSecurity, url: w.webContents.getURL() }
        : null;
    });
    expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, webSecurity: true, url: 'app://ivy/index.html' });
    expect(await electronApp.evaluate(({ app }) => app.isPackaged)).toBe(true);

    const page_ = await page.evaluate(async () => {
      const header = (await fetch(location.href)).headers.get('content-security-policy');
      // An inline script must be refused by the CSP (and reported as a violation).
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__ivyInlineRan = true';
      document.body.appendChild(s);
      await new Promise((r) => setTimeout(r, 200));
      const w = window as unknown as Record<string, unknown>;
      return {
        header,
        inlineRan: w.__ivyInlineRan === true,
        violations,
        require: typeof w.require,
        process: typeof w.process,
        bridge: Object.keys(window.ivy ?? {}).sort(),
      };
    });
    // The protocol handler and the session both set it; repeated, a header reads "a, b" (a CSP has no commas).
    expect(page_.header?.split(/,\s*/)).toEqual(expect.arrayContaining([CONTENT_SECURITY_POLICY]));
    expect(new Set(page_.header?.split(/,\s*/))).toEqual(new Set([CONTENT_SECURITY_POLICY]));
    expect(page_.inlineRan).toBe(false);
    expect(page_.violations.some((d) => d.startsWith('script-src')), `violations: ${page_.violations.join(', ')}`).toBe(true);
    expect(page_.require).toBe('undefined');
    expect(page_.process).toBe('undefined');
    expect(page_.bridge).toEqual(['saveCsv', 'saveHistory', 'send', 'subscribe']);
    expect(await page.getByTestId('connection-status').innerText()).toBe('desktop');
  });

  it(`starts 1 manager + backup + ${CLIENTS} clients and sees every node up, as real OS processes`, async () => {
    await startCluster(page, { clients: CLIENTS, pages: 16, backup: true });
    await rememberPids();
    expect(pidsSeen.size).toBe(2 + CLIENTS);
    const running = nodeProcessesOf(appRoot).map((p) => p.pid);
    for (const pid of pidsSeen) expect(running, `node pid ${pid} among the app's node processes`).toContain(pid);
    await screenshot(page, 'packaged-cluster');
  });

  it('Kill m0: m1 shows as primary within 2 s', async () => {
    const ms = await killPrimaryAndTimeFailover(page);
    console.log(`packaged app: Kill m0 -> m1 primary in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2000);
  });

  it('Reboot m0: it takes the primary role back', async () => {
    await rebootPrimary(page);
    await rememberPids();
  });

  it('checks the live history and exports it through the native save dialog', async () => {
    const verdict = await checkHistory(page, 'live');
    expect(verdict.consistent, verdict.text).toBe(true);
    const ops = await exportHistory(page, 'live', 'ivy-history.jsonl', nativeSave);
    expect(Array.isArray(ops)).toBe(true);
  });

  it('runs s1 with 2 trials (stopping the running cluster in place) and exports the CSV through the save dialog', async () => {
    await runScenario(page, { id: 's1', clients: CLIENTS, trials: 2, whileClusterRuns: true });
    const rows = await exportTimingCsv(page, { id: 's1', trials: 2 }, nativeSave);
    expect(rows).toHaveLength(1 + 3);
    await screenshot(page, 'packaged-scenarios');
  });

  it('closing the app ends every node process', async () => {
    // Something to stop at close: a fresh cluster.
    await showView(page, 'cluster');
    await startCluster(page, { clients: CLIENTS, pages: 16, backup: true });
    const last = await clusterPids();
    expect(last).toHaveLength(2 + CLIENTS);
    expect(nodeProcessesOf(appRoot).map((p) => p.pid).sort()).toEqual([...last].sort());
    await electronApp.close();
    // Every node the app ever ran is gone from the OS process list (pids of long-gone nodes may
    // be reused by unrelated processes, so those are checked by command line, the last ones also by pid).
    await expect.poll(() => nodeProcessesOf(appRoot).map((p) => p.pid), { timeout: 20_000, interval: 250 }).toEqual([]);
    for (const pid of last) expect(isAlive(pid), `node pid ${pid}`).toBe(false);
    expect(pidsSeen.size).toBeGreaterThanOrEqual(2 + CLIENTS + 1); // the first cluster's six and rebooted m0's
    // The log the README points users to was written.
    const log = readFileSync(join(userData, 'logs', 'main.log'), 'utf8');
    expect(log).toMatch(/Ivy Cluster .* starting/);
    expect(log).toMatch(/every node stopped; quitting/);
  });
});
