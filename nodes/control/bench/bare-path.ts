// The bare path of `ivy-cluster bench`: a requester, a manager, an owner and nine
// copy holders, each a bare node process (out/nodes/bare.js) on the real transport
// and codec. The benchmark asks the requester for one op at a time over the same
// kind of control channel the real clients use, so both paths are driven alike.
import type { ChildProcess } from 'node:child_process';
import { FromBareSchema, type BareConfig, type ToBare } from '../../runtime/bare-control.js';
import { generateLinkKeys, type LinkKeys, type Links } from '../../runtime/link-keys.js';
import { assertPortsFree, clusterPorts } from '../scenarios/ports.js';
import { awaitOp, bareNodeEntry, forkBareNode, killAll } from './bare-procs.js';

export interface Timed {
  startNs: number;
  endNs: number;
}

/** Copy holders the bare path can invalidate (the largest write measured has 9). */
export const BARE_COPIES = 9;

export const bareEntry = (): string => bareNodeEntry('bare.js');

export class BarePath {
  private readonly procs: ChildProcess[] = [];
  private requester: ChildProcess | null = null;
  private readonly waiters = new Map<number, (t: Timed) => void>();
  private nextId = 1;

  /** Its own link keys, as a supervisor makes per cluster (null: plain links). */
  private readonly keys: LinkKeys | null;

  private constructor(
    private readonly entry: string,
    private readonly links: Links,
  ) {
    this.keys = links === 'curve' ? generateLinkKeys() : null;
  }

  /** `links`: the same kind as the protocol path it is compared with (curve unless measuring without). */
  static async start(basePort: number, pageSize: number, links: Links = 'curve'): Promise<BarePath> {
    const path = new BarePath(bareEntry(), links);
    const host = '127.0.0.1';
    const ids = ['m0', 'c0', 'c1', ...Array.from({ length: BARE_COPIES }, (_, i) => `c${i + 2}`)];
    const peers = ids.map((id, i) => ({ id, endpoint: `tcp://${host}:${basePort + (i === 0 ? 0 : 9 + i)}` }));
    const copies = ids.slice(3);
    await assertPortsFree(host, clusterPorts(basePort, ids.length - 1, false));
    const roleOf = (id: string): BareConfig['role'] => (id === 'm0' ? 'manager' : id === 'c0' ? 'requester' : id === 'c1' ? 'owner' : 'copy');
    try {
      await Promise.all(
        peers.map(({ id, endpoint }) => path.spawn({ role: roleOf(id), id, endpoint, pageSize, peers, manager: 'm0', owner: 'c1', copies, links })),
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
  static async startMulticast(basePort: number, pageSize: number, members: number, links: Links = 'curve'): Promise<BarePath> {
    const path = new BarePath(bareEntry(), links);
    const host = '127.0.0.1';
    const ids = Array.from({ length: members + 1 }, (_, i) => `c${i}`);
    const peers = ids.map((id, i) => ({ id, endpoint: `tcp://${host}:${basePort + (i === 0 ? 0 : 9 + i)}` }));
    await assertPortsFree(host, clusterPorts(basePort, members, false));
    try {
      await Promise.all(
        peers.map(({ id, endpoint }, i) =>
          path.spawn({ role: i === 0 ? 'mc-sender' : 'mc-member', id, endpoint, pageSize, peers, manager: 'c0', owner: 'c0', copies: ids.slice(1), links }),
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
    const msg: ToBare = { type: 'op', id, kind, copies };
    return awaitOp(this.waiters, id, `bare ${kind} with ${copies} copies`, () => proc.send(msg));
  }

  stop(): Promise<void> {
    return killAll(this.procs);
  }

  private spawn(cfg: BareConfig): Promise<void> {
    const { proc, ready } = forkBareNode(this.entry, cfg, this.keys, 'bare', FromBareSchema, (m) => {
      if (m.type !== 'done') return;
      this.waiters.get(m.id)?.({ startNs: m.startNs, endNs: m.endNs });
      this.waiters.delete(m.id);
    });
    this.procs.push(proc);
    if (cfg.role === 'requester' || cfg.role === 'mc-sender') this.requester = proc;
    return ready;
  }
}
