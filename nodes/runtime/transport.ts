// ZeroMQ transport: one PULL socket bound at the node's own endpoint, one PUSH per
// peer it talks to. Frames are one-way; replies are just messages the other way.
// Sends never block the node: a peer that is down fills its ZeroMQ queue (bounded
// by the high-water mark) and further frames to it are dropped and counted; the
// protocol's timeouts and retries own recovery, not the transport.
// Links are authenticated when the node has the cluster's keys (link-keys.ts): the PULL
// socket is a CURVE server whose ZAP handler (zap.ts) admits only the cluster's client
// key, every PUSH a CURVE client; a refused handshake is counted, and its frames never
// reach the node.
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import type { LinkKeys } from './link-keys.js';
import { envelope, openEnvelope } from './trace-clock.js';
import { admitClient, ZAP_DOMAIN } from './zap.js';

// zeromq is CommonJS: required, not imported, so Node's ESM loader does not resolve it and scan its
// source for named exports (cjs-module-lexer) in every node's start-up.
const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;

export interface TransportStats {
  sent: number;
  received: number;
  sendDropped: number;
}

/** Authenticated links: the cluster's keys, and where a refused handshake on the PULL socket is reported. */
export interface CurveLinks {
  keys: LinkKeys;
  /** `handshake_auth` (a client key the cluster does not know), `handshake_protocol` (no CURVE, or a wrong server key), `handshake_other`. */
  onRefused: (reason: RefusedHandshake) => void;
}

export type RefusedHandshake = 'handshake_auth' | 'handshake_protocol' | 'handshake_other';

export class Transport {
  private readonly pull: Zmq.Pull;
  private readonly pushes = new Map<string, Zmq.Push>();
  /** Socket options every PUSH gets: the CURVE client's keys when links are authenticated. */
  private readonly pushCurve: Partial<Zmq.SocketOptions<Zmq.Push>>;
  private unadmit: (() => void) | null = null;
  private closed = false;
  readonly stats: TransportStats = { sent: 0, received: 0, sendDropped: 0 };

  constructor(
    private readonly endpoint: string,
    /** `clock`: the sender's vector clock, present only when the sender traces (tracer.ts). */
    private readonly onFrame: (frame: Buffer, clock: Buffer | undefined) => void,
    /** Absent: plain links (only for measuring what CURVE costs). */
    private readonly curve?: CurveLinks,
  ) {
    const keys = curve?.keys;
    if (keys && zmq.capability.curve !== true) throw new Error('this build of zeromq has no CURVE support: authenticated links need one built with libsodium');
    // A ZAP domain with enforcement makes the handler required: with none bound, libzmq refuses the handshake
    // instead of admitting every client that knows the server key (it would, with no domain set).
    const server = keys ? { curveServer: true, curveSecretKey: keys.server.secretKey, curvePublicKey: keys.server.publicKey, zapDomain: ZAP_DOMAIN, zapEnforceDomain: true } : {};
    this.pull = new zmq.Pull({ linger: 0, receiveHighWaterMark: 100_000, ...server });
    this.pushCurve = keys ? { curveServerKey: keys.server.publicKey, curvePublicKey: keys.client.publicKey, curveSecretKey: keys.client.secretKey } : {};
    if (curve) {
      const events = this.pull.events;
      events.on('handshake:error:auth', () => curve.onRefused('handshake_auth'));
      events.on('handshake:error:protocol', () => curve.onRefused('handshake_protocol'));
      events.on('handshake:error:other', () => curve.onRefused('handshake_other'));
    }
  }

  async bind(): Promise<void> {
    // The ZAP handler first: the PULL socket requires one (ZAP domain enforced), so it would refuse every peer before.
    if (this.curve) this.unadmit = await admitClient(this.curve.keys.client.publicKey);
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
      push = new zmq.Push({ linger: 0, sendTimeout: 0, sendHighWaterMark: 10_000, reconnectInterval: 20, reconnectMaxInterval: 500, ...this.pushCurve });
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
    this.unadmit?.();
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
