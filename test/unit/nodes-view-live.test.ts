// The nodes table's cheap live parts (renderer): integers formatted without building a
// formatter per call, exactly as before; uptimes ticked by one shared ticker that writes
// only the cells in view; and page tables dropped from snapshots while no view shows them.
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, ServerPush } from '../../nodes/control/api.js';
import { UptimeTicker, uptimeText, type TextTarget } from '../../renderer/src/components/clock.js';
import { fmtInt, fmtMs } from '../../renderer/src/format.js';
import { ClusterStore } from '../../renderer/src/state/store.js';
import { mulberry32 } from '../../nodes/core/random.js';

describe('fmtInt / fmtMs', () => {
  it('write what toLocaleString("en-US") wrote, over 20,000 seeded values and the edges', () => {
    const r = mulberry32(9); // seeded, so a failure names its case
    const values = [0, -0, 0.4, -0.4, 0.5, -0.5, 999, 999.5, 1000, -999, -1000, 1e15, -1e15, 2 ** 53, 123456.789];
    for (let i = 0; i < 20_000; i++) {
      const mag = 10 ** Math.floor(r() * 13);
      values.push((r() - 0.3) * mag);
    }
    for (const v of values) {
      expect(fmtInt(v), String(v)).toBe(Math.round(v).toLocaleString('en-US'));
      if (v >= 100) expect(fmtMs(v), String(v)).toBe(Math.round(v).toLocaleString('en-US'));
    }
    expect(fmtInt(null)).toBe('–');
    expect(fmtInt(Number.NaN)).toBe('–');
    expect(fmtInt(Number.POSITIVE_INFINITY)).toBe('–');
  });
});

interface FakeEl extends TextTarget {
  name: string;
  writes: number;
}

function el(name: string): FakeEl {
  let text: string | null = '';
  const e = {
    name,
    writes: 0,
    get textContent() {
      return text;
    },
    set textContent(v: string | null) {
      e.writes++;
      text = v;
    },
  };
  return e;
}

function harness(withVisibility: boolean) {
  let now = 1_000_000;
  let tick: (() => void) | null = null;
  let timers = 0;
  const observed = new Set<FakeEl>();
  let report: ((e: FakeEl, inView: boolean) => void) | null = null;
  const ticker = new UptimeTicker<FakeEl>({
    now: () => now,
    every: (ms, fn) => {
      expect(ms).toBe(1000);
      timers++;
      tick = fn;
      return () => {
        timers--;
        tick = null;
      };
    },
    watchVisibility: withVisibility
      ? (onChange) => {
          report = onChange;
          return { observe: (e) => observed.add(e), unobserve: (e) => observed.delete(e) };
        }
      : undefined,
  });
  return {
    ticker,
    observed,
    advance(ms: number) {
      now += ms;
      tick?.();
    },
    see(e: FakeEl, inView: boolean) {
      report?.(e, inView);
    },
    get now() {
      return now;
    },
    get timers() {
      return timers;
    },
  };
}

describe('UptimeTicker', () => {
  it('shows the uptime at once, ticks every second, and stops its timer when nothing is watched', () => {
    const h = harness(false);
    const a = el('a');
    const stop = h.ticker.watch(a, h.now - 4_000);
    expect(a.textContent).toBe('4s');
    expect(h.timers).toBe(1);
    h.advance(1000);
    expect(a.textContent).toBe('5s');
    h.advance(61_000);
    expect(a.textContent).toBe(uptimeText(h.now - 66_000, h.now));
    expect(a.textContent).toBe('1m 06s');
    stop();
    expect(h.timers).toBe(0);
    expect(h.ticker.size).toBe(0);
  });

  it('writes only the cells in view, brings a cell up to date as it comes into view, and never rewrites an unchanged text', () => {
    const h = harness(true);
    const on = el('on');
    const off = el('off');
    const since = h.now;
    h.ticker.watch(on, since);
    h.ticker.watch(off, since);
    expect([on.textContent, off.textContent]).toEqual(['0s', '0s']);
    expect(h.observed.size).toBe(2);
    h.see(on, true);
    h.see(off, false);
    h.advance(3_000);
    expect(on.textContent).toBe('3s');
    expect(off.textContent).toBe('0s'); // off screen: not touched
    const offWrites = off.writes;
    h.advance(2_000);
    expect(off.writes).toBe(offWrites);
    h.see(off, true); // scrolled into view: current at once, before any tick
    expect(off.textContent).toBe('5s');
    // An hour in, the text changes once a minute: the ticks in between write nothing.
    h.advance(3_600_000 - 5_000);
    const writes = on.writes;
    expect(on.textContent).toBe('1h 00m');
    for (let i = 0; i < 30; i++) h.advance(1000);
    expect(on.writes).toBe(writes);
    expect(on.textContent).toBe('1h 00m');
    h.see(on, false);
    h.advance(60_000);
    expect(on.textContent).toBe('1h 00m');
    expect(off.textContent).toBe('1h 01m');
  });

  it('forgets an element it no longer watches, even if a late visibility report names it', () => {
    const h = harness(true);
    const a = el('a');
    const stop = h.ticker.watch(a, h.now);
    stop();
    expect(h.observed.size).toBe(0);
    const writes = a.writes;
    h.see(a, true);
    h.advance(5_000);
    expect(a.writes).toBe(writes);
  });
});

describe('ClusterStore page tables', () => {
  const snapshot = (seq: number, withTables: boolean): ServerPush =>
    ({
      type: 'snapshot',
      snapshot: {
        seq,
        t: seq,
        running: true,
        nodes: [],
        clients: {},
        records: {},
        ...(withTables ? { pageTables: { c0: [] } } : {}),
      } as unknown as ClusterSnapshot,
    }) as ServerPush;

  it('keeps page tables only while a view that shows them holds the store', () => {
    let frame: (() => void) | null = null;
    const store = new ClusterStore({ state: 'open' } as never, { request: (cb) => (frame = cb) });
    const flush = () => {
      const f = frame;
      frame = null;
      f?.();
    };
    store.push(snapshot(1, true));
    flush();
    expect(store.getState().snapshot?.pageTables).toBeUndefined();
    expect(store.getState().snapshot?.seq).toBe(1);
    const release = store.keepPageTables();
    const release2 = store.keepPageTables();
    store.push(snapshot(2, true));
    flush();
    expect(store.getState().snapshot?.pageTables).toEqual({ c0: [] });
    release();
    release(); // a second release of the same hold changes nothing
    store.push(snapshot(3, true));
    flush();
    expect(store.getState().snapshot?.pageTables).toEqual({ c0: [] });
    release2();
    store.push(snapshot(4, true));
    flush();
    expect(store.getState().snapshot?.pageTables).toBeUndefined();
  });
});
