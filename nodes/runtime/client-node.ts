// The client process: a ClientCore behind ZeroMQ, a workload generator, the history
// log, and fault-latency telemetry. Every operation is timed here with the monotonic
// clock shared by all processes on the machine.
import { PROTOCOLS, type MemberCore, type MemberOutput, type OpRequest, type OpResult, type PageView } from '../core/index.js';
import type { Rng } from '../core/random.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../core/token.js';
import type { Message, NodeId } from '../protocol/index.js';
import type { ClientNodeConfig } from './config.js';
import type { ToNode, WorkloadSpec } from './control.js';
import { HistoryLog } from './history-log.js';
import { LatencyWindow } from './latency.js';
import type { LinkKeys } from './link-keys.js';
import { NodeShell } from './node-shell.js';
import { PageFaces, type PageFace } from './page-faces.js';
import { nextDue, workloadStart } from './workload-start.js';
import { drawOp, drawWorkloadOp } from './op-draw.js';
import { openPageStore, type PageStore, type Recovery } from './page-store.js';
import { rmSync } from 'node:fs';

const nowNs = (): number => Number(process.hrtime.bigint());
/** Pending-queue rows shipped per telemetry frame (the Total order panel shows the head of the queue). */
const TELEMETRY_QUEUE = 200;
const nowMs = (): number => performance.now();

interface InFlight {
  id: number;
  kind: 'read' | 'write';
  page: number;
  token: string | null;
  /** Monotonic ns after the invoke line was logged: what latency is measured from. */
  t0: number;
  /** Command id when the supervisor asked for this op (a round), else null (workload). */
  cmd: number | null;
}

/**
 * The spec's fields copied in, not the spec object kept: V8 records the map of an object held in a field, and
 * a spec's map dies with its last object at a major GC, so the next workload's spec came with a new map and
 * deoptimised the whole op path (completed, processImmediate, ...) right as its ops began. One literal, one map.
 */
interface RunningWorkload {
  readRatio: number;
  rate: number;
  ops: number;
  pages: number;
  rng: Rng;
  issued: number;
  /** Monotonic ms at which the next op is due (rate limiting). */
  nextAt: number;
}

export class ClientNode {
  private readonly core: MemberCore;
  private readonly shell: NodeShell;
  private readonly log: HistoryLog | null;
  private readonly managers: Map<NodeId, string>;
  /**
   * Ops in flight: none or one in a workload, a few in a supervisor's round. An array searched by id, not a
   * Map, which allocated a new hash table in V8's old space each time the last op completed (core/page-map.ts).
   */
  private readonly inflight: InFlight[] = [];
  private nextOpId = 1;
  private announcedReady = false;
  private nextToken: number;
  private workload: RunningWorkload | null = null;
  /** The next workload op's wait: a timer at a rate, an immediate back to back (one of them at most). */
  private workloadTimeout: NodeJS.Timeout | null = null;
  private workloadImmediate: NodeJS.Immediate | null = null;
  private lastHeartbeatAt = 0;
  /** Frames that may have left the core work to do: every frame but a heartbeat's lease acknowledgement. */
  private wakingFrames = 0;
  private wakingAtTick = 0;
  private tickDueAt = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  /** Ends an idle sleep of the tick early: something happened. */
  private soon: (now: number) => void = () => undefined;
  /** The telemetry page table's preview and token of each page, made again only for pages that changed. */
  private readonly faces = new PageFaces();
  private readonly windowRead = new LatencyWindow();
  private readonly windowWrite = new LatencyWindow();
  /** Where owned pages are written before a write is acknowledged (nothing for volatile memory). */
  private readonly store: PageStore;
  private readonly recovery: Recovery | null;
  /** When recovery finished (monotonic ms), and how many recovered pages still wait for the manager. */
  private readonly bootAt = nowMs();
  private recoveredPending = 0;

