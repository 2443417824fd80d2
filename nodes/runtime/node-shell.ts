// What every node process has around its state machine: the ZeroMQ transport, the
// validated control channel to the supervisor, drop counters, a telemetry timer and
// an orderly shutdown. Roles plug in a frame handler and a telemetry producer.
// Every frame in and out passes here, so this is where message tracing hooks in: one
// null check per frame while it is off.
import { decode, encode, type Message, type NodeId } from '../protocol/index.js';
import { ToNodeSchema, type FromNode, type ToNode } from './control.js';
import type { NemesisCounters, NodeNemesis } from './nemesis.js';
import { NemesisRouter } from './nemesis-router.js';
import type { LinkKeys } from './link-keys.js';
import { VectorClock } from './trace-clock.js';
import { Tracer } from './tracer.js';
import { Transport, type RefusedHandshake } from './transport.js';

type TraceCommand = Extract<ToNode, { type: 'trace' }>;

export class NodeShell {
  readonly transport: Transport;
  /** Frames dropped, by reason: undecodable, invalid, oversize, a protocol-level reason, or a refused handshake (handshake_*: no frame of that connection got through). */
  readonly dropped: Record<string, number> = {};
  private stopping = false;
  private readonly onStop: (() => void)[] = [];
  /** Non-null only while tracing is on. */
  private tracer: Tracer | null = null;
  /** The node's vector clock, kept when tracing goes off so it resumes where it was. */
  private clock: VectorClock | null = null;
  /** Non-null only while network nemesis rules are in force (or frames they delayed are still held). */
  private nemesis: NemesisRouter | null = null;
  /** What the nemesis did to this node's frames, kept across heals (telemetry). */
  private nemesisCounters: NemesisCounters | null = null;

  constructor(
    readonly id: string,
    readonly endpoint: string,
    onMessage: (msg: Message) => void,
    trace?: { clock: Readonly<Record<string, number>> },
    /** The cluster's link keys (null: plain links, only for measuring what CURVE costs). */
    keys: LinkKeys | null = null,
    /** Network nemesis rules in force from the first frame (a node started under a nemesis). */
    nemesis?: NodeNemesis,
  ) {
    if (trace) this.setTracing({ type: 'trace', on: true, clock: trace.clock });
    if (nemesis) this.setNemesis(nemesis);
    this.transport = new Transport(endpoint, (frame, clock) => {
      const r = decode(frame);
      if (!r.ok) {
        this.drop(r.reason);
        return;
      }
      // Traced after validation (a dropped frame is only counted), before the core acts on it.
      if (this.tracer !== null) this.tracer.onReceive(r.msg, clock);
      try {
        onMessage(r.msg);
      } catch (err) {
        // The core is total over validated input; reaching here is a bug, which we report rather than die of.
        this.drop('handler_error');
        this.log('error', `handling ${r.msg.t} from ${r.msg.from}: ${err instanceof Error ? err.stack : String(err)}`);
      }
    }, keys ? { keys, onRefused: (reason) => this.refused(reason) } : undefined);
  }

  private refusedLoggedAt = Number.NEGATIVE_INFINITY;

  /** A refused handshake: counted, and told in the event log at most every 10 s (a refused peer retries all the time). */
  private refused(reason: RefusedHandshake): void {
    this.drop(reason);
    const now = performance.now();
    if (now - this.refusedLoggedAt < 10_000) return;
    this.refusedLoggedAt = now;
    const total = Object.entries(this.dropped).reduce((a, [k, v]) => a + (k.startsWith('handshake_') ? v : 0), 0);
    this.log('warn', `refused a connection without the cluster's keys (${reason}); nothing it sends reaches this node (${total} refused so far)`);
  }

  /** Sends one message to `to` at `endpoint`; with tracing on, stamped with the vector clock and traced. */
  send(to: NodeId, endpoint: string, msg: Message): void {
    const tracer = this.tracer;
    const nemesis = this.nemesis;
    if (nemesis === null) {
      if (tracer === null) this.transport.send(endpoint, encode(msg));
      else this.transport.send(endpoint, encode(msg), tracer.onSend(to, msg));
      return;
    }
    // Traced as sent even when the nemesis then drops or delays it (the network lost it, not the
    // sender), with what the nemesis did to it noted on the send record.
    const frame = encode(msg);
    nemesis.route(to, endpoint, frame, tracer === null ? undefined : (fate) => tracer.onSend(to, msg, fate ?? undefined));
  }

  /** The core refused a received frame (a stale epoch: fenced; …): counted, and marked on its trace record. */
  ignored(msg: Message, reason: string): void {
    this.drop(reason.startsWith('stale') ? 'stale_epoch' : 'ignored');
    this.tracer?.refused(msg, reason);
  }

