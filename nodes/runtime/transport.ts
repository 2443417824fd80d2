// ZeroMQ transport: one ROUTER socket bound at the node's own endpoint, one DEALER per
// peer it opens a link to, and links that carry both directions: a node's DEALER
// introduces itself with the node's own endpoint as its routing id, so the peer's ROUTER
// can send frames back over the same connection. A reply to a node that already
// connected to us therefore costs no new connection; with PUSH/PULL every communicating
// pair cost two, and each new CURVE link costs ~1-1.4 ms of CPU (docs/BENCHMARKS.md).
// Frames are one-way; replies are just messages the other way.
// Sends never block the node: a peer that is down fills its ZeroMQ queue (bounded by the
// high-water mark) and further frames to it are dropped and counted; the protocol's
// timeouts and retries own recovery, not the transport.
// Links are authenticated when the node has the cluster's keys (link-keys.ts): the ROUTER
// is a CURVE server whose ZAP handler (zap.ts) admits only the cluster's client key, every
// DEALER a CURVE client; a refused handshake is counted, and its frames never reach the
// node. CURVE authenticates both ends, so frames riding back over a peer's connection are
// as authenticated as frames on our own DEALER.
import type * as Zmq from 'zeromq';
import { lazyRequire } from './lazy-require.js';
import type { LinkKeys } from './link-keys.js';
import { envelope, openEnvelope, TRACED_MARK } from './trace-clock.js';
import { admitClient, ZAP_DOMAIN } from './zap.js';

// zeromq is CommonJS: required, not imported, so Node's ESM loader does not resolve it and scan its
// source for named exports (cjs-module-lexer) in every node's start-up; and required on first use, so
// the start-up snapshot (build-nodes.mjs) can hold this module without the native addon.
const zmq = lazyRequire<typeof Zmq>('zeromq');

export interface TransportStats {
  /** Frames queued on a socket (our DEALER, or our ROUTER towards a peer's connection). */
  sent: number;
  received: number;
  /** Frames not queued: the peer's queue was full (high-water mark), or another send error. */
  sendDropped: number;
  /** Frames the ROUTER could not route (the peer's connection to us was gone) and that went on a DEALER instead. */
  rerouted: number;
}

/** Authenticated links: the cluster's keys, and where a refused handshake on the ROUTER is reported. */
export interface CurveLinks {
  keys: LinkKeys;
  /** `handshake_auth` (a client key the cluster does not know), `handshake_protocol` (no CURVE, or a wrong server key), `handshake_other`. */
  onRefused: (reason: RefusedHandshake) => void;
}

export type RefusedHandshake = 'handshake_auth' | 'handshake_protocol' | 'handshake_other';

/** ZeroMQ's limit on a routing id (ZMQ_ROUTING_ID: 1-255 bytes). */
const MAX_ROUTING_ID = 255;
/**
 * At most this many peers remembered as connected to us: more than any cluster has nodes (4096 clients and
 * managers), so a real cluster never reaches it, and a plain-links process that connects with ever new ids
 * cannot grow the map without bound (past it, its frames are still delivered; replies open DEALERs).
 */
const MAX_INBOUND = 8192;

/** How frames to one peer travel: our DEALER to it, or (a Buffer) the routing id of its connection to our ROUTER. */
type Path = Zmq.Dealer | Buffer;

/** What the socket options of every DEALER share (the PUSH's of before): sends never wait, a down peer is retried quickly. */
const DEALER_OPTIONS = { linger: 0, sendTimeout: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 100_000, reconnectInterval: 20, reconnectMaxInterval: 500 } as const;

