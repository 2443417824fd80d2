// The fair bare path of `ivy-cluster bench` (DESIGN §6 `fair`): a bare manager seat
// and the same eleven clients as the protocol path, each a process running
// out/nodes/bare-fair.js on the real transport and codec, driven by the same
// rotation (rotation.ts) for latency and by the same random workload for
// throughput. Only the protocol is missing (see bare-fair.ts for what that means).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FromFairBareSchema, type FairBareConfig, type ToFairBare } from '../../runtime/bare-control.js';
import { assertPortsFree, clusterPorts } from '../scenarios/ports.js';
import { defaultNodeEntry, nodeExecArgv } from '../supervisor.js';
import { Rotation, ROTATION_CLIENTS, type OpOutcome, type Samples } from './rotation.js';

const OP_TIMEOUT_MS = 5000;

export function fairBareEntry(): string {
  const entry = join(dirname(defaultNodeEntry()), 'bare-fair.js');
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build:nodes\` first`);
  return entry;
}

export class FairBarePath {
  private readonly procs = new Map<string, ChildProcess>();
  private readonly waiters = new Map<number, (t: OpOutcome) => void>();
  private readonly counts = new Map<string, (faults: number) => void>();
  private readonly rotation: Rotation;
  private nextId = 1;
  private windowFaults = 0;
  private windowSeconds = 0;

  private constructor(private readonly entry: string) {
    this.rotation = new Rotation((client, kind, page) => this.op(client, kind, page), 'fair bare');
  }

  /** The same cluster shape as the protocol path: m0 and c0..c10 at the same port offsets. */
  static async start(basePort: number, pageSize: number, pages: number): Promise<FairBarePath> {
    const path = new FairBarePath(fairBareEntry());
    const host = '127.0.0.1';
    const ids = ['m0', ...Array.from({ length: ROTATION_CLIENTS }, (_, i) => `c${i}`)];
    const peers = ids.map((id, i) => ({ id, endpoint: `tcp://${host}:${basePort + (i === 0 ? 0 : 9 + i)}` }));
    await assertPortsFree(host, clusterPorts(basePort, ROTATION_CLIENTS, false));
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
      });
      await path.spawn(cfg(m0!));
      await Promise.all(clients.map((p) => path.spawn(cfg(p))));
      await path.rotation.firstTouch();
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

  /** The first `clients` clients run random ops back to back for `seconds`; faults of ops started inside the window count. */
  async throughputWindow(clients: number, pages: number, seconds: number, seed: number): Promise<void> {
    const ids = Array.from({ length: clients }, (_, i) => `c${i}`);
    const counted = ids.map((id) => new Promise<number>((resolve) => this.counts.set(id, resolve)));
    const t0 = performance.now();
    for (const id of ids) this.send(id, { type: 'workload', spec: { readRatio: 0.5, pages, seed } });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const id of ids) this.send(id, { type: 'workload', spec: null });
    this.windowSeconds += (performance.now() - t0) / 1000;
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('fair bare clients did not report their counts')), OP_TIMEOUT_MS).unref());
    this.windowFaults += (await Promise.race([Promise.all(counted), timeout])).reduce((a, b) => a + b, 0);
    await new Promise((r) => setTimeout(r, 100)); // as the protocol path's pause between blocks
  }

  throughput(): { windowFaults: number; windowSeconds: number } {
    return { windowFaults: this.windowFaults, windowSeconds: this.windowSeconds };
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.procs.values()].map(
        (p) =>
          new Promise<void>((done) => {
            if (p.exitCode !== null || p.signalCode !== null) return done();
            p.once('exit', () => done());
            p.kill('SIGKILL');
          }),
      ),
    );
  }

  private op(client: number, kind: 'read' | 'write', page: number): Promise<OpOutcome> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`fair bare ${kind} on c${client} not answered within ${OP_TIMEOUT_MS} ms`));
      }, OP_TIMEOUT_MS);
      this.waiters.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
      this.send(`c${client}`, { type: 'op', id, kind, page });
    });
  }

  private send(id: string, msg: ToFairBare): void {
    const proc = this.procs.get(id);
    if (!proc?.connected) throw new Error(`fair bare ${id} is not running`);
    proc.send(msg);
  }

  private spawn(cfg: FairBareConfig): Promise<void> {
    // The same V8 flags as the real nodes, so the two paths differ only in the protocol.
    const proc = fork(this.entry, [JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', execArgv: nodeExecArgv() });
    this.procs.set(cfg.id, proc);
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fair bare ${cfg.id} not ready after 20 s ${stderr}`)), 20_000);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`fair bare ${cfg.id} exited (${signal ?? code}) ${stderr}`));
      });
      proc.on('message', (raw: unknown) => {
        const parsed = FromFairBareSchema.safeParse(raw);
        if (!parsed.success) return;
        const m = parsed.data;
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'done') {
          this.waiters.get(m.id)?.(m);
          this.waiters.delete(m.id);
        } else if (m.type === 'count') {
          this.counts.get(m.id)?.(m.faults);
          this.counts.delete(m.id);
        }
      });
    });
  }
}
