// A node's message tracer, alive only while tracing is on: stamps every frame sent with the
// node's vector clock, merges the clock of every frame received, and ships one compact
// record per frame to the supervisor in batches over the control channel (never a file
// write per frame here: the supervisor writes the file and feeds the Messages view).
import type { Message, NodeId } from '../protocol/index.js';
import { TRACE_NOTE_MAX, type TraceBatch, type TraceNote, type TraceTuple } from './control.js';
import type { VectorClock } from './trace-clock.js';
import { decodeClock, nodeCode } from './trace-clock.js';

/**
 * Records per batch at most. A node that dies loses at most one unshipped batch, so a restarted
 * node's clock resumes this far above the last count the supervisor saw: no two frames of one
 * node id ever carry the same count (the frame names in the trace stay unique).
 */
export const TRACE_BATCH_MAX = 1000;
/**
 * A partial batch waits at most this long. Each batch wakes the node and the supervisor once; at
 * 50 ms (256 records) a dozen nodes woke the supervisor ~240 times a second, and those wake-ups
 * on two cores slowed the traced faults more than the records' own CPU did.
 */
export const TRACE_FLUSH_MS = 250;

const nowNs = (): number => Number(process.hrtime.bigint());

type Keyed = Partial<Record<'page' | 'req' | 'requester' | 'view' | 'seq', unknown>>;
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export class Tracer {
  private batch: TraceTuple[] = [];
  private timer: NodeJS.Timeout | null = null;
  constructor(
    readonly id: NodeId,
    readonly clock: VectorClock,
    private readonly ship: (batch: TraceBatch) => void,
    /** A frame's clock part was malformed: the frame is delivered all the same; only the trace loses the merge. */
    private readonly onBadClock: () => void,
  ) {}

  /** The latest receive traced, its record, and the batch it went into (refused() marks it while that batch is unshipped). Fields, not an object: no allocation per frame. */
  private lastRecvMsg: Message | null = null;
  private lastRecvTuple: TraceTuple | null = null;
  private lastRecvBatch: TraceTuple[] | null = null;

  /** A frame about to leave for `to`: returns the clock part to send with it. `note`: what the nemesis does to it. */
  onSend(to: NodeId, msg: Message, note?: TraceNote): Buffer {
    const part = this.clock.send();
    const own = this.clock.own;
    this.add(0, to, msg, own, [this.clock.self, own], note);
    return part;
  }

  /**
   * The node refused `msg` (the core ignored it: a stale epoch, …): marks its receive record. Only the
   * frame just received is marked, and only while its record is unshipped — always so for a refusal the
   * core reports first (a batch ships when the NEXT record finds it full); a parked frame refused later
   * keeps its plain receive.
   */
  refused(msg: Message, reason: string): void {
    if (this.lastRecvMsg !== msg || this.lastRecvBatch !== this.batch || this.lastRecvTuple === null) return;
    this.lastRecvTuple[12] = ['refused', reason.slice(0, TRACE_NOTE_MAX)];
  }

  /** A validated frame received, with the clock part it came with (if any). */
  onReceive(msg: Message, part: Uint8Array | undefined): void {
    let wire = part === undefined ? null : decodeClock(part);
    if (part !== undefined && (wire === null || wire.sender !== nodeCode(msg.from))) {
      this.onBadClock();
      wire = null;
    }
    const delta: number[] = [];
    this.clock.receive(wire, delta);
    this.lastRecvTuple = this.add(1, msg.from, msg, wire ? wire.count : null, delta);
    this.lastRecvMsg = msg;
    this.lastRecvBatch = this.batch;
  }

  private add(dir: 0 | 1, peer: NodeId, msg: Message, frame: number | null, delta: number[], note?: TraceNote): TraceTuple {
    const k = msg as Keyed;
    // A full batch ships before the next record, not after the last: the receive just traced stays
    // in the open batch while the core handles it, so a refusal can still mark it.
    if (this.batch.length >= TRACE_BATCH_MAX) this.flush();
    const tuple: TraceTuple = [
      dir,
      peer,
      nowNs(),
      msg.t,
      msg.epoch,
      num(k.page),
      num(k.req),
      typeof k.requester === 'string' ? k.requester : null,
      num(k.view),
      num(k.seq),
      frame,
      delta,
    ];
    if (note !== undefined) tuple[12] = note;
    this.batch.push(tuple);
    this.timer ??= setTimeout(() => this.flush(), TRACE_FLUSH_MS).unref();
    return tuple;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.batch.length === 0) return;
    const records = this.batch;
    this.batch = [];
    this.ship({ type: 'trace', id: this.id, records });
  }
}