  constructor(
    private readonly cfg: ClientNodeConfig,
    keys: LinkKeys | null = null,
  ) {
    this.managers = new Map(cfg.managers.map((m) => [m.id, m.endpoint]));
    const memory = cfg.protocol === 'ivy' ? cfg.memory : 'volatile';
    // Incarnation 0 is a new cluster: a segment left by an earlier run in this directory is not ours.
    if (cfg.incarnation === 0 && cfg.storeFile) rmSync(cfg.storeFile, { force: true });
    const opened = openPageStore(memory, cfg.storeFile ?? null, { pages: cfg.pages, pageSize: cfg.pageSize });
    this.store = opened.store;
    this.recovery = opened.recovery;
    const recovered = (this.recovery?.pages ?? []).filter((p) => p.owner);
    this.recoveredPending = recovered.length;
    this.core = PROTOCOLS[cfg.protocol].member({
      id: cfg.id,
      endpoint: cfg.endpoint,
      managers: cfg.managers.map((m) => m.id),
      heartbeatMs: cfg.heartbeatMs,
      retryMs: cfg.retryMs,
      ...(cfg.minRetryMs !== undefined ? { minRetryMs: cfg.minRetryMs } : {}),
      voteMs: cfg.voteMs,
      epoch: cfg.epoch,
      pages: cfg.pages,
      pageSize: cfg.pageSize,
      opTimeoutMs: cfg.opTimeoutMs,
      incarnation: cfg.incarnation,
      memory,
      recovered: recovered.map((p) => ({ page: p.page, access: p.access, version: p.version, data: p.data })),
      recoverLoss: cfg.recoverLoss,
    });
    this.nextToken = cfg.incarnation * 1_000_000 + 1;
    this.log = cfg.historyFile ? new HistoryLog(cfg.historyFile) : null;
    this.shell = new NodeShell(cfg.id, cfg.endpoint, (msg) => this.onMessage(msg), cfg.trace, keys, cfg.nemesis);
  }

  async start(): Promise<void> {
    this.shell.installSignalHandlers();
    this.shell.atStop(() => this.log?.close());
    await this.shell.transport.bind();
    this.shell.atStop(() => this.store.close());
    this.reportRecovery();
    this.shell.onControl((cmd) => this.onControl(cmd));
    this.apply(this.core.start(nowMs()));
    // Op timeouts need a clock tick even when no messages arrive.
    // Ticks drive heartbeats, retries and op timeouts; half the shortest of those is fine-grained enough.
    const tickMs = Math.min(this.cfg.telemetryMs, Math.max(5, Math.floor(Math.min(this.cfg.heartbeatMs, this.cfg.retryMs, this.cfg.opTimeoutMs / 5) / 2)));
    // With no op in flight and nothing received, only the heartbeat is due: sleep until just after it
    // instead of ticking twice per heartbeat (the core decides, as before; it is only asked less often when
    // it has nothing else to do). A frame or an op ends such a sleep early (soon()), so telemetry of a
    // change and the retry and timeout clocks of an op run as they did.
    const tick = (): void => {
      const now = nowMs();
      this.apply(this.core.tick(now));
      this.shell.telemetryTick(now);
      const busy = this.inflight.length > 0 || this.wakingFrames !== this.wakingAtTick;
      this.wakingAtTick = this.wakingFrames;
      // An adaptive retry (nodes/core/rto.ts) may fall due sooner than the next tick: wake for it.
      const retryAt = this.core.nextRetryAt?.() ?? null;
      const untilRetry = retryAt === null ? tickMs : Math.max(1, Math.ceil(retryAt - nowMs()) + 1);
      const wait = busy ? Math.min(tickMs, untilRetry) : Math.max(tickMs, this.lastHeartbeatAt + this.cfg.heartbeatMs + 1 - nowMs());
      this.tickDueAt = now + wait;
      this.tickTimer = setTimeout(tick, wait).unref();
    };
    this.soon = (now) => {
      if (this.tickDueAt - now <= tickMs || !this.tickTimer) return;
      clearTimeout(this.tickTimer);
      this.tickDueAt = now + tickMs;
      this.tickTimer = setTimeout(tick, tickMs).unref();
    };
    this.tickDueAt = nowMs() + tickMs;
    this.tickTimer = setTimeout(tick, tickMs).unref();
    this.shell.startTelemetry(this.cfg.telemetryMs, () => this.telemetry(), () => this.telemetryKey());
  }

  /**
   * Changes whenever the telemetry would: a frame in (the page table moves only on frames; a lease ack
   * moves nothing shown), an op done, a drop (a refused handshake is a drop that brings no frame).
   */
  private telemetryKey(): string {
    this.log?.flush(); // completions are batched into the next write; an idle client still flushes its last ones
    const t = this.shell.transport.stats;
    return `${this.wakingFrames} ${t.sendDropped} ${this.shell.droppedTotal()} ${this.core.counters.ops} ${this.core.counters.ignored} ${this.core.currentEpoch}`;
  }

  // --- protocol plumbing --------------------------------------------------------------

