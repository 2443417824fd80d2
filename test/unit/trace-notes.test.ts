// What a trace says beyond a frame's send and receive: the nemesis's verdict on a send (drop,
// dup, delay and the rule) taken where the nemesis decides it, a node's refusal of a received
// frame (fencing: a stale epoch), how the supervisor's mirror writes them (DESIGN §6 fields
// `nemesis`, `rule`, `refused`), what the record schema accepts, the ShiViz event text, and how
// the Messages view lays them out (arrows ending in a cross, duplicates, fenced bars, epoch marks).
import { describe, expect, it } from 'vitest';
import type { Message } from '../../nodes/protocol/index.js';
import { FromNodeSchema, type TraceBatch, type TraceTuple } from '../../nodes/runtime/from-node.js';
import { fastTraceBatch } from '../../nodes/runtime/trace-validate.js';
import { VectorClock } from '../../nodes/runtime/trace-clock.js';
import { Tracer, TRACE_BATCH_MAX } from '../../nodes/runtime/tracer.js';
import { fateOf, ruleText, type NemesisFate, type NodeLinkRule } from '../../nodes/runtime/nemesis.js';
import { NemesisRouter } from '../../nodes/runtime/nemesis-router.js';
import { TraceMirror } from '../../nodes/control/trace/mirror.js';
import { TraceRecordSchema } from '../../nodes/control/trace/record.js';
import { shivizEvent } from '../../nodes/control/trace/shiviz.js';
import { arrowSegments, arrowsOf, DROP_REACH, epochMarks, marksOf, nemesisText, refusalText } from '../../renderer/src/messages/model.js';
import { recordMaker } from './trace-records.js';

const msg = (m: Record<string, unknown>): Message => m as unknown as Message;
const rule = (r: Partial<NodeLinkRule> & { to: string[] }): NodeLinkRule => ({ partition: false, loss: 0, dup: 0, delayMs: 0, jitterMs: 0, ...r });

describe('the nemesis verdict as a trace note', () => {
  it('names the rule in the CLI syntax and the fate from the due times', () => {
    expect(ruleText('m0', 'm1', { partition: true, loss: 0, dup: 0, delayMs: 0, jitterMs: 0 })).toBe('m0>m1:partition');
    expect(ruleText('c0', 'm0', { partition: false, loss: 0.05, dup: 0.1, delayMs: 3, jitterMs: 2 })).toBe('c0>m0:loss=0.05:dup=0.1:delay=3:jitter=2');
    expect(fateOf(null, 10, 'r')).toBeNull();
    expect(fateOf([], 10, 'r')).toEqual(['drop', 'r']);
    expect(fateOf([10, 12], 10, 'r')).toEqual(['dup', 'r']);
    expect(fateOf([13], 10, 'r')).toEqual(['delay', 'r']);
    expect(fateOf([10], 10, 'r')).toBeNull(); // a rule (e.g. loss) that let this one through untouched
  });

  it('the router stamps each send with the verdict it carries out', () => {
    const fates: NemesisFate[] = [];
    const sent: string[] = [];
    const r = new NemesisRouter(
      'm0',
      { rules: [rule({ to: ['m1'], partition: true }), rule({ to: ['c0'], dup: 1 }), rule({ to: ['c1'], delayMs: 5 })], seed: 1 },
      (e) => void sent.push(e),
      () => undefined,
    );
    const stamp = (f: NemesisFate): Buffer => {
      fates.push(f);
      return Buffer.alloc(0);
    };
    r.route('m1', 'tcp://m1', Buffer.from([1]), stamp);
    r.route('c0', 'tcp://c0', Buffer.from([2]), stamp);
    r.route('c1', 'tcp://c1', Buffer.from([3]), stamp);
    r.route('c2', 'tcp://c2', Buffer.from([4]), stamp);
    expect(fates).toEqual([['drop', 'm0>m1:partition'], ['dup', 'm0>c0:dup=1'], ['delay', 'm0>c1:delay=5'], null]);
    expect(sent).toEqual(['tcp://c0', 'tcp://c0', 'tcp://c2']); // c1's copy is held
    r.close();
  });
});

