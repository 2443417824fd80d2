import { describe, expect, it } from 'vitest';
import { withoutClock } from '../../nodes/control/trace/frames.js';
import type { TraceRecord } from '../../nodes/control/trace/record.js';
import { arrowsOf, completeThrough, epochMarks, frameOpKey, opsOf, orderNodes, rowWindow, SILENT_NS, TraceWindow, visible, WINDOW_RECORDS, WINDOW_SLACK } from '../../renderer/src/messages/model.js';
import { mulberry32, type Rng } from '../sim/simulator.js';
import { recordMaker } from './trace-records.js';

const r = recordMaker();

/** One IVY read fault of c1 on page 2 (req 5) served by owner c0, plus c2's unrelated heartbeat. */
const readFault = (): TraceRecord[] => [
  r('c1', 'send', 'm0', 'read_req', 'c1:1', { page: 2, req: 5 }),
  r('m0', 'recv', 'c1', 'read_req', 'c1:1', { page: 2, req: 5 }),
  r('c2', 'send', 'm0', 'hb', 'c2:1'),
  r('m0', 'send', 'c0', 'read_fwd', 'm0:2', { page: 2, req: 5, requester: 'c1' }),
  r('c0', 'recv', 'm0', 'read_fwd', 'm0:2', { page: 2, req: 5, requester: 'c1' }),
  r('c0', 'send', 'c1', 'page_data', 'c0:2', { page: 2, req: 5 }),
  r('c1', 'recv', 'c0', 'page_data', 'c0:2', { page: 2, req: 5 }),
  r('c1', 'send', 'm0', 'confirm', 'c1:3', { page: 2, req: 5 }),
  r('m0', 'recv', 'c1', 'confirm', 'c1:3', { page: 2, req: 5 }),
  r('c0', 'send', 'm0', 'read_req', 'c0:3', { page: 2, req: 5 }), // another client's req 5: another op
];

