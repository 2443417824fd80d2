// Recoverable client memory in Chromium (issue 10): Kill c1 while it owns pages, the
// Records view marks them "held by c1 (down)"; Reboot c1, they are served again.
import { describe, expect, it } from 'vitest';
import { showView, until, waitForNodes } from './harness.js';
import { useServedApp } from './served-app.js';
import { startCluster, startWorkload, stopCluster } from './steps.js';

/** Page numbers whose m0 record cell 1 (owner column) reads `text` (runs in the page: no closure). */
const rowsWith = (text: string): string[] | false => {
  const rows = [...document.querySelectorAll('[data-testid="records-table-m0"] tbody tr')];
  const hits = rows.filter((tr) => tr.querySelectorAll('td')[1]?.textContent === text).map((tr) => tr.querySelectorAll('td')[0]?.textContent ?? '');
  return hits.length > 0 ? hits : false;
};

describe('recoverable client memory in the UI', () => {
  const served = useServedApp();

  it('marks a killed owner\'s pages held, then serves them again after Reboot', async () => {
    const { page } = served.app;
    const o = { serve: served.serve };
    await startCluster(page, { clients: 3, pages: 6, backup: true }, o);
    await startWorkload(page, { readRatio: 0.3, rate: 50 }, o);
    await showView(page, 'records');
    await until(page, 'c1 to own a page', rowsWith, 'c1', { timeout: 30_000, ...o });
    await showView(page, 'cluster');
    await page.getByRole('button', { name: 'Stop workload', exact: true }).click();
    await page.getByTestId('workload-state').getByText('off').waitFor();
    await showView(page, 'records');
    const owned = await until(page, 'c1 to own a page at rest', rowsWith, 'c1', { timeout: 30_000, ...o });

    await showView(page, 'cluster');
    await page.getByRole('button', { name: 'Kill c1', exact: true }).click();
    await waitForNodes(page, 'c1 down', { c1: { state: 'down' } }, o);
    await showView(page, 'records');
    const held = await until(page, 'c1\'s pages held by c1 (down)', rowsWith, 'held by c1 (down)', { timeout: 30_000, ...o });
    // Only the pages c1 alone held are held for it; a page with read copies elsewhere passes to a copy holder.
    for (const p of held as string[]) expect(owned as string[]).toContain(p);

    await showView(page, 'cluster');
    await page.getByRole('button', { name: 'Reboot c1', exact: true }).click();
    await waitForNodes(page, 'c1 up', { c1: { state: 'up' } }, { timeout: 60_000, ...o });
    await showView(page, 'records');
    await until(page, 'no page held by c1 (down) any more', (text) => ![...document.querySelectorAll('[data-testid="records-table-m0"] tbody tr')].some((tr) => tr.querySelectorAll('td')[1]?.textContent === text), 'held by c1 (down)', { timeout: 30_000, ...o });
    const back = await until(page, 'c1 to own its pages again', rowsWith, 'c1', { timeout: 30_000, ...o });
    for (const p of held as string[]) expect(back as string[]).toContain(p);
    await stopCluster(page, o);
  });
});
