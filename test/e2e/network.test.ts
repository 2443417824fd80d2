// The Network panel in a real Chromium against `ivy-cluster serve` with real nodes under
// load: "Isolate primary from backup" with one click, the rule in the list and the event
// log, the partition counted at both managers, the backup's takeover, Heal all, the
// nemesis period drawn on the latency chart, a bad custom rule refused with a clear
// notice, and the live history checked at the end: linearizable (the client quorum); and the same
// partition for write-update, whose history must stay sequentially consistent (the view quorum).
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { freshPorts } from '../integration/cluster.js';
import { screenshot, serveCommand, showView, until, waitForNodes } from './harness.js';
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
    // The backup hears no heartbeat and takes over (the Event log below shows it).
    await until(page, 'a takeover by m1', () => [...document.querySelectorAll('[data-testid="nemesis-counters-m1"] td:nth-child(2)')].some((td) => td.textContent === 'primary'), undefined, { timeout: 30_000, serve: s.serve! });

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
    await events.locator('tbody tr').filter({ hasText: /m1 is primary at epoch \d+/ }).first().waitFor();

    await showView(page, 'latency');
    const band = page.getByTestId('latency-nemesis').locator('li').first();
    await band.waitFor();
    expect(await band.innerText()).toMatch(/^nemesis isolate-primary-backup: \S+ – \S+$/);
    await screenshot(page, 'latency-nemesis');

    await page.waitForTimeout(1500); // some operations after the heal
    await showView(page, 'cluster');
    const verdict = await checkHistory(page, 'live', { serve: s.serve! });
    console.log(`Network e2e: live history after isolate-primary-backup and heal: ${verdict.text.replace(/\s+/g, ' ')}`);
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