  /** New network nemesis rules for this node's outgoing links (empty: heal). */
  private setNemesis(cmd: NodeNemesis): void {
    if (this.nemesis) {
      this.nemesis.set(cmd);
      return;
    }
    if (cmd.rules.length === 0) return;
    const router = new NemesisRouter(
      this.id,
      cmd,
      (endpoint, frame, clock) => this.transport.send(endpoint, frame, clock),
      () => {
        if (this.nemesis === router) this.nemesis = null; // back to the plain path
      },
    );
    // One counter object for the node's life: a later router adds to the same counts.
    if (this.nemesisCounters) Object.assign(router.engine.counters, this.nemesisCounters);
    this.nemesisCounters = router.engine.counters;
    this.nemesis = router;
    if (router.idle) this.nemesis = null;
  }

  private setTracing(cmd: TraceCommand): void {
    if (!cmd.on) {
      this.tracer?.flush();
      this.tracer = null;
      return;
    }
    if (this.tracer) return;
    this.clock ??= new VectorClock(this.id, cmd.clock);
    this.tracer = new Tracer(
      this.id,
      this.clock,
      (batch) => this.toSupervisor(batch),
      () => this.drop('bad_trace_clock'),
    );
  }

  drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  droppedTotal(): number {
    return Object.values(this.dropped).reduce((a, b) => a + b, 0);
  }

  toSupervisor(msg: FromNode): void {
    if (process.send && process.connected) process.send(msg);
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    if (process.send && process.connected) this.toSupervisor({ type: 'log', level, message: message.slice(0, 2000) });
    else console.error(`[${this.id}] ${level}: ${message}`);
  }

  onControl(handler: (cmd: ToNode) => void): void {
    process.on('message', (raw: unknown) => {
      const parsed = ToNodeSchema.safeParse(raw);
      if (!parsed.success) {
        this.log('warn', `bad control message dropped: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        return;
      }
      if (parsed.data.type === 'shutdown') void this.shutdown(0);
      else if (parsed.data.type === 'trace') this.setTracing(parsed.data);
      else if (parsed.data.type === 'nemesis') this.setNemesis(parsed.data);
      else handler(parsed.data);
    });
  }

  private produce: (() => FromNode) | null = null;
  private telemetryCheck: ((now: number) => void) | null = null;

  /**
   * Telemetry every `everyMs` while something changes, and an `alive` message (resident memory, a sign
   * of life) every `keepaliveMs` when nothing does: an idle node neither builds nor ships its tables,
   * and the supervisor does not parse them. `changeKey` is cheap and differs whenever a report would.
   * There is no timer of its own: the role calls telemetryTick() from the tick it runs anyway, so an
   * idle node wakes once per tick, not once per tick and once per report.
   */
  startTelemetry(everyMs: number, produceRole: () => FromNode, roleKey: () => string, keepaliveMs = Math.max(2000, everyMs * 10)): void {
    // The nemesis counters ride along in every telemetry report, whatever the role.
    const produce = (): FromNode => {
      const t = produceRole();
      const c = this.nemesisCounters;
      return c !== null && t.type === 'telemetry' ? { ...t, nemesis: { ...c } } : t;
    };
    const changeKey = (): string => {
      const c = this.nemesisCounters;
      return c === null ? roleKey() : `${roleKey()} ${c.partitioned} ${c.lost} ${c.duplicated} ${c.delayed}`;
    };
    this.produce = produce;
    let lastKey = changeKey();
    let lastCheck = performance.now();
    let lastSent = lastCheck;
    this.telemetryCheck = (now) => {
      if (now - lastCheck < everyMs * 0.9) return; // timers fire a little early or late: don't skip a whole tick
      lastCheck = now;
      const key = changeKey();
      if (key === lastKey && now - lastSent < keepaliveMs) return;
      lastSent = now;
      // Nothing changed since the last report: only the memory reading, not the tables again (an idle
      // client's page table is ~64 rows to build, serialise and validate, times 64 clients every keepalive).
      if (key === lastKey) {
        this.toSupervisor({ type: 'alive', id: this.id, rssBytes: process.memoryUsage.rss() });
        return;
      }
      lastKey = key;
      this.toSupervisor(produce());
    };
    this.toSupervisor(produce());
  }

  /** Called from the role's own tick (which must run at least every `everyMs`). */
  telemetryTick(now: number): void {
    if (!this.stopping) this.telemetryCheck?.(now);
  }

  atStop(fn: () => void): void {
    this.onStop.push(fn);
  }

  /** Graceful stop (SIGTERM, Ctrl-C or a shutdown command): flush, close sockets, exit. */
  async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const fn of this.onStop) fn();
    this.nemesis?.close();
    this.transport.close();
    this.tracer?.flush(); // sent before the last telemetry below, on the same ordered channel
    // A graceful stop reports its last telemetry window so no measured latency is lost.
    if (this.produce && process.send && process.connected) {
      const exit = setTimeout(() => process.exit(code), 500);
      process.send(this.produce(), () => {
        clearTimeout(exit);
        process.exit(code);
      });
      return;
    }
    process.exit(code);
  }

  installSignalHandlers(): void {
    process.on('SIGTERM', () => void this.shutdown(0));
    process.on('SIGINT', () => void this.shutdown(0));
    // Losing the supervisor means nobody can stop us any more: stop on our own.
    process.on('disconnect', () => void this.shutdown(0));
  }
}
