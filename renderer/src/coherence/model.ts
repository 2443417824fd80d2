// The coherence map's pure core: a snapshot becomes a clients × pages grid of cells,
// and the grid's geometry answers "which cell is under this point" and "where does
// the focus go on this key". No DOM, no canvas: unit-tested on its own.
import type { ClusterSnapshot, NodeState, PageRow } from '../../../nodes/control/api.js';
import type { RecordView } from '../../../nodes/core/types.js';
import { compareNodeIds } from '../format.js';

/** The access kinds IVY knows, in legend order. Other protocols may add kinds; they render generically. */
export const KNOWN_ACCESS = ['none', 'read', 'write'] as const;

export interface Cell {
  /** Whatever the client's page table says ('none' | 'read' | 'write' today; any string renders). */
  access: string;
  owner: boolean;
  version: number;
  /** The client's outstanding fault on this page, if any. */
  pending: string | null;
  token: string | null;
}

export interface GridModel {
  /** Row ids, ordered c0, c1, …, c10. */
  clients: string[];
  /** Node state of each row's client ('absent' when the supervisor no longer lists it). */
  clientStates: (NodeState | 'absent')[];
  /** Column count: pages 0..pages-1. */
  pages: number;
  /** Row-major, clients.length × pages; null where the client reported no row (down, not yet up). */
  cells: (Cell | null)[];
  /** The manager whose records the panel shows: the serving primary, else any manager with records. */
  manager: string | null;
  /** The serving manager's record per page (absent where it has none). */
  records: (RecordView | null)[];
  /** Per page: the client the page was lost with (manager record lostWith), or null. */
  lostWith: (string | null)[];
  /** Every access kind present, IVY's three first, then others alphabetically. */
  accessKinds: string[];
  counts: { byAccess: Record<string, number>; owners: number; pending: number; lost: number };
}

export const EMPTY_GRID: GridModel = {
  clients: [],
  clientStates: [],
  pages: 0,
  cells: [],
  manager: null,
  records: [],
  lostWith: [],
  accessKinds: [...KNOWN_ACCESS],
  counts: { byAccess: {}, owners: 0, pending: 0, lost: 0 },
};

/** The manager that serves: an up primary with records, else any primary, else the first manager that reported records. */
export function servingManager(snapshot: Pick<ClusterSnapshot, 'nodes' | 'records'>): string | null {
  const withRecords = Object.keys(snapshot.records).sort(compareNodeIds);
  const primaries = snapshot.nodes.filter((n) => n.role === 'primary');
  const up = primaries.find((n) => n.state === 'up' && snapshot.records[n.id]);
  if (up) return up.id;
  const any = primaries.find((n) => snapshot.records[n.id]);
  if (any) return any.id;
  return withRecords[0] ?? null;
}

export function buildGrid(snapshot: ClusterSnapshot | null): GridModel {
  if (!snapshot) return EMPTY_GRID;
  const states = new Map<string, NodeState>();
  for (const n of snapshot.nodes) if (n.role === 'client') states.set(n.id, n.state);
  const tables = snapshot.pageTables ?? {};
  const clients = [...new Set([...Object.keys(tables), ...states.keys()])].sort(compareNodeIds);

  const manager = servingManager(snapshot);
  const recs: RecordView[] = manager ? (snapshot.records[manager] ?? []) : [];

  let pages = snapshot.config?.pages ?? 0;
  if (!snapshot.config) {
    for (const rows of Object.values(tables)) for (const r of rows) pages = Math.max(pages, r.page + 1);
    for (const r of recs) pages = Math.max(pages, r.page + 1);
  }

  const records: (RecordView | null)[] = new Array<RecordView | null>(pages).fill(null);
  const lostWith: (string | null)[] = new Array<string | null>(pages).fill(null);
  let lost = 0;
  for (const r of recs) {
    if (r.page < 0 || r.page >= pages) continue;
    records[r.page] = r;
    if (r.lostWith) {
      lostWith[r.page] = r.lostWith;
      lost++;
    }
  }

  const cells: (Cell | null)[] = new Array<Cell | null>(clients.length * pages).fill(null);
  const byAccess: Record<string, number> = {};
  let owners = 0;
  let pending = 0;
  clients.forEach((id, row) => {
    const table: PageRow[] = tables[id] ?? [];
    for (const r of table) {
      if (r.page < 0 || r.page >= pages) continue;
      cells[row * pages + r.page] = { access: r.access, owner: r.owner, version: r.version, pending: r.pending, token: r.token };
      byAccess[r.access] = (byAccess[r.access] ?? 0) + 1;
      if (r.owner) owners++;
      if (r.pending) pending++;
    }
  });

  const extra = Object.keys(byAccess)
    .filter((k) => !(KNOWN_ACCESS as readonly string[]).includes(k))
    .sort();
  return {
    clients,
    clientStates: clients.map((id) => states.get(id) ?? 'absent'),
    pages,
    cells,
    manager,
    records,
    lostWith,
    accessKinds: [...KNOWN_ACCESS, ...extra],
    counts: { byAccess, owners, pending, lost },
  };
}

export function cellAt(model: GridModel, row: number, col: number): Cell | null {
  if (row < 0 || col < 0 || row >= model.clients.length || col >= model.pages) return null;
  return model.cells[row * model.pages + col] ?? null;
}

