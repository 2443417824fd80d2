// The protocol path of `ivy-cluster bench`: a real cluster (one manager, eleven
// clients) driven one op at a time so every op is a fault with a known shape (the
// rotation in rotation.ts), and for the fair throughput comparison, windows in which
// ten of its clients run a random workload back to back.
import type { ClientMemory } from '../../protocol/messages.js';
import { checkHistory } from '../history/linearizability.js';
import type { Links } from '../../runtime/link-keys.js';
import type { Supervisor } from '../supervisor.js';
import { startBenchCluster, stopBenchCluster, type BenchCluster } from './bench-cluster.js';
import { emptySamples, Rotation, ROTATION_CLIENTS, type Samples } from './rotation.js';

export { emptySamples, type Samples };

/** An owner, nine readers and a writer. */
export const IVY_BENCH_CLIENTS = ROTATION_CLIENTS;

export interface ThroughputWindow {
  fromNs: number;
  toNs: number;
}

export class IvyPath {
  private readonly rotation: Rotation;
  private readonly windows: ThroughputWindow[] = [];

  private readonly sup: Supervisor;

  private constructor(private readonly cluster: BenchCluster) {
    this.sup = cluster.sup;
    this.rotation = new Rotation((client, kind, page) => this.sup.op(`c${client}`, kind, page, 0), 'ivy');
  }

  /**
   * `backup`: run a backup manager too, so its cost on fault latency can be read off against the same path without.
   * `pages`: the rotation uses page 0; throughput windows use all of them.
   * `links`: curve (authenticated, the default everywhere) or plain (the curve-overhead bench's other arm).
   */
  static async start(basePort: number, pageSize: number, backup = false, pages = 1, clientMemory?: ClientMemory, links: Links = 'curve'): Promise<IvyPath> {
    const path = new IvyPath(
      await startBenchCluster({ clients: IVY_BENCH_CLIENTS, pages, pageSize, basePort, backup, ...(clientMemory ? { clientMemory } : {}) }, 'ivy-bench-', undefined, links),
    );
    await path.rotation.firstTouch();
    return path;
  }

  /** The cluster's supervisor (the trace-overhead bench switches tracing between blocks). */
  get supervisor(): Supervisor {
    return this.sup;
  }

  get anomalies(): number {
    return this.rotation.anomalies;
  }

  readThenWrite1(into: Samples | null): Promise<void> {
    return this.rotation.readThenWrite1(into);
  }

  write0(into: Samples | null): Promise<void> {
    return this.rotation.write0(into);
  }

  write9(into: Samples | null): Promise<void> {
    return this.rotation.write9(into);
  }

  block(n: number, into: Samples | null): Promise<void> {
    return this.rotation.block(n, into);
  }

  /** Process ids of the manager and the clients, for memory readings. */
  pids(): { manager: number[]; client: number[] } {
    const infos = this.sup.nodeInfos();
    const of = (f: (id: string) => boolean): number[] => infos.filter((n) => f(n.id) && n.pid !== null).map((n) => n.pid!);
    return { manager: of((id) => id.startsWith('m')), client: of((id) => id.startsWith('c')) };
  }

  /**
   * `clients` of the clients run a random workload back to back for `seconds`; the faults are counted
   * from the history at stop(), over every window (ops started inside one) but a warm-up one (`counted` false).
   */
  async throughputWindow(clients: number, pages: number, seconds: number, seed: number, counted = true): Promise<void> {
    const ids = this.sup.clientIds().slice(0, clients);
    const fromNs = Number(process.hrtime.bigint());
    this.sup.setWorkload({ readRatio: 0.5, rate: 0, ops: 0, pages, seed }, ids);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const toNs = Number(process.hrtime.bigint());
    this.sup.setWorkload(null, ids);
    if (counted) this.windows.push({ fromNs, toNs });
    await new Promise((r) => setTimeout(r, 100)); // the op in flight at the stop completes before the next block
  }

  /** Shuts the cluster down and checks the (sequential) history it recorded; counts the throughput windows' faults. */
  async stop(): Promise<{ linearizable: boolean; ops: number; windowFaults: number; windowSeconds: number }> {
    const ops = await stopBenchCluster(this.cluster);
    let windowFaults = 0;
    for (const o of ops) {
      if (o.fault && o.outcome === 'ok' && this.windows.some((w) => o.start >= w.fromNs && o.start <= w.toNs)) windowFaults++;
    }
    const windowSeconds = this.windows.reduce((s, w) => s + (w.toNs - w.fromNs) / 1e9, 0);
    return { linearizable: checkHistory(ops).ok, ops: ops.length, windowFaults, windowSeconds };
  }
}
