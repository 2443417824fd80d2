import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../nodes/control/trace/record.js';
import { longestWait, OpFrameCollector, slowestFault, slowestLines, slowestOp } from '../../nodes/control/scenarios/slowest.js';
import type { RoundOp } from '../../nodes/control/scenarios/rounds.js';

const MS = 1e6;
const rec = (node: string, dir: 'send' | 'recv', peer: string, type: string, frame: string, tMs: number, extra: Partial<TraceRecord> = {}): TraceRecord => ({
  node,
  dir,
  peer,
  t: 1000 * MS + tMs * MS,
  type,
  epoch: 1,
  frame,
  vc: { [node]: 1 },
  ...extra,
});
const op = (client: string, kind: 'read' | 'write', page: number, fromMs: number, toMs: number): RoundOp => ({
  client,
  kind,
  page,
  ok: true,
  fault: true,
  startNs: 1000 * MS + fromMs * MS,
  endNs: 1000 * MS + toMs * MS,
});

describe('slowest fault of a trial', () => {
  it('notes a frame the nemesis dropped and one its receiver refused for a stale epoch (fenced)', () => {
    const p = { page: 2, req: 9 };
    const records = [
      rec('c0', 'send', 'm0', 'read_req', 'c0:1', 0.1, { ...p, nemesis: 'drop', rule: 'c0>m0:loss=0.05' }),
      rec('c0', 'send', 'm1', 'read_req', 'c0:2', 20, { ...p, epoch: 1 }),
      rec('m1', 'recv', 'c0', 'read_req', 'c0:2', 20.2, { ...p, epoch: 1, refused: 'stale epoch 1 < 2' }),
      rec('c0', 'send', 'm1', 'read_req', 'c0:3', 25, { ...p, epoch: 2 }),
    ];
    const s = slowestFault(1, op('c0', 'read', 2, 0, 30), records);
    expect(s.frames.map((f) => [f.note, f.fenced])).toEqual([
      ['dropped by nemesis: rule c0>m0:loss=0.05', undefined],
      ['fenced: epoch 1 < 2', true],
      [undefined, undefined],
    ]);
  });

  it('picks the longest measured operation', () => {
    expect(slowestOp([op('c0', 'read', 0, 0, 2), op('c1', 'write', 1, 1, 9), op('c2', 'read', 2, 3, 4)])?.client).toBe('c1');
    expect(slowestOp([])).toBeNull();
  });

  it('draws every attempt of the fault (a retry to the new primary after a kill), not other clients’ frames or heartbeats', () => {
    const p = { page: 1, req: 7 };
    const collector = new OpFrameCollector();
    collector.add([
      rec('c1', 'send', 'm0', 'write_req', 'c1:1', 0.1, p), // the primary was killed: never received
      rec('c2', 'send', 'm0', 'hb', 'c2:1', 1),
      rec('c1', 'send', 'm1', 'write_req', 'c1:2', 30, p),
      rec('m1', 'recv', 'c1', 'write_req', 'c1:2', 30.2, p),
      rec('c3', 'send', 'm1', 'write_req', 'c3:1', 30.3, { page: 1, req: 7 }), // another client's req 7
      rec('m1', 'send', 'c1', 'grant', 'm1:5', 30.4, p),
      rec('c1', 'recv', 'm1', 'grant', 'm1:5', 30.6, p),
      rec('c1', 'send', 'm1', 'confirm', 'c1:3', 30.8, p), // after the op returned: still its own
      rec('m1', 'recv', 'c1', 'confirm', 'c1:3', 31, p),
    ]);
    expect(collector.records).toHaveLength(8); // the heartbeat is not kept
    const s = slowestFault(2, op('c1', 'write', 1, 0, 30.7), collector.records);
    expect(s).toMatchObject({ trial: 2, client: 'c1', kind: 'write', page: 1, ms: 30.7, moreFrames: 0 });
    expect(s.frames.map((f) => `${f.type} ${f.from}->${f.to} ${f.recvUs === null ? 'lost' : 'ok'}`)).toEqual([
      'write_req c1->m0 lost',
      'write_req c1->m1 ok',
      'grant m1->c1 ok',
      'confirm c1->m1 ok',
    ]);
    expect(s.frames[1]).toMatchObject({ sendUs: 30_000, recvUs: 30_200 });
    const w = longestWait(s)!;
    expect(w).toMatchObject({ fromUs: 100, toUs: 30_000, after: 'c1 sent write_req to m0', before: 'c1 sent write_req to m1' });
    expect(slowestLines([s])[0]).toBe(
      '  trial 2: c1 write of page 1, 30.7 ms, 4 frames; longest wait 29.90 ms, after c1 sent write_req to m0 (+0.10 ms), until c1 sent write_req to m1',
    );
  });
});
