// The adaptive retransmission timeout (nodes/core/rto.ts) and its use by the IVY client core: srtt + 4 rttvar
// within the bounds, Karn's rule (no sample from a request sent twice), exponential backoff per retry.
import { describe, expect, it } from 'vitest';
import { ClientCore } from '../../nodes/core/client.js';
import { fixedBounds, RttEstimator } from '../../nodes/core/rto.js';
import type { ClientOutput } from '../../nodes/core/types.js';

describe('RttEstimator', () => {
  it('starts at the upper bound: no sample, no guess', () => {
    const e = new RttEstimator({ minMs: 5, maxMs: 500 });
    expect(e.rto()).toBe(500);
    expect(e.smoothed).toBeNull();
  });

  it('follows RFC 6298: first sample sets srtt = R, rttvar = R/2; then 1/8 and 1/4 gains', () => {
    const e = new RttEstimator({ minMs: 1, maxMs: 10_000 });
    e.sample(100);
    expect(e.smoothed).toBe(100);
    expect(e.rto()).toBe(100 + 4 * 50);
    e.sample(20);
    // rttvar = 3/4 * 50 + 1/4 * |100 - 20| = 57.5; srtt = 7/8 * 100 + 1/8 * 20 = 90
    expect(e.smoothed).toBe(90);
    expect(e.rto()).toBeCloseTo(90 + 4 * 57.5, 9);
  });

  it('converges on a steady round trip and is clamped to the floor', () => {
    const e = new RttEstimator({ minMs: 5, maxMs: 500 });
    for (let i = 0; i < 200; i++) e.sample(1);
    expect(e.smoothed).toBeCloseTo(1, 6);
    expect(e.rto()).toBe(5);
  });

  it('a jittery link keeps a wider timeout than a steady one with the same mean', () => {
    const steady = new RttEstimator({ minMs: 0.001, maxMs: 500 });
    const jittery = new RttEstimator({ minMs: 0.001, maxMs: 500 });
    for (let i = 0; i < 100; i++) {
      steady.sample(10);
      jittery.sample(i % 2 === 0 ? 2 : 18);
    }
    expect(jittery.rto()).toBeGreaterThan(steady.rto() + 20);
  });

  it('backs off exponentially per retry, up to the upper bound', () => {
    const e = new RttEstimator({ minMs: 5, maxMs: 500 });
    for (let i = 0; i < 50; i++) e.sample(10);
    const base = e.rto();
    expect(e.backoff(0)).toBe(base);
    expect(e.backoff(1)).toBeCloseTo(2 * base, 9);
    expect(e.backoff(2)).toBeCloseTo(4 * base, 9);
    expect(e.backoff(20)).toBe(500);
    expect(e.backoff(10_000)).toBe(500);
  });

  it('ignores samples that are not round trips (negative, NaN, infinite)', () => {
    const e = new RttEstimator({ minMs: 5, maxMs: 500 });
    e.sample(-1);
    e.sample(Number.NaN);
    e.sample(Number.POSITIVE_INFINITY);
    expect(e.samples).toBe(0);
    expect(e.rto()).toBe(500);
  });

  it('fixed bounds give the fixed interval of before, however the samples go', () => {
    const e = new RttEstimator(fixedBounds(300));
    expect(e.rto()).toBe(300);
    e.sample(1);
    expect(e.rto()).toBe(300);
    expect(e.backoff(3)).toBe(300);
  });
});

