// Write-update (ISIS) in the real UI, in Chromium, against `ivy-cluster serve` with
// real nodes: start a write-update cluster from the form, see the registry's
// membership and every member up, watch replicas and the total order, kill a client
// and see the view change (the registry's view number grows, the member is gone),
// kill most of the rest at once and see the refused view change named in the summary,
// then run s1 for both protocols and export one CSV with the protocol column.
// Screenshots go to test-results/e2e-isis/ (ignored), never to docs/.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RESULTS, SCREENSHOTS, ensureDir, showView, until, waitForNodes } from './harness.js';
import { useServedApp } from './served-app.js';
import { expectCleanPage, startWorkload } from './steps.js';

const CLIENTS = 4;
const PAGES = 4;
// `npm run screenshots` points IVY_SCREENSHOTS_DIR at docs/screenshots (as isis-*.png); plain runs keep them under test-results.
const OUT = process.env.IVY_SCREENSHOTS_DIR ? SCREENSHOTS : join(RESULTS, 'e2e-isis');
const PREFIX = process.env.IVY_SCREENSHOTS_DIR ? 'isis-' : '';

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, `${PREFIX}${name}.png`), animations: 'disabled', caret: 'hide' });
}

const viewNumber = (page: Page, seat: string): Promise<number> =>
  page.evaluate((id) => Number(document.querySelector(`[data-testid="membership-view-${id}"]`)?.textContent ?? 'NaN'), seat);

