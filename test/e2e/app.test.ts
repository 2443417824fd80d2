// The real UI in a real Chromium against `ivy-cluster serve`, with real nodes:
// start a cluster from the form, watch a workload, kill the primary and time the
// failover as the user sees it, reboot it and watch the role come back, kill and
// reboot a client, check and export the live history, run a scenario while the
// cluster runs (confirming the stop in place), check its history and export its CSV.
// The steps shared with the packaged-app smoke test live in steps.ts. Screenshots of
// each moment go to test-results/screenshots (docs/screenshots with `npm run screenshots`).
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { RESULTS, ensureDir, nodeStatus, screenshot, showView, until, waitForNodes } from './harness.js';
import { useServedApp } from './served-app.js';
import { checkHistory as checkHistoryFile } from '../../nodes/control/history/linearizability.js';
import { checkHistory, expectCleanPage, exportHistory, exportTimingCsv, killPrimaryAndTimeFailover, rebootPrimary, runScenario, type SaveFile, startCluster, startWorkload } from './steps.js';

const CLIENTS = 4;
const PAGES = 16;

/** In a browser, saving a file is a download. */
const download: SaveFile = async (page, click, suggestedName) => {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  expect(d.suggestedFilename()).toBe(suggestedName);
  const file = join(ensureDir(join(RESULTS, 'e2e')), suggestedName);
  await d.saveAs(file);
  return file;
};

/** Samples in the latency time series (the Latency view must be showing). */
async function latencySamples(page: Page): Promise<number> {
  const label = (await page.getByTestId('latency-series-chart').getAttribute('aria-label')) ?? '';
  return Number(/(\d+) samples/.exec(label)?.[1] ?? 0);
}

