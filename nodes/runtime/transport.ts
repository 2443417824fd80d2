// ZeroMQ transport: one PULL socket bound at the node's own endpoint, one PUSH per
// peer it talks to. Frames are one-way; replies are just messages the other way.
// Sends never block the node: a peer that is down fills its ZeroMQ queue (bounded
// by the high-water mark) and further frames to it are dropped and counted; the
// protocol's timeouts and retries own recovery, not the transport.
import type * as Zmq from 'zeromq';
import { lazyRequire } from './lazy-require.js';
import { envelope, openEnvelope } from './trace-clock.js';

// zeromq is CommonJS: required, not imported, so Node's ESM loader does not resolve it and scan its
// source for named exports (cjs-module-lexer) in every node's start-up; and required on first use, so
// the start-up snapshot (build-nodes.mjs) can hold this module without the native addon.
const zmq = lazyRequire<typeof Zmq>('zeromq');

export interface TransportStats {
  sent: number;
  received: number;
  sendDropped: number;
}

export class Transport {
  private readonly pull = new zmq.Pull({ linger: 0, receiveHighWaterMark: 100_000 });
  private readonly pushes = new Map<string, Zmq.Push>();
  private closed = false;
  readonly stats: TransportStats = { sent: 0, received: 0, sendDropped: 0 };

  constructor(
    private readonly endpoint: string,
    /** `clock`: the sender's vector clock, present only when the sender traces (tracer.ts). */
    private readonly onFrame: (frame: Buffer, clock: Buffer | undefined) => void,
  ) {}

  async bind(): Promise<void> {
    // A rebooted node binds the address its previous incarnation held; the kernel may
    // need a moment to release it after a SIGKILL.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.pull.bind(this.endpoint);
        break;
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    void this.receiveLoop();
  }

  // One pair of settle handlers for every send, not two new closures per frame.
  private readonly onSent = (): void => void this.stats.sent++;
  private readonly onSendDropped = (): void => void this.stats.sendDropped++;

  /** `clock` (tracing on only) travels in front of the frame in the same ZeroMQ message part (trace-clock.ts `envelope`): the frame itself is untouched. */
  send(endpoint: string, frame: Buffer, clock?: Buffer): void {
    if (this.closed) return;
    this.push(endpoint)
      .send(clock === undefined ? frame : envelope(frame, clock))
      .then(this.onSent, this.onSendDropped);
  }

  /**
   * Calls `onDown` whenever an established connection to `endpoint` drops. On one
   * machine that means the peer process died (the kernel closes a killed process's
   * sockets at once); a paused peer keeps its connection, so silence is still watched.
   */
  watch(endpoint: string, onDown: () => void): void {
    this.push(endpoint).events.on('disconnect', () => {
      if (!this.closed) onDown();
    });
  }

  private push(endpoint: string): Zmq.Push {
    let push = this.pushes.get(endpoint);
    if (!push) {
      push = new zmq.Push({ linger: 0, sendTimeout: 0, sendHighWaterMark: 10_000, reconnectInterval: 20, reconnectMaxInterval: 500 });
      push.connect(endpoint);
      this.pushes.set(endpoint, push);
    }
    return push;
  }

  close(): void {
    this.closed = true;
    this.pull.close();
    for (const p of this.pushes.values()) p.close();
    this.pushes.clear();
  }

  /**
   * receive() directly rather than the socket's async iterator: when frames are queued it reads one
   * synchronously (an already resolved promise), so a wake drains the queue without the iterator's
   * extra async step and result object per frame. zeromq v6 has no batch read.
   */
  private async receiveLoop(): Promise<void> {
    const pull = this.pull;
    try {
      while (!this.closed) {
        const parts = await pull.receive();
        const part = parts[0];
        if (!part) continue;
        this.stats.received++;
        const { frame, clock } = openEnvelope(part);
        this.onFrame(frame, clock);
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }
}
