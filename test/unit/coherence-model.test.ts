// The coherence map's pure parts: snapshot -> grid of cells, the serving manager's
// records and lost pages, the compact encoding, and the geometry (layout, hit-testing,
// keyboard moves).
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, NodeInfo, PageRow } from '../../nodes/control/api.js';
import type { RecordView } from '../../nodes/core/types.js';
import {
  MAX_PITCH,
  MIN_PITCH,
  buildGrid,
  cellAt,
  cellRect,
  computeLayout,
  describeCell,
  encodeRows,
  hitTest,
  moveFocus,
  servingManager,
} from '../../renderer/src/coherence/model.js';

function node(id: string, role: NodeInfo['role'], state: NodeInfo['state'] = 'up'): NodeInfo {
  return { id, role, state, pid: 1, endpoint: '', epoch: 1, upSince: 0, restarts: 0, lastExit: null, dropped: 0, rssBytes: null };
}

function row(page: number, access: string, extra: Partial<PageRow> = {}): PageRow {
  return { page, access: access as PageRow['access'], owner: false, version: 0, pending: null, preview: '', token: null, ...extra };
}

function rec(page: number, extra: Partial<RecordView> = {}): RecordView {
  return { page, owner: null, lostWith: null, copyset: [], version: 0, active: null, queue: [], ...extra };
}

function snap(p: Partial<ClusterSnapshot>): ClusterSnapshot {
  return {
    seq: 1,
    t: 0,
    running: true,
    config: null,
    workload: null,
    nodes: [],
    clients: [],
    records: {},
    pageTables: {},
    histogram: [],
    series: [],
    marks: [],
    ...p,
  };
}

describe('buildGrid', () => {
  it('is empty without a snapshot', () => {
    const g = buildGrid(null);
    expect(g.clients).toEqual([]);
    expect(g.pages).toBe(0);
    expect(g.cells).toEqual([]);
  });

  it('puts every client row in natural order and every page in its column', () => {
    const g = buildGrid(
      snap({
        config: { pages: 3 } as ClusterSnapshot['config'],
        nodes: [node('m0', 'primary'), node('c10', 'client'), node('c2', 'client'), node('c1', 'client', 'down')],
        pageTables: {
          c2: [row(0, 'read'), row(1, 'none'), row(2, 'write', { owner: true, version: 7, token: 'c2-9', pending: null })],
          c10: [row(1, 'read', { pending: 'write', version: 3 })],
        },
      }),
    );
    expect(g.clients).toEqual(['c1', 'c2', 'c10']);
    expect(g.clientStates).toEqual(['down', 'up', 'up']);
    expect(g.pages).toBe(3);
    expect(g.cells).toHaveLength(9);
    expect(cellAt(g, 0, 0)).toBeNull(); // c1 is down: no page table
    expect(cellAt(g, 1, 2)).toEqual({ access: 'write', owner: true, version: 7, pending: null, token: 'c2-9' });
    expect(cellAt(g, 2, 1)?.pending).toBe('write');
    expect(cellAt(g, 2, 0)).toBeNull(); // c10 reported no row for page 0
    expect(cellAt(g, 3, 0)).toBeNull(); // out of range
    expect(cellAt(g, 0, 3)).toBeNull();
    expect(g.counts).toEqual({ byAccess: { read: 2, none: 1, write: 1 }, owners: 1, pending: 1, lost: 0 });
    expect(encodeRows(g)).toBe('___ r.W _r_');
  });

  it('derives the page count from the rows and records when there is no config', () => {
    const g = buildGrid(snap({ pageTables: { c0: [row(4, 'read')] }, records: { m0: [rec(6)] }, nodes: [node('m0', 'primary')] }));
    expect(g.pages).toBe(7);
  });

  it('ignores rows and records outside the page range', () => {
    const g = buildGrid(
      snap({
        config: { pages: 2 } as ClusterSnapshot['config'],
        nodes: [node('m0', 'primary')],
        pageTables: { c0: [row(5, 'write'), row(-1, 'read'), row(1, 'read')] },
        records: { m0: [rec(9, { lostWith: 'c0' }), rec(1, { owner: 'c0' })] },
      }),
    );
    expect(encodeRows(g)).toBe('_r');
    expect(g.counts.lost).toBe(0);
    expect(g.records[1]?.owner).toBe('c0');
  });

  it('takes records and lost pages from the serving manager', () => {
    const s = snap({
      config: { pages: 3 } as ClusterSnapshot['config'],
      nodes: [node('m0', 'backup'), node('m1', 'primary'), node('c0', 'client')],
      records: {
        m0: [rec(0, { owner: 'c0', version: 1 })],
        m1: [rec(0, { owner: 'c0', version: 2 }), rec(2, { lostWith: 'c3', owner: null })],
      },
      pageTables: { c0: [row(0, 'write', { owner: true })] },
    });
    const g = buildGrid(s);
    expect(g.manager).toBe('m1');
    expect(g.records[0]?.version).toBe(2);
    expect(g.records[1]).toBeNull();
    expect(g.lostWith).toEqual([null, null, 'c3']);
    expect(g.counts.lost).toBe(1);
    expect(describeCell(g, 0, 2)).toBe('c0, page 2: no page table, page lost with c3');
  });

  it('renders access kinds it does not know (another protocol) generically', () => {
    const g = buildGrid(snap({ config: { pages: 2 } as ClusterSnapshot['config'], pageTables: { c0: [row(0, 'replica', { owner: true }), row(1, 'read')] } }));
    expect(g.accessKinds).toEqual(['none', 'read', 'write', 'replica']);
    expect(encodeRows(g)).toBe('?r');
    expect(g.counts.byAccess.replica).toBe(1);
    expect(describeCell(g, 0, 0)).toBe('c0, page 0: replica access, owner, version 0, token –');
  });

  it('describes a cell for screen readers', () => {
    const g = buildGrid(
      snap({
        config: { pages: 1 } as ClusterSnapshot['config'],
        nodes: [node('c0', 'client'), node('c1', 'client', 'rebooting')],
        pageTables: { c0: [row(0, 'read', { version: 17, token: 'ab12', pending: 'write' })] },
      }),
    );
    expect(describeCell(g, 0, 0)).toBe('c0, page 0: read access, version 17, token ab12, pending write fault');
    expect(describeCell(g, 1, 0)).toBe('c1, page 0: no page table (c1 is rebooting)');
  });
});

