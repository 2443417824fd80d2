// What the renderer accepts of the write-update views and results: the registry's
// membership, each member's total order and queue, replicas with wpos, and scenario
// results tagged with protocol and model. Malformed ISIS parts are rejected whole,
// so a view never renders half a queue.
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, ServerPush } from '../../nodes/control/api.js';
import { parsePush } from '../../renderer/src/api/wire.js';
import { progressFraction } from '../../renderer/src/state/store.js';
import { comparisonData } from '../../renderer/src/views/ProtocolComparisonChart.js';

function snapshot(extra: Partial<ClusterSnapshot> = {}): ServerPush {
  return {
    type: 'snapshot',
    snapshot: {
      seq: 1,
      t: 1,
      running: true,
      config: { protocol: 'isis', clients: 2, backup: true, pages: 2, pageSize: 64, heartbeatMs: 50, heartbeatTimeoutMs: 500, clientTimeoutMs: 2000, basePort: 7000, host: '127.0.0.1', opTimeoutMs: 5000 },
      workload: null,
      nodes: [],
      clients: [],
      records: {},
      pageTables: { c0: [{ page: 0, access: 'write', owner: false, version: 3, pending: null, preview: '00', token: 'c1:2', wpos: 3 }] },
      membership: { m0: { view: 3, members: [{ id: 'c0', incarnation: 0, pos: 4 }, { id: 'c1', incarnation: 1, pos: null }], change: null } },
      orders: {
        c0: {
          view: 3,
          preparing: null,
          members: ['c0', 'c1'],
          pos: 4,
          hasState: true,
          queue: [{ sender: 'c1', seq: 7, page: 1, proposed: [5, 0], agreed: [6, 1], stable: false, deliverable: true }],
        },
      },
      histogram: [],
      series: [],
      marks: [],
      ...extra,
    },
  };
}

describe('renderer validation of write-update pushes', () => {
  it('accepts a snapshot with membership, orders and replica positions, and keeps them', () => {
    const r = parsePush(snapshot());
    expect('push' in r).toBe(true);
    if (!('push' in r) || r.push.type !== 'snapshot') return;
    expect(r.push.snapshot.membership?.m0?.view).toBe(3);
    expect(r.push.snapshot.orders?.c0?.queue[0]?.agreed).toEqual([6, 1]);
    expect(r.push.snapshot.pageTables?.c0?.[0]?.wpos).toBe(3);
    expect(r.push.snapshot.config?.protocol).toBe('isis');
  });

  it('accepts an IVY snapshot without any of them (older engines)', () => {
    const push = snapshot();
    if (push.type !== 'snapshot') return;
    const { membership: _m, orders: _o, ...ivy } = push.snapshot;
    expect('push' in parsePush({ type: 'snapshot', snapshot: { ...ivy, config: { ...ivy.config, protocol: undefined } } })).toBe(true);
  });

  it.each([
    ['an unknown protocol', { config: { clients: 1, backup: false, pages: 1, pageSize: 64, protocol: 'paxos' } }],
    ['a priority that is not a pair', { orders: { c0: { view: 1, preparing: null, members: [], pos: 0, hasState: true, queue: [{ sender: 'c1', seq: 1, page: 0, proposed: [1], agreed: null, stable: false, deliverable: false }] } } }],
    ['a queue entry without deliverable', { orders: { c0: { view: 1, preparing: null, members: [], pos: 0, hasState: true, queue: [{ sender: 'c1', seq: 1, page: 0, proposed: [1, 1], agreed: null, stable: false }] } } }],
    ['a view change in an unknown phase', { membership: { m0: { view: 1, members: [], change: { view: 2, phase: 'vote', members: [], waitingFor: [] } } } }],
    ['members that are not a list', { membership: { m0: { view: 1, members: 'c0 c1', change: null } } }],
    ['a string wpos', { pageTables: { c0: [{ page: 0, access: 'read', owner: false, version: 0, pending: null, preview: '', token: null, wpos: '3' }] } }],
  ])('rejects a snapshot with %s', (_what, extra) => {
    expect('error' in parsePush(snapshot(extra as Partial<ClusterSnapshot>))).toBe(true);
  });

  it('accepts scenario results tagged with protocol, model and verdict, and rejects an unknown model', () => {
    const result = { id: 's1', name: 'baseline', trials: [], highAverageMs: 1, lowAverageMs: 1, averageMs: 1, p50Ms: 1, p99Ms: 1, failoverMs: [] };
    const ok = parsePush({
      type: 'scenarioResult',
      results: [
        { ...result, protocol: 'ivy', model: 'linearizable', linearizable: true, consistent: true, measures: 'faults' },
        { ...result, protocol: 'isis', model: 'sequential', linearizable: null, consistent: true, measures: 'writes' },
      ],
      csv: 'x',
      linearizable: true,
      consistent: true,
    });
    expect('push' in ok).toBe(true);
    expect('error' in parsePush({ type: 'scenarioResult', results: [{ ...result, model: 'causal' }], csv: '', linearizable: null })).toBe(true);
    expect('push' in parsePush({ type: 'scenarioProgress', progress: { scenario: 's1', protocol: 'isis', index: 1, of: 2, trial: 1, trials: 2, message: '' } })).toBe(true);
    expect('error' in parsePush({ type: 'scenarioProgress', progress: { scenario: 's1', protocol: 'x', index: 1, of: 2, trial: 1, trials: 2, message: '' } })).toBe(true);
  });

  it('progress over (scenario, protocol) pairs: the second protocol of one scenario is half way', () => {
    expect(progressFraction({ scenario: 's1', protocol: 'isis', index: 1, of: 2, trial: 0, trials: 2, message: '' })).toBe(0.5);
  });
});

describe('protocol comparison chart data', () => {
  it('lines up IVY and write-update per scenario, null where a protocol did not run or measured nothing', () => {
    const r = (id: string, protocol: 'ivy' | 'isis', averageMs: number, p99Ms: number) => ({
      id,
      name: id,
      protocol,
      trials: [],
      highAverageMs: averageMs,
      lowAverageMs: averageMs,
      averageMs,
      p50Ms: averageMs,
      p99Ms,
      failoverMs: [],
    });
    const { ids, data } = comparisonData([r('s1', 'ivy', 2, 3), r('s1', 'isis', 1, 1.5), r('s3', 'isis', Number.NaN, 4)]);
    expect(ids).toEqual(['s1', 's3']);
    expect(data).toEqual([
      [0, 1],
      [2, null],
      [1, null],
      [3, null],
      [1.5, 4],
    ]);
  });
});
