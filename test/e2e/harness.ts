// End-to-end harness: `ivy-cluster serve` as a child process (its own process group,
// so the server and every node it forks can be ended together), a real Chromium via
// playwright-core, and small page helpers. Nothing here imports vitest: the build
// guard fails with a plain, clear message wherever it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS = join(ROOT, 'test-results');
/**
 * Where screenshots go: test-results/screenshots (ignored) on every test run, so tests never
 * modify tracked files. `npm run screenshots` points IVY_SCREENSHOTS_DIR at docs/screenshots
 * to regenerate the README's pictures from the same runs.
 */
export const SCREENSHOTS = resolve(ROOT, process.env.IVY_SCREENSHOTS_DIR ?? join('test-results', 'screenshots'));
export const VIEWPORT = { width: 1400, height: 900 } as const;

declare global {
  interface Window {
    /** CSP violations seen by the page (installed by an init script). */
    __ivyCsp?: string[];
  }
}

// --- build guard ------------------------------------------------------------------------

/** Throws a clear error when the UI or the node bundles have not been built. */
export function assertBuilt(): void {
  const needed = [
    ['out/renderer/index.html', 'the UI (renderer)'],
    ['out/nodes/cli.js', 'the ivy-cluster command'],
    ['out/nodes/node.js', 'the node process'],
  ] as const;
  const missing = needed.filter(([p]) => !existsSync(join(ROOT, p)));
  if (missing.length) {
    throw new Error(
      `end-to-end tests need a build, but ${missing.map(([p, what]) => `${p} (${what})`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing: ` +
        'run `npm run build` first (`npm test` does).',
    );
  }
}

// --- ivy-cluster serve ------------------------------------------------------------------------

export interface Serve {
  url: string;
  proc: ChildProcess;
  /** Everything the server wrote, for failure messages. */
  log(): string;
  /** SIGTERM (the server stops its cluster), then SIGKILL to the whole process group. Idempotent. */
  stop(): Promise<void>;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts `node bin/ivy-cluster.js serve --port 0` and resolves with the URL it prints. IVY_E2E_BASE_PORT
 * moves the ports of the clusters it starts (default 7000; scenario runs from +200), so two suites on
 * one machine need not collide.
 */
export async function startServe(timeoutMs = 30_000): Promise<Serve> {
  const basePort = process.env.IVY_E2E_BASE_PORT?.trim();
  if (basePort && !/^\d{4,5}$/.test(basePort)) throw new Error(`IVY_E2E_BASE_PORT must be a port number, got "${basePort}"`);
  const args = [join(ROOT, 'bin', 'ivy-cluster.js'), 'serve', '--port', '0', ...(basePort ? ['--base-port', basePort] : [])];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true, // own process group: the server and the nodes it forks
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error('could not spawn ivy-cluster serve');
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // If the test process dies without afterAll, take the servers and their nodes with it.
    process.once('exit', () => {
      for (const g of liveGroups) killGroup(g, 'SIGKILL');
    });
  }

  const lines: string[] = [];
  const remember = (prefix: string) => (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(`${prefix}${l}`);
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  proc.stderr?.on('data', remember('[stderr] '));

  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const graceful = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
      if (!graceful) killGroup(pid, 'SIGKILL');
    }
    // Whatever the server left behind (it should have stopped its nodes itself).
    killGroup(pid, 'SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    liveGroups.delete(pid);
  };

  const url = await new Promise<string>((resolveUrl, reject) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`ivy-cluster serve printed no http:// URL within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      reject(new Error(`${err.message}\n${lines.join('\n')}`));
    };
    const onData = (chunk: Buffer) => {
      remember('')(chunk);
      buf += chunk.toString('utf8');
      const complete = buf.split('\n').slice(0, -1); // whole lines only
      const found = complete.find((l) => l.startsWith('http://'));
      if (found) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stdout?.on('data', remember(''));
        resolveUrl(found.trim());
      }
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code, signal) => fail(new Error(`ivy-cluster serve exited early (code ${code}, signal ${signal})`)));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  return { url, proc, log: () => lines.join('\n'), stop };
}

// --- Chromium -------------------------------------------------------------------------------

export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** What went wrong in the page: console errors, uncaught exceptions, CSP violations, bad frames. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  csp: string[];
  /** console.warn lines of the app itself ("ivy: …"), e.g. an invalid frame from the server. */
  appWarnings: string[];
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  /** Reads CSP violations the page recorded (securitypolicyviolation events) into problems.csp. */
  collectCsp(): Promise<PageProblems>;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** Device pixel ratio (1 unless given), to check DPR-aware drawing. */
  deviceScaleFactor?: number;
  colorScheme?: 'light' | 'dark';
}

export async function openApp(browser: Browser, url: string, opts: OpenOptions = {}): Promise<AppPage> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? VIEWPORT,
    acceptDownloads: true,
    colorScheme: opts.colorScheme ?? 'light',
    ...(opts.deviceScaleFactor ? { deviceScaleFactor: opts.deviceScaleFactor } : {}),
  });
  await context.addInitScript(() => {
    window.__ivyCsp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__ivyCsp?.push(`${e.violatedDirective}: ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], csp: [], appWarnings: [] };
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error') problems.consoleErrors.push(text);
    if (/content security policy/i.test(text)) problems.csp.push(text);
    if (m.type() === 'warning' && text.startsWith('ivy:')) problems.appWarnings.push(text);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(err.stack ?? err.message));
  await page.goto(url);
  await page.getByTestId('connection-status').and(page.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
  const collectCsp = async (): Promise<PageProblems> => {
    const seen = await page.evaluate(() => window.__ivyCsp ?? []);
    for (const v of seen) if (!problems.csp.includes(v)) problems.csp.push(v);
    return problems;
  };
  return { context, page, problems, collectCsp };
}