/** One line for screen readers and the tooltip: "c3, page 12: read, owner, version 17, token ab12, pending write fault". */
export function describeCell(model: GridModel, row: number, col: number): string {
  const client = model.clients[row] ?? '?';
  const c = cellAt(model, row, col);
  const parts: string[] = [];
  if (!c) {
    const state = model.clientStates[row];
    parts.push(state && state !== 'up' ? `no page table (${client} is ${state})` : 'no page table');
  } else {
    parts.push(`${c.access} access`);
    if (c.owner) parts.push('owner');
    parts.push(`version ${c.version}`);
    parts.push(`token ${c.token ?? '–'}`);
    if (c.pending) parts.push(`pending ${c.pending} fault`);
  }
  const lost = model.lostWith[col];
  if (lost) parts.push(`page lost with ${lost}`);
  return `${client}, page ${col}: ${parts.join(', ')}`;
}

/**
 * Compact text form of the grid for tests and assistive tools: one string per client
 * row, one character per page: '.' none, 'r' read, 'w' write, '?' another kind,
 * '_' no row; upper case marks the owner.
 */
export function encodeRows(model: GridModel): string {
  const out: string[] = [];
  for (let row = 0; row < model.clients.length; row++) {
    let s = '';
    for (let col = 0; col < model.pages; col++) {
      const c = model.cells[row * model.pages + col];
      const ch = !c ? '_' : c.access === 'none' ? '.' : c.access === 'read' ? 'r' : c.access === 'write' ? 'w' : '?';
      s += c?.owner ? ch.toUpperCase() : ch;
    }
    out.push(s);
  }
  return out.join(' ');
}

// --- geometry ---------------------------------------------------------------------------

export interface Layout {
  rows: number;
  cols: number;
  /** Distance between cell origins (CSS px) and the cell's drawn size (pitch - gap). */
  pitch: number;
  cell: number;
  gap: number;
  /** Gutters for the row labels (left) and the column labels (top). */
  left: number;
  top: number;
  /** Total drawn size in CSS px. */
  width: number;
  height: number;
  /** Label every n-th row / column (1 = all). */
  rowLabelEvery: number;
  colLabelEvery: number;
}

export const MIN_PITCH = 5;
export const MAX_PITCH = 36;
const ROW_LABEL_MIN = 11; // px between row labels at 10 px type
const COL_LABEL_MIN = 26; // px between column labels (up to 4 digits)

/** The smallest step of 1, 2, 4, 8, … that is at least `n`. */
function stepOf(n: number): number {
  let s = 1;
  while (s < n) s *= 2;
  return s;
}

/**
 * Fits rows × cols square cells into availW × availH CSS px (after the gutters). Cells
 * never shrink below MIN_PITCH (the container then scrolls) nor grow past MAX_PITCH.
 */
export function computeLayout(rows: number, cols: number, availW: number, availH: number, gutter = { left: 44, top: 22 }): Layout {
  const { left, top } = gutter;
  const fitW = cols > 0 ? Math.floor((availW - left) / cols) : MAX_PITCH;
  const fitH = rows > 0 ? Math.floor((availH - top) / rows) : MAX_PITCH;
  const pitch = Math.max(MIN_PITCH, Math.min(MAX_PITCH, fitW, fitH));
  const gap = pitch >= 8 ? 1 : 0;
  return {
    rows,
    cols,
    pitch,
    cell: pitch - gap,
    gap,
    left,
    top,
    width: left + cols * pitch,
    height: top + rows * pitch,
    rowLabelEvery: stepOf(Math.ceil(ROW_LABEL_MIN / pitch)),
    colLabelEvery: stepOf(Math.ceil(COL_LABEL_MIN / pitch)),
  };
}

/** The cell under (x, y) in CSS px from the canvas' top-left; the gap belongs to the cell before it, so hovering never flickers. */
export function hitTest(layout: Layout, x: number, y: number): { row: number; col: number } | null {
  const gx = x - layout.left;
  const gy = y - layout.top;
  if (gx < 0 || gy < 0) return null;
  const col = Math.floor(gx / layout.pitch);
  const row = Math.floor(gy / layout.pitch);
  if (col >= layout.cols || row >= layout.rows) return null;
  return { row, col };
}

export function cellRect(layout: Layout, row: number, col: number): { x: number; y: number; w: number; h: number } {
  return { x: layout.left + col * layout.pitch, y: layout.top + row * layout.pitch, w: layout.cell, h: layout.cell };
}

export interface Focus {
  row: number;
  col: number;
}

/**
 * Where the focus goes on a key: arrows by one cell, Home/End to the row's ends
 * (with Ctrl: the grid's corners), PageUp/PageDown by `page` rows. Null: not a move key.
 */
export function moveFocus(f: Focus, key: string, rows: number, cols: number, opts: { ctrl?: boolean; page?: number } = {}): Focus | null {
  if (rows <= 0 || cols <= 0) return null;
  const page = Math.max(1, opts.page ?? 8);
  let { row, col } = f;
  switch (key) {
    case 'ArrowUp':
      row -= 1;
      break;
    case 'ArrowDown':
      row += 1;
      break;
    case 'ArrowLeft':
      col -= 1;
      break;
    case 'ArrowRight':
      col += 1;
      break;
    case 'Home':
      col = 0;
      if (opts.ctrl) row = 0;
      break;
    case 'End':
      col = cols - 1;
      if (opts.ctrl) row = rows - 1;
      break;
    case 'PageUp':
      row -= page;
      break;
    case 'PageDown':
      row += page;
      break;
    default:
      return null;
  }
  return { row: Math.max(0, Math.min(rows - 1, row)), col: Math.max(0, Math.min(cols - 1, col)) };
}