describe('tracer notes and the mirror', () => {
  const setup = () => {
    const batches: TraceBatch[] = [];
    const t = new Tracer('c0', new VectorClock('c0'), (b) => batches.push(b), () => undefined);
    return { t, batches };
  };

  it('a refusal marks the receive just traced, not another frame, and the mirror writes the DESIGN §6 fields', () => {
    const { t, batches } = setup();
    const m1 = new Tracer('m1', new VectorClock('m1'), (b) => batches.push(b), () => undefined);
    const dropped = msg({ t: 'read_req', from: 'c0', epoch: 3, page: 1, req: 4 });
    t.onSend('m1', dropped, ['drop', 'c0>m1:partition']);
    const stale = msg({ t: 'grant', from: 'm1', epoch: 3, page: 1, req: 4, access: 'read' });
    t.onReceive(stale, m1.onSend('c0', stale));
    t.refused(msg({ ...stale }), 'stale epoch 3 < 4'); // another object: not the frame just received
    expect(t['batch'].at(-1)!.length).toBe(12);
    t.refused(stale, 'stale epoch 3 < 4');
    t.flush();
    m1.flush();
    for (const b of batches) {
      const raw = JSON.parse(JSON.stringify(b)) as unknown;
      expect(FromNodeSchema.safeParse(raw).success).toBe(true);
      expect(fastTraceBatch(raw)).not.toBeNull();
    }
    const mirror = new TraceMirror();
    const records = batches.flatMap((b) => mirror.resolve(b.id, b.records));
    for (const r of records) expect(TraceRecordSchema.safeParse(r).success, JSON.stringify(r)).toBe(true);
    const send = records.find((r) => r.node === 'c0' && r.dir === 'send')!;
    expect(send).toMatchObject({ nemesis: 'drop', rule: 'c0>m1:partition' });
    const recv = records.find((r) => r.node === 'c0' && r.dir === 'recv')!;
    expect(recv.refused).toBe('stale epoch 3 < 4');
    expect(recv.nemesis).toBeUndefined();
    // Keys in the order of the example line, the notes before vc.
    expect(Object.keys(send).slice(-3)).toEqual(['nemesis', 'rule', 'vc']);
  });

  it('a receive whose batch already shipped is not marked (the shipped record is not touched)', () => {
    const { t, batches } = setup();
    for (let i = 0; i < TRACE_BATCH_MAX - 1; i++) t.onSend('m0', msg({ t: 'hb', from: 'c0', epoch: 1 }));
    const m = msg({ t: 'hb', from: 'm0', epoch: 1 });
    t.onReceive(m, undefined); // the 1000th record: the batch is full, but ships only with the next record
    expect(batches).toHaveLength(0);
    t.refused(m, 'stale epoch 1 < 2');
    t.onSend('m0', msg({ t: 'hb', from: 'c0', epoch: 1 }));
    expect(batches).toHaveLength(1);
    expect((batches[0]!.records.at(-1) as TraceTuple)[12]).toEqual(['refused', 'stale epoch 1 < 2']);
    const m2 = msg({ t: 'hb', from: 'm0', epoch: 1 });
    t.onReceive(m2, undefined);
    t.flush();
    t.refused(m2, 'stale epoch 1 < 2'); // too late: shipped
    expect((batches[1]!.records.at(-1) as TraceTuple)).toHaveLength(12);
  });

  it('the mirror leaves out a misplaced note (a refusal on a send, a verdict on a receive)', () => {
    const mirror = new TraceMirror();
    const tuples: TraceTuple[] = [
      [0, 'm0', 1, 'hb', 1, null, null, null, null, null, 1, [32768 + 0, 1], ['refused', 'x']],
      [1, 'm0', 2, 'hb', 1, null, null, null, null, null, 1, [1, 2], ['drop', 'm0>c0:partition']],
    ];
    const records = mirror.resolve('c0', tuples);
    expect(records.map((r) => [r.refused, r.nemesis, r.rule])).toEqual([
      [undefined, undefined, undefined],
      [undefined, undefined, undefined],
    ]);
  });
});

describe('trace record schema: the new fields', () => {
  const base = { node: 'c0', dir: 'send', peer: 'm0', t: 5, type: 'read_req', epoch: 1, frame: 'c0:1', vc: { c0: 1 } };
  const ok = (r: object): boolean => TraceRecordSchema.safeParse(r).success;
  it('accepts them where they belong and refuses them elsewhere', () => {
    expect(ok({ ...base, nemesis: 'drop', rule: 'c0>m0:partition' })).toBe(true);
    expect(ok({ ...base, nemesis: 'dup', rule: 'c0>m0:dup=0.5' })).toBe(true);
    expect(ok({ ...base, nemesis: 'lost', rule: 'x' })).toBe(false);
    expect(ok({ ...base, nemesis: 'drop' })).toBe(false); // no rule
    expect(ok({ ...base, rule: 'x' })).toBe(false); // no verdict
    expect(ok({ ...base, refused: 'stale epoch 1 < 2' })).toBe(false); // a send is not refused
    expect(ok({ ...base, dir: 'recv', refused: 'stale epoch 1 < 2' })).toBe(true);
    expect(ok({ ...base, dir: 'recv', nemesis: 'drop', rule: 'x' })).toBe(false);
    expect(ok({ ...base, dir: 'recv', refused: '' })).toBe(false);
    expect(ok({ ...base, dir: 'recv', refused: 'x'.repeat(161) })).toBe(false);
  });

  it('ShiViz: a dropped send stays a local event of its sender, noted in its text', () => {
    const r = TraceRecordSchema.parse({ ...base, nemesis: 'drop', rule: 'c0>m0:partition' });
    expect(shivizEvent(r)).toBe('send read_req to m0 epoch=1 frame=c0:1 t=5 nemesis=drop rule=c0>m0:partition');
    const f = TraceRecordSchema.parse({ ...base, dir: 'recv', node: 'm0', peer: 'c0', vc: { m0: 1 }, refused: 'stale epoch 1 < 2' });
    expect(shivizEvent(f)).toBe('recv read_req from c0 epoch=1 frame=c0:1 t=5 refused="stale epoch 1 < 2"');
  });
});

