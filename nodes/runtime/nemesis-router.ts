// The shell half of the nemesis: asks the engine (nemesis.ts) what becomes of each
// outgoing frame and carries it out — sends now, drops, or holds copies on a per-link
// queue ordered by due time, with one timer per link for its head.
import { mulberry32 } from '../core/random.js';
import { fateOf, NemesisEngine, type NemesisFate, type NodeNemesis } from './nemesis.js';

type Out = (endpoint: string, frame: Buffer, clock: Buffer | undefined) => void;

interface Held {
  due: number;
  endpoint: string;
  frame: Buffer;
  clock: Buffer | undefined;
}

export class NemesisRouter {
  readonly engine: NemesisEngine;
  private rng: () => number;
  private readonly queues = new Map<string, Held[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    self: string,
    cmd: NodeNemesis,
    private readonly out: Out,
    /** Called when no rule is in force and nothing is held: the shell can go back to the plain path. */
    private readonly onIdle: () => void,
  ) {
    this.rng = mulberry32(cmd.seed);
    this.engine = new NemesisEngine(self, cmd.rules, () => this.rng());
  }

  set(cmd: NodeNemesis): void {
    this.rng = mulberry32(cmd.seed);
    this.engine.setRules(cmd.rules);
    this.checkIdle();
  }

  get idle(): boolean {
    return !this.engine.active && this.queues.size === 0;
  }

  /**
   * Sends, drops or holds one frame to `to`. `stamp` (tracing on): traces the send with what the nemesis
   * decided for it — recorded here, where it is decided — and returns the clock part to send with it.
   */
  route(to: string, endpoint: string, frame: Buffer, stamp?: (fate: NemesisFate) => Buffer): void {
    const now = performance.now();
    const due = this.engine.decide(to, now);
    const clock = stamp === undefined ? undefined : stamp(due === null ? null : fateOf(due, now, this.engine.ruleTo(to)));
    if (due === null) {
      this.out(endpoint, frame, clock);
      return;
    }
    for (const d of due) {
      if (d <= now) this.out(endpoint, frame, clock);
      else this.hold(to, { due: d, endpoint, frame, clock });
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queues.clear();
  }

  private hold(to: string, h: Held): void {
    let q = this.queues.get(to);
    if (!q) this.queues.set(to, (q = []));
    // After every copy due at or before it: ties leave in the order sent.
    let i = q.length;
    while (i > 0 && q[i - 1]!.due > h.due) i--;
    q.splice(i, 0, h);
    if (i === 0) this.arm(to, h.due);
  }

  private arm(to: string, due: number): void {
    const old = this.timers.get(to);
    if (old) clearTimeout(old);
    this.timers.set(
      to,
      setTimeout(() => this.release(to), Math.max(0, Math.ceil(due - performance.now()))),
    );
  }

  private release(to: string): void {
    this.timers.delete(to);
    if (this.closed) return;
    const q = this.queues.get(to);
    if (!q) return;
    // Timers fire up to a millisecond early or late; what is due within half a millisecond goes now.
    const now = performance.now() + 0.5;
    while (q.length > 0 && q[0]!.due <= now) {
      const h = q.shift()!;
      this.out(h.endpoint, h.frame, h.clock);
    }
    if (q.length > 0) this.arm(to, q[0]!.due);
    else this.queues.delete(to);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idle) this.onIdle();
  }
}
