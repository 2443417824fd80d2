// No clipped text in any form, at 1280 × 800 and at 200 % zoom (a 1280 × 800 window
// at zoom 200 % lays out a 640 × 400 CSS-pixel viewport at device scale 2). For every
// view: an input's value or placeholder must fit its box; a label, button, legend,
// hint or heading must not be cut by its own box; a form control must not stick out
// of its card. The confirm dialog (Run while a cluster runs) is checked too. Each
// screen is also saved to test-results/screenshots/forms-*.png for a person to look at.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEW_LABELS, assertBuilt, launchChromium, screenshot, showView, startServe, type Serve } from './harness.js';
import { startCluster } from './steps.js';

const DISPLAYS = [
  { name: '1280x800', viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  { name: 'zoom200', viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 },
] as const;

interface Clip {
  what: string;
  text: string;
  detail: string;
}

/** Runs in the page: everything visible whose text is cut off, within `root`. */
function findClipped(rootSelector: string): Clip[] {
  const root = document.querySelector(rootSelector);
  if (!root) return [{ what: rootSelector, text: '', detail: 'not found' }];
  const out: Clip[] = [];
  const visible = (el: Element) => {
    const r = el.getBoundingClientRect();
    // Screen-reader-only text (.visually-hidden) is clipped on purpose.
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden' && !el.closest('.visually-hidden');
  };
  const name = (el: Element) => `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[data-testid=${el.getAttribute('data-testid')}]` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}`;
  const ctx = document.createElement('canvas').getContext('2d');
  for (const el of root.querySelectorAll<HTMLInputElement>('input[type="number"], input[type="text"], input[type="search"]')) {
    if (!visible(el) || !ctx) continue;
    const cs = getComputedStyle(el);
    const text = el.value || el.placeholder;
    if (!text) continue;
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    // Chromium keeps room for the spin buttons of a number box (~15 px) whether or not they show.
    const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - (el.type === 'number' ? 15 : 0);
    const need = ctx.measureText(text).width;
    if (need > room + 0.5) out.push({ what: name(el), text, detail: `text needs ${need.toFixed(0)} px, the box has ${room.toFixed(0)} px` });
  }
  for (const el of root.querySelectorAll('label, button, legend, summary, h2, h3, small, .hint, .pill, dt, dd, p, [role="alertdialog"] *')) {
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    if (cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) {
      out.push({ what: name(el), text: (el.textContent ?? '').trim().slice(0, 60), detail: `content ${el.scrollWidth} px wide in a ${el.clientWidth} px box (overflow ${cs.overflowX})` });
    }
  }
  for (const el of root.querySelectorAll('.field, .button-row > *, .pick, fieldset, h2 > *, .verdict p, .history-actions button')) {
    if (!visible(el)) continue;
    const card = el.closest('.card, dialog');
    if (!card) continue;
    const r = el.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    if (r.right > c.right + 1 || r.left < c.left - 1) {
      out.push({ what: name(el), text: (el.textContent ?? '').trim().slice(0, 60), detail: `sticks out of its card (${r.left.toFixed(0)}–${r.right.toFixed(0)} vs ${c.left.toFixed(0)}–${c.right.toFixed(0)})` });
    }
  }
  return out;
}

describe('forms fit: no clipped text at 1280 × 800 and at 200 % zoom', () => {
  let serve: Serve | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    assertBuilt();
    serve = await startServe();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await serve?.stop();
  });

  async function audit(page: Page, display: string, label: string, rootSelector = 'main'): Promise<Clip[]> {
    await page.waitForTimeout(100); // one layout after the last change
    await screenshot(page, `forms-${display}-${label}`);
    return (await page.evaluate(findClipped, rootSelector)).map((c) => ({ ...c, what: `${label}: ${c.what}` }));
  }

  for (const display of DISPLAYS) {
    it(`${display.name}: every view, empty and with a cluster running, and the confirm dialog`, async () => {
      if (!browser || !serve) throw new Error('setup failed');
      const context = await browser.newContext({ viewport: display.viewport, deviceScaleFactor: display.deviceScaleFactor, colorScheme: 'light' });
      const page = await context.newPage();
      try {
        await page.goto(serve.url);
        await page.getByTestId('connection-status').and(page.locator('[data-state="open"]')).waitFor({ timeout: 30_000 });
        const clips: Clip[] = [];
        for (const view of Object.keys(VIEW_LABELS) as (keyof typeof VIEW_LABELS)[]) {
          await showView(page, view);
          clips.push(...(await audit(page, display.name, view)));
        }
        clips.push(...(await audit(page, display.name, 'header', 'header')));

        // With a small cluster running: the disabled start form shows its real values, the
        // workload form its status line, and Run on the Scenarios view asks to stop it.
        await startCluster(page, { clients: 1, pages: 4, backup: false }, { serve });
        clips.push(...(await audit(page, display.name, 'cluster-running')));
        await page.getByTestId('live-check-history').click();
        await page.getByTestId('live-history-verdict').waitFor({ timeout: 30_000 });
        await page.getByTestId('live-history-verdict').scrollIntoViewIfNeeded();
        clips.push(...(await audit(page, display.name, 'cluster-history')));
        await showView(page, 'scenarios');
        await page.getByRole('button', { name: 'Run scenarios', exact: true }).click();
        const dialog = page.getByRole('alertdialog');
        await dialog.waitFor();
        clips.push(...(await audit(page, display.name, 'confirm', 'dialog[open]')));
        await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
        await dialog.waitFor({ state: 'hidden' });
        await showView(page, 'cluster');
        await page.getByRole('button', { name: 'Stop cluster', exact: true }).click();
        await page.getByTestId('cluster-status').and(page.locator('[data-running="false"]')).waitFor({ timeout: 60_000 });

        expect(clips, clips.map((c) => `${c.what} "${c.text}": ${c.detail}`).join('\n')).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