describe('ClientCore: adaptive fault retry', () => {
  const client = (minRetryMs?: number): ClientCore => {
    const c = new ClientCore({
      id: 'c0',
      endpoint: 'inproc://c0',
      managers: ['m0'],
      epoch: 1,
      pages: 1,
      pageSize: 8,
      opTimeoutMs: 10_000,
      incarnation: 0,
      heartbeatMs: 1_000_000,
      retryMs: 500,
      recoverLoss: true,
      ...(minRetryMs !== undefined ? { minRetryMs } : {}),
    });
    c.start(0);
    c.receive({ t: 'members', from: 'm0', epoch: 1, members: [{ id: 'c0', endpoint: 'inproc://c0' }], n: 1 }, 0);
    c.receive({ t: 'hb_ack', from: 'm0', epoch: 1, n: 1, ms: 1_000_000 }, 0);
    return c;
  };
  const sends = (out: ClientOutput[], t: string): number => out.filter((o) => o.type === 'send' && o.msg.t === t).length;
  let op = 1;
  /** One read fault at `at`, answered by a first-touch grant after `rtt` ms (or left unanswered). */
  const fault = (c: ClientCore, at: number, rtt: number | null): number => {
    const out = c.submit({ id: op++, kind: 'read', page: 0, offset: 0, length: 8 }, at);
    const req = out.find((o) => o.type === 'send' && o.msg.t === 'read_req');
    if (!req || req.type !== 'send' || req.msg.t !== 'read_req') throw new Error('no read_req');
    if (rtt !== null) answer(c, req.msg.req, at + rtt);
    return req.msg.req;
  };
  /** The owner (c9) sends a read copy: the fault is served, and the copy can be invalidated. */
  const answer = (c: ClientCore, req: number, at: number): void => {
    c.receive({ t: 'page_data', from: 'c9', epoch: 1, page: 0, req, access: 'read', version: 1, data: new Uint8Array(8) }, at);
  };
  /** Drops the copy so the next read faults again. */
  const invalidate = (c: ClientCore, req: number, at: number): void => {
    c.receive({ t: 'invalidate', from: 'm0', epoch: 1, page: 0, req: req + 1000, requester: 'c9' }, at);
  };

  it('without minRetryMs: retries after the fixed retryMs, as before', () => {
    const c = client();
    for (let i = 0; i < 10; i++) invalidate(c, fault(c, i * 10, 2), i * 10 + 5);
    fault(c, 1000, null);
    expect(c.nextRetryAt()).toBe(1500);
    expect(sends(c.tick(1499), 'read_req')).toBe(0);
    expect(sends(c.tick(1500), 'read_req')).toBe(1);
  });

  it('with minRetryMs: a fault unanswered for srtt + 4 rttvar (floored) goes again, and backs off', () => {
    const c = client(20);
    // Before any sample: the upper bound.
    const r0 = fault(c, 0, null);
    expect(c.nextRetryAt()).toBe(500);
    answer(c, r0, 3);
    invalidate(c, r0, 4);
    for (let i = 1; i <= 20; i++) invalidate(c, fault(c, i * 10, 2), i * 10 + 5);
    const at = 1000;
    fault(c, at, null);
    // srtt ~2 ms: the floor of 20 ms.
    expect(c.nextRetryAt()).toBe(at + 20);
    expect(sends(c.tick(at + 19), 'read_req')).toBe(0);
    expect(sends(c.tick(at + 20), 'read_req')).toBe(1);
    // Backoff: 40, then 80 ms after each retry.
    expect(c.nextRetryAt()).toBe(at + 20 + 40);
    expect(sends(c.tick(at + 59), 'read_req')).toBe(0);
    expect(sends(c.tick(at + 60), 'read_req')).toBe(1);
    expect(c.nextRetryAt()).toBe(at + 60 + 80);
    expect(c.counters.retransmits).toBe(2);
  });

  it("Karn's rule: the answer to a retransmitted fault is no sample (a slow answer would otherwise shrink the timeout)", () => {
    const c = client(1);
    for (let i = 0; i < 20; i++) invalidate(c, fault(c, i * 100, 50), i * 100 + 60);
    const before = c.nextRetryAt();
    expect(before).toBeNull();
    // Sent at 5000, retransmitted at the timeout, answered 1 ms after the retransmission: not a 1 ms round trip.
    const req = fault(c, 5000, null);
    const due = c.nextRetryAt()!;
    expect(sends(c.tick(due), 'read_req')).toBe(1);
    answer(c, req, due + 1);
    invalidate(c, req, due + 2);
    fault(c, 6000, null);
    expect(c.nextRetryAt()! - 6000).toBe(due - 5000);
  });
});
