// The Messages view in a real Chromium against `ivy-cluster serve` with real nodes: opening
// it turns tracing on; one write fault and one read fault (run from the view's one-op form)
// show up in the operation list; clicking each pins the diagram on exactly its frames, in
// order; Export trace downloads a DESIGN §6 trace that converts for ShiViz. The cluster is
// started over the server's WebSocket (the form has no port field) on a free port range.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TraceRecordSchema } from '../../nodes/control/trace/record.js';
import { convertTraceToShiviz } from '../../nodes/control/trace/shiviz.js';
import { freshPorts } from '../integration/cluster.js';
import { parseShiviz } from '../unit/shiviz-check.js';
import { ensureDir, RESULTS, SCREENSHOTS, serveCommand, showView, until, waitForNodes } from './harness.js';
import { useServedApp } from './served-app.js';
import { stopCluster } from './steps.js';


async function runOp(page: Page, client: string, kind: 'read' | 'write', pg: number): Promise<void> {
  await page.getByTestId('messages-op-client').selectOption(client);
  await page.getByTestId('messages-op-kind').selectOption(kind);
  await page.getByTestId('messages-op-page').fill(String(pg));
  await page.getByTestId('messages-op-run').click();
}

/**
 * Clicks the op row and returns its frames as the view lists them (in order), and the highlighted arrow
 * count. `keyPrefix`: how the op's key starts (IVY `c0/page/`, write-update `c0#`).
 */
