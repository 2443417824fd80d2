// The write-update half of `ivy-cluster bench` and the protocol comparison:
//  - local read and write latency p50/p99 with 10 members, in rotating blocks against
//    the baseline of two bare multicast rounds on the same sockets and codec (so an
//    ISIS write is reported as a ratio to it);
//  - write latency as the group grows (2, 10, 32 members by default);
//  - throughput of both protocols at read ratios 0, 0.5, 0.9, 0.99, same run.
import { percentile } from '../scenarios/figures.js';
import type { Protocol } from '../api.js';
import { BarePath } from './bare-path.js';
import { emptyIsisSamples, IsisPath, type IsisSamples } from './isis-path.js';
import { measureThroughput, type ThroughputResult } from './throughput.js';

export interface IsisBenchOptions {
  iterations: number;
  blockSize: number;
  basePort: number;
  pageSize: number;
  /** Group sizes for write latency by client count. */
  clientSteps: readonly number[];
  onProgress?: (message: string) => void;
}

/** The members of the headline measurement (the "10 clients"). */
export const ISIS_BENCH_CLIENTS = 10;

const us1 = (x: number): number => Math.round(x * 10) / 10;
const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

export interface IsisReport {
  clients: number;
  samples: number;
  /** Local reads: no message. */
  read_p50_us: number;
  read_p99_us: number;
  /** One ISIS write: multicast, proposals, agreed, delivery at the writer. */
  write_p50_us: number;
  write_p99_us: number;
  /** Two bare multicast rounds to the other members on the same sockets and codec. */
  bare: { multicast2_p50_us: number; multicast2_p99_us: number; members: number; samples: number };
  /** ISIS write / two bare rounds (the aim: ≤ 1.5 at p50). */
  ratio: { write_p50: number; write_p99: number };
  write_by_clients: { clients: number; samples: number; write_p50_us: number; write_p99_us: number }[];
  /** Every write-update history of the run checked for sequential consistency. */
  sequential: boolean;
}

async function isisBlock(path: IsisPath, n: number, into: IsisSamples | null): Promise<void> {
  for (let i = 0; i < n; i++) await path.readThenWrite(into);
}

async function bareBlock(bare: BarePath, members: number, n: number, into: number[] | null): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = await bare.op('multicast', members);
    into?.push((t.endNs - t.startNs) / 1000);
  }
}

/** Ports used: base .. base + 100 + 50 * clientSteps.length + max(clientSteps) + 10. */
export async function runIsisBench(opts: IsisBenchOptions): Promise<IsisReport> {
  const say = opts.onProgress ?? (() => undefined);
  const members = ISIS_BENCH_CLIENTS - 1;
  say(`write-update: starting ${ISIS_BENCH_CLIENTS} members and the bare multicast nodes`);
  const [bare, isis] = await Promise.all([BarePath.startMulticast(opts.basePort, opts.pageSize, members), IsisPath.start(opts.basePort + 50, opts.pageSize, ISIS_BENCH_CLIENTS)]);
  const s = emptyIsisSamples();
  const bareSamples: number[] = [];
  const blocks = Math.ceil(opts.iterations / opts.blockSize);
  try {
    await bareBlock(bare, members, 20, null);
    await isisBlock(isis, 20, null);
    for (let b = 0; b < blocks; b++) {
      const n = Math.min(opts.blockSize, opts.iterations - b * opts.blockSize);
      say(`write-update latency block ${b + 1}/${blocks} (${n} reads and writes, ${n} bare double multicasts)`);
      const order = [() => bareBlock(bare, members, n, bareSamples), () => isisBlock(isis, n, s)];
      for (let k = 0; k < order.length; k++) await order[(b + k) % order.length]!();
    }
  } catch (err) {
    await Promise.all([bare.stop(), isis.stop()]);
    throw err;
  }
  const [, history] = await Promise.all([bare.stop(), isis.stop()]);
  let sequential = history.sequential;

  const byClients: IsisReport['write_by_clients'] = [];
  for (const [i, clients] of opts.clientSteps.entries()) {
    say(`write-update: write latency with ${clients} members`);
    const path = await IsisPath.start(opts.basePort + 100 + 50 * i, opts.pageSize, clients);
    const writes: number[] = [];
    try {
      for (let k = 0; k < 20; k++) await path.write(null);
      for (let k = 0; k < opts.iterations; k++) await path.write(writes);
    } finally {
      sequential = (await path.stop()).sequential && sequential;
    }
    byClients.push({ clients, samples: writes.length, write_p50_us: us1(percentile(writes, 50)), write_p99_us: us1(percentile(writes, 99)) });
  }

  const write50 = us1(percentile(s.write, 50));
  const write99 = us1(percentile(s.write, 99));
  const bare50 = us1(percentile(bareSamples, 50));
  const bare99 = us1(percentile(bareSamples, 99));
  return {
    clients: ISIS_BENCH_CLIENTS,
    samples: s.write.length,
    read_p50_us: us1(percentile(s.read, 50)),
    read_p99_us: us1(percentile(s.read, 99)),
    write_p50_us: write50,
    write_p99_us: write99,
    bare: { multicast2_p50_us: bare50, multicast2_p99_us: bare99, members, samples: bareSamples.length },
    ratio: { write_p50: ratio(write50, bare50), write_p99: ratio(write99, bare99) },
    write_by_clients: byClients,
    sequential,
  };
}