describe('Messages view layout of drops, duplicates, fencing and takeovers', () => {
  const rec = recordMaker();
  const records = [
    rec('m0', 'send', 'm1', 'hb', 'm0:1', { nemesis: 'drop', rule: 'm0>m1:partition' }),
    rec('m0', 'send', 'c0', 'grant', 'm0:2', { nemesis: 'dup', rule: 'm0>c0:dup=1', page: 1, req: 2 }),
    rec('c0', 'recv', 'm0', 'grant', 'm0:2', { page: 1, req: 2 }),
    rec('c0', 'recv', 'm0', 'grant', 'm0:2', { page: 1, req: 2, refused: 'req 2 unknown' }),
    rec('m1', 'send', 'c0', 'takeover', 'm1:1', { epoch: 1 }),
    rec('m1', 'send', 'c0', 'takeover', 'm1:2', { epoch: 2 }),
    rec('c0', 'recv', 'm1', 'takeover', 'm1:2', { epoch: 2 }),
    rec('m0', 'send', 'c0', 'inval', 'm0:3', { epoch: 1 }),
    rec('c0', 'recv', 'm0', 'inval', 'm0:3', { epoch: 1, refused: 'stale epoch 1 < 2' }),
    rec('m1', 'send', 'c0', 'hb', 'm1:3', { epoch: 2 }),
  ];

  it('matches the notes onto arrows and counts the marks', () => {
    const arrows = arrowsOf(records);
    const byFrame = new Map(arrows.map((a) => [a.frame, a]));
    expect(byFrame.get('m0:1')).toMatchObject({ nemesis: 'drop', rule: 'm0>m1:partition', recvT: null });
    const dup = byFrame.get('m0:2')!;
    expect(dup.recvT).toBeLessThan(dup.dupRecvT!);
    expect(dup.refused).toBe('req 2 unknown');
    expect(byFrame.get('m0:3')!.refused).toBe('stale epoch 1 < 2');
    expect(marksOf(arrows)).toEqual({ dropped: 1, dups: 1, fenced: 1, refused: 2 });
    expect(nemesisText(byFrame.get('m0:1')!)).toBe('dropped by nemesis: rule m0>m1:partition');
    expect(refusalText('stale epoch 3 < 4')).toBe('fenced: epoch 3 < 4');
    expect(refusalText('req 2 unknown')).toBe('refused: req 2 unknown');
    // m1's epoch goes 1 → 2 at its second takeover frame; m0's first frames set no mark.
    expect(epochMarks(records)).toEqual([{ node: 'm1', t: records[5]!.t, epoch: 2, from: 1 }]);
  });

  it('draws a drop partway to a cross, a duplicate as a second arrow, a frame in flight as a stub', () => {
    const arrows = arrowsOf(records);
    const x = (id: string): number => ({ m0: 0, m1: 100, c0: 200 })[id] ?? -1;
    const y = (tt: number): number => tt / 100;
    const drop = arrowSegments(arrows.find((a) => a.frame === 'm0:1')!, x, y);
    expect(drop).toEqual([{ x0: 0, y0: 10, x1: 100 * DROP_REACH, y1: 24, end: 'cross' }]);
    const dup = arrowSegments(arrows.find((a) => a.frame === 'm0:2')!, x, y);
    expect(dup).toEqual([
      { x0: 0, y0: 20, x1: 200, y1: 30, end: 'head' },
      { x0: 0, y0: 20, x1: 200, y1: 40, end: 'head', dup: true },
    ]);
    const inFlight = arrowSegments(arrows.find((a) => a.frame === 'm1:3')!, x, y);
    expect(inFlight).toHaveLength(1);
    expect(inFlight[0]!.end).toBe('stub');
  });
});