  private onMessage(msg: Message): void {
    const wasJoined = this.core.joined;
    const now = nowMs();
    // The ack of our own heartbeat only renews the lease: it needs no early tick, or every heartbeat would
    // wake an idle client three times instead of once.
    if (msg.t !== 'hb_ack') {
      this.wakingFrames++;
      this.soon(now);
    }
    this.apply(this.core.receive(msg, now));
    // Ready once we can serve: IVY, listed by the manager; ISIS, in a view with the replicated state.
    if (!wasJoined && !this.announcedReady && this.core.joined) {
      this.announcedReady = true;
      this.shell.toSupervisor({ type: 'ready', id: this.cfg.id, pid: process.pid, endpoint: this.cfg.endpoint });
    }
  }

  private apply(outputs: MemberOutput[]): void {
    // Rio Vista: the owner's copy is in the OS (durable: on the device) before any write is acknowledged,
    // any page is confirmed to the manager, or any page is passed on.
    const changes = this.core.takeDirty?.() ?? [];
    if (changes.length > 0) {
      const epoch = this.core.currentEpoch;
      for (const ch of changes) {
        if (ch.keep) this.store.put({ page: ch.page, access: ch.keep.access, owner: true, version: ch.keep.version, epoch, data: ch.keep.data });
        else this.store.erase(ch.page);
      }
      this.store.sync();
    }
    if (this.recoveredPending > 0) this.noteRestored();
    for (const o of outputs) {
      if (o.type === 'send') {
        if (o.msg.t === 'hb' || o.msg.t === 'i_hb') this.lastHeartbeatAt = nowMs();
        const endpoint = this.managers.get(o.to) ?? this.core.endpointOf(o.to);
        if (endpoint === undefined) this.shell.drop('unknown_peer');
        else this.shell.send(o.to, endpoint, o.msg);
      } else if (o.type === 'ignored') {
        this.shell.ignored(o.msg, o.reason);
      } else {
        this.completed(o.result);
      }
    }
  }

  // --- operations -------------------------------------------------------------------

  private issue(kind: 'read' | 'write', page: number, cmd: number | null): void {
    const id = this.nextOpId++;
    const token = kind === 'write' ? `${this.cfg.id}:${this.nextToken++}` : null;
    const start = nowNs();
    this.log?.invoke(id, kind, page, token, start);
    const t0 = nowNs();
    this.inflight.push({ id, kind, page, token, t0, cmd });
    const op: OpRequest =
      kind === 'write'
        ? { id, kind, page, offset: 0, data: encodeToken(token!) }
        : { id, kind, page, offset: 0, length: Math.min(TOKEN_SPAN, this.cfg.pageSize) };
    const now = nowMs();
    this.soon(now);
    this.apply(this.core.submit(op, now));
  }

  private completed(result: OpResult): void {
    const end = nowNs();
    const at = this.inflight.findIndex((op) => op.id === result.id);
    if (at < 0) return;
    const f = this.inflight[at]!;
    this.inflight.splice(at, 1);
    const data = result.ok ? result.data : undefined;
    const value = f.kind === 'write' ? f.token : data ? decodeToken(data) : null;
    const outcome = result.ok ? 'ok' : result.unknown ? 'unknown' : 'fail';
    this.log?.complete(result.id, value, end, outcome, result.fault, result.ok ? result.pos : undefined, result.ok ? result.wpos : undefined);
    if (result.ok && result.fault) (f.kind === 'read' ? this.windowRead : this.windowWrite).record(end - f.t0);
    if (f.cmd !== null) {
      this.shell.toSupervisor({
        type: 'opDone',
        id: f.cmd,
        client: this.cfg.id,
        kind: f.kind,
        page: f.page,
        ok: result.ok,
        fault: result.fault,
        startNs: f.t0,
        endNs: end,
        ...(result.ok ? {} : { error: result.error }),
      });
    } else if (this.workload) {
      this.scheduleWorkload();
    }
  }

  // --- control ------------------------------------------------------------------------

  private onControl(cmd: ToNode): void {
    if (cmd.type === 'workload') {
      // A new workload (or none) replaces the old one's next op: its wait could otherwise hold off the new one's.
      this.cancelWorkloadWait();
      this.workload = cmd.spec && this.startWorkload(cmd.spec);
      if (this.workload && this.workloadIdle()) this.scheduleWorkload();
    } else if (cmd.type === 'op') {
      const { kind, page } = drawOp(cmd.kind, cmd.page, cmd.seed, this.core.pageTable().map((p) => p.access), this.cfg.pages);
      if (page >= this.cfg.pages) {
        this.shell.toSupervisor({ type: 'opDone', id: cmd.id, client: this.cfg.id, kind, page, ok: false, fault: false, startNs: nowNs(), endNs: nowNs(), error: `page ${page} out of range` });
        return;
      }
      this.issue(kind, page, cmd.id);
    }
  }

