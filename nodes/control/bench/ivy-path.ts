// The protocol path of `ivy-cluster bench`: a real cluster (one manager, eleven
// clients) driven one op at a time so every op is a fault with a known shape. The
// page's ownership rotates through the clients:
//   read + write(1 copy): the next client reads (forwarded to the owner), the one
//                         after writes (invalidates that reader, forwarded to the owner);
//   write(0 copies):      the next client writes (forwarded to the owner);
//   write(9 copies):      nine clients read, the next one writes (nine invalidations).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema } from '../api.js';
import { checkHistory } from '../history/linearizability.js';
import { mergeClientLogs } from '../history/merge.js';
import { Supervisor } from '../supervisor.js';

export interface Samples {
  read: number[];
  write0: number[];
  write1: number[];
  write9: number[];
}

export const emptySamples = (): Samples => ({ read: [], write0: [], write1: [], write9: [] });

/** An owner, nine readers and a writer. */
export const IVY_BENCH_CLIENTS = 11;
const PAGE = 0;

export class IvyPath {
  private owner = 0;
  /** Ops that came back as a hit or a failure where the cycle expects a fault (should stay 0). */
  anomalies = 0;

  private constructor(
    private readonly sup: Supervisor,
    private readonly runDir: string,
  ) {}

  /** `backup`: run a backup manager too, so its cost on fault latency can be read off against the same path without. */
  static async start(basePort: number, pageSize: number, backup = false): Promise<IvyPath> {
    const config = ClusterConfigSchema.parse({ clients: IVY_BENCH_CLIENTS, pages: 1, pageSize, basePort, backup });
    const runDir = mkdtempSync(join(tmpdir(), 'ivy-bench-'));
    const sup = new Supervisor({ config, runDir });
    try {
      await sup.start();
    } catch (err) {
      await sup.shutdown();
      rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    const path = new IvyPath(sup, runDir);
    await path.op('write', 0, null); // first touch: the manager grants a zero page, no forward
    return path;
  }

  /** Read by the next client, then a write that invalidates that one copy. */
  async readThenWrite1(into: Samples | null): Promise<void> {
    const reader = this.next(1);
    const writer = this.next(2);
    await this.op('read', reader, into?.read ?? null);
    await this.op('write', writer, into?.write1 ?? null);
    this.owner = writer;
  }

  async write0(into: Samples | null): Promise<void> {
    const writer = this.next(1);
    await this.op('write', writer, into?.write0 ?? null);
    this.owner = writer;
  }

  async write9(into: Samples | null): Promise<void> {
    for (let i = 1; i <= 9; i++) await this.op('read', this.next(i), null);
    const writer = this.next(10);
    await this.op('write', writer, into?.write9 ?? null);
    this.owner = writer;
  }

  /** Shuts the cluster down and checks the (sequential) history it recorded. */
  async stop(): Promise<{ linearizable: boolean; ops: number }> {
    await this.sup.shutdown();
    const ops = mergeClientLogs(this.sup.historyDir());
    rmSync(this.runDir, { recursive: true, force: true });
    return { linearizable: checkHistory(ops).ok, ops: ops.length };
  }

  private next(k: number): number {
    return (this.owner + k) % IVY_BENCH_CLIENTS;
  }

  private async op(kind: 'read' | 'write', client: number, into: number[] | null): Promise<void> {
    const done = await this.sup.op(`c${client}`, kind, PAGE, 0);
    if (!done.ok || !done.fault) {
      this.anomalies++;
      if (!done.ok) throw new Error(`c${client} ${kind} failed: ${done.error ?? 'unknown error'}`);
      return;
    }
    into?.push((done.endNs - done.startNs) / 1000);
  }
}
