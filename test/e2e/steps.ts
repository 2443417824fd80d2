// Page-level steps a user takes, shared by the Chromium suite (test/e2e, against
// `ivy-cluster serve`, every CI run) and the packaged-app smoke test (test/packaged,
// the installed Electron app where one can run). Each step drives the UI only — the
// same buttons, in the same order — and waits for what the user would see. Where the
// two differ (a browser download or the native save dialog), the caller passes how a
// file is saved.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { parseHistory, type HistoryOp } from '../../nodes/control/history/schema.js';
import { nodeStatus, showView, until, waitForNodes, type AppPage, type Serve } from './harness.js';

export interface StepOptions {
  /** The server behind the page, for diagnostics in browser mode. */
  serve?: Serve;
}

/**
 * Clicks something that saves a file and returns the path the file was written to:
 * a download in the browser, the (stubbed) native save dialog in Electron.
 */
export type SaveFile = (page: Page, click: () => Promise<void>, suggestedName: string) => Promise<string>;

declare global {
  interface Window {
    __ivyFailover?: { clickAt: number | null; primaryAt: number | null };
    __ivyProgress?: { values: string[]; texts: string[]; stop: boolean };
  }
}

export const TIMING_CSV_HEADER = 'scenario,trial,highest_ms,highest_node,lowest_ms,lowest_node,average_ms,protocol';

/** Fills the start form, presses Start cluster and waits for every node to be up in its role. */
export async function startCluster(page: Page, shape: { clients: number; pages: number; backup: boolean }, o: StepOptions = {}): Promise<void> {
  await showView(page, 'cluster');
  await page.getByTestId('start-clients').fill(String(shape.clients));
  await page.getByTestId('start-pages').fill(String(shape.pages));
  await page.getByTestId('start-backup').setChecked(shape.backup);
  await page.getByRole('button', { name: 'Start cluster', exact: true }).click();
  const want: Record<string, { role: string; state: string }> = { m0: { role: 'primary', state: 'up' } };
  if (shape.backup) want.m1 = { role: 'backup', state: 'up' };
  for (let i = 0; i < shape.clients; i++) want[`c${i}`] = { role: 'client', state: 'up' };
  await waitForNodes(page, `m0 primary${shape.backup ? ', m1 backup' : ''} and ${shape.clients} clients up`, want, { timeout: 60_000, ...o });
  await expect.poll(() => page.locator('[data-testid^="node-row-c"]').count()).toBe(shape.clients);
  expect(await page.getByTestId('cluster-status').getAttribute('data-running')).toBe('true');
}

/**
 * Starts m0, m1 and many clients from the form: waits for the clients by count (up to
 * 150 s, as dozens of processes start on a loaded machine), then for both managers in their roles.
 */
