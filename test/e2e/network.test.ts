// The Network panel in a real Chromium against `ivy-cluster serve` with real nodes under
// load: "Isolate primary from backup" with one click, the rule in the list and the event
// log, the partition counted at both managers, the backup's candidacy going nowhere (every client still
// reaches the primary and has promised it: no takeover, no duel), Heal all, the
// nemesis period drawn on the latency chart, a bad custom rule refused with a clear
// notice, and the live history checked at the end: linearizable (the client quorum); and the same
// partition for write-update, whose history must stay sequentially consistent (the view quorum).
// The Network view keeps message tracing on, so the Messages view then draws what the
// partition did: heartbeats dropped by the nemesis (arrows ending in a cross, with the rule on
// hover), and the backup's candidacy as a new epoch on its line (or frames fenced for it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TraceRecordSchema } from '../../nodes/control/trace/record.js';
import { convertTraceToShiviz } from '../../nodes/control/trace/shiviz.js';
import { freshPorts } from '../integration/cluster.js';
import { parseShiviz } from '../unit/shiviz-check.js';
import { ensureDir, RESULTS, screenshot, serveCommand, showView, until, waitForNodes } from './harness.js';
import { useServedApp } from './served-app.js';
import { checkHistory, stopCluster } from './steps.js';


const counter = async (page: Page, node: string, col: number): Promise<number> =>
  Number((await page.getByTestId(`nemesis-counters-${node}`).locator('td').nth(col).innerText()).replace(/,/g, ''));