export interface CompareRow {
  protocol: Protocol;
  clients: number;
  pages: number;
  read_ratio: number;
  ops_per_s: number;
  /** Every successful op of the kind: IVY hits and write-update local reads included (null: no op of the kind, e.g. reads at ratio 0). */
  read_p50_us: number | null;
  read_p99_us: number | null;
  write_p50_us: number | null;
  write_p99_us: number | null;
  /** The history passed its protocol's check (linearizable / sequential). */
  consistent: boolean;
}

export interface CompareOptions {
  basePort: number;
  durationS: number;
  readRatios: readonly number[];
  clients: number;
  pages: number;
  onProgress?: (message: string) => void;
}

/** Throughput of both protocols at each read ratio, one fresh cluster each, alternating protocols so drifts fall on both. */
export async function runCompare(opts: CompareOptions): Promise<{ rows: CompareRow[]; runs: ThroughputResult[] }> {
  const rows: CompareRow[] = [];
  const runs: ThroughputResult[] = [];
  let k = 0;
  for (const readRatio of opts.readRatios) {
    for (const protocol of (k % 2 === 0 ? ['ivy', 'isis'] : ['isis', 'ivy']) as Protocol[]) {
      opts.onProgress?.(`compare: ${protocol}, ${opts.clients} clients back to back, read ratio ${readRatio}, ${opts.durationS} s`);
      const t = await measureThroughput({ protocol, basePort: opts.basePort + 50 * runs.length, clients: opts.clients, pages: opts.pages, readRatio, durationS: opts.durationS, seed: 1 });
      runs.push(t);
      rows.push({
        protocol,
        clients: opts.clients,
        pages: opts.pages,
        read_ratio: readRatio,
        ops_per_s: t.opsPerS,
        read_p50_us: t.all.read.count > 0 ? us1(t.all.read.p50Us) : null,
        read_p99_us: t.all.read.count > 0 ? us1(t.all.read.p99Us) : null,
        write_p50_us: t.all.write.count > 0 ? us1(t.all.write.p50Us) : null,
        write_p99_us: t.all.write.count > 0 ? us1(t.all.write.p99Us) : null,
        consistent: t.consistent,
      });
    }
    k++;
  }
  // Present in a stable order: by read ratio, IVY first.
  rows.sort((a, b) => a.read_ratio - b.read_ratio || (a.protocol === 'ivy' ? -1 : 1));
  return { rows, runs };
}
