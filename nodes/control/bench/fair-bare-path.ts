// The fair bare path of `ivy-cluster bench` (DESIGN §6 `fair`): a bare manager seat
// and the same eleven clients as the protocol path, each a process running
// out/nodes/bare-fair.js on the real transport and codec, driven by the same
// rotation (rotation.ts) for latency and by the same random workload for
// throughput. Only the protocol is missing (see bare-fair.ts for what that means).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientMemory } from '../../protocol/messages.js';
import { FromFairBareSchema, type FairBareConfig, type FromFairBare, type ToFairBare } from '../../runtime/bare-control.js';
import { generateLinkKeys, type LinkKeys, type Links } from '../../runtime/link-keys.js';
import type { HistoryOp } from '../history/schema.js';
import type { RoundDriver, RoundOpDone } from '../scenarios/rounds.js';
import { assertPortsFree, clusterPorts } from '../scenarios/ports.js';
import { awaitOp, bareNodeEntry, forkBareNode, killAll, OP_TIMEOUT_MS } from './bare-procs.js';
import { inWaves, startWindow } from '../supervisor.js';
import { Rotation, ROTATION_CLIENTS, type OpOutcome, type Samples } from './rotation.js';

export const fairBareEntry = (): string => bareNodeEntry('bare-fair.js');

type Done = Extract<FromFairBare, { type: 'done' }>;
type Count = Extract<FromFairBare, { type: 'count' }>;

/** A recorded workload op, in the history's terms (history/schema.ts) so the scenarios' summaries read it. */
export type WindowOp = Pick<HistoryOp, 'op' | 'start' | 'end' | 'outcome' | 'fault'>;

export class FairBarePath implements RoundDriver {
  private readonly procs = new Map<string, ChildProcess>();
  private readonly waiters = new Map<number, (t: Done) => void>();
  private readonly counts = new Map<string, (count: Count) => void>();
  private readonly rotation: Rotation;
  private nextId = 1;
  private windowFaults = 0;
  private windowSeconds = 0;

  /** Its own link keys, as a supervisor makes per cluster (null: plain links). */
  private readonly keys: LinkKeys | null;

  /** Folder of the clients' page segments (recoverable and durable: `c3.seg`), removed at stop. */
  readonly storeDir = mkdtempSync(join(tmpdir(), 'ivy-fair-bare-'));

  private constructor(private readonly entry: string, links: Links) {
    this.rotation = new Rotation((client, kind, page) => this.rotationOp(client, kind, page), 'fair bare');
    this.keys = links === 'curve' ? generateLinkKeys() : null;
  }

  /**
   * The same cluster shape as the protocol path: m0 and c0..c10 at the same port offsets, and the same kind of
   * links (curve unless measuring without) and the same client memory (each owned page written to a segment
   * unless volatile), so the comparison is of the protocol alone.
   */
  static async start(basePort: number, pageSize: number, pages: number, memory: ClientMemory, links: Links = 'curve'): Promise<FairBarePath> {
    const path = await FairBarePath.launch(basePort, ROTATION_CLIENTS, pageSize, pages, memory, links);
    try {
      await path.rotation.firstTouch();
    } catch (err) {
      await path.stop();
      throw err;
    }
    return path;
  }

  /** m0 and `clients` clients on `pages` pages, nothing touched yet: for a scenario's rounds (`bench --s1`) or a rated workload (`bench --scale`). */
  static open(basePort: number, clients: number, pages: number, pageSize: number, memory: ClientMemory): Promise<FairBarePath> {
    return FairBarePath.launch(basePort, clients, pageSize, pages, memory, 'curve');
  }

  private static async launch(basePort: number, clientCount: number, pageSize: number, pages: number, memory: ClientMemory, links: Links): Promise<FairBarePath> {
    const path = new FairBarePath(fairBareEntry(), links);
    const host = '127.0.0.1';
    const ids = ['m0', ...Array.from({ length: clientCount }, (_, i) => `c${i}`)];
    const peers = ids.map((id, i) => ({ id, endpoint: `tcp://${host}:${basePort + (i === 0 ? 0 : 9 + i)}` }));
    await assertPortsFree(host, clusterPorts(basePort, clientCount, false));
    try {
      // Manager first, as the supervisor starts a cluster.
      const [m0, ...clients] = peers;
      const cfg = (p: { id: string; endpoint: string }): FairBareConfig => ({
        role: p.id === 'm0' ? 'manager' : 'client',
        id: p.id,
        endpoint: p.endpoint,
        pages,
        pageSize,
        peers,
        manager: 'm0',
        links,
        memory,
        ...(memory !== 'volatile' && p.id !== 'm0' ? { storeFile: join(path.storeDir, `${p.id}.seg`) } : {}),
      });
      await path.spawn(cfg(m0!));
      // In the supervisor's waves too, so ready times (`bench --scale`) compare start-ups of the same shape.
      await inWaves(clients, startWindow(), (p) => path.spawn(cfg(p)));
    } catch (err) {
      await path.stop();
      throw err;
    }
    return path;
  }

  get anomalies(): number {
    return this.rotation.anomalies;
  }

