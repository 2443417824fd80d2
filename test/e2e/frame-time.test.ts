// How smooth the UI stays with 64 real clients: start them from the form with a
// workload running, then measure frame times (requestAnimationFrame deltas) and long
// tasks (PerformanceObserver 'longtask') for ~5 s on the Page caches view (4096 page
// rows, paginated), on the nodes table and on the Messages view (tracing on: every
// frame of the cluster streams into its diagram). IVY_FRAME_CLIENTS=128 measures 128. The figures are printed and written to
// test-results/frame-time.json with the main thread's CPU time, so a reader can tell
// the UI's own cost from waiting for a CPU on a loaded machine. The test asserts
// behaviour only, never timing.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RESULTS, ensureDir, percentile, screenshot, showView, until } from './harness.js';
import { useServedApp } from './served-app.js';
import { expectCleanPage, startManyClients } from './steps.js';

const CLIENTS = Number(process.env.IVY_FRAME_CLIENTS ?? 64);
const PAGES = 64;
const RATE = 10; // ops/s per client: 640 ops/s over the cluster
const MEASURE_MS = 5_000;

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

async function measureFrames(page: Page, cdp: CDPSession, ms: number, view: string): Promise<FrameFigures> {
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
    const pagesView = await measureFrames(page, cdp, MEASURE_MS, 'pages');
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
    const nodesView = await measureFrames(page, cdp, MEASURE_MS, 'nodes');
    await screenshot(page, `cluster-${CLIENTS}`);

    // Messages: tracing on in every node, the latest window of frames redrawn as they stream in.
    await showView(page, 'messages');
    await until(page, 'traced frames in the window', (sel) => Number(document.querySelector(sel)?.getAttribute('data-arrows') ?? '0') > 0, '[data-testid="messages-canvas"]', {
      timeout: 60_000,
      serve: served.serve,
    });
    const messagesView = await measureFrames(page, cdp, MEASURE_MS, 'messages');
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
    for (const [view, f] of Object.entries(report.views)) {
      console.log(
        `frame time, ${view} view, ${CLIENTS} clients: p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, max ${f.maxMs} ms over ${f.frames} frames (${f.fps} fps); ` +
          `long tasks: ${f.longTasks} (total ${f.longTaskTotalMs} ms, max ${f.longTaskMaxMs} ms); ` +
          `main-thread CPU ${f.mainThreadCpuMs} ms in ${f.durationMs} ms (script ${f.scriptCpuMs}, style+layout ${f.styleAndLayoutCpuMs}); load average ${f.loadAverage} on ${report.machine.cpus} CPUs`,
      );
    }

    // Behaviour only: frames were measured and the cluster is still all there.
    expect(pagesView.frames).toBeGreaterThan(0);
    expect(nodesView.frames).toBeGreaterThan(0);
    expect(messagesView.frames).toBeGreaterThan(0);
    expect(await page.locator('[data-testid^="node-state-c"][data-state="up"]').count()).toBe(CLIENTS);
    await expectCleanPage(served.app);
  });
});