export class Transport {
  private readonly router: Zmq.Router;
  /** Our DEALERs, by the endpoint they connect to: opened by a send with no other path, or by watch(). */
  private readonly dealers = new Map<string, Zmq.Dealer>();
  /** Peers that connected to our ROUTER, by routing id (latin1, i.e. byte for byte): the id's bytes to route with. */
  private readonly inbound = new Map<string, Buffer>();
  /**
   * The path each peer's frames take, once chosen: kept until it fails (a ROUTER send to a peer whose
   * connection is gone), so frames to one peer stay on one ZeroMQ pipe, in order, as on the PUSH of before.
   */
  private readonly paths = new Map<string, Path>();
  /** Options every DEALER gets: our routing id, and the CURVE client's keys when links are authenticated. */
  private readonly dealerOptions: Partial<Zmq.SocketOptions<Zmq.Dealer>>;
  private unadmit: (() => void) | null = null;
  private closed = false;
  readonly stats: TransportStats = { sent: 0, received: 0, sendDropped: 0, rerouted: 0 };

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
    // mandatory: a frame for a peer with no connection to us fails (EHOSTUNREACH) instead of vanishing, so it
    // can go on a DEALER. handover: a rebooted peer's new connection takes its routing id over from the dead
    // one's. sendTimeout 0: a send settles at once (zeromq.js then never has a send pending, which would make
    // the next one throw EBUSY); a full queue (EAGAIN) is a drop, as on a DEALER.
    this.router = new zmq.Router({ linger: 0, receiveHighWaterMark: 100_000, sendHighWaterMark: 10_000, sendTimeout: 0, mandatory: true, handover: true, ...server });
    const id = Buffer.byteLength(endpoint) <= MAX_ROUTING_ID && endpoint.length > 0 ? { routingId: endpoint } : {};
    const client = keys ? { curveServerKey: keys.server.publicKey, curvePublicKey: keys.client.publicKey, curveSecretKey: keys.client.secretKey } : {};
    this.dealerOptions = { ...DEALER_OPTIONS, ...id, ...client };
    if (curve) {
      const events = this.router.events;
      events.on('handshake:error:auth', () => curve.onRefused('handshake_auth'));
      events.on('handshake:error:protocol', () => curve.onRefused('handshake_protocol'));
      events.on('handshake:error:other', () => curve.onRefused('handshake_other'));
    }
  }

  async bind(): Promise<void> {
    // The ZAP handler first: the ROUTER requires one (ZAP domain enforced), so it would refuse every peer before.
    if (this.curve) this.unadmit = await admitClient(this.curve.keys.client.publicKey);
    // A rebooted node binds the address its previous incarnation held; the kernel may
    // need a moment to release it after a SIGKILL.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.router.bind(this.endpoint);
        break;
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    void this.routerLoop();
  }

  // One pair of settle handlers for every DEALER send, not two new closures per frame.
  private readonly onSent = (): void => void this.stats.sent++;
  private readonly onSendDropped = (): void => void this.stats.sendDropped++;

  /** `clock` (tracing on only) travels in front of the frame in the same ZeroMQ message part (trace-clock.ts `envelope`): the frame itself is untouched. */
  send(endpoint: string, frame: Buffer, clock?: Buffer): void {
    if (this.closed) return;
    const data = clock === undefined ? frame : envelope(frame, clock);
    const path = this.paths.get(endpoint) ?? this.choosePath(endpoint);
    if (Buffer.isBuffer(path)) {
      // With sendTimeout 0 the promise is settled before send() returns; a failure is handled in the next
      // microtask, before any other frame of this node is received.
      this.router.send([path, data]).then(this.onSent, (err: unknown) => this.unroutable(endpoint, path, data, err));
    } else {
      path.send(data).then(this.onSent, this.onSendDropped);
    }
  }

  /** Our DEALER to `endpoint` if we have one (it queues while the peer is down), else its connection to us, else a new DEALER. */
  private choosePath(endpoint: string): Path {
    const path = this.dealers.get(endpoint) ?? this.inbound.get(endpoint) ?? this.dealer(endpoint);
    this.paths.set(endpoint, path);
    return path;
  }

  /**
   * A ROUTER send failed. EHOSTUNREACH: the peer's connection to us is gone (it died, or is rebooting), so it
   * is forgotten as connected and the frame goes on a DEALER to its endpoint, which queues it until the peer
   * is back, as the PUSH of before did; the frames after it follow on that DEALER. Anything else (EAGAIN: its
   * queue is full) drops the frame, as a DEALER would.
   */
  private unroutable(endpoint: string, id: Buffer, data: Buffer, err: unknown): void {
    if (this.closed) return;
    if ((err as { code?: unknown } | null)?.code !== 'EHOSTUNREACH') {
      this.stats.sendDropped++;
      return;
    }
    this.stats.rerouted++;
    if (this.inbound.get(endpoint) === id) this.inbound.delete(endpoint);
    const dealer = this.dealers.get(endpoint) ?? this.dealer(endpoint);
    if (this.paths.get(endpoint) === id) this.paths.set(endpoint, dealer);
    dealer.send(data).then(this.onSent, this.onSendDropped);
  }

  /**
   * Calls `onDown` whenever an established connection of our DEALER to `endpoint` drops. On one
   * machine that means the peer process died (the kernel closes a killed process's
   * sockets at once); a paused peer keeps its connection, so silence is still watched.
   * Watching opens the DEALER but does not move frames already on another path to it.
   */
  watch(endpoint: string, onDown: () => void): void {
    (this.dealers.get(endpoint) ?? this.dealer(endpoint)).events.on('disconnect', () => {
      if (!this.closed) onDown();
    });
  }

  private dealer(endpoint: string): Zmq.Dealer {
    const dealer = new zmq.Dealer(this.dealerOptions);
    dealer.connect(endpoint);
    this.dealers.set(endpoint, dealer);
    // Frames sent back to us over this connection (by the peer's ROUTER) arrive here.
    void this.dealerLoop(dealer);
    return dealer;
  }

  close(): void {
    this.closed = true;
    this.router.close();
    for (const d of this.dealers.values()) d.close();
    this.dealers.clear();
    this.paths.clear();
    this.inbound.clear();
    this.unadmit?.();
  }

  /** How many peers are remembered as connected to our ROUTER (tests, diagnostics). */
  get inboundPeers(): number {
    return this.inbound.size;
  }

  /**
   * receive() directly rather than the socket's async iterator: when frames are queued it reads one
   * synchronously (an already resolved promise), so a wake drains the queue without the iterator's
   * extra async step and result object per frame. zeromq v6 has no batch read.
   * The ROUTER puts the sender's routing id in front of each frame: remembered as "this peer has a
   * connection to us" when it can be one of ours (1-255 bytes, not starting with a zero byte, which
   * marks the ids libzmq makes up for peers that set none); the frame is delivered either way.
   */
  private async routerLoop(): Promise<void> {
    const router = this.router;
    const inbound = this.inbound;
    try {
      while (!this.closed) {
        const parts = await router.receive();
        const id = parts[0];
        const part = parts[1];
        if (id === undefined || part === undefined) continue;
        if (id.length > 0 && id.length <= MAX_ROUTING_ID && id[0] !== 0) {
          const key = id.toString('latin1');
          if (!inbound.has(key) && inbound.size < MAX_INBOUND) inbound.set(key, id);
        }
        this.deliver(part);
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  private async dealerLoop(dealer: Zmq.Dealer): Promise<void> {
    try {
      while (!this.closed) {
        const parts = await dealer.receive();
        const part = parts[0];
        if (part !== undefined) this.deliver(part);
      }
    } catch (err) {
      // A DEALER is only closed with the transport; a receive that fails otherwise is a bug, reported loudly.
      if (!this.closed) throw err;
    }
  }

  private deliver(part: Buffer): void {
    this.stats.received++;
    // An untraced frame (every frame while tracing is off) is delivered as it came, without the envelope's result object.
    if (part[0] !== TRACED_MARK) {
      this.onFrame(part, undefined);
      return;
    }
    const { frame, clock } = openEnvelope(part);
    this.onFrame(frame, clock);
  }
}