  block(n: number, into: Samples | null): Promise<void> {
    return this.rotation.block(n, into);
  }

  pids(): { manager: number[]; client: number[] } {
    const of = (f: (id: string) => boolean): number[] => [...this.procs].filter(([id, p]) => f(id) && p.pid !== undefined).map(([, p]) => p.pid!);
    return { manager: of((id) => id.startsWith('m')), client: of((id) => id.startsWith('c')) };
  }

  /**
   * The first `clients` clients run random ops back to back for `seconds`; faults of ops started inside the window
   * count, unless `counted` is false (a warm-up window).
   */
  async throughputWindow(clients: number, pages: number, seconds: number, seed: number, counted = true): Promise<void> {
    const ids = Array.from({ length: clients }, (_, i) => `c${i}`);
    const t0 = performance.now();
    let elapsed = 0; // up to the stop, as before: not the wait for the counts
    const counts = await this.workload(ids, { readRatio: 0.5, pages, seed, rate: 0, record: false }, seconds, () => (elapsed = (performance.now() - t0) / 1000));
    const faults = counts.reduce((a, c) => a + c.faults, 0);
    if (counted) {
      this.windowSeconds += elapsed;
      this.windowFaults += faults;
    }
    await new Promise((r) => setTimeout(r, 100)); // as the protocol path's pause between blocks
  }

  /**
   * Every client runs random ops at `rate` a second for `seconds`, each from its own seeded point of the first period
   * (`bench --scale`); returns every op that started inside the window, as the protocol path's history would.
   */
  async rateWindow(readRatio: number, pages: number, rate: number, seconds: number, seed: number): Promise<{ ops: WindowOp[]; fromNs: number; toNs: number }> {
    const ids = this.nodeInfos().map((n) => n.id);
    const fromNs = Number(process.hrtime.bigint());
    let toNs = fromNs;
    const counts = await this.workload(ids, { readRatio, pages, seed, rate, record: true }, seconds, () => (toNs = Number(process.hrtime.bigint())));
    const ops: WindowOp[] = [];
    for (const c of counts) {
      for (const [op, ok, fault, start, end] of c.ops ?? []) if (start >= fromNs && start <= toNs) ops.push({ op, fault, start, end, outcome: ok ? 'ok' : 'fail' });
    }
    return { ops, fromNs, toNs };
  }

  /** Runs `spec` on `ids` for `seconds`, stops it (`atStop` just before) and collects each client's count. */
  private async workload(ids: readonly string[], spec: NonNullable<Extract<ToFairBare, { type: 'workload' }>['spec']>, seconds: number, atStop?: () => void): Promise<Count[]> {
    const reports = ids.map((id) => new Promise<Count>((resolve) => this.counts.set(id, resolve)));
    for (const id of ids) this.send(id, { type: 'workload', spec });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    atStop?.();
    for (const id of ids) this.send(id, { type: 'workload', spec: null });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('fair bare clients did not report their counts')), OP_TIMEOUT_MS).unref());
    return Promise.race([Promise.all(reports), timeout]);
  }

  throughput(): { windowFaults: number; windowSeconds: number } {
    return { windowFaults: this.windowFaults, windowSeconds: this.windowSeconds };
  }

  async stop(): Promise<void> {
    await killAll(this.procs.values());
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  private rotationOp(client: number, kind: 'read' | 'write', page: number): Promise<OpOutcome> {
    const id = this.nextId++;
    return awaitOp(this.waiters, id, `fair bare ${kind} on c${client}`, () => this.send(`c${client}`, { type: 'op', id, kind, page, seed: 0 }));
  }

  // --- RoundDriver: the seed's rounds (rounds.ts runRound) on this path --------------------------

  nodeInfos(): { id: string; role: 'client'; state: 'up' }[] {
    return [...this.procs].filter(([id, p]) => id.startsWith('c') && p.connected).map(([id]) => ({ id, role: 'client', state: 'up' }));
  }

  op(client: string, kind: 'write' | 'random', page: number | 'missing', seed: number): Promise<RoundOpDone> {
    const id = this.nextId++;
    // The bare client's `done` is the protocol client's `opDone` but for the client's name (and its message fields).
    const done = awaitOp(this.waiters, id, `fair bare ${kind} on ${client}`, () => this.send(client, { type: 'op', id, kind, page, seed }));
    return done.then(({ type: _type, id: _id, ...outcome }) => ({ client, ...outcome }));
  }

  private send(id: string, msg: ToFairBare): void {
    const proc = this.procs.get(id);
    if (!proc?.connected) throw new Error(`fair bare ${id} is not running`);
    proc.send(msg);
  }

  private spawn(cfg: FairBareConfig): Promise<void> {
    const { proc, ready } = forkBareNode(this.entry, cfg, this.keys, 'fair bare', FromFairBareSchema, (m) => {
      if (m.type === 'done') {
        this.waiters.get(m.id)?.(m);
        this.waiters.delete(m.id);
      } else if (m.type === 'count') {
        this.counts.get(m.id)?.(m);
        this.counts.delete(m.id);
      }
    });
    this.procs.set(cfg.id, proc);
    return ready;
  }
}
