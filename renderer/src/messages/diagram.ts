// What the space-time diagram draws for one window of time, as batches of one style each: the
// canvas then strokes each batch as one path (a few dozen canvas calls per picture instead of a
// dash change, a path and a stroke per arrow: hundreds of arrows at 64 clients, redrawn with
// every push). Pure: the view resolves the colours and does the drawing.
import { arrowSegments, frameOpKey, isFenced, type Arrow } from './model.js';

/** The colours of the diagram, by role (the view maps them to the theme's). */
export type Ink = 'fg' | 'accent' | 'danger';
export type Dash = 'solid' | 'stub' | 'dup';

export interface StrokeStyle {
  ink: Ink;
  /** 0.15: another frame while an operation is pinned. */
  alpha: number;
  width: number;
  dash: Dash;
}

/** Every line of one style, with the arrowheads and drop crosses at their ends. */
export interface StrokeBatch {
  style: StrokeStyle;
  /** Segments, four numbers each: x0 y0 x1 y1. */
  lines: number[];
  /** Arrowheads (filled triangles), six numbers each: tip and two corners. */
  heads: number[];
  /** Drop crosses (stroked at width 2, no dash), two numbers each: the centre. */
  crosses: number[];
}

export interface Label {
  text: string;
  x: number;
  y: number;
  ink: Ink;
  alpha: number;
}

export interface DiagramPlan {
  /** The arrows with any part in the window (the hover hit test looks through these). */
  inWindow: Arrow[];
  /** In drawing order: dimmed frames first, the pinned operation's last (on top). */
  batches: StrokeBatch[];
  /** Refusal bars at the receiving end (18 × 4 px), three numbers each (the centre, the alpha): fenced ones red, others muted. */
  fencedBars: number[];
  refusedBars: number[];
  /** "dup" beside a duplicate's second arrival; the frame type beside the pinned operation's frames. */
  labels: Label[];
  /** Frames of the pinned operation in the window. */
  highlighted: number;
  /** Where the first drop's cross and fenced bar are (CSS px, "x,y"): a test hovers them for their text. */
  firstDrop: string | null;
  firstFence: string | null;
}

const HEAD_LEN = 8;
const HEAD_ANGLE = 0.4;

const styleKey = (s: StrokeStyle): string => `${s.ink}|${s.alpha}|${s.width}|${s.dash}`;
/** Dimmed first, then the rest, the pinned operation's (wider) last. */
const rank = (s: StrokeStyle): number => (s.alpha < 1 ? 0 : 1) + (s.width > 1 ? 2 : 0);

/**
 * The picture of `arrows` between `win.from` and `win.to`, with `x` (node → px) and `y` (time → px);
 * `pinned` is the key of the pinned operation (its frames stand out, the others are dimmed).
 */
export function planDiagram(arrows: readonly Arrow[], win: { from: number; to: number }, x: (id: string) => number, y: (t: number) => number, pinned: string | undefined): DiagramPlan {
  const batches = new Map<string, StrokeBatch>();
  const batchOf = (style: StrokeStyle): StrokeBatch => {
    const k = styleKey(style);
    let b = batches.get(k);
    if (!b) batches.set(k, (b = { style, lines: [], heads: [], crosses: [] }));
    return b;
  };
  const plan: DiagramPlan = { inWindow: [], batches: [], fencedBars: [], refusedBars: [], labels: [], highlighted: 0, firstDrop: null, firstFence: null };
  for (const a of arrows) {
    const t0 = a.sendT ?? a.recvT!;
    const t1 = Math.max(a.recvT ?? a.sendT!, a.dupRecvT ?? 0);
    if (t1 < win.from || t0 > win.to) continue;
    plan.inWindow.push(a);
    const mine = pinned !== undefined && frameOpKey(a) === pinned;
    if (mine) plan.highlighted++;
    const alpha = pinned === undefined || mine ? 1 : 0.15;
    const width = mine ? 2.5 : 1;
    const ink: Ink = mine ? 'accent' : 'fg';
    const segments = arrowSegments(a, x, y);
    for (const sg of segments) {
      const b = batchOf({ ink: sg.end === 'cross' ? 'danger' : ink, alpha, width, dash: sg.end === 'stub' ? 'stub' : sg.dup ? 'dup' : 'solid' });
      b.lines.push(sg.x0, sg.y0, sg.x1, sg.y1);
      if (sg.end === 'head') {
        const ang = Math.atan2(sg.y1 - sg.y0, sg.x1 - sg.x0);
        b.heads.push(
          sg.x1,
          sg.y1,
          sg.x1 - HEAD_LEN * Math.cos(ang - HEAD_ANGLE),
          sg.y1 - HEAD_LEN * Math.sin(ang - HEAD_ANGLE),
          sg.x1 - HEAD_LEN * Math.cos(ang + HEAD_ANGLE),
          sg.y1 - HEAD_LEN * Math.sin(ang + HEAD_ANGLE),
        );
      } else if (sg.end === 'cross') {
        // Dropped by the nemesis: the arrow stops partway, in a cross.
        b.crosses.push(sg.x1, sg.y1);
        plan.firstDrop ??= `${Math.round(sg.x1)},${Math.round(sg.y1)}`;
      }
      if (sg.dup) plan.labels.push({ text: 'dup', x: (sg.x0 + sg.x1) / 2 + 4, y: (sg.y0 + sg.y1) / 2 + 10, ink, alpha });
    }
    if (a.refused !== undefined && a.recvT !== null) {
      // Refused at the receiving end: a bar across its line (red when fenced: a stale epoch).
      const xr = x(a.to);
      const yr = y(a.recvT);
      if (isFenced(a.refused)) {
        plan.fencedBars.push(xr, yr, alpha);
        plan.firstFence ??= `${Math.round(xr)},${Math.round(yr)}`;
      } else plan.refusedBars.push(xr, yr, alpha);
    }
    if (mine) {
      const sg = segments[0]!;
      plan.labels.push({ text: a.type, x: (sg.x0 + sg.x1) / 2 + 4, y: (sg.y0 + sg.y1) / 2 - 3, ink: 'accent', alpha: 1 });
    }
  }
  plan.batches = [...batches.values()].sort((p, q) => rank(p.style) - rank(q.style));
  return plan;
}
