// How smooth the UI stays with 64 real clients: start them from the form with a
// workload running, then measure frame times (requestAnimationFrame deltas) and long
// tasks (PerformanceObserver 'longtask') for ~5 s on the Page caches view (4096 page
// rows, paginated), on the nodes table and on the Messages view (tracing on: every
// frame of the cluster streams into its diagram). IVY_FRAME_CLIENTS=128 measures 128. The figures are printed and written to
// test-results/frame-time.json with the main thread's CPU time, so a reader can tell
// the UI's own cost from waiting for a CPU on a loaded machine. Wall-clock frame times
// depend on the machine's load, so they are asserted only with IVY_FRAME_STRICT=1 (a
// quiet machine: p95 frame ≤ 33 ms, no long task over 50 ms); the renderer's own CPU
// time hardly does, so every run fails a view that spends more than
// CPU_BUDGET of the window on the main thread (a view janking on its own work).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RESULTS, ensureDir, percentile, screenshot, showView, until } from './harness.js';
import { useServedApp } from './served-app.js';
import { expectCleanPage, startManyClients } from './steps.js';

const CLIENTS = Number(process.env.IVY_FRAME_CLIENTS ?? 64);
const PAGES = 64;
const RATE = 10; // ops/s per client: 640 ops/s over the cluster
const MEASURE_MS = 5_000;
/** Main-thread CPU a view may use, as a share of the window (the measuring loop included). */
const CPU_BUDGET = 0.2;
const STRICT = process.env.IVY_FRAME_STRICT === '1';

interface FrameFigures {
  frames: number;
  durationMs: number;
  fps: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  longTasks: number;
  longTaskTotalMs: number;
  longTaskMaxMs: number;
  /**
   * CPU time of the renderer's main thread in the window (CDP Performance metrics in
   * thread ticks) and the parts spent in script, style and layout: what the UI itself
   * costs, as opposed to waiting for a CPU on a loaded machine.
   */
  mainThreadCpuMs: number;
  scriptCpuMs: number;
  styleAndLayoutCpuMs: number;
  /** 1-minute load average of the machine when the window ended (context for the figures). */
  loadAverage: number;
}

async function cpuMetrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/**
 * IVY_FRAME_PROFILE=1 also records a V8 CPU profile of the renderer for each window
 * (test-results/frame-time-<view>.cpuprofile, open it in Chromium's DevTools), to see
 * where a janky view spends its time.
 */
const PROFILE = process.env.IVY_FRAME_PROFILE === '1';
/** IVY_FRAME_TRACE=1: a Chromium trace (timeline) per window, test-results/frame-time-<view>.trace.json. */
const TRACE = process.env.IVY_FRAME_TRACE === '1';

async function measureFrames(page: Page, cdp: CDPSession, ms: number, view: string, browser?: Browser): Promise<FrameFigures> {
  if (TRACE && browser) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8'] });
  if (PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const before = await cpuMetrics(cdp);
  const raw = await page.evaluate(async (windowMs) => {
    const deltas: number[] = [];
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    try {
      observer.observe({ type: 'longtask' });
    } catch {
      // no longtask support: none reported
    }
    const span = await new Promise<number>((resolve) => {
      let first: number | null = null;
      let last = 0;
      const tick = (t: number) => {
        if (first === null) first = t;
        else deltas.push(t - last);
        last = t;
        if (t - first < windowMs) requestAnimationFrame(tick);
        else resolve(t - first);
      };
      requestAnimationFrame(tick);
    });
    // Long tasks are delivered asynchronously: give the observer a moment to flush.
    await new Promise((r) => setTimeout(r, 100));
    observer.disconnect();
    return { deltas, longTasks, span };
  }, ms);
  const after = await cpuMetrics(cdp);
  if (PROFILE) {
    const { profile } = await cdp.send('Profiler.stop');
    ensureDir(RESULTS);
    writeFileSync(join(RESULTS, `frame-time-${view}.cpuprofile`), JSON.stringify(profile));
  }
  if (TRACE && browser) {
    ensureDir(RESULTS);
    writeFileSync(join(RESULTS, `frame-time-${view}.trace.json`), await browser.stopTracing());
  }
  const cpuMs = (name: string) => Math.round(((after[name] ?? 0) - (before[name] ?? 0)) * 1000);
  const sorted = [...raw.deltas].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    frames: raw.deltas.length,
    durationMs: Math.round(raw.span),
    fps: round((raw.deltas.length * 1000) / Math.max(1, raw.span)),
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
    longTasks: raw.longTasks.length,
    longTaskTotalMs: Math.round(raw.longTasks.reduce((s, d) => s + d, 0)),
    longTaskMaxMs: Math.round(raw.longTasks.reduce((m, d) => Math.max(m, d), 0)),
    mainThreadCpuMs: cpuMs('ThreadTime'),
    scriptCpuMs: cpuMs('ScriptDuration'),
    styleAndLayoutCpuMs: cpuMs('RecalcStyleDuration') + cpuMs('LayoutDuration'),
    loadAverage: round(loadavg()[0] ?? Number.NaN),
  };
}

