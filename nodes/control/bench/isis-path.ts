// The write-update path of `ivy-cluster bench`: a real cluster (a registry and N
// members) driven one op at a time, the op's member rotating, so every write is one
// ISIS total-order multicast with nothing queued ahead of it, and every read is a
// local read of the member's replica.
import { checkProtocol } from '../history/models.js';
import { startBenchCluster, stopBenchCluster, type BenchCluster } from './bench-cluster.js';

export interface IsisSamples {
  read: number[];
  write: number[];
}

export const emptyIsisSamples = (): IsisSamples => ({ read: [], write: [] });

export class IsisPath {
  private next = 0;
  /** Ops that failed (should stay 0 on a healthy cluster). */
  failures = 0;

  private constructor(
    private readonly cluster: BenchCluster,
    readonly clients: number,
  ) {}

  static async start(basePort: number, pageSize: number, clients: number): Promise<IsisPath> {
    const cluster = await startBenchCluster({ protocol: 'isis', clients, pages: 1, pageSize, basePort }, 'ivy-bench-isis-');
    return new IsisPath(cluster, clients);
  }

  /** A local read at the next member, then a write at the one after. */
  async readThenWrite(into: IsisSamples | null): Promise<void> {
    await this.op('read', into?.read ?? null);
    await this.op('write', into?.write ?? null);
  }

  async write(into: number[] | null): Promise<void> {
    await this.op('write', into);
  }

  /** Shuts the cluster down and checks its history for sequential consistency. */
  async stop(): Promise<{ sequential: boolean; ops: number }> {
    const ops = await stopBenchCluster(this.cluster);
    return { sequential: checkProtocol('isis', ops).result.ok, ops: ops.length };
  }

  private async op(kind: 'read' | 'write', into: number[] | null): Promise<void> {
    const client = `c${this.next}`;
    this.next = (this.next + 1) % this.clients;
    const done = await this.cluster.sup.op(client, kind, 0, 0);
    if (!done.ok) {
      this.failures++;
      throw new Error(`${client} ${kind} failed: ${done.error ?? 'unknown error'}`);
    }
    into?.push((done.endNs - done.startNs) / 1000);
  }
}
