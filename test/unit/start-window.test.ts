// Clients start a few per core at a time (supervisor.ts inWaves): every one starts exactly once, never more
// than the window at once, the next as soon as one is ready, and a failure rejects the start.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inWaves, startWindow } from '../../nodes/control/supervisor.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('starting clients in waves', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('starts each item once, at most `window` at a time, refilling a lane as soon as one ends', async () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    await inWaves(items, 4, async (i) => {
      started.push(i);
      peak = Math.max(peak, ++running);
      await tick(i % 3);
      running--;
    });
    expect([...started].sort((a, b) => a - b)).toEqual(items);
    expect(started.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(4);
  });

  it('with a window of Infinity starts everything at once', async () => {
    let running = 0;
    let peak = 0;
    await inWaves([1, 2, 3, 4, 5], Infinity, async () => {
      peak = Math.max(peak, ++running);
      await tick(1);
      running--;
    });
    expect(peak).toBe(5);
  });

  it('rejects when a start fails', async () => {
    await expect(inWaves([1, 2, 3], 2, async (i) => (i === 2 ? Promise.reject(new Error('c2 exited')) : tick(1)))).rejects.toThrow('c2 exited');
  });

  it('is 32 per core (cores counted as at least two); IVY_START_WINDOW overrides it (0: all at once)', () => {
    vi.stubEnv('IVY_START_WINDOW', undefined);
    expect(startWindow(2)).toBe(64);
    expect(startWindow(1)).toBe(64);
    expect(startWindow(8)).toBe(256);
    vi.stubEnv('IVY_START_WINDOW', '3');
    expect(startWindow(2)).toBe(3);
    vi.stubEnv('IVY_START_WINDOW', '0');
    expect(startWindow(2)).toBe(Infinity);
  });
});