// --- page helpers ------------------------------------------------------------------------------

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}

export const VIEW_LABELS = {
  cluster: 'Cluster',
  clients: 'Clients',
  records: 'Records',
  pages: 'Page caches',
  latency: 'Latency',
  scenarios: 'Scenarios',
  events: 'Event log',
  coherence: 'Coherence map',
  order: 'Total order',
  messages: 'Messages',
  network: 'Network',
} as const;

/** Clicks a view's tab and waits for its panel. */
export async function showView(page: Page, view: keyof typeof VIEW_LABELS): Promise<void> {
  await page.getByRole('tab', { name: VIEW_LABELS[view] }).click();
  await page.getByTestId(`view-${view}`).waitFor();
}

/** What the app is showing that helps explain a failed wait: errors, status, the server's log. */
export async function diagnostics(page: Page, serve?: Serve): Promise<string> {
  const parts: string[] = [];
  try {
    const errors = await page.getByTestId('command-error').allInnerTexts();
    if (errors.length) parts.push(`command errors: ${errors.join(' | ')}`);
    parts.push(`cluster: ${await page.getByTestId('cluster-status').innerText({ timeout: 2_000 })}`);
    parts.push(`connection: ${await page.getByTestId('connection-status').getAttribute('data-state', { timeout: 2_000 })}`);
    const rows = await page.locator('[data-testid^="node-row-"]').allInnerTexts();
    if (rows.length) parts.push(`nodes:\n  ${rows.map((r) => r.replace(/\s+/g, ' ')).join('\n  ')}`);
    // The newest events (the Event log view; the test has failed, so switching views is fine).
    await page.getByRole('tab', { name: 'Event log' }).click({ timeout: 2_000 });
    const events = await page.getByTestId('events-table').locator('tbody tr').allInnerTexts();
    if (events.length) parts.push(`newest events:\n  ${events.slice(0, 25).map((r) => r.replace(/\s+/g, ' ')).join('\n  ')}`);
  } catch (err) {
    parts.push(`(could not read the page: ${(err as Error).message})`);
  }
  if (serve) parts.push(`server log (tail):\n${serve.log().split('\n').slice(-30).join('\n')}`);
  return parts.join('\n');
}

/**
 * Waits until `predicate` (run in the page, every animation frame) returns a truthy
 * value and returns it; on timeout the error says what was awaited and what the app shows.
 */
export async function until<R, A>(
  page: Page,
  what: string,
  predicate: (arg: A) => R,
  arg: A,
  opts: { timeout?: number; serve?: Serve } = {},
): Promise<R> {
  const timeout = opts.timeout ?? 30_000;
  // A command that failed (e.g. Start cluster) shows an error notice: that ends the wait at
  // once. (Polled twice a second; one composed predicate would need eval, which the CSP forbids.)
  const failed = page
    .waitForFunction(() => document.querySelector('[data-testid="command-error"]')?.textContent ?? false, undefined, { timeout, polling: 500 })
    .then(
      async (h) => {
        throw new Error(`the app reported an error: ${String(await h.jsonValue())}`);
      },
      () => new Promise<never>(() => {}), // no notice before the timeout (or the page closed): the main wait decides
    );
  try {
    const fn = predicate as (a: unknown) => R;
    const handle = await Promise.race([page.waitForFunction(fn, arg as unknown, { timeout, polling: 'raf' }), failed]);
    return (await handle.jsonValue()) as R;
  } catch (err) {
    throw new Error(`gave up waiting for ${what}: ${(err as Error).message.split('\n')[0]}\n${await diagnostics(page, opts.serve)}`, { cause: err });
  }
}

/** A node's role and state as the nodes table shows them (data-role / data-state). */
export async function nodeStatus(page: Page, id: string): Promise<{ role: string | null; state: string | null; pid: string | null }> {
  return page.evaluate((nodeId) => {
    const q = (t: string) => document.querySelector(`[data-testid="${t}"]`);
    return {
      role: q(`node-role-${nodeId}`)?.getAttribute('data-role') ?? null,
      state: q(`node-state-${nodeId}`)?.getAttribute('data-state') ?? null,
      pid: q(`node-pid-${nodeId}`)?.textContent ?? null,
    };
  }, id);
}

/** Waits until each listed node shows the given role and/or state. */
export async function waitForNodes(
  page: Page,
  what: string,
  want: Record<string, { role?: string; state?: string }>,
  opts: { timeout?: number; serve?: Serve } = {},
): Promise<void> {
  await until(
    page,
    what,
    (w) =>
      Object.entries(w).every(([id, { role, state }]) => {
        const r = document.querySelector(`[data-testid="node-role-${id}"]`)?.getAttribute('data-role');
        const s = document.querySelector(`[data-testid="node-state-${id}"]`)?.getAttribute('data-state');
        return (role === undefined || r === role) && (state === undefined || s === state);
      }),
    want,
    opts,
  );
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** One command over the server's WebSocket, as the UI sends it. */
export async function serveCommand(url: string, cmd: Record<string, unknown>): Promise<{ ok: boolean; error?: string }> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/ws?token=${u.searchParams.get('token') ?? ''}`);
  try {
    await new Promise((ok, fail) => {
      ws.once('open', ok);
      ws.once('error', fail);
    });
    ws.send(JSON.stringify({ id: 'e2e', command: cmd }));
    return await new Promise((ok) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { id?: string; reply?: { ok: boolean; error?: string } };
        if (m.id === 'e2e' && m.reply) ok(m.reply);
      });
    });
  } finally {
    ws.close();
  }
}
