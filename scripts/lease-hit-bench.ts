// Cost of client leases on the hit path (issue 13): read and write hits of the real
// ClientCore with a lease against the same core built without one (the test-only
// no-lease variant), in alternating blocks in one run, on the same machine. A hit
// sends no message either way, so this is the whole protocol-side difference; the
// process around it (history log, telemetry) is the same for both.
//   npx tsx scripts/lease-hit-bench.ts [--blocks 30] [--hits 20000]
import { loadavg } from 'node:os';
import { ClientCore } from '../nodes/core/client.js';
import { encodeToken, TOKEN_SPAN } from '../nodes/core/token.js';
import type { OpRequest } from '../nodes/core/types.js';
import { Cluster } from '../test/sim/simulator.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const BLOCKS = arg('blocks', 30);
const HITS = arg('hits', 20_000);

/** A 1-client cluster whose client holds page 0 with write access and a fresh lease. */
function owner(noLease: boolean): Cluster {
  const c = new Cluster({
    clients: 1,
    pages: 1,
    pageSize: 4096,
    opTimeoutMs: 5000,
    clientTimeoutMs: 2000,
    makeClient: (cfg) => new ClientCore({ ...cfg, unsafeNoLease: noLease }),
  });
  c.start();
  c.flush();
  c.now = 1000;
  c.tick('c0'); // heartbeat; its ack grants the lease
  c.flush();
  c.submit('c0', { id: 1, kind: 'write', page: 0, offset: 0, data: encodeToken('c0:1') });
  c.flush();
  return c;
}

let nextId = 2;
function block(c: Cluster, kind: 'read' | 'write'): number {
  const core = c.client('c0');
  const data = encodeToken('c0:2');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < HITS; i++) {
    const op: OpRequest =
      kind === 'read' ? { id: nextId++, kind, page: 0, offset: 0, length: TOKEN_SPAN } : { id: nextId++, kind, page: 0, offset: 0, data };
    const out = core.submit(op, c.now);
    const done = out[0];
    if (out.length !== 1 || done?.type !== 'done' || !done.result.ok || done.result.fault) throw new Error(`op ${op.id} was not a hit`);
  }
  return Number(process.hrtime.bigint() - t0) / HITS;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const withLease = owner(false);
const without = owner(true);
const ns = { lease: { read: [] as number[], write: [] as number[] }, none: { read: [] as number[], write: [] as number[] } };
for (let b = 0; b < BLOCKS + 2; b++) {
  const warm = b < 2;
  // Alternate which variant goes first, so drift falls on both.
  const order = b % 2 === 0 ? (['lease', 'none'] as const) : (['none', 'lease'] as const);
  for (const v of order) {
    for (const kind of ['read', 'write'] as const) {
      const t = block(v === 'lease' ? withLease : without, kind);
      if (!warm) ns[v][kind].push(t);
    }
  }
}
const r = (x: number): number => Math.round(x * 10) / 10;
const report = {
  blocks: BLOCKS,
  hits_per_block: HITS,
  read_hit_ns: { lease: r(median(ns.lease.read)), no_lease: r(median(ns.none.read)) },
  write_hit_ns: { lease: r(median(ns.lease.write)), no_lease: r(median(ns.none.write)) },
  ratio: {
    read: Math.round((median(ns.lease.read) / median(ns.none.read)) * 1000) / 1000,
    write: Math.round((median(ns.lease.write) / median(ns.none.write)) * 1000) / 1000,
  },
  loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
};
console.log(JSON.stringify(report));