describe('servingManager', () => {
  it('prefers an up primary, then any primary with records, then the first manager with records', () => {
    const recs = { m0: [rec(0)], m1: [rec(0)] };
    expect(servingManager({ nodes: [node('m0', 'primary'), node('m1', 'backup')], records: recs })).toBe('m0');
    expect(servingManager({ nodes: [node('m0', 'primary', 'down'), node('m1', 'primary')], records: recs })).toBe('m1');
    expect(servingManager({ nodes: [node('m0', 'primary', 'down'), node('m1', 'candidate')], records: recs })).toBe('m0');
    expect(servingManager({ nodes: [node('m0', 'candidate'), node('m1', 'backup')], records: { m1: [rec(0)] } })).toBe('m1');
    expect(servingManager({ nodes: [], records: {} })).toBeNull();
  });
});

describe('layout and hit-testing', () => {
  it('fits 64 × 64 into a screen-sized box with square cells and a 1 px gap', () => {
    const l = computeLayout(64, 64, 850, 680);
    expect(l.pitch).toBe(Math.floor((680 - l.top) / 64)); // height is the tighter fit
    expect(l.cell).toBe(l.pitch - 1);
    expect(l.width).toBeLessThanOrEqual(850);
    expect(l.height).toBeLessThanOrEqual(680);
    expect(l.rowLabelEvery).toBe(2); // 10 px rows: every other client labelled
    expect(l.colLabelEvery).toBe(4);
  });

  it('clamps cells between the minimum and maximum size', () => {
    expect(computeLayout(2, 3, 5000, 5000).pitch).toBe(MAX_PITCH);
    const tiny = computeLayout(128, 4096, 1000, 600);
    expect(tiny.pitch).toBe(MIN_PITCH);
    expect(tiny.gap).toBe(0);
    expect(tiny.width).toBe(tiny.left + 4096 * MIN_PITCH); // wider than the box: it scrolls
  });

  it('finds the cell under a point, gaps included, and nothing outside the grid', () => {
    const l = computeLayout(4, 16, 800, 400);
    for (const [r, c] of [
      [0, 0],
      [3, 15],
      [2, 7],
    ] as const) {
      const rect = cellRect(l, r, c);
      expect(hitTest(l, rect.x, rect.y)).toEqual({ row: r, col: c });
      expect(hitTest(l, rect.x + rect.w - 0.01, rect.y + rect.h - 0.01)).toEqual({ row: r, col: c });
      expect(hitTest(l, rect.x + rect.w + l.gap / 2, rect.y + rect.h / 2)).toEqual({ row: r, col: c }); // the gap after it
    }
    expect(hitTest(l, l.left - 1, l.top + 1)).toBeNull(); // row labels
    expect(hitTest(l, l.left + 1, l.top - 1)).toBeNull(); // column labels
    expect(hitTest(l, l.width, l.top + 1)).toBeNull();
    expect(hitTest(l, l.left + 1, l.height)).toBeNull();
  });

  it('round-trips every cell centre of a 64 × 64 grid', () => {
    const l = computeLayout(64, 64, 900, 700);
    for (let r = 0; r < 64; r++) {
      for (let c = 0; c < 64; c++) {
        const rect = cellRect(l, r, c);
        expect(hitTest(l, rect.x + rect.w / 2, rect.y + rect.h / 2)).toEqual({ row: r, col: c });
      }
    }
  });
});