  private startWorkload(spec: WorkloadSpec): RunningWorkload {
    const { rng, phaseMs } = workloadStart(spec.seed, this.cfg.id, this.cfg.incarnation, spec.rate);
    return { readRatio: spec.readRatio, rate: spec.rate, ops: spec.ops, pages: spec.pages, rng, issued: 0, nextAt: nowMs() + phaseMs };
  }

  private workloadIdle(): boolean {
    return !this.inflight.some((f) => f.cmd === null);
  }

  /** Issues the next workload op when it is due; one op outstanding at a time, like a program's thread. */
  private scheduleWorkload(): void {
    const w = this.workload;
    if (!w || this.workloadTimeout !== null || this.workloadImmediate !== null) return;
    if (w.ops > 0 && w.issued >= w.ops) {
      this.workload = null;
      this.shell.toSupervisor({ type: 'workloadDone', id: this.cfg.id, ops: w.issued });
      return;
    }
    const wait = w.rate > 0 ? Math.max(0, w.nextAt - nowMs()) : 0;
    // setImmediate between back-to-back ops keeps the socket loop and telemetry responsive.
    if (wait > 0) this.workloadTimeout = setTimeout(this.nextWorkloadOp, wait);
    else this.workloadImmediate = setImmediate(this.nextWorkloadOp);
  }

  /** One function for every op (not a closure per op, which V8 never optimised: each ran interpreted). */
  private readonly nextWorkloadOp = (): void => {
    this.workloadTimeout = null;
    this.workloadImmediate = null;
    const w = this.workload;
    if (!w) return;
    w.issued++;
    if (w.rate > 0) w.nextAt = nextDue(w.nextAt, w.rate, nowMs());
    const { kind, page } = drawWorkloadOp(w.rng, w.readRatio, Math.min(w.pages, this.cfg.pages));
    this.issue(kind, page, null);
  };

  private cancelWorkloadWait(): void {
    if (this.workloadTimeout !== null) clearTimeout(this.workloadTimeout);
    if (this.workloadImmediate !== null) clearImmediate(this.workloadImmediate);
    this.workloadTimeout = null;
    this.workloadImmediate = null;
  }

  // --- recoverable memory -------------------------------------------------------------

  /** What the page segment gave back, and everything wrong with it, in the event log. */
  private reportRecovery(): void {
    const r = this.recovery;
    if (!r) return;
    for (const p of r.problems) this.shell.log(p.lost ? 'warn' : 'info', p.message);
    if (r.quarantined) this.shell.log('warn', `unusable segment moved to ${r.quarantined}`);
    if (!r.fresh) this.shell.log('info', `recovered ${this.recoveredPending} owned page(s) from ${r.file} (incarnation ${this.cfg.incarnation}); waiting for the manager to restore them`);
  }

  /** Once the manager has ruled on every recovered page: how long it took, and what came back. */
  private noteRestored(): void {
    const table = this.core.pageTable();
    const waiting = table.filter((p) => p.recovered).length;
    if (waiting > 0) return;
    const total = this.recoveredPending;
    this.recoveredPending = 0;
    const owned = table.filter((p) => p.owner).length;
    this.shell.log('info', `recovered pages served again ${Math.round(nowMs() - this.bootAt)} ms after start: ${total} ruled on, ${owned} owned now`);
  }

  // --- telemetry ----------------------------------------------------------------------

  private telemetry() {
    this.log?.flush();
    // An idle client ships no latencies; a lightly loaded one its few raw samples, not histograms (latency.ts).
    const idle = this.windowRead.count === 0 && this.windowWrite.count === 0;
    const latency = idle ? undefined : { read: this.windowRead.take(), write: this.windowWrite.take() };
    // The core's rows are fresh: the face goes onto each (64 rows, 5 times a second, in a busy client).
    const pageTable = this.core.pageTable().map((p) => {
      const face = this.faces.of(p.page, this.core.pageBytes(p.page));
      const row = p as PageView & PageFace;
      row.preview = face.preview;
      row.token = face.token;
      return row;
    });
    const view = this.core.protocolView?.();
    return {
      type: 'telemetry' as const,
      id: this.cfg.id,
      epoch: this.core.currentEpoch,
      rssBytes: process.memoryUsage.rss(),
      dropped: { ...this.shell.dropped, send_dropped: this.shell.transport.stats.sendDropped },
      counters: { ...this.core.counters },
      pageTable,
      ...(view ? { isisMember: { ...view, queue: view.queue.slice(0, TELEMETRY_QUEUE) } } : {}),
      ...(latency ? { latency } : {}),
    };
  }
}