/**
 * The node's uptime cell shows the time since its data-since (within a second, for the
 * ticker's phase) twice, 1.2 s apart, with different texts: it is current and ticking.
 */
async function expectUptimeCurrent(page: Page, id: string): Promise<void> {
  // The text shown, once it is current (within the slack) and differs from `not`.
  const read = (not: string | null) =>
    until(
      page,
      not === null ? `${id}'s uptime current` : `${id}'s uptime to tick past ${not} (and stay current)`,
      ({ testId, not }) => {
        const el = document.querySelector(`[data-testid="${testId}"]`);
        const since = Number(el?.getAttribute('data-since'));
        const text = el?.textContent ?? '';
        const m = /^(?:(\d+)h )?(?:(\d+)m )?(\d+)s$|^(\d+)h (\d+)m$/.exec(text);
        if (!el || !Number.isFinite(since) || !m || text === not) return false;
        const shown = m[4] !== undefined ? Number(m[4]) * 3600 + Number(m[5]) * 60 : Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3]);
        const actual = (Date.now() - since) / 1000;
        // Hours-and-minutes texts are exact to the minute only.
        const slack = m[4] !== undefined ? 61 : 1.5;
        return Math.abs(actual - shown) <= slack ? text : false;
      },
      { testId: `node-uptime-${id}`, not },
      { timeout: 5_000 },
    );
  // It ticks: a second, current text follows the first. Waited for rather than read after a fixed 1.2 s: the
  // ticker's one-second interval runs late on a loaded machine, and a text read within the slack of the same tick
  // would look like no tick at all.
  const first = String(await read(null)); // resolves only with a text (a truthy result)
  await read(first);
}

/** Printed as soon as a window is measured, so a later failure does not lose it. */
function printFigures(view: string, f: FrameFigures): FrameFigures {
  console.log(
    `frame time, ${view} view, ${CLIENTS} clients: p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, max ${f.maxMs} ms over ${f.frames} frames (${f.fps} fps); ` +
      `long tasks: ${f.longTasks} (total ${f.longTaskTotalMs} ms, max ${f.longTaskMaxMs} ms); ` +
      `main-thread CPU ${f.mainThreadCpuMs} ms in ${f.durationMs} ms (script ${f.scriptCpuMs}, style+layout ${f.styleAndLayoutCpuMs}); load average ${f.loadAverage} on ${cpus().length} CPUs`,
  );
  return f;
}