async function framesOf(page: Page, client: string, kind: string, pg: number, keyPrefix = `${client}/${pg}/`): Promise<{ frames: string[]; highlighted: number }> {
  const sel = `[data-testid="messages-op"][data-key^="${keyPrefix}"]`;
  const row = page.locator(sel).filter({ hasText: kind }).first();
  await until(page, `${client} ${kind} of page ${pg} done in the operation list`, (q) => document.querySelector(q)?.textContent?.includes('ok') ?? false, sel);
  await row.click();
  const list = page.getByTestId('messages-op-frames');
  await list.waitFor();
  // Nodes ship trace records in batches (every 250 ms): the receiving ends of the op's last frames may come a batch later.
  await until(page, `${client} ${kind} of page ${pg}: every frame received`, (sel) => !(document.querySelector(sel)?.textContent ?? '').includes('not received'), '[data-testid="messages-op-frames"]');
  const frames = (await list.locator('li').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  const highlighted = Number(await page.getByTestId('messages-canvas').getAttribute('data-highlighted'));
  await page.evaluate(() => document.querySelector('main.content')?.scrollTo(0, 0));
  if (!keyPrefix.includes('#')) await page.screenshot({ path: join(ensureDir(SCREENSHOTS), `messages-${kind}.png`) });
  await page.getByTestId('messages-unpin').click();
  return { frames, highlighted };
}

describe('Messages view', () => {
  const s = useServedApp();

  it('shows the frames of one write fault and one read fault in order, highlights them, and exports a trace', async () => {
    const { page } = s.app;
    const basePort = await freshPorts(3, false);
    const started = await serveCommand(s.serve!.url, { cmd: 'startCluster', config: { clients: 3, pages: 4, basePort, clientMemory: 'volatile' } });
    expect(started).toMatchObject({ ok: true });
    await waitForNodes(page, 'm0 and 3 clients up', { m0: { state: 'up' }, c0: { state: 'up' }, c1: { state: 'up' }, c2: { state: 'up' } }, { timeout: 60_000, serve: s.serve! });

    await page.keyboard.press('Alt+0');
    await page.getByTestId('view-messages').waitFor();
    await showView(page, 'messages');
    // Tracing is on once heartbeats arrive as frames.
    await until(page, 'traced frames in the window', (sel) => Number(document.querySelector(sel)?.getAttribute('data-arrows') ?? '0') > 0, '[data-testid="messages-canvas"]', { timeout: 30_000 });

    // c0 writes page 0 (nobody owns it: the manager grants it), then c1 reads it (forwarded to the owner c0).
    await runOp(page, 'c0', 'write', 0);
    const write = await framesOf(page, 'c0', 'write', 0);
    expect(write.frames).toEqual(['write_req c0 → m0', 'grant m0 → c0', 'confirm c0 → m0']);
    expect(write.highlighted).toBe(3);

    await runOp(page, 'c1', 'read', 0);
    const read = await framesOf(page, 'c1', 'read', 0);
    expect(read.frames).toEqual(['read_req c1 → m0', 'read_fwd m0 → c0', 'page_data c0 → c1', 'confirm c1 → m0']);
    expect(read.highlighted).toBe(4);

    // Export trace: a download of DESIGN §6 lines that holds those frames and converts for ShiViz.
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('messages-export-trace').click()]);
    expect(d.suggestedFilename()).toBe('ivy-trace.jsonl');
    const file = join(ensureDir(join(RESULTS, 'e2e')), 'messages-trace.jsonl');
    await d.saveAs(file);
    const records = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => TraceRecordSchema.parse(JSON.parse(l)));
    expect(records.some((r) => r.type === 'page_data' && r.node === 'c1' && r.dir === 'recv' && r.page === 0)).toBe(true);
    const out = `${file}.shiviz`;
    expect(await convertTraceToShiviz(file, out)).toMatchObject({ ok: true });
    expect(parseShiviz(readFileSync(out, 'utf8')).get('')!.length).toBe(records.length);

    await stopCluster(page);
  });

  it('lists a write-update write and pins exactly the frames that ordered it', async () => {
    const { page } = s.app;
    const basePort = await freshPorts(3, false);
    const started = await serveCommand(s.serve!.url, { cmd: 'startCluster', config: { protocol: 'isis', clients: 3, pages: 4, basePort, clientMemory: 'volatile' } });
    expect(started).toMatchObject({ ok: true });
    await waitForNodes(page, 'registry and 3 members up', { m0: { state: 'up' }, c0: { state: 'up' }, c1: { state: 'up' }, c2: { state: 'up' } }, { timeout: 60_000, serve: s.serve! });
    await showView(page, 'messages');
    await until(page, 'traced frames in the window', (sel) => Number(document.querySelector(sel)?.getAttribute('data-arrows') ?? '0') > 0, '[data-testid="messages-canvas"]', { timeout: 30_000 });

    // The registry lists every member before the write, so c1 orders it with both others as a rule.
    await showView(page, 'records');
    await until(page, 'the registry to list every member', () => ['c0', 'c1', 'c2'].every((c) => document.querySelector(`[data-testid="member-row-m0-${c}"]`) !== null), undefined, { timeout: 60_000, serve: s.serve! });
    await showView(page, 'messages');

    // c1's write goes to the other members of its view (its own copy is ordered locally): propose, agree, ack, stable.
    await runOp(page, 'c1', 'write', 1);
    const write = await framesOf(page, 'c1', 'write', 1, 'c1#');
    const peers = write.frames.filter((f) => f.startsWith('i_msg c1 → ')).map((f) => f.slice('i_msg c1 → '.length));
    expect(peers.length).toBeGreaterThan(0);
    expect(peers.every((p) => p === 'c0' || p === 'c2')).toBe(true);
    const expected = peers.flatMap((p) => [`i_msg c1 → ${p}`, `i_propose ${p} → c1`, `i_agreed c1 → ${p}`, `i_ack ${p} → c1`, `i_stable c1 → ${p}`]);
    // A retry (slow machine) may repeat a frame; nothing else may appear.
    expect([...new Set(write.frames)].sort()).toEqual(expected.sort());
    expect(write.frames.indexOf(`i_msg c1 → ${peers[0]}`)).toBeLessThan(write.frames.indexOf(`i_agreed c1 → ${peers[0]}`));
    expect(write.highlighted).toBe(write.frames.length);
    await stopCluster(page);
  });
});