describe('Network view', () => {
  const s = useServedApp();

  it('isolates the primary from the backup with one click, shows it, heals, and the history is checked', async () => {
    const { page } = s.app;
    const basePort = await freshPorts(4, true);
    expect(await serveCommand(s.serve!.url, { cmd: 'startCluster', config: { clients: 4, pages: 4, backup: true, basePort, clientMemory: 'volatile' } })).toMatchObject({ ok: true });
    await waitForNodes(page, 'm0 primary, m1 backup, 4 clients up', { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' }, c3: { state: 'up' } }, { timeout: 60_000, serve: s.serve! });
    expect(await serveCommand(s.serve!.url, { cmd: 'setWorkload', workload: { readRatio: 0.5, rate: 50 } })).toMatchObject({ ok: true });

    await page.keyboard.press('Alt+KeyN');
    await page.getByTestId('view-network').waitFor();
    await page.getByTestId('nemesis-rules-empty').waitFor();

    await page.getByTestId('nemesis-preset-isolate-primary-backup').click();
    const rule = page.getByTestId('nemesis-rule');
    await rule.first().waitFor();
    expect(await rule.allInnerTexts()).toEqual(['m0 ⇄ m1: partition [isolate-primary-backup]']);
    expect(await page.getByTestId('nemesis-preset-isolate-primary-backup').getAttribute('aria-pressed')).toBe('true');

    // Cut at both ends (heartbeats), counted per node; the clients untouched.
    await until(page, 'partition counted at m0 and m1', () => {
      const cell = (id: string) => Number(document.querySelector(`[data-testid="nemesis-counters-${id}"] td:nth-child(3)`)?.textContent?.replace(/,/g, '') ?? '0');
      return cell('m0') > 0 && cell('m1') > 0;
    }, undefined, { timeout: 20_000, serve: s.serve! });
    expect(await counter(page, 'c0', 2)).toBe(0);
    await screenshot(page, 'network');
    // The Cluster view's drop counters show it too, apart from bad input.
    await showView(page, 'cluster');
    expect(await page.getByTestId('node-net-dropped-m0').innerText()).toMatch(/^ \+ [\d,]+ net$/);
    await showView(page, 'network');
    // The backup hears no heartbeat and runs for the role; the clients, promised to the primary that still
    // renews their leases, leave it without a vote: m0 serves on (docs/CONSISTENCY.md, Partitions).
    const roleOf = (id: string) => document.querySelector(`[data-testid="nemesis-counters-${id}"] td:nth-child(2)`)?.textContent;
    await until(page, 'm1 a candidate', () => [...document.querySelectorAll('[data-testid="nemesis-counters-m1"] td:nth-child(2)')].some((td) => td.textContent === 'candidate'), undefined, { timeout: 30_000, serve: s.serve! });
    expect(await page.evaluate(roleOf, 'm0')).toBe('primary');

    // The Messages view (tracing stayed on: the Network view holds it): drops, and the candidacy's epoch (or fencing).
    await page.keyboard.press('Alt+Digit0');
    await page.getByTestId('view-messages').waitFor();
    await page.getByTestId('messages-span').selectOption('5000');
    const canvas = page.getByTestId('messages-canvas');
    // Counts of what the diagram draws in its window, summed over the given data attributes.
    const drawn = (attrs: string[]) => attrs.reduce((n, a) => n + Number(document.querySelector('[data-testid="messages-canvas"]')?.getAttribute(a) ?? '0'), 0) > 0;
    await until(page, 'a frame dropped by the nemesis in the diagram', drawn, ['data-dropped'], { timeout: 20_000, serve: s.serve! });
    await until(page, 'the candidacy in the diagram: an epoch mark or a fenced frame', drawn, ['data-epoch-marks', 'data-fenced'], { timeout: 20_000, serve: s.serve! });
    await page.getByTestId('messages-pause').click();
    const marks = { dropped: Number(await canvas.getAttribute('data-dropped')), fenced: Number(await canvas.getAttribute('data-fenced')), epochs: Number(await canvas.getAttribute('data-epoch-marks')) };
    console.log(`Network e2e: Messages view after the candidacy: ${JSON.stringify(marks)}`);
    expect(marks.dropped).toBeGreaterThan(0);
    expect(marks.fenced + marks.epochs).toBeGreaterThan(0);
    expect(await page.getByTestId('messages-marks').innerText()).toMatch(/✕ [\d,]+ dropped by the nemesis/);
    // Hover the first drop's cross: the rule that dropped it (the partition between the managers).
    const at = async (attr: string): Promise<{ x: number; y: number } | null> => {
      const v = await canvas.getAttribute(attr);
      if (!v) return null;
      const [x, y] = v.split(',').map(Number) as [number, number];
      return { x, y };
    };
    // The latest second, for a readable picture (the drops go on as long as the partition does).
    await page.getByTestId('messages-span').selectOption('1000');
    await until(page, 'a drop in the latest second', drawn, ['data-dropped'], { timeout: 5_000, serve: s.serve! });
    const drop = (await at('data-first-drop'))!;
    await canvas.hover({ position: drop });
    expect(await page.getByTestId('messages-tip-nemesis').innerText({ timeout: 5_000 })).toMatch(/^dropped by nemesis: rule m[01]>m[01]:partition$/);
    const fence = await at('data-first-fence');
    if (fence) {
      await canvas.hover({ position: fence });
      expect(await page.getByTestId('messages-tip-refused').innerText({ timeout: 5_000 })).toMatch(/^fenced: epoch \d+ < \d+$/);
    }
    await canvas.hover({ position: drop });
    await page.evaluate(() => document.querySelector('main.content')?.scrollTo(0, 0));
    await screenshot(page, 'messages-nemesis');
    await page.mouse.move(0, 0);
    // The exported trace carries the same notes (DESIGN §6 fields) and still converts for ShiViz.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('messages-export-trace').click()]);
    const file = join(ensureDir(join(RESULTS, 'e2e')), 'network-trace.jsonl');
    await download.saveAs(file);
    const records = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => TraceRecordSchema.parse(JSON.parse(l)));
    expect(records.some((r) => r.dir === 'send' && r.nemesis === 'drop' && /^m[01]>m[01]:partition$/.test(r.rule ?? ''))).toBe(true);
    console.log(`Network e2e: exported trace: ${records.length} records, ${records.filter((r) => r.nemesis === 'drop').length} dropped, ${records.filter((r) => r.refused?.startsWith('stale epoch')).length} fenced`);
    expect(await convertTraceToShiviz(file, `${file}.shiviz`)).toMatchObject({ ok: true });
    expect(parseShiviz(readFileSync(`${file}.shiviz`, 'utf8')).get('')!.length).toBe(records.length);
    await showView(page, 'network');

    // A bad custom rule: the engine refuses it (unknown node) and the UI says so.
    await page.getByTestId('nemesis-from').fill('c9');
    await page.getByTestId('nemesis-add-rule').click();
    const notice = page.getByTestId('command-error').filter({ hasText: /Apply network rules failed: rule 1 from: unknown node c9 \(nodes: m0, m1, c0, c1, c2, c3\)/ });
    await notice.waitFor({ timeout: 10_000 });
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    expect(await rule.allInnerTexts()).toEqual(['m0 ⇄ m1: partition [isolate-primary-backup]']);

    await page.getByTestId('nemesis-heal').click();
    await page.getByTestId('nemesis-rules-empty').waitFor();

    await showView(page, 'events');
    const events = page.getByTestId('events-table');
    await events.locator('tbody tr').filter({ hasText: 'nemesis on: m0 ⇄ m1: partition [isolate-primary-backup]' }).first().waitFor();
    await events.locator('tbody tr').filter({ hasText: 'nemesis healed' }).first().waitFor();
    await events.locator('tbody tr').filter({ hasText: /m1 is candidate at epoch \d+/ }).first().waitFor();
    // No duel: the backup never served, and the epochs did not climb (a duel went through 22 in 3 s).
    expect(await events.locator('tbody tr').filter({ hasText: /m1 is primary at epoch \d+/ }).count()).toBe(0);
    const epochs = (await events.locator('tbody tr').filter({ hasText: /m[01] is \w+ at epoch \d+/ }).allInnerTexts()).map((t) => Number(/at epoch (\d+)/.exec(t)![1]));
    console.log(`Network e2e: role changes ${epochs.length}, highest epoch ${Math.max(1, ...epochs)}`);
    expect(Math.max(1, ...epochs)).toBeLessThanOrEqual(8);

    await showView(page, 'latency');
    const band = page.getByTestId('latency-nemesis').locator('li').first();
    await band.waitFor();
    expect(await band.innerText()).toMatch(/^nemesis isolate-primary-backup: \S+ – \S+$/);
    await screenshot(page, 'latency-nemesis');

    // The takeover and its fencing: cut the primary from everyone. Its clients' leases lapse, they vote for the
    // backup, which takes over at a new epoch; after the heal the old primary's frames meet that epoch.
    await showView(page, 'network');
    await page.getByTestId('nemesis-preset-isolate-primary').click();
    await rule.first().waitFor();
    await showView(page, 'events');
    await events.locator('tbody tr').filter({ hasText: /m1 is primary at epoch \d+/ }).first().waitFor({ timeout: 30_000 });
    await showView(page, 'network');
    await page.getByTestId('nemesis-heal').click();
    await page.getByTestId('nemesis-rules-empty').waitFor();
    await page.keyboard.press('Alt+Digit0');
    await page.getByTestId('view-messages').waitFor();
    await page.getByTestId('messages-span').selectOption('5000');
    await until(page, 'the takeover in the diagram: an epoch mark or a fenced frame', drawn, ['data-epoch-marks', 'data-fenced'], { timeout: 20_000, serve: s.serve! });
    const afterTakeover = { fenced: Number(await canvas.getAttribute('data-fenced')), epochs: Number(await canvas.getAttribute('data-epoch-marks')) };
    console.log(`Network e2e: Messages view after isolate-primary and heal: ${JSON.stringify(afterTakeover)}`);
    // The fencing in the event log: the old primary meets the new epoch (the peer's, or a client's refusal) and
    // steps down to ask for its role back.
    await showView(page, 'events');
    const fenced = events.locator('tbody tr').filter({ hasText: /m0 is rejoining at epoch \d+ \((peer|m1) serves epoch \d+|m0 is rejoining at epoch \d+ \(c\d+ follows epoch \d+/ });
    await fenced.first().waitFor({ timeout: 30_000 });
    console.log(`Network e2e: fencing in the event log: ${(await fenced.first().innerText()).replace(/\s+/g, ' ')}`);

    await page.waitForTimeout(1500); // some operations after the heal
    await showView(page, 'cluster');
    const verdict = await checkHistory(page, 'live', { serve: s.serve! });
    console.log(`Network e2e: live history after isolate-primary-backup, isolate-primary and heals: ${verdict.text.replace(/\s+/g, ' ')}`);
    // Partition safety: a primary cut from the backup never serves beside a new one (the client quorum).
    expect(verdict.consistent, verdict.text).toBe(true);
    await serveCommand(s.serve!.url, { cmd: 'setWorkload', workload: null });
    await stopCluster(page);
  }, 180_000);

  it('write-update: isolate the primary registry from the backup, heal, and the history is sequentially consistent', async () => {
    const { page } = s.app;
    const basePort = await freshPorts(4, true);
    expect(await serveCommand(s.serve!.url, { cmd: 'startCluster', config: { protocol: 'isis', clients: 4, pages: 4, backup: true, basePort, clientMemory: 'volatile' } })).toMatchObject({ ok: true });
    await waitForNodes(page, 'm0 primary, m1 backup, 4 members up', { m0: { role: 'primary', state: 'up' }, m1: { role: 'backup', state: 'up' }, c3: { state: 'up' } }, { timeout: 60_000, serve: s.serve! });
    expect(await serveCommand(s.serve!.url, { cmd: 'setWorkload', workload: { readRatio: 0.5, rate: 50 } })).toMatchObject({ ok: true });

    await page.keyboard.press('Alt+KeyN');
    await page.getByTestId('view-network').waitFor();
    await page.getByTestId('nemesis-preset-isolate-primary-backup').click();
    await page.getByTestId('nemesis-rule').first().waitFor();
    await until(page, 'partition counted at m0 and m1', () => {
      const cell = (id: string) => Number(document.querySelector(`[data-testid="nemesis-counters-${id}"] td:nth-child(3)`)?.textContent?.replace(/,/g, '') ?? '0');
      return cell('m0') > 0 && cell('m1') > 0;
    }, undefined, { timeout: 20_000, serve: s.serve! });
    // The backup registry hears no ping and takes over; the members follow its epoch (the old primary is fenced).
    await until(page, 'a takeover by m1', () => [...document.querySelectorAll('[data-testid="nemesis-counters-m1"] td:nth-child(2)')].some((td) => td.textContent === 'primary'), undefined, { timeout: 30_000, serve: s.serve! });
    await page.waitForTimeout(1500); // writes during the partition
    await page.getByTestId('nemesis-heal').click();
    await page.getByTestId('nemesis-rules-empty').waitFor();
    await page.waitForTimeout(2000); // some operations after the heal

    await showView(page, 'cluster');
    const verdict = await checkHistory(page, 'live', { serve: s.serve! });
    console.log(`Network e2e (isis): live history after isolate-primary-backup and heal: ${verdict.text.replace(/\s+/g, ' ')}`);
    // Partition safety for write-update: a view needs a quorum of the one it replaces, so one side writes.
    expect(verdict.consistent, verdict.text).toBe(true);
    await serveCommand(s.serve!.url, { cmd: 'setWorkload', workload: null });
    await stopCluster(page);
  }, 180_000);
});