describe('moveFocus', () => {
  it('moves by arrows and stops at the edges', () => {
    expect(moveFocus({ row: 0, col: 0 }, 'ArrowRight', 4, 16)).toEqual({ row: 0, col: 1 });
    expect(moveFocus({ row: 0, col: 0 }, 'ArrowDown', 4, 16)).toEqual({ row: 1, col: 0 });
    expect(moveFocus({ row: 0, col: 0 }, 'ArrowUp', 4, 16)).toEqual({ row: 0, col: 0 });
    expect(moveFocus({ row: 0, col: 0 }, 'ArrowLeft', 4, 16)).toEqual({ row: 0, col: 0 });
    expect(moveFocus({ row: 3, col: 15 }, 'ArrowRight', 4, 16)).toEqual({ row: 3, col: 15 });
    expect(moveFocus({ row: 3, col: 15 }, 'ArrowDown', 4, 16)).toEqual({ row: 3, col: 15 });
  });

  it('jumps with Home, End, Ctrl+Home/End and PageUp/PageDown', () => {
    expect(moveFocus({ row: 2, col: 5 }, 'Home', 4, 16)).toEqual({ row: 2, col: 0 });
    expect(moveFocus({ row: 2, col: 5 }, 'End', 4, 16)).toEqual({ row: 2, col: 15 });
    expect(moveFocus({ row: 2, col: 5 }, 'Home', 4, 16, { ctrl: true })).toEqual({ row: 0, col: 0 });
    expect(moveFocus({ row: 2, col: 5 }, 'End', 4, 16, { ctrl: true })).toEqual({ row: 3, col: 15 });
    expect(moveFocus({ row: 10, col: 5 }, 'PageDown', 64, 64, { page: 20 })).toEqual({ row: 30, col: 5 });
    expect(moveFocus({ row: 10, col: 5 }, 'PageUp', 64, 64, { page: 20 })).toEqual({ row: 0, col: 5 });
  });

  it('clamps a stale focus into a grid that shrank and ignores other keys', () => {
    expect(moveFocus({ row: 9, col: 40 }, 'ArrowLeft', 4, 16)).toEqual({ row: 3, col: 15 });
    expect(moveFocus({ row: 0, col: 0 }, 'a', 4, 16)).toBeNull();
    expect(moveFocus({ row: 0, col: 0 }, 'ArrowRight', 0, 16)).toBeNull();
  });
});