describe('Messages view model', () => {
  it('is pushed records without their clocks, every other field as it was', () => {
    const full: TraceRecord = {
      ...r('c1', 'recv', 'c0', 'page_data', 'c0:2', { page: 2, req: 5, requester: 'c1', epoch: 3 }),
      view: 4,
      seq: 9,
      run: 'trial 2',
      nemesis: 'dup',
      rule: 'c0>c1:dup',
      refused: 'fenced: epoch 3 < 4',
    };
    for (const rec of [...readFault(), full]) {
      const { vc: _vc, ...rest } = rec;
      expect(withoutClock(rec)).toStrictEqual(rest);
    }
  });

  it('pairs sends with receives and finds the operation with its latency and outcome', () => {
    const recs = readFault();
    const arrows = arrowsOf(recs);
    expect(arrows.map((a) => `${a.type} ${a.from}->${a.to} ${a.recvT === null ? 'in flight' : 'ok'}`)).toEqual([
      'read_req c1->m0 ok',
      'hb c2->m0 in flight',
      'read_fwd m0->c0 ok',
      'page_data c0->c1 ok',
      'confirm c1->m0 ok',
      'read_req c0->m0 in flight',
    ]);
    const ops = opsOf(recs);
    expect(ops.map((o) => [o.client, o.kind, o.page, o.outcome])).toEqual([
      ['c1', 'read', 2, 'ok'],
      ['c0', 'read', 2, 'pending'],
    ]);
    expect(ops[0]!.endT! - ops[0]!.startT).toBe(7000);
    // Exactly the frames it caused, from the fault to the confirm: not the heartbeat, not c0's own req 5.
    const mine = arrows.filter((a) => frameOpKey(a) === ops[0]!.key).map((a) => a.type);
    expect(mine).toEqual(['read_req', 'read_fwd', 'page_data', 'confirm']);
  });

  it('lists a write-update write from its multicast to its agreed priority, with exactly its frames', () => {
    const v = { view: 3 };
    const recs = [
      r('c1', 'send', 'c0', 'i_msg', 'c1:1', { ...v, seq: 4, page: 1 }),
      r('c1', 'send', 'c2', 'i_msg', 'c1:2', { ...v, seq: 4, page: 1 }),
      r('c0', 'recv', 'c1', 'i_msg', 'c1:1', { ...v, seq: 4, page: 1 }),
      r('c0', 'send', 'c1', 'i_propose', 'c0:1', { ...v, seq: 4 }),
      r('c2', 'send', 'c1', 'i_propose', 'c2:1', { ...v, seq: 4 }), // c2's own seq 4 is another write
      r('c2', 'send', 'c0', 'i_msg', 'c2:2', { ...v, seq: 4, page: 0 }),
      r('c1', 'recv', 'c0', 'i_propose', 'c0:1', { ...v, seq: 4 }),
      r('c1', 'send', 'c0', 'i_agreed', 'c1:3', { ...v, seq: 4 }),
      r('c0', 'send', 'c1', 'i_ack', 'c0:2', { ...v, seq: 4 }),
      r('c1', 'send', 'c0', 'i_stable', 'c1:4', { ...v, seq: 4 }),
    ];
    const ops = opsOf(recs);
    expect(ops.map((o) => [o.client, o.kind, o.page, o.req, o.outcome])).toEqual([
      ['c1', 'write', 1, 4, 'ok'],
      ['c2', 'write', 0, 4, 'pending'],
    ]);
    expect(ops[0]!.endT! - ops[0]!.startT).toBe(7000);
    const mine = arrowsOf(recs).filter((a) => frameOpKey(a) === ops[0]!.key).map((a) => `${a.type} ${a.from}->${a.to}`);
    expect(mine).toEqual(['i_msg c1->c0', 'i_msg c1->c2', 'i_propose c0->c1', 'i_propose c2->c1', 'i_agreed c1->c0', 'i_ack c0->c1', 'i_stable c1->c0']);
    expect(recs.filter((x) => frameOpKey(x) === ops[1]!.key).map((x) => x.type)).toEqual(['i_msg']);
  });

  it('filters by page and node', () => {
    const arrows = arrowsOf(readFault());
    expect(arrows.filter((a) => visible(a, { page: 2, node: null }))).toHaveLength(5);
    expect(arrows.filter((a) => visible(a, { page: null, node: 'c2' })).map((a) => a.type)).toEqual(['hb']);
  });

  it('starts over when the frames come from a new cluster (frame names restart there)', () => {
    const w = new TraceWindow();
    w.add(readFault(), 0, 1);
    w.add([r('c1', 'send', 'm0', 'write_req', 'c1:1', { page: 0, req: 1 })], 0, 1);
    expect(w.snapshot()).toHaveLength(11);
    w.add([r('c1', 'send', 'c0', 'i_msg', 'c1:1', { view: 1, seq: 1, page: 0 })], 0, 2);
    const arrows = arrowsOf(w.snapshot());
    expect(arrows.map((a) => `${a.type} ${a.from}->${a.to}`)).toEqual(['i_msg c1->c0']);
  });

  it('keeps only the latest window', () => {
    const w = new TraceWindow();
    let changes = 0;
    w.onChange(() => changes++);
    for (let i = 0; i < 20; i++) w.add(Array.from({ length: 1000 }, (_, k) => r('c0', 'send', 'm0', 'hb', `c0:${i * 1000 + k + 1}`)));
    const snap = w.snapshot();
    // The oldest fall off in steps: between one window and WINDOW_SLACK of one, the latest ones, in order.
    expect(snap.length).toBeGreaterThanOrEqual(WINDOW_RECORDS);
    expect(snap.length).toBeLessThanOrEqual(WINDOW_RECORDS * WINDOW_SLACK);
    expect(snap.at(-1)!.frame).toBe('c0:20000');
    expect(snap[0]!.frame).toBe(`c0:${20000 - snap.length + 1}`);
    expect(changes).toBe(20);
  });

  it('computes the view of a window once per version, the same as over a copy of the window', () => {
    const w = new TraceWindow();
    const recs = readFault();
    w.add(recs.slice(0, 4), 0, 1);
    const v1 = w.view();
    expect(w.view()).toBe(v1); // nothing added: the same view, not computed again
    const before = structuredClone(v1);
    w.add(recs.slice(4), 0, 1);
    const takeovers = [r('m1', 'send', 'c1', 'takeover', 'm1:1', { epoch: 1 }), r('m1', 'send', 'c1', 'takeover', 'm1:2', { epoch: 2 })];
    w.add(takeovers, 0, 1);
    const v2 = w.view();
    expect(v2).not.toBe(v1);
    const snap = w.snapshot();
    expect(v2.arrows).toEqual(arrowsOf(snap));
    expect(v2.ops).toEqual(opsOf(snap));
    expect(v2.epochs).toEqual(epochMarks(snap));
    expect(v2.epochs.map((m) => `${m.node} ${m.from}->${m.epoch}`)).toEqual(['m1 1->2']);
    expect(v2.records).toBe(snap.length);
    // The diagram ends where every node's records are in: the oldest of the nodes' newest (c2's heartbeat).
    const newestOf = new Map<string, number>();
    for (const x of snap) newestOf.set(x.node, Math.max(newestOf.get(x.node) ?? 0, x.t));
    expect(v2.newest).toBe(Math.min(...newestOf.values()));
    expect(v2.newest).toBe(snap.find((x) => x.node === 'c2')!.t);
    expect(orderNodes(v2.nodes)).toEqual(['m0', 'm1', 'c0', 'c1', 'c2']);
    // Kept as they came.
    expect(snap).toEqual([...recs, ...takeovers]);
    // The earlier view is left as it was (a paused view keeps its picture): the in-flight read_req
    // of v1 is still in flight there.
    expect(v1).toEqual(before);
    expect(v1.arrows.find((a) => a.type === 'read_fwd')?.recvT).toBeNull();
  });

  it('ends the live diagram where every node still tracing has shipped its records', () => {
    const ms = 1_000_000;
    expect(completeThrough(new Map())).toBe(0);
    // c1's batch lags 200 ms behind c0's: the diagram waits for it, not showing a latest stretch of c0's frames only.
    expect(completeThrough(new Map([['c0', 5_000 * ms], ['c1', 4_800 * ms], ['m0', 4_990 * ms]]))).toBe(4_800 * ms);
    // c2 stopped tracing (killed) over a second ago: not waited for.
    expect(completeThrough(new Map([['c0', 5_000 * ms], ['c1', 4_800 * ms], ['c2', 5_000 * ms - SILENT_NS - 1]]))).toBe(4_800 * ms);
    // Through the window: the end waits for the lagging node's batch, then moves on with it.
    const w = new TraceWindow();
    const at = (node: string, t: number, frame: string): TraceRecord => ({ node, dir: 'send', peer: 'm0', t, type: 'hb', epoch: 1, frame, vc: { [node]: 1 } });
    w.add([at('c0', 100 * ms, 'c0:1'), at('c0', 300 * ms, 'c0:2')], 0, 1);
    w.add([at('c1', 250 * ms, 'c1:1')], 0, 1);
    expect(w.view().newest).toBe(250 * ms);
    w.add([at('c1', 320 * ms, 'c1:2')], 0, 1);
    expect(w.view().newest).toBe(300 * ms);
  });

  it('keeps its view to the latest window', () => {
    const w = new TraceWindow();
    for (let i = 0; i < 10; i++) w.add(Array.from({ length: 1000 }, (_, k) => r('c0', 'send', 'm0', 'hb', `c0:${i * 1000 + k + 1}`)));
    const v = w.view();
    expect(v.records).toBe(WINDOW_RECORDS);
    expect(v.arrows).toHaveLength(WINDOW_RECORDS);
    expect(v.arrows[0]!.frame).toBe(`c0:${10_000 - WINDOW_RECORDS + 1}`);
    w.clear();
    expect(w.view()).toMatchObject({ records: 0, newest: 0, arrows: [], ops: [] });
  });

  it('keeps its arrows, operations and epoch marks up push by push, as if computed afresh over the window each time', () => {
    const rng = mulberry32(42);
    const gen = busyTrace(rng);
    const w = new TraceWindow();
    const kept: { v: ReturnType<TraceWindow['view']>; copy: unknown }[] = [];
    for (let push = 0; push < 100; push++) {
      w.add(gen(1 + Math.floor(rng() * 300)), 0, 1);
      if (rng() < 0.3) continue; // not every version is looked at
      const v = w.view();
      const snap = w.snapshot();
      expect(v.records).toBe(snap.length);
      expect(v.arrows).toEqual(arrowsOf(snap));
      expect(v.ops).toEqual(opsOf(snap));
      expect(v.epochs).toEqual(epochMarks(snap));
      expect(orderNodes(v.nodes)).toEqual(orderNodes(snap.flatMap((r) => [r.node, r.peer])));
      if (push % 10 === 0) kept.push({ v, copy: structuredClone(v) });
    }
    // Views handed out earlier are untouched by what came since (a paused view keeps its picture).
    for (const old of kept) expect(old.v).toEqual(old.copy);
    expect(w.snapshot().length).toBeGreaterThanOrEqual(WINDOW_RECORDS); // the window filled and dropped its oldest
  }, 30_000);

  it('renders only the rows of a long list in view, with some on each side', () => {
    // 200 rows of 20 px in a 100 px box scrolled to 1000 px: rows 50..55 in view, 10 more each side.
    expect(rowWindow(200, 20, 1000, 100)).toEqual({ start: 40, end: 65 });
    expect(rowWindow(200, 20, 0, 100)).toEqual({ start: 0, end: 15 });
    expect(rowWindow(200, 20, 3950, 100)).toEqual({ start: 187, end: 200 });
    // Scrolled above the list (its header in view), a short list, an empty one.
    expect(rowWindow(200, 20, -80, 100, 0)).toEqual({ start: 0, end: 1 });
    expect(rowWindow(5, 20, 0, 500)).toEqual({ start: 0, end: 5 });
    expect(rowWindow(0, 20, 0, 500)).toEqual({ start: 0, end: 0 });
  });
});

