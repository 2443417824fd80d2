// The space-time diagram's plan (renderer/src/messages/diagram.ts): the same lines, heads, crosses,
// bars and labels the view drew arrow by arrow, grouped into one batch per style.
import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../nodes/control/trace/record.js';
import { planDiagram } from '../../renderer/src/messages/diagram.js';
import { arrowSegments, arrowsOf, frameOpKey, opsOf, type Arrow } from '../../renderer/src/messages/model.js';
import { recordMaker } from './trace-records.js';

const X: Record<string, number> = { m0: 50, c0: 150, c1: 250, c2: 350 };
const x = (id: string): number => X[id] ?? -100;
const y = (t: number): number => t / 1000;
const ALL = { from: 0, to: 1e12 };

/** c1's read fault on page 2 (owner c0), a heartbeat the nemesis dropped, one it duplicated, and a fenced frame. */
function frames(): TraceRecord[] {
  const r = recordMaker();
  return [
    r('c1', 'send', 'm0', 'read_req', 'c1:1', { page: 2, req: 5 }),
    r('m0', 'recv', 'c1', 'read_req', 'c1:1', { page: 2, req: 5 }),
    r('c2', 'send', 'm0', 'hb', 'c2:1', { nemesis: 'drop', rule: 'c2>m0:partition' }),
    r('m0', 'send', 'c0', 'read_fwd', 'm0:2', { page: 2, req: 5, requester: 'c1' }),
    r('c0', 'recv', 'm0', 'read_fwd', 'm0:2', { page: 2, req: 5, requester: 'c1' }),
    r('c0', 'send', 'c1', 'page_data', 'c0:2', { page: 2, req: 5 }),
    r('c2', 'send', 'm0', 'hb', 'c2:2', { nemesis: 'dup', rule: 'c2>m0:dup' }),
    r('m0', 'recv', 'c2', 'hb', 'c2:2'),
    r('c1', 'recv', 'c0', 'page_data', 'c0:2', { page: 2, req: 5 }),
    r('m0', 'recv', 'c2', 'hb', 'c2:2'),
    r('c1', 'send', 'm0', 'confirm', 'c1:3', { page: 2, req: 5 }),
    r('m0', 'recv', 'c1', 'confirm', 'c1:3', { page: 2, req: 5 }),
    r('c0', 'send', 'm0', 'hb', 'c0:3', { epoch: 1 }),
    r('m0', 'recv', 'c0', 'hb', 'c0:3', { refused: 'stale epoch 1 < 2' }),
    r('c2', 'send', 'm0', 'hb', 'c2:4'), // still in flight
  ];
}

const lineCount = (arrows: readonly Arrow[]): number => arrows.reduce((n, a) => n + arrowSegments(a, x, y).length, 0);

describe('space-time diagram plan', () => {
  it('draws every segment of every arrow in the window once, grouped by style', () => {
    const arrows = arrowsOf(frames());
    const plan = planDiagram(arrows, ALL, x, y, undefined);
    expect(plan.inWindow).toEqual(arrows);
    const lines = plan.batches.flatMap((b) => b.lines);
    expect(lines.length / 4).toBe(lineCount(arrows));
    // The same segments arrowSegments gives, in one batch or another.
    for (const a of arrows) for (const sg of arrowSegments(a, x, y)) expect(plan.batches.some((b) => [...chunks(b.lines, 4)].some((l) => l.join() === [sg.x0, sg.y0, sg.x1, sg.y1].join()))).toBe(true);
    // One batch per style: solid, the in-flight stub, the duplicate's second arrival and the drop (red).
    expect(plan.batches.map((b) => `${b.style.ink} ${b.style.dash}`).sort()).toEqual(['danger solid', 'fg dup', 'fg solid', 'fg stub']);
    // Heads on every received arrival; one cross, where the drop stops.
    const heads = plan.batches.reduce((n, b) => n + b.heads.length / 6, 0);
    expect(heads).toBe(arrows.filter((a) => a.recvT !== null).length + 1);
    const danger = plan.batches.find((b) => b.style.ink === 'danger')!;
    expect(danger.crosses).toHaveLength(2);
    expect(plan.firstDrop).toBe(`${Math.round(danger.crosses[0]!)},${Math.round(danger.crosses[1]!)}`);
    // The fenced refusal: a red bar on the receiver's line, where it was refused.
    expect(plan.fencedBars).toEqual([X.m0, 14, 1]);
    expect(plan.firstFence).toBe(`${X.m0},14`);
    expect(plan.refusedBars).toEqual([]);
    expect(plan.labels.map((l) => l.text)).toEqual(['dup']);
    expect(plan.highlighted).toBe(0);
  });

  it('keeps only the arrows with a part in the window', () => {
    const arrows = arrowsOf(frames());
    // 4.5 µs to 5.5 µs: only the read_fwd (sent at 4 µs, received at 5 µs).
    const plan = planDiagram(arrows, { from: 4500, to: 5500 }, x, y, undefined);
    expect(plan.inWindow.map((a) => a.type)).toEqual(['read_fwd']);
  });

  it('puts a pinned operation on top, labelled, and dims the rest', () => {
    const recs = frames();
    const arrows = arrowsOf(recs);
    const op = opsOf(recs)[0]!;
    const plan = planDiagram(arrows, ALL, x, y, op.key);
    const mine = arrows.filter((a) => frameOpKey(a) === op.key);
    expect(plan.highlighted).toBe(4);
    const last = plan.batches.at(-1)!;
    expect(last.style).toEqual({ ink: 'accent', alpha: 1, width: 2.5, dash: 'solid' });
    expect(last.lines.length / 4).toBe(4);
    expect(plan.batches[0]!.style.alpha).toBe(0.15);
    expect(plan.batches.filter((b) => b.style.alpha === 1).every((b) => b.style.ink === 'accent')).toBe(true);
    expect(plan.labels.filter((l) => l.ink === 'accent').map((l) => l.text)).toEqual(mine.map((a) => a.type));
    // The fenced bar belongs to another frame: dimmed with it.
    expect(plan.fencedBars[2]).toBe(0.15);
  });
});

function* chunks(xs: readonly number[], n: number): Generator<number[]> {
  for (let i = 0; i < xs.length; i += n) yield xs.slice(i, i + n);
}
