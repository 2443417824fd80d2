// One round of the seed's method: a barrier held by the supervisor, then every live
// client issues one operation at the same instant — read or write at random, on a
// random page it does not hold — and the round ends when all have answered. Times
// are the clients' own monotonic start and end, so the control channel's latency is
// not in them.
import { mulberry32, pick, type Rng } from '../../core/random.js';
import type { Protocol } from '../api.js';
import type { NodeInfo } from '../api.js';
import type { OpDone } from '../supervisor.js';

export interface RoundOp {
  client: string;
  kind: 'read' | 'write';
  page: number;
  ok: boolean;
  /** False for a cache hit (every page already held): excluded from the tables. */
  fault: boolean;
  startNs: number;
  endNs: number;
  error?: string;
}

/**
 * The stream a scenario's rounds draw their op seeds from: its own (apart from the fault schedule's), the same
 * whether the scenario runs alone or in a run of several (`scenarioNumber`: 1 for s1).
 */
export function roundsRng(seed: number, scenarioNumber: number): Rng {
  return mulberry32((seed * 7919 + scenarioNumber * 104_729 + 17) >>> 0);
}

/** What a round reads of a finished op (the protocol client's `opDone`, or the fair bare client's `done`). */
export type RoundOpDone = Pick<OpDone, 'client' | 'kind' | 'page' | 'ok' | 'fault' | 'startNs' | 'endNs' | 'error'>;

/**
 * What a round needs of a cluster: the Supervisor, the fair bare path of `bench --s1` (fair-bare-path.ts),
 * a fake in tests.
 */
export interface RoundDriver {
  op(client: string, kind: 'write' | 'random', page: number | 'missing', seed: number): Promise<RoundOpDone>;
  nodeInfos(): readonly Pick<NodeInfo, 'id' | 'role' | 'state'>[];
}

export function liveClients(sup: Pick<RoundDriver, 'nodeInfos'>): string[] {
  return sup
    .nodeInfos()
    .filter((n) => n.role === 'client' && n.state === 'up')
    .map((n) => n.id);
}

const toRoundOp = (d: RoundOpDone): RoundOp => ({
  client: d.client,
  kind: d.kind,
  page: d.page,
  ok: d.ok,
  fault: d.fault,
  startNs: d.startNs,
  endNs: d.endNs,
  ...(d.error !== undefined ? { error: d.error } : {}),
});

/**
 * What every client issues at the barrier. IVY: one fault (read or write at random, on
 * a random page the client does not hold). Write-update: one write on a random page —
 * every page is replicated at every client, so a read is always a local hit and, like
 * IVY's cache hits, says nothing about the protocol; the rounds measure writes.
 */
export type RoundPlan = { kind: 'faults' } | { kind: 'writes'; pages: number };

export function roundPlan(protocol: Protocol, pages: number): RoundPlan {
  return protocol === 'isis' ? { kind: 'writes', pages } : { kind: 'faults' };
}

/**
 * Issues the round and waits for every answer. A client that does not answer within
 * `guardMs` (its own op timeout should have answered first) counts as a failed op, so
 * a wedged node cannot hang the scenario.
 */
export async function runRound(sup: RoundDriver, rng: Rng, guardMs: number, plan: RoundPlan = { kind: 'faults' }): Promise<RoundOp[]> {
  const clients = liveClients(sup);
  // Draw every seed (and page) before sending anything, so the sends go out back to back.
  const seeds = clients.map(() => Math.floor(rng() * 0x7fff_ffff));
  const pages = plan.kind === 'writes' ? clients.map(() => pick(rng, plan.pages)) : [];
  const now = (): number => Number(process.hrtime.bigint());
  const pending = clients.map((client, i) => {
    const startNs = now();
    const failed = (error: string): RoundOp => ({ client, kind: 'read', page: -1, ok: false, fault: false, startNs, endNs: now(), error });
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<RoundOp>((resolve) => {
      timer = setTimeout(() => resolve(failed(`no answer within ${guardMs} ms`)), guardMs);
    });
    const issued = plan.kind === 'writes' ? sup.op(client, 'write', pages[i]!, seeds[i]!) : sup.op(client, 'random', 'missing', seeds[i]!);
    const op = issued.then(toRoundOp, (err: unknown) => failed(err instanceof Error ? err.message : String(err)));
    return Promise.race([op, guard]).finally(() => clearTimeout(timer));
  });
  return Promise.all(pending);
}

/** Whether an op counts for the tables: a successful fault (IVY), a successful write (write-update). */
export function isMeasured(o: Pick<RoundOp, 'ok' | 'fault' | 'kind'>, plan: RoundPlan = { kind: 'faults' }): boolean {
  return o.ok && (plan.kind === 'writes' ? o.kind === 'write' : o.fault);
}

/** The samples that count for the tables, in milliseconds, with the node that took them. */
export function faultSamples(ops: readonly RoundOp[], plan: RoundPlan = { kind: 'faults' }): { ms: number; node: string }[] {
  return ops.filter((o) => isMeasured(o, plan)).map((o) => ({ ms: (o.endNs - o.startNs) / 1e6, node: o.client }));
}
