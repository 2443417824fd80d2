// The write-update path of `ivy-cluster bench`: a real cluster (a registry and N
// members) driven one op at a time, the op's member rotating, so every write is one
// ISIS total-order multicast with nothing queued ahead of it, and every read is a
// local read of the member's replica.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigSchema } from '../api.js';
import { mergeClientLogs } from '../history/merge.js';
import { checkProtocol } from '../history/models.js';
import { Supervisor } from '../supervisor.js';

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
    private readonly sup: Supervisor,
    private readonly runDir: string,
    readonly clients: number,
  ) {}

  static async start(basePort: number, pageSize: number, clients: number): Promise<IsisPath> {
    const config = ClusterConfigSchema.parse({ protocol: 'isis', clients, pages: 1, pageSize, basePort });
    const runDir = mkdtempSync(join(tmpdir(), 'ivy-bench-isis-'));
    const sup = new Supervisor({ config, runDir });
    try {
      await sup.start();
    } catch (err) {
      await sup.shutdown();
      rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    return new IsisPath(sup, runDir, clients);
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
    await this.sup.shutdown();
    const ops = mergeClientLogs(this.sup.historyDir());
    rmSync(this.runDir, { recursive: true, force: true });
    return { sequential: checkProtocol('isis', ops).result.ok, ops: ops.length };
  }

  private async op(kind: 'read' | 'write', into: number[] | null): Promise<void> {
    const client = `c${this.next}`;
    this.next = (this.next + 1) % this.clients;
    const done = await this.sup.op(client, kind, 0, 0);
    if (!done.ok) {
      this.failures++;
      throw new Error(`${client} ${kind} failed: ${done.error ?? 'unknown error'}`);
    }
    into?.push((done.endNs - done.startNs) / 1000);
  }
}
