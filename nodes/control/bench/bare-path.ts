// The bare path of `ivy-cluster bench`: a requester, a manager, an owner and nine
// copy holders, each a bare node process (out/nodes/bare.js) on the real transport
// and codec. The benchmark asks the requester for one op at a time over the same
// kind of control channel the real clients use, so both paths are driven alike.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FromBareSchema, type BareConfig, type ToBare } from '../../runtime/bare-control.js';
import { assertPortsFree, clusterPorts } from '../scenarios/ports.js';
import { defaultNodeEntry, nodeExecArgv } from '../supervisor.js';

export interface Timed {
  startNs: number;
  endNs: number;
}

/** Copy holders the bare path can invalidate (the largest write measured has 9). */
export const BARE_COPIES = 9;
const OP_TIMEOUT_MS = 5000;

export function bareEntry(): string {
  const entry = join(dirname(defaultNodeEntry()), 'bare.js');
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build:nodes\` first`);
  return entry;
}

export class BarePath {
  private readonly procs: ChildProcess[] = [];
  private requester: ChildProcess | null = null;
  private readonly waiters = new Map<number, (t: Timed) => void>();
  private nextId = 1;

  private constructor(private readonly entry: string) {}

  static async start(basePort: number, pageSize: number): Promise<BarePath> {
    const path = new BarePath(bareEntry());
    const host = '127.0.0.1';
    const ids = ['m0', 'c0', 'c1', ...Array.from({ length: BARE_COPIES }, (_, i) => `c${i + 2}`)];
    const peers = ids.map((id, i) => ({ id, endpoint: `tcp://${host}:${basePort + (i === 0 ? 0 : 9 + i)}` }));
    const copies = ids.slice(3);
    await assertPortsFree(host, clusterPorts(basePort, ids.length - 1, false));
    const roleOf = (id: string): BareConfig['role'] => (id === 'm0' ? 'manager' : id === 'c0' ? 'requester' : id === 'c1' ? 'owner' : 'copy');
    try {
      await Promise.all(
        peers.map(({ id, endpoint }) => path.spawn({ role: roleOf(id), id, endpoint, pageSize, peers, manager: 'm0', owner: 'c1', copies })),
      );
    } catch (err) {
      await path.stop();
      throw err;
    }
    return path;
  }

  /**
   * Write-update's baseline: a sender and `members` other members (bare nodes), on
   * the same transport and codec, doing two multicast rounds per op with ISIS's own
   * frames (i_msg -> i_propose, i_agreed -> i_ack). Ports: base (sender), base+10… (members).
   */
  static async startMulticast(basePort: number, pageSize: number, members: number): Promise<BarePath> {
    const path = new BarePath(bareEntry());
    const host = '127.0.0.1';
    const ids = Array.from({ length: members + 1 }, (_, i) => `c${i}`);
    const peers = ids.map((id, i) => ({ id, endpoint: `tcp://${host}:${basePort + (i === 0 ? 0 : 9 + i)}` }));
    await assertPortsFree(host, clusterPorts(basePort, members, false));
    try {
      await Promise.all(
        peers.map(({ id, endpoint }, i) =>
          path.spawn({ role: i === 0 ? 'mc-sender' : 'mc-member', id, endpoint, pageSize, peers, manager: 'c0', owner: 'c0', copies: ids.slice(1) }),
        ),
      );
    } catch (err) {
      await path.stop();
      throw err;
    }
    return path;
  }

  /** One fault's message pattern (or two multicast rounds), closed loop; resolves with the requester's own timing. */
  op(kind: 'read' | 'write' | 'multicast', copies: number): Promise<Timed> {
    const proc = this.requester;
    if (!proc?.connected) return Promise.reject(new Error('bare requester is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`bare ${kind} with ${copies} copies not answered within ${OP_TIMEOUT_MS} ms`));
      }, OP_TIMEOUT_MS);
      this.waiters.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
      const msg: ToBare = { type: 'op', id, kind, copies };
      proc.send(msg);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((done) => {
            if (p.exitCode !== null || p.signalCode !== null) return done();
            p.once('exit', () => done());
            p.kill('SIGKILL');
          }),
      ),
    );
  }

  private spawn(cfg: BareConfig): Promise<void> {
    const proc = fork(this.entry, [JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', execArgv: nodeExecArgv() });
    this.procs.push(proc);
    if (cfg.role === 'requester' || cfg.role === 'mc-sender') this.requester = proc;
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare ${cfg.id} not ready after 20 s ${stderr}`)), 20_000);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`bare ${cfg.id} exited (${signal ?? code}) ${stderr}`));
      });
      proc.on('message', (raw: unknown) => {
        const parsed = FromBareSchema.safeParse(raw);
        if (!parsed.success) return;
        const m = parsed.data;
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'done') {
          this.waiters.get(m.id)?.({ startNs: m.startNs, endNs: m.endNs });
          this.waiters.delete(m.id);
        }
      });
    });
  }
}
