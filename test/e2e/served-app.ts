// One `ivy-cluster serve`, one Chromium and one page for a whole describe block: the
// start every Chromium suite repeats, and the close in the order that keeps logs
// clean (the page first, since its WebSocket would log errors once the server is
// gone, then the browser, then the server and its nodes).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { assertBuilt, launchChromium, openApp, startServe, type AppPage, type OpenOptions, type Serve } from './harness.js';

export interface ServedApp {
  /** Set in beforeAll; undefined only if the start failed. */
  serve: Serve | undefined;
  browser: Browser | undefined;
  /** Set in beforeAll, read in the tests. */
  app: AppPage;
}

/** Registers the block's beforeAll and afterAll; the returned object is filled in by beforeAll. */
export function useServedApp(opts: OpenOptions = {}): ServedApp {
  const s = { serve: undefined, browser: undefined } as ServedApp;
  beforeAll(async () => {
    assertBuilt();
    s.serve = await startServe();
    s.browser = await launchChromium();
    s.app = await openApp(s.browser, s.serve.url, opts);
  });
  afterAll(async () => {
    await s.app?.context.close().catch(() => {});
    await s.browser?.close().catch(() => {});
    await s.serve?.stop();
  });
  return s;
}