describe('write-update (ISIS) in Chromium (real nodes)', () => {
  const served = useServedApp();

  it(`starts a registry + backup registry + ${CLIENTS} members from the form`, async () => {
    const { page } = served.app;
    await showView(page, 'cluster');
    await page.getByTestId('start-protocol').selectOption('isis');
    await page.getByTestId('start-clients').fill(String(CLIENTS));
    await page.getByTestId('start-pages').fill(String(PAGES));
    await page.getByTestId('start-backup').check();
    await expect.poll(() => page.getByText('Backup registry', { exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: 'Start cluster', exact: true }).click();

    const want: Record<string, { role: string; state: string }> = { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' } };
    for (let i = 0; i < CLIENTS; i++) want[`c${i}`] = { role: 'client', state: 'up' };
    await waitForNodes(page, `registry m0, backup registry m1 and ${CLIENTS} members up`, want, { timeout: 90_000, serve: served.serve });
    expect(await page.getByTestId('cluster-protocol').getAttribute('data-protocol')).toBe('isis');

    // Records: the registry's membership view, not page records.
    await showView(page, 'records');
    await until(
      page,
      'the registry to list every member',
      (n) => Array.from({ length: n }, (_, i) => `c${i}`).every((c) => document.querySelector(`[data-testid="member-row-m0-${c}"]`) !== null),
      CLIENTS,
      { timeout: 60_000, serve: served.serve },
    );
    expect(await viewNumber(page, 'm0')).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid^="records-table-"]').count()).toBe(0);
    await shot(page, 'membership');
  });

  it('shows full replicas and the total order while members write', async () => {
    const { page } = served.app;
    await startWorkload(page, { readRatio: 0.5, rate: 20 }, { serve: served.serve });

    // Page caches: every member holds every page.
    await showView(page, 'pages');
    await page.getByTestId('pages-isis-note').waitFor();
    await page.getByTestId('pages-table').locator('.table-count').getByText(`${CLIENTS * PAGES} rows`).waitFor({ timeout: 30_000 });
    await until(
      page,
      'a replica holding a written value (write pos > 0)',
      () => Array.from(document.querySelectorAll('[data-testid^="page-wpos-"]')).some((e) => Number(e.textContent) > 0),
      undefined,
      { timeout: 60_000, serve: served.serve },
    );
    await shot(page, 'replicas');

    // Total order panel by its keyboard shortcut (Alt+9): every member has delivered writes.
    await page.keyboard.press('Alt+9');
    await page.getByTestId('view-order').waitFor();
    await until(
      page,
      'every member to have delivered writes',
      (n) => Array.from({ length: n }, (_, i) => Number(document.querySelector(`[data-testid="order-pos-c${i}"]`)?.textContent ?? '0')).every((p) => p > 0),
      CLIENTS,
      { timeout: 60_000, serve: served.serve },
    );
    await page.getByTestId('order-queue').waitFor();
    await shot(page, 'total-order');
  });

  it('a killed member leaves the view: the view number grows and the member is gone', async () => {
    const { page } = served.app;
    await showView(page, 'records');
    const before = await viewNumber(page, 'm0');
    const victim = `c${CLIENTS - 1}`;
    await showView(page, 'cluster');
    await page.getByTestId(`kill-${victim}`).click();
    await showView(page, 'records');
    await until(
      page,
      `a view change without ${victim}`,
      ({ v, seat, before: b }) => {
        const view = Number(document.querySelector(`[data-testid="membership-view-${seat}"]`)?.textContent ?? 'NaN');
        const gone = document.querySelector(`[data-testid="member-row-${seat}-${v}"]`) === null;
        const settled = document.querySelector(`[data-testid="membership-change-${seat}"]`)?.getAttribute('data-changing') === 'false';
        return view > b && gone && settled;
      },
      { v: victim, seat: 'm0', before },
      { timeout: 60_000, serve: served.serve },
    );
    expect(await viewNumber(page, 'm0')).toBeGreaterThan(before);
    await shot(page, 'view-change');

    // The survivors go on writing: their delivered positions keep growing.
    await showView(page, 'order');
    const pos0 = Number(await page.getByTestId('order-pos-c0').innerText());
    await expect.poll(async () => Number(await page.getByTestId('order-pos-c0').innerText()), { timeout: 30_000 }).toBeGreaterThan(pos0);
  });

  it('most members killed at once: the registry refuses the next view and the cluster summary says why writes wait', async () => {
    const { page } = served.app;
    await showView(page, 'cluster');
    // Two of the three members left, c2 surviving: seen together, 1 of 3 is no quorum; seen one after the
    // other, the view {c1, c2} may commit first, and c2 alone is half of it without its lowest member (c1),
    // so no quorum either (a survivor c0 would win that tie: flush.ts).
    await page.getByTestId('kill-c0').click();
    await page.getByTestId('kill-c1').click();
    const blocked = page.getByTestId('cluster-view-blocked');
    await blocked.waitFor({ timeout: 30_000 });
    expect(await blocked.innerText()).toMatch(/view change blocked: 1 of view \d+'s [23] members answer, no quorum; writes wait/);
    expect(await blocked.getAttribute('role')).toBe('status');
    await shot(page, 'view-blocked');
    // The event log says it too, as a warning from the registry.
    await showView(page, 'events');
    await page.getByTestId('events-kind').fill('view');
    await page.getByTestId('events-table').getByText(/m0 refuses the next view: 1 of view \d+'s [23] members answer, no quorum/).first().waitFor({ timeout: 10_000 });
  });

  it('runs s1 for both protocols side by side and exports one CSV with the protocol column', async () => {
    const { page } = served.app;
    await showView(page, 'cluster');
    await page.getByRole('button', { name: 'Stop cluster', exact: true }).click();
    await until(page, 'the cluster to stop', () => document.querySelector('[data-testid="cluster-status"]')?.getAttribute('data-running') === 'false', undefined, {
      timeout: 60_000,
      serve: served.serve,
    });

    await showView(page, 'scenarios');
    await page.getByTestId('scenario-protocol').selectOption('both');
    for (const id of ['s2', 's3', 's4', 's5', 's6', 's9']) await page.getByTestId(`scenario-pick-${id}`).setChecked(false);
    await page.getByTestId('scenario-pick-s1').setChecked(true);
    await page.getByTestId('scenario-clients').fill('3');
    await page.getByTestId('scenario-trials').fill('2');
    await page.getByRole('button', { name: 'Run scenarios', exact: true }).click();
    await page.getByTestId('scenario-result-s1-isis').waitFor({ timeout: 170_000 });
    await page.getByTestId('scenario-result-s1').waitFor();

    expect(await page.getByTestId('linearizable-s1').getAttribute('data-value')).toBe('true');
    expect(await page.getByTestId('consistent-s1-isis').getAttribute('data-value')).toBe('true');
    await page.getByTestId('scenario-isis-note').waitFor();
    await page.getByTestId('protocol-comparison-chart').waitFor();
    const isisTable = page.getByTestId('scenario-table-s1-isis');
    expect(await isisTable.locator('tbody tr').filter({ hasText: 'Writes measured' }).count()).toBe(1);
    await shot(page, 'scenarios-both');

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByRole('button', { name: 'Export CSV', exact: true }).click()]);
    const file = join(ensureDir(OUT), 'timings-both.csv');
    await download.saveAs(file);
    const rows = parse(readFileSync(file, 'utf8'), { skip_empty_lines: true }) as string[][];
    expect(rows[0]).toEqual(['scenario', 'trial', 'highest_ms', 'highest_node', 'lowest_ms', 'lowest_node', 'average_ms', 'protocol']);
    const body = rows.slice(1);
    expect(body.map((r) => `${r[0]}:${r[1]}:${r[7]}`)).toEqual(['s1:1:ivy', 's1:2:ivy', 's1:average:ivy', 's1:1:isis', 's1:2:isis', 's1:average:isis']);
    for (const r of body) {
      for (const col of [2, 4, 6]) expect(Number(r[col]) > 0, `column ${col} of ${r.join(',')}`).toBe(true);
    }
  });

  it('logged no console errors, page errors or CSP violations', async () => {
    await expectCleanPage(served.app, { commands: true });
  });
});