/**
 * A busy cluster's trace, batch by batch: faults (request, forward, page, confirm, or a nack), heartbeats,
 * write-update writes, frames the nemesis drops or duplicates, refusals, receives arriving in a later batch
 * than their sends (or before them: nodes ship their records separately) and a manager changing epochs.
 */
function busyTrace(rng: Rng): (n: number) => TraceRecord[] {
  let t = 0;
  let count = 0;
  let epoch = 1;
  const pending: TraceRecord[] = [];
  const node = () => `c${Math.floor(rng() * 6)}`;
  const frame = (from: string) => `${from}:${++count}`;
  const rec = (n: string, dir: 'send' | 'recv', peer: string, type: string, f: string, extra: Partial<TraceRecord> = {}): TraceRecord => ({ node: n, dir, peer, t: (t += 1000), type, epoch, frame: f, vc: { [n]: 1 }, ...extra });
  /** A frame: its send now, its receive (or two, or none) now or in a later batch. */
  const send = (out: TraceRecord[], from: string, to: string, type: string, extra: Partial<TraceRecord> = {}) => {
    const f = frame(from);
    const roll = rng();
    const nemesis = roll < 0.05 ? { nemesis: 'drop' as const, rule: `${from}>${to}:partition` } : roll < 0.1 ? { nemesis: 'dup' as const, rule: `${from}>${to}:dup` } : {};
    out.push(rec(from, 'send', to, type, f, { ...extra, ...nemesis }));
    if (nemesis.nemesis === 'drop') return;
    const recv = rec(to, 'recv', from, type, f, rng() < 0.05 ? { ...extra, refused: `stale epoch ${epoch - 1} < ${epoch}` } : extra);
    (rng() < 0.5 ? out : pending).push(recv);
    if (nemesis.nemesis === 'dup') pending.push(rec(to, 'recv', from, type, f, extra));
  };
  return (n) => {
    const out: TraceRecord[] = pending.splice(0, Math.floor(rng() * (pending.length + 1)));
    while (out.length < n) {
      const c = node();
      const roll = rng();
      const page = Math.floor(rng() * 8);
      const req = Math.floor(rng() * 50);
      if (roll < 0.4) {
        send(out, c, 'm0', rng() < 0.5 ? 'read_req' : 'write_req', { page, req });
        send(out, 'm0', node(), 'read_fwd', { page, req, requester: c });
        if (rng() < 0.1) send(out, 'm0', c, 'nack', { page, req });
        else send(out, c, 'm0', 'confirm', { page, req });
      } else if (roll < 0.7) send(out, c, 'm0', 'hb');
      else if (roll < 0.95) {
        const seq = Math.floor(rng() * 30);
        send(out, c, node(), 'i_msg', { view: 1, seq, page });
        send(out, node(), c, 'i_propose', { view: 1, seq });
        send(out, c, node(), 'i_agreed', { view: 1, seq });
      } else {
        if (rng() < 0.3) epoch++;
        send(out, rng() < 0.5 ? 'm0' : 'm1', c, 'takeover');
      }
    }
    return out;
  };
}
