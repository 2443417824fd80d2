// Paints the coherence map on one canvas. Colours come from the stylesheet's custom
// properties (read once per theme), so light and dark both follow styles.css.
import { cellRect, type GridModel, type Layout } from './model.js';

export interface Palette {
  none: string;
  read: string;
  write: string;
  other: string;
  owner: string;
  ownerOnNone: string;
  pending: string;
  lost: string;
  focus: string;
  hover: string;
  text: string;
  muted: string;
  absent: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

/** Reads the palette from the document's current theme. */
export function readPalette(): Palette {
  const s = getComputedStyle(document.documentElement);
  return {
    none: cssVar(s, '--map-none', '#e4e7ec'),
    read: cssVar(s, '--read', '#2f6fde'),
    write: cssVar(s, '--write', '#e5671e'),
    other: cssVar(s, '--ops', '#1f9d55'),
    owner: cssVar(s, '--surface', '#ffffff'),
    ownerOnNone: cssVar(s, '--text', '#1c2026'),
    pending: cssVar(s, '--busy', '#6d46c9'),
    lost: cssVar(s, '--danger', '#c92a2a'),
    focus: cssVar(s, '--focus', '#2f5bd3'),
    hover: cssVar(s, '--text', '#1c2026'),
    text: cssVar(s, '--text', '#1c2026'),
    muted: cssVar(s, '--text-muted', '#5b6470'),
    absent: cssVar(s, '--border', '#d9dde3'),
  };
}

export function accessColour(p: Palette, access: string): string {
  if (access === 'none') return p.none;
  if (access === 'read') return p.read;
  if (access === 'write') return p.write;
  return p.other;
}

export interface Marks {
  hover: { row: number; col: number } | null;
  focus: { row: number; col: number } | null;
  /** Draw the focus ring (the canvas has keyboard focus). */
  focusVisible: boolean;
  selected: { row: number; col: number } | null;
}

const FONT = '10px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

/** Sizes the backing store for the device pixel ratio and paints everything. */
export function drawMap(canvas: HTMLCanvasElement, model: GridModel, layout: Layout, p: Palette, marks: Marks): void {
  // Cap the backing store: browsers refuse canvases much beyond 16k px a side.
  const dpr = Math.max(1, Math.min(window.devicePixelRatio || 1, 16_384 / Math.max(1, layout.width, layout.height)));
  const w = Math.ceil(layout.width * dpr);
  const h = Math.ceil(layout.height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${layout.width}px`;
  canvas.style.height = `${layout.height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, layout.width, layout.height);

  const { rows, cols, pitch, cell } = layout;
  const hotRow = marks.hover?.row ?? (marks.focusVisible ? marks.focus?.row : undefined);
  const hotCol = marks.hover?.col ?? (marks.focusVisible ? marks.focus?.col : undefined);

  // Labels: clients down the left, pages across the top.
  ctx.font = FONT;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (let r = 0; r < rows; r++) {
    const hot = r === hotRow || r === marks.selected?.row;
    if (r % layout.rowLabelEvery !== 0 && !hot) continue;
    const state = model.clientStates[r];
    ctx.fillStyle = state === 'down' ? p.lost : hot ? p.text : p.muted;
    ctx.fillText(model.clients[r] ?? '', layout.left - 6, layout.top + r * pitch + cell / 2);
  }
  ctx.textAlign = 'center';
  for (let c = 0; c < cols; c++) {
    const lost = model.lostWith[c] != null;
    const hot = c === hotCol || c === marks.selected?.col;
    if (c % layout.colLabelEvery !== 0 && !hot && !lost) continue;
    ctx.fillStyle = lost ? p.lost : hot ? p.text : p.muted;
    ctx.fillText(lost ? `✕${c}` : String(c), layout.left + c * pitch + cell / 2, layout.top / 2);
  }

  // Cells.
  for (let r = 0; r < rows; r++) {
    const state = model.clientStates[r];
    ctx.globalAlpha = state === 'up' || state === 'absent' ? 1 : 0.35;
    for (let c = 0; c < cols; c++) {
      const x = layout.left + c * pitch;
      const y = layout.top + r * pitch;
      const v = model.cells[r * cols + c];
      if (!v) {
        ctx.strokeStyle = p.absent;
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
        continue;
      }
      ctx.fillStyle = accessColour(p, v.access);
      ctx.fillRect(x, y, cell, cell);
      if (v.owner && cell >= 4) {
        ctx.fillStyle = v.access === 'none' ? p.ownerOnNone : p.owner;
        ctx.beginPath();
        ctx.arc(x + cell / 2, y + cell / 2, Math.max(1.2, cell * 0.2), 0, Math.PI * 2);
        ctx.fill();
      }
      if (v.pending) {
        // A ring in the "in progress" colour and a corner in the colour being asked for.
        const lw = cell >= 10 ? 2 : 1;
        ctx.strokeStyle = p.pending;
        ctx.lineWidth = lw;
        ctx.strokeRect(x + lw / 2, y + lw / 2, cell - lw, cell - lw);
        const t = Math.max(3, Math.round(cell * 0.42));
        ctx.fillStyle = accessColour(p, v.pending);
        ctx.beginPath();
        ctx.moveTo(x + cell - t, y);
        ctx.lineTo(x + cell, y);
        ctx.lineTo(x + cell, y + t);
        ctx.closePath();
        ctx.fill();
        ctx.strokeStyle = p.pending;
        ctx.lineWidth = 1;
        ctx.stroke();
      }
    }
  }
  ctx.globalAlpha = 1;

  // Lost pages: the whole column hatched in the danger colour.
  ctx.save();
  ctx.strokeStyle = p.lost;
  ctx.lineWidth = 1.5;
  for (let c = 0; c < cols; c++) {
    if (model.lostWith[c] == null) continue;
    const x = layout.left + c * pitch;
    ctx.save();
    ctx.beginPath();
    ctx.rect(x, layout.top, cell, rows * pitch);
    ctx.clip();
    ctx.beginPath();
    for (let y = layout.top - cell; y < layout.top + rows * pitch; y += 6) {
      ctx.moveTo(x, y + cell);
      ctx.lineTo(x + cell, y);
    }
    ctx.stroke();
    ctx.restore();
  }
  ctx.restore();

  // Selected page: its column framed; the selected cell, hover and focus rings on top.
  if (marks.selected) {
    const { col, row } = marks.selected;
    ctx.strokeStyle = p.text;
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 2]);
    ctx.strokeRect(layout.left + col * pitch - 1.5, layout.top - 1.5, cell + 3, rows * pitch + 2);
    ctx.setLineDash([]);
    ring(ctx, cellRect(layout, row, col), p.text, 2);
  }
  if (marks.hover) ring(ctx, cellRect(layout, marks.hover.row, marks.hover.col), p.hover, 1.5);
  if (marks.focusVisible && marks.focus) ring(ctx, cellRect(layout, marks.focus.row, marks.focus.col), p.focus, 3);
}

function ring(ctx: CanvasRenderingContext2D, r: { x: number; y: number; w: number; h: number }, colour: string, width: number): void {
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  const o = width / 2 + 0.5;
  ctx.strokeRect(r.x - o, r.y - o, r.w + 2 * o, r.h + 2 * o);
}
