// When a client's random workload issues its ops: its own op stream, its own first due time, and the due
// time after each op. Pure, so the spread of start times over a cluster is tested without processes
// (test/unit/workload-start.test.ts), and shared by the protocol client and the fair bare client.
import { mulberry32, type Rng } from '../core/random.js';

export interface WorkloadStart {
  /** The client's op stream (kind and page of each op). */
  rng: Rng;
  /** Delay of the first op after the command arrived, ms: in [0, one period) at a rate, 0 back to back. */
  phaseMs: number;
}

/**
 * Every client gets the workload command at the same instant. Started there, all of them would issue an op
 * in the same millisecond of every period, for the whole run: N requests at once at the manager and N
 * processes woken together on a few cores, a benchmark of that burst rather than of N programs each at the
 * rate (64 clients at 2 ops/s: read faults p50 36–39 ms started together, 3.1–3.2 ms spread out). So each
 * client starts at its own seeded point of the first period, from a stream apart from the ops', which stay
 * what the seed gave before.
 */
export function workloadStart(seed: number, clientId: string, incarnation: number, rate: number): WorkloadStart {
  // Each client draws its own stream from the shared seed.
  const own = seed * 1000 + Number(clientId.slice(1)) + incarnation * 7919;
  return { rng: mulberry32(own), phaseMs: rate > 0 ? mulberry32(own ^ 0x5bd1e995)() * (1000 / rate) : 0 };
}

/** The due time after one at `nextAt`: one period later, but a client that fell behind catches up at most 1 s of ops. */
export const nextDue = (nextAt: number, rate: number, now: number): number => Math.max(nextAt + 1000 / rate, now - 1000);