describe(`UI frame times with ${CLIENTS} clients`, () => {
  const served = useServedApp();

  it(`shows ${CLIENTS} clients up and measures frames on Page caches and Nodes`, async () => {
    const { page } = served.app;
    await startManyClients(page, { clients: CLIENTS, pages: PAGES }, { serve: served.serve });
    expect(await page.locator('[data-testid^="node-row-c"]').count()).toBe(CLIENTS);

    await page.getByTestId('workload-read-ratio').fill('0.6');
    await page.getByTestId('workload-rate').fill(String(RATE));
    await page.getByRole('button', { name: 'Start workload', exact: true }).click();
    await page.getByTestId('workload-state').getByText('on').waitFor();

    // Page caches: every client's page table (64 × 64 rows), paginated.
    await showView(page, 'pages');
    await page.getByTestId('pages-table').locator('.table-count').getByText(`${CLIENTS * PAGES} rows`).waitFor({ timeout: 60_000 });
    await until(page, 'page rows with access', () => document.querySelectorAll('[data-testid="pages-table"] .access-read, [data-testid="pages-table"] .access-write').length > 0, undefined, {
      timeout: 60_000,
      serve: served.serve,
    });
    const cdp = await served.app.context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const pagesView = printFigures('pages', await measureFrames(page, cdp, MEASURE_MS, 'pages', served.browser));
    // Only the rows near the scroll box are rendered: scrolling the page's box to its end
    // brings in the page's last row (the 100th: c1's page 35), so every row stays reachable.
    expect(await page.locator('[data-testid="pages-table"] tbody tr[data-testid^="page-row-"]').count()).toBeLessThan(100);
    // Scrolled again while waiting: at a load average of 40+ a page-table lease renewal can
    // come late, a snapshot without tables empties the table, and its scroll box starts over.
    const pagesScroll = page.getByTestId('pages-table').locator('.table-scroll');
    const scrollUntilShown = async (testId: string, top: boolean) =>
      expect
        .poll(
          async () => {
            await pagesScroll.evaluate((el, toTop) => el.scrollTo(0, toTop ? 0 : el.scrollHeight), top);
            return page.getByTestId(testId).isVisible();
          },
          { timeout: 30_000, interval: 250 },
        )
        .toBe(true);
    await scrollUntilShown(`page-row-c1-${100 - PAGES - 1}`, false);
    await scrollUntilShown('page-row-c0-0', true);
    // For the picture, only the pages clients actually hold.
    await page.getByLabel('Hide pages with no access').check();
    await until(
      page,
      'held pages only',
      (all) => {
        const n = Number(/(\d+) rows/.exec(document.querySelector('[data-testid="pages-table"] .table-count')?.textContent ?? '')?.[1] ?? all);
        return n > 0 && n < all;
      },
      CLIENTS * PAGES,
      { serve: served.serve },
    );
    await screenshot(page, `page-caches-${CLIENTS}`);

    // Nodes: 66 rows with uptimes ticking and roles, states and memory updating.
    await showView(page, 'cluster');
    await page.getByTestId('node-row-c63').waitFor();
    const nodesView = printFigures('nodes', await measureFrames(page, cdp, MEASURE_MS, 'nodes', served.browser));
    await screenshot(page, `cluster-${CLIENTS}`);
    // Uptimes tick only where a user can see them: the first row's ticks on screen, and
    // the last client's, off screen until the table is scrolled to its end, is current
    // as soon as it is in view (and ticks on).
    await expectUptimeCurrent(page, 'c0');
    await page.getByTestId('nodes-table').locator('.table-scroll').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.getByTestId(`node-uptime-c${CLIENTS - 1}`).scrollIntoViewIfNeeded();
    await expectUptimeCurrent(page, `c${CLIENTS - 1}`);
    await page.getByTestId('nodes-table').locator('.table-scroll').evaluate((el) => el.scrollTo(0, 0));

    // Messages: tracing on in every node, the latest window of frames redrawn as they stream in.
    await showView(page, 'messages');
    await until(page, 'traced frames in the window', (sel) => Number(document.querySelector(sel)?.getAttribute('data-arrows') ?? '0') > 0, '[data-testid="messages-canvas"]', {
      timeout: 60_000,
      serve: served.serve,
    });
    const messagesView = printFigures('messages', await measureFrames(page, cdp, MEASURE_MS, 'messages', served.browser));
    await screenshot(page, `messages-${CLIENTS}`);
    await showView(page, 'cluster'); // leaving Messages turns tracing off again

    const report = {
      clients: CLIENTS,
      pages: PAGES,
      workload: { readRatio: 0.6, ratePerClient: RATE },
      measureMs: MEASURE_MS,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
      measuredAt: new Date().toISOString(),
      views: { pages: pagesView, nodes: nodesView, messages: messagesView },
    };
    ensureDir(RESULTS);
    writeFileSync(join(RESULTS, 'frame-time.json'), `${JSON.stringify(report, null, 2)}\n`);

    // Behaviour only: frames were measured and the cluster is still all there.
    expect(pagesView.frames).toBeGreaterThan(0);
    expect(nodesView.frames).toBeGreaterThan(0);
    expect(messagesView.frames).toBeGreaterThan(0);
    for (const [view, f] of Object.entries(report.views)) {
      expect(f.mainThreadCpuMs, `${view}: main-thread CPU ${f.mainThreadCpuMs} ms in ${f.durationMs} ms`).toBeLessThanOrEqual(CPU_BUDGET * f.durationMs);
      if (STRICT) {
        expect(f.p95Ms, `${view}: p95 frame time`).toBeLessThanOrEqual(33.4);
        expect(f.longTaskMaxMs, `${view}: longest task`).toBeLessThanOrEqual(50);
      }
    }
    expect(await page.locator('[data-testid^="node-state-c"][data-state="up"]').count()).toBe(CLIENTS);
    await expectCleanPage(served.app);
  });
});