export async function startManyClients(
  page: Page,
  shape: { clients: number; pages: number; clientMemory?: 'volatile' | 'recoverable' | 'durable' },
  o: StepOptions = {},
): Promise<void> {
  await showView(page, 'cluster');
  if (shape.clientMemory) await page.getByTestId('start-client-memory').selectOption(shape.clientMemory);
  await page.getByTestId('start-clients').fill(String(shape.clients));
  await page.getByTestId('start-pages').fill(String(shape.pages));
  await page.getByTestId('start-backup').check();
  await page.getByRole('button', { name: 'Start cluster', exact: true }).click();
  await until(
    page,
    `all ${shape.clients} clients up`,
    (n) => document.querySelectorAll('[data-testid^="node-state-c"][data-state="up"]').length === n,
    shape.clients,
    { timeout: 150_000, ...o },
  );
  await waitForNodes(page, 'm0 primary, m1 backup', { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' } }, o);
}

/** Starts the workload from the Workload card and waits for it to be on. */
export async function startWorkload(page: Page, w: { readRatio: number; rate: number }, o: StepOptions = {}): Promise<void> {
  await showView(page, 'cluster');
  await page.getByTestId('workload-read-ratio').fill(String(w.readRatio));
  await page.getByTestId('workload-rate').fill(String(w.rate));
  await page.getByRole('button', { name: 'Start workload', exact: true }).click();
  await until(page, 'the workload to be on', () => document.querySelector('[data-testid="workload-state"]')?.textContent === 'on', undefined, o);
}

/**
 * Kill m0 and time, in the page, from the click to the first DOM change that shows m1
 * as primary. Returns the milliseconds; waits until m0 shows down and m1 up as primary.
 */
export async function killPrimaryAndTimeFailover(page: Page, o: StepOptions = {}): Promise<number> {
  await showView(page, 'cluster');
  await waitForNodes(page, 'm0 primary and m1 backup', { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' } }, o);
  await page.evaluate(() => {
    const box = { clickAt: null as number | null, primaryAt: null as number | null };
    window.__ivyFailover = box;
    document.addEventListener(
      'click',
      (e) => {
        if ((e.target as Element | null)?.closest('[aria-label="Kill m0"]') && box.clickAt === null) box.clickAt = performance.now();
      },
      { capture: true },
    );
    const check = () => {
      if (box.primaryAt !== null || box.clickAt === null) return;
      if (document.querySelector('[data-testid="node-role-m1"]')?.getAttribute('data-role') === 'primary') {
        box.primaryAt = performance.now();
        observer.disconnect();
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Kill m0', exact: true }).click();
  const ms = await until(
    page,
    'm1 to show as primary',
    () => {
      const f = window.__ivyFailover;
      return f && f.clickAt !== null && f.primaryAt !== null ? f.primaryAt - f.clickAt : false;
    },
    undefined,
    { timeout: 30_000, ...o },
  );
  await waitForNodes(page, 'm0 down, m1 primary and up', { m0: { state: 'down' }, m1: { role: 'primary', state: 'up' } }, o);
  expect(Number(await page.getByTestId('node-epoch-m1').innerText())).toBeGreaterThan(1);
  return Number(ms);
}

/** Reboot m0 and wait for it to take the primary role back (m1 backup again). */
export async function rebootPrimary(page: Page, o: StepOptions = {}): Promise<void> {
  await showView(page, 'cluster');
  await page.getByRole('button', { name: 'Reboot m0', exact: true }).click();
  await waitForNodes(page, 'm0 primary again and m1 backup', { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' } }, { timeout: 60_000, ...o });
  expect((await nodeStatus(page, 'm0')).pid).toMatch(/^\d+$/);
}

/** Presses a Check history button and returns the verdict the page shows. */
export async function checkHistory(page: Page, prefix: string, o: StepOptions = {}): Promise<{ consistent: boolean; text: string }> {
  const verdict = page.getByTestId(`${prefix}-history-verdict`);
  const before = (await verdict.count()) ? await verdict.getAttribute('data-checked-at') : null;
  await page.getByTestId(`${prefix}-check-history`).click();
  await until(
    page,
    `a new history verdict (${prefix})`,
    ([id, old]) => {
      const at = document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-checked-at');
      return !!at && at !== old;
    },
    [`${prefix}-history-verdict`, before] as const,
    { timeout: 60_000, ...o },
  );
  return { consistent: (await verdict.getAttribute('data-value')) === 'true', text: await verdict.innerText() };
}

/** Presses an Export history button, saves the file and parses it with the contract's parser. */
export async function exportHistory(page: Page, prefix: string, suggestedName: string, save: SaveFile): Promise<HistoryOp[]> {
  const file = await save(page, () => page.getByTestId(`${prefix}-export-history`).click(), suggestedName);
  return parseHistory(readFileSync(file, 'utf8')).ops;
}

/**
 * Runs one scenario from the Scenarios form. With `whileClusterRuns`, Run must offer
 * to stop the running cluster in place; the step answers Cancel once (nothing happens)
 * and then confirms. Returns the progress values and texts seen while it ran.
 */
export async function runScenario(
  page: Page,
  req: { id: string; clients: number; trials: number; whileClusterRuns?: boolean; clientMemory?: 'volatile' | 'recoverable' | 'durable'; traceSlowest?: boolean },
  o: StepOptions = {},
): Promise<{ values: string[]; texts: string[] }> {
  await showView(page, 'scenarios');
  for (const s of ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']) await page.getByTestId(`scenario-pick-${s}`).setChecked(s === req.id);
  if (req.clientMemory) await page.getByTestId('scenario-client-memory').selectOption(req.clientMemory);
  await page.getByTestId('scenario-clients').fill(String(req.clients));
  await page.getByTestId('scenario-trials').fill(String(req.trials));
  await page.getByTestId('scenario-trace-slowest').setChecked(req.traceSlowest === true);

  // Sample the progress bar every frame while the scenario runs.
  await page.evaluate(() => {
    const box = { values: [] as string[], texts: [] as string[], stop: false };
    window.__ivyProgress = box;
    const tick = () => {
      const v = document.querySelector('[data-testid="scenario-progress"]')?.getAttribute('data-value') ?? '';
      const t = document.querySelector('[data-testid="scenario-progress-text"]')?.textContent ?? '';
      if (box.values[box.values.length - 1] !== v) box.values.push(v);
      if (box.texts[box.texts.length - 1] !== t) box.texts.push(t);
      if (!box.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const run = page.getByRole('button', { name: 'Run scenarios', exact: true });
  if (req.whileClusterRuns) {
    expect(await page.getByTestId('cluster-status').getAttribute('data-running')).toBe('true');
    const question = `Stop the running cluster and run ${req.id}?`;
    const dialog = page.getByRole('alertdialog', { name: question });
    await run.click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('cluster-status').getAttribute('data-running')).toBe('true');
    await run.click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Stop cluster and run', exact: true }).click();
  } else {
    await run.click();
  }
  // Running first (an earlier run's results may still be on screen), then done.
  await until(page, `scenario ${req.id} to start`, () => document.querySelector('[data-testid="scenario-status"]')?.getAttribute('data-running') === 'true', undefined, {
    timeout: 60_000,
    ...o,
  });
  await until(
    page,
    `scenario ${req.id} to finish`,
    (id) => !!document.querySelector(`[data-testid="scenario-result-${id}"]`) && document.querySelector('[data-testid="scenario-status"]')?.getAttribute('data-running') === 'false',
    req.id,
    { timeout: 170_000, ...o },
  );
  const progress = await page.evaluate(() => {
    const p = window.__ivyProgress;
    if (p) p.stop = true;
    return p ?? { values: [], texts: [], stop: true };
  });
  expect(await page.getByTestId('cluster-status').getAttribute('data-running')).toBe('false');
  expect(await page.getByTestId('scenario-progress-text').innerText()).toMatch(/^Done/);
  expect(await page.getByTestId('scenario-progress').getAttribute('data-value')).toBe('1');
  // The seed's table: one column per trial, a positive highest time in each.
  const table = page.getByTestId(`scenario-table-${req.id}`);
  const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
  expect(headers).toEqual(expect.arrayContaining(Array.from({ length: req.trials }, (_, i) => `Trial ${i + 1}`)));
  const highest = await table.locator('tbody tr').filter({ hasText: 'Highest time (ms)' }).locator('td').allInnerTexts();
  const values = highest.slice(1).map((v) => Number(v.replace(/[^\d.]/g, '')));
  expect(values, `highest times: ${highest.join(' | ')}`).toHaveLength(req.trials);
  expect(values.every((v) => Number.isFinite(v) && v > 0), `highest times: ${highest.join(' | ')}`).toBe(true);
  expect(await page.getByTestId('linearizable').getAttribute('data-value')).toBe('true');
  return { values: progress.values, texts: progress.texts };
}

/** Export CSV from the Scenarios view, then parse and check it against DESIGN §6. */
export async function exportTimingCsv(page: Page, req: { id: string; trials: number }, save: SaveFile): Promise<string[][]> {
  await showView(page, 'scenarios');
  const file = await save(page, () => page.getByRole('button', { name: 'Export CSV', exact: true }).click(), 'ivy-timings.csv');
  const rows = parse(readFileSync(file, 'utf8'), { skip_empty_lines: true }) as string[][];
  expect(rows[0]?.join(',').startsWith(TIMING_CSV_HEADER)).toBe(true);
  const body = rows.slice(1);
  expect(body.map((r) => [r[0], r[1]])).toEqual([...Array.from({ length: req.trials }, (_, i) => [req.id, String(i + 1)]), [req.id, 'average']]);
  for (const r of body) {
    for (const col of [2, 4, 6]) {
      const v = Number(r[col]);
      expect(Number.isFinite(v) && v > 0, `column ${col} of ${r.join(',')}`).toBe(true);
    }
  }
  for (const r of body.slice(0, req.trials)) {
    expect(r[3]).toMatch(/^c\d+$/);
    expect(r[5]).toMatch(/^c\d+$/);
    expect(Number(r[2])).toBeGreaterThanOrEqual(Number(r[4]));
  }
  return rows;
}

/** Stop cluster from the Cluster view and wait until it shows stopped. */
export async function stopCluster(page: Page, o: StepOptions = {}): Promise<void> {
  await showView(page, 'cluster');
  await page.getByRole('button', { name: 'Stop cluster', exact: true }).click();
  await until(page, 'the cluster to stop', () => document.querySelector('[data-testid="cluster-status"]')?.getAttribute('data-running') === 'false', undefined, {
    timeout: 60_000,
    ...o,
  });
}

/**
 * The page stayed clean all run: no console errors, uncaught exceptions or CSP violations; with
 * `commands`, no failed command shown; with `appWarnings`, no "ivy: …" warning (an invalid frame from the server).
 */
export async function expectCleanPage(app: AppPage, o: { commands?: boolean; appWarnings?: boolean } = {}): Promise<void> {
  const problems = await app.collectCsp();
  if (o.commands) expect(await app.page.getByTestId('command-error').allInnerTexts()).toEqual([]);
  expect(problems.csp).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(problems.consoleErrors).toEqual([]);
  if (o.appWarnings) expect(problems.appWarnings).toEqual([]);
}