describe('Ivy Cluster in Chromium (real nodes)', () => {
  const figures: Record<string, number> = {};
  // Registered before the served app's hooks so it runs after them (after-hooks run as a stack).
  afterAll(() => {
    if (Object.keys(figures).length) console.log(`e2e figures: ${JSON.stringify(figures)}`);
  });
  const served = useServedApp();

  it(`starts 1 manager + backup + ${CLIENTS} clients from the form and runs a workload`, async () => {
    const { page } = served.app;
    await startCluster(page, { clients: CLIENTS, pages: PAGES, backup: true }, { serve: served.serve });
    // A workload: 60 % reads at 50 ops/s per client.
    await startWorkload(page, { readRatio: 0.6, rate: 50 }, { serve: served.serve });

    // Clients: operations are being counted.
    await showView(page, 'clients');
    await until(
      page,
      'the clients to have done 300 operations',
      () => {
        const m = /([\d,]+) ops/.exec(document.querySelector('[data-testid="clients-summary"]')?.textContent ?? '');
        return m ? Number(m[1]?.replace(/[^\d]/g, '')) >= 300 : false;
      },
      undefined,
      { timeout: 60_000, serve: served.serve },
    );
    await screenshot(page, 'clients');

    // Records: primary and backup side by side, both populated, the backup in step.
    await showView(page, 'records');
    await until(
      page,
      'records of both managers',
      (pages) =>
        ['m0', 'm1'].every((id) => {
          const rows = document.querySelectorAll(`[data-testid="records-table-${id}"] tbody tr`);
          return rows.length >= Math.min(4, pages) && !rows[0]?.querySelector('td.empty');
        }),
      PAGES,
      { timeout: 60_000, serve: served.serve },
    );
    const left = await page.getByTestId('records-m0').boundingBox();
    const right = await page.getByTestId('records-m1').boundingBox();
    expect(left && right).toBeTruthy();
    if (left && right) {
      expect(right.x).toBeGreaterThanOrEqual(left.x + left.width - 1); // m1 to the right of m0…
      expect(Math.abs(right.y - left.y)).toBeLessThan(5); // …on the same line
    }

    // Page caches of every client.
    await showView(page, 'pages');
    await until(page, 'page cache rows', () => document.querySelectorAll('[data-testid^="page-row-"]').length > 0, undefined, { serve: served.serve });
    await page.getByTestId('pages-table').locator('.table-count').getByText(`${CLIENTS * PAGES} rows`).waitFor();
    await screenshot(page, 'page-caches');

    // Let the latency series gather some history before anything is broken.
    await showView(page, 'latency');
    await expect.poll(() => latencySamples(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(8);

    // The nodes table with the workload live.
    await showView(page, 'cluster');
    await page.getByTestId('workload-state').getByText('on').waitFor();
    await screenshot(page, 'cluster');
  });

  it('fails over: after Kill m0, m1 shows as primary within 2 s', async () => {
    const { page } = served.app;
    const wallStart = Date.now();
    const uiMs = await killPrimaryAndTimeFailover(page, { serve: served.serve });
    figures.failoverUiMs = Math.round(Number(uiMs));
    figures.failoverWallMs = Date.now() - wallStart;
    console.log(`failover in the UI: Kill m0 click -> m1 primary in ${Number(uiMs).toFixed(0)} ms`);
    expect(Number(uiMs)).toBeGreaterThan(0);
    expect(Number(uiMs)).toBeLessThan(2000);
    await screenshot(page, 'failover');
  });

  it('hands the primary role back to m0 after Reboot m0', async () => {
    const { page } = served.app;
    const t0 = Date.now();
    await rebootPrimary(page, { serve: served.serve });
    figures.handbackUiMs = Date.now() - t0;
  });

  it('kills client c1 (down) and reboots it (up, new pid)', async () => {
    const { page } = served.app;
    const before = await nodeStatus(page, 'c1');
    expect(before.state).toBe('up');
    expect(before.pid).toMatch(/^\d+$/);

    await page.getByRole('button', { name: 'Kill c1', exact: true }).click();
    await waitForNodes(page, 'c1 down', { c1: { state: 'down' } }, { serve: served.serve });
    await page.getByRole('button', { name: 'Reboot c1', exact: true }).click();
    await until(
      page,
      'c1 up with a new pid',
      (oldPid) => {
        const state = document.querySelector('[data-testid="node-state-c1"]')?.getAttribute('data-state');
        const pid = document.querySelector('[data-testid="node-pid-c1"]')?.textContent ?? '';
        return state === 'up' && /^\d+$/.test(pid) && pid !== oldPid;
      },
      before.pid,
      { timeout: 60_000, serve: served.serve },
    );
    const after = await nodeStatus(page, 'c1');
    expect(after.pid).not.toBe(before.pid);
    // The rest of the cluster carried on.
    await waitForNodes(page, 'managers in their home roles', { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' } }, { serve: served.serve });

    // Latency over time, with the kill / failover / reboot marks of the steps above.
    await showView(page, 'latency');
    const marks = page.getByTestId('latency-marks');
    for (const text of ['kill m0', 'failover m1', 'reboot m0', 'kill c1', 'reboot c1']) {
      await marks.getByText(text).first().waitFor({ timeout: 30_000 });
    }
    await until(page, 'a latency series', () => document.querySelectorAll('[data-testid="latency-series-chart"] canvas').length > 0, undefined, { serve: served.serve });
    // Let a few samples land after the last mark, so the chart shows the recovery too.
    const seen = await latencySamples(page);
    await expect.poll(() => latencySamples(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(seen + 5);
    await screenshot(page, 'latency');

    // The event log tells the same story.
    await showView(page, 'events');
    await page.getByTestId('events-table').locator('tbody tr').first().waitFor();
    await screenshot(page, 'events');
  });

  it('checks the live history so far (after the kills and reboots) and exports it as JSON Lines', async () => {
    const { page } = served.app;
    await showView(page, 'cluster');
    const first = await checkHistory(page, 'live', { serve: served.serve });
    expect(first.consistent, first.text).toBe(true);
    expect(first.text).toMatch(/linearizable ✓/);
    const ops = Number(/([\d,]+) operations/.exec(first.text)?.[1]?.replace(/,/g, '') ?? 0);
    expect(ops).toBeGreaterThan(100);
    // The history grows while the workload runs: a second check sees more.
    await page.waitForTimeout(1000);
    const second = await checkHistory(page, 'live', { serve: served.serve });
    expect(second.consistent, second.text).toBe(true);
    expect(Number(/([\d,]+) operations/.exec(second.text)?.[1]?.replace(/,/g, '') ?? 0)).toBeGreaterThan(ops);
    await page.getByTestId('live-history-verdict').scrollIntoViewIfNeeded();
    await screenshot(page, 'history');

    const history = await exportHistory(page, 'live', 'ivy-history.jsonl', download);
    expect(history.length).toBeGreaterThan(ops);
    expect(checkHistoryFile(history).ok).toBe(true); // what `ivy-cluster check` says of the exported file
    expect(new Set(history.map((o) => o.client))).toEqual(new Set(Array.from({ length: CLIENTS }, (_, i) => `c${i}`)));
    expect(history.some((o) => o.op === 'write' && o.outcome === 'ok')).toBe(true);
  });

  it('shows the backup in step with the primary once the workload stops', async () => {
    const { page } = served.app;
    await showView(page, 'cluster');
    await page.getByRole('button', { name: 'Stop workload', exact: true }).click();
    await page.getByTestId('workload-state').getByText('off').waitFor();
    await showView(page, 'records');
    // Under load the two managers' telemetry is sampled at different instants, so rows
    // differ transiently; at rest, after a failover and a hand-back, they must agree
    // (owner, copy set and version of every page) with no request left in progress.
    const rows = await until(
      page,
      'identical records on m0 and m1, nothing in progress',
      () => {
        const read = (id: string) =>
          [...document.querySelectorAll(`[data-testid="records-table-${id}"] tbody tr`)].map((tr) => ({
            busy: tr.classList.contains('row-busy') || !!tr.querySelector('td.empty'),
            key: [...tr.querySelectorAll('td')]
              .slice(0, 4)
              .map((td) => td.textContent)
              .join('|'),
          }));
        const m0 = read('m0');
        const m1 = read('m1');
        const same = m0.length > 0 && m0.length === m1.length && m0.every((r, i) => r.key === m1[i]?.key);
        return same && ![...m0, ...m1].some((r) => r.busy) ? m0.map((r) => r.key) : false;
      },
      undefined,
      { timeout: 30_000, serve: served.serve },
    );
    expect(rows).toHaveLength(PAGES);
    await screenshot(page, 'records');
  });

  it('runs scenario s1 (2 trials) while a cluster runs: confirm in place, progress, results, slowest faults, history, Export CSV', async () => {
    const { page } = served.app;
    const t0 = Date.now();
    const progress = await runScenario(page, { id: 's1', clients: CLIENTS, trials: 2, whileClusterRuns: true, traceSlowest: true }, { serve: served.serve });
    figures.scenarioS1Ms = Date.now() - t0;
    const fractions = progress.values.map(Number).filter((v) => Number.isFinite(v));
    expect(fractions.some((v) => v > 0 && v < 1), `progress values seen: ${progress.values.join(', ')}`).toBe(true);
    expect(progress.texts.some((t) => /trial \d+\/2/.test(t)), `progress texts seen: ${progress.texts.join(' | ')}`).toBe(true);

    // Traced: each trial's slowest fault as a diagram of its frames, the trial's Highest time.
    const slowest = page.getByTestId('scenario-s1-slowest');
    await slowest.waitFor();
    for (const trial of [1, 2]) {
      await page.getByTestId(`scenario-s1-slowest-trial-${trial}`).click();
      const highest = await page.getByTestId('scenario-table-s1').locator('tbody tr').first().locator('td').nth(trial).innerText();
      expect(await page.getByTestId(`scenario-s1-slowest-trial-${trial}`).innerText()).toContain(highest.trim());
      // A read fault is request, forward, page, confirm; a write at least request, grant/forward, confirm.
      expect(Number(await page.getByTestId('scenario-s1-slowest-diagram').getAttribute('data-arrows'))).toBeGreaterThanOrEqual(3);
      expect(await page.getByTestId('scenario-s1-slowest-summary').innerText()).toMatch(/^c\d+ (read|write) of page \d+: .* Longest wait: /);
    }
    await slowest.scrollIntoViewIfNeeded();
    await screenshot(page, 'scenario-slowest');

    // The scenario's own history: checked again on demand, and exported.
    const verdict = await checkHistory(page, 'scenario-s1', { serve: served.serve });
    expect(verdict.consistent, verdict.text).toBe(true);
    await screenshot(page, 'scenarios');
    const history = await exportHistory(page, 'scenario-s1', 'ivy-history-s1.jsonl', download);
    expect(history.length).toBeGreaterThan(0);
    expect(history.every((o) => /^c\d+$/.test(o.client))).toBe(true);

    // Export CSV: in a browser it downloads.
    await exportTimingCsv(page, { id: 's1', trials: 2 }, download);
  });

  it('logged no console errors, page errors or CSP violations', async () => {
    await expectCleanPage(served.app, { commands: true, appWarnings: true });
  });
});
