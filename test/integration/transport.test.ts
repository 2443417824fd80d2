// Links that carry both directions (nodes/runtime/transport.ts): a node's DEALER introduces itself with its
// endpoint as routing id, and the peer's ROUTER sends replies back over that connection. Real ZeroMQ over
// real TCP, with CURVE and plain links: this process holds one Transport (A), a child process the other (B),
// which the tests SIGKILL and start again at the same address. Connections are counted in /proc/net/tcp.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { generateLinkKeys, type LinkKeys } from '../../nodes/runtime/link-keys.js';
import { Transport } from '../../nodes/runtime/transport.js';
import { admitClient } from '../../nodes/runtime/zap.js';
import { freshPorts, sleep, until } from './cluster.js';
import type { FromPeer, PeerFrame, ToPeer } from './fixtures/transport-peer.js';

const PEER = fileURLToPath(new URL('./fixtures/transport-peer.ts', import.meta.url));

/** Established TCP connections accepted on any of `ports` (each connection counted once: at its accepting end). */
function accepted(ports: readonly number[]): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '01') continue; // 01: ESTABLISHED
      const local = parseInt(cols[1]!.split(':')[1]!, 16);
      if (ports.includes(local)) n++;
    }
  }
  return n;
}

class Peer {
  readonly got: PeerFrame[] = [];
  private readonly child: ChildProcess;
  private readonly waiting: ((m: FromPeer) => void)[] = [];
  readonly ready: Promise<void>;

  constructor(readonly endpoint: string, keys: LinkKeys | null) {
    this.child = fork(PEER, [endpoint, keys ? JSON.stringify(keys) : 'plain'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`peer exited (${code}) before ready`)));
      this.waiting.push((m) => (m.type === 'ready' ? resolve() : undefined));
    });
    this.child.on('message', (raw) => {
      const m = raw as FromPeer;
      if (m.type === 'got') this.got.push(m.frame);
      for (const w of this.waiting.splice(0)) w(m);
    });
  }

  send(m: ToPeer): void {
    this.child.send(m);
  }

  stats(): Promise<Extract<FromPeer, { type: 'stats' }>> {
    return new Promise((resolve) => {
      const wait = (m: FromPeer): void => {
        if (m.type === 'stats') resolve(m);
        else this.waiting.push(wait);
      };
      this.waiting.push(wait);
      this.send({ type: 'stats' });
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}

/** The Transport in this process: answers `req` frames as the peer does, and keeps what it received. */
function local(endpoint: string, keys: LinkKeys | null): { t: Transport; got: PeerFrame[]; send: (to: string, n: number, kind: PeerFrame['kind']) => void } {
  const got: PeerFrame[] = [];
  const frame = (f: PeerFrame): Buffer => Buffer.from(JSON.stringify(f));
  const t: Transport = new Transport(
    endpoint,
    (buf) => {
      const f = JSON.parse(buf.toString()) as PeerFrame;
      got.push(f);
      if (f.kind === 'req') t.send(f.from, frame({ from: endpoint, n: f.n, kind: 'rep' }));
    },
    keys ? { keys, onRefused: () => undefined } : undefined,
  );
  return { t, got, send: (to, n, kind) => t.send(to, frame({ from: endpoint, n, kind })) };
}

// This process's ZAP handler (zap.ts) stops with the last Transport and a new one binds its inproc address
// again; libzmq may not have released the address yet when the next test starts at once (a node never does
// that: one Transport for its life). An admission held for the whole file keeps one handler running.
let release: (() => void) | null = null;
beforeAll(async () => {
  release = await admitClient(generateLinkKeys().client.publicKey);
});
afterAll(() => release?.());

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function pair(links: 'curve' | 'plain') {
  const keys = links === 'curve' ? generateLinkKeys() : null;
  const base = await freshPorts(0, true);
  const epA = `tcp://127.0.0.1:${base}`;
  const epB = `tcp://127.0.0.1:${base + 1}`;
  const a = local(epA, keys);
  await a.t.bind();
  cleanup.push(() => a.t.close());
  let b = new Peer(epB, keys);
  cleanup.push(() => b.kill());
  await b.ready;
  return {
    a,
    get b() {
      return b;
    },
    ports: [base, base + 1],
    epA,
    epB,
    /** SIGKILL B and start a new B at the same address (nothing sent yet). */
    async reboot() {
      await b.kill();
      b = new Peer(epB, keys);
      await b.ready;
    },
  };
}

const count = (got: readonly PeerFrame[], kind: PeerFrame['kind']): number => got.filter((f) => f.kind === kind).length;

describe.each(['curve', 'plain'] as const)('transport links carry both directions (%s)', (links) => {
  it('a request and its reply open one connection, not two; either side may start a later exchange on it', async () => {
    const p = await pair(links);
    expect(accepted(p.ports)).toBe(0);
    p.a.send(p.epB, 1, 'req');
    await until(() => count(p.a.got, 'rep') === 1, 'the reply to A');
    expect(accepted(p.ports), 'connections after one request and its reply').toBe(1);
    // B starts exchanges too (it has A's connection to route on), A answers them on its DEALER.
    for (let n = 2; n <= 20; n++) {
      p.a.send(p.epB, n, 'req');
      p.b.send({ type: 'send', to: p.epA, n: 100 + n, kind: 'req' });
    }
    await until(() => count(p.a.got, 'rep') === 20 && count(p.b.got, 'rep') === 19, 'every reply on both sides');
    expect(accepted(p.ports), 'connections after 39 exchanges both ways').toBe(1);
    const sb = await p.b.stats();
    expect(sb.inbound, 'B remembers A as connected to it').toBe(1);
    expect(p.a.t.inboundPeers, 'nobody connected to A').toBe(0);
    expect(sb.stats.rerouted + sb.stats.sendDropped + p.a.t.stats.rerouted + p.a.t.stats.sendDropped).toBe(0);
    // In order per link: A's requests arrived at B in the order sent.
    const reqs = p.b.got.filter((f) => f.kind === 'req').map((f) => f.n);
    expect(reqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it.each([
    ['A spoke first: A sends to B on its DEALER', 'dealer'],
    ["B spoke first: A answers over B's connection", 'router'],
  ] as const)('a rebooted peer (SIGKILL, same address) is reachable again both ways; %s', async (_, path) => {
    const p = await pair(links);
    if (path === 'dealer') {
      p.a.send(p.epB, 1, 'req');
      await until(() => count(p.a.got, 'rep') === 1, 'the reply to A');
      expect(p.a.t.inboundPeers).toBe(0);
    } else {
      p.b.send({ type: 'send', to: p.epA, n: 1, kind: 'req' });
      await until(() => count(p.b.got, 'rep') === 1, 'the reply to B');
      expect(p.a.t.inboundPeers).toBe(1);
    }
    for (let round = 1; round <= 2; round++) {
      await p.reboot();
      // The new B starts an exchange: A's reply reaches it (over B's new connection, which took the routing
      // id over, or over A's DEALER, which reconnected)…
      p.b.send({ type: 'send', to: p.epA, n: 10 * round, kind: 'req' });
      await until(() => count(p.b.got, 'rep') === 1, `A's reply to the rebooted B (round ${round})`, 15_000);
      // …and A starts one: its frame arrives, B's reply reaches A.
      const repsAtA = count(p.a.got, 'rep');
      p.a.send(p.epB, 10 * round + 1, 'req');
      await until(() => count(p.a.got, 'rep') === repsAtA + 1, `the rebooted B's reply to A (round ${round})`, 15_000);
      expect(p.b.got.some((f) => f.kind === 'req' && f.n === 10 * round + 1)).toBe(true);
    }
    expect(p.a.t.stats.sendDropped).toBe(0);
  });

  it('frames to a peer killed while we route to it over its connection go on a DEALER and arrive after it returns, in order', async () => {
    const p = await pair(links);
    p.b.send({ type: 'send', to: p.epA, n: 1, kind: 'req' });
    await until(() => count(p.b.got, 'rep') === 1, 'the reply to B');
    expect(p.a.t.inboundPeers, 'A routes to B over B connection').toBe(1);
    await p.b.kill();
    // Until A's ROUTER has seen the connection close, a frame may still go into the dead connection (and be
    // lost with it, as on any link to a process that dies); the first unroutable one moves B to a DEALER.
    let n = 100;
    const t0 = Date.now();
    while (p.a.t.stats.rerouted === 0) {
      if (Date.now() - t0 > 10_000) throw new Error('no frame to the dead B was rerouted');
      p.a.send(p.epB, n++, 'one');
      await sleep(10); // the failure is seen in a microtask after the send
    }
    const firstOnDealer = n - 1; // the frame just sent is the one that failed and went on the DEALER
    for (let i = 0; i < 50; i++) p.a.send(p.epB, n++, 'one');
    const last = n - 1;
    expect(p.a.t.stats.rerouted, 'only the first frame was unroutable: the rest followed on the DEALER').toBe(1);
    expect(p.a.t.inboundPeers, 'B forgotten as connected').toBe(0);
    await sleep(200);
    await p.reboot();
    await until(() => p.b.got.length >= last - firstOnDealer + 1, 'the queued frames at the rebooted B', 15_000);
    const ns = p.b.got.map((f) => f.n);
    expect(ns).toEqual(Array.from({ length: last - firstOnDealer + 1 }, (_, i) => firstOnDealer + i));
    expect(p.a.t.stats.sendDropped).toBe(0);
  });

  it('watch() fires when the watched peer is SIGKILLed, also while frames to it ride its own connection', async () => {
    const p = await pair(links);
    p.b.send({ type: 'send', to: p.epA, n: 1, kind: 'req' });
    await until(() => count(p.b.got, 'rep') === 1, 'the reply to B');
    let downs = 0;
    p.a.t.watch(p.epB, () => downs++);
    await until(() => accepted(p.ports) === 2, "the watch's own connection to B");
    await p.b.kill();
    await until(() => downs > 0, 'watch() to report B down');
  });
});

describe('transport: what a peer sends cannot crash the node', () => {
  it('odd routing ids, empty and multipart messages are delivered; replies to an odd id go back over its connection', async () => {
    const base = await freshPorts(0, true);
    const ep = `tcp://127.0.0.1:${base}`;
    const got: Buffer[] = [];
    const t = new Transport(ep, (f) => void got.push(f));
    await t.bind();
    cleanup.push(() => t.close());
    const socks: zmq.Dealer[] = [];
    cleanup.push(() => socks.forEach((s) => s.close()));
    const dealer = (routingId?: string): zmq.Dealer => {
      const s = new zmq.Dealer({ linger: 0, sendTimeout: 0, ...(routingId === undefined ? {} : { routingId }) });
      s.connect(ep);
      socks.push(s);
      return s;
    };
    await dealer().send(Buffer.from('no id')); // libzmq makes one up (a zero byte first): delivered, not remembered
    await dealer('x'.repeat(255)).send(Buffer.alloc(0)); // longest id, empty frame
    await dealer('ünïcode id').send([Buffer.from('multi'), Buffer.from('part')]); // extra parts are not the frame
    await until(() => got.length === 3, 'three frames delivered');
    expect(got.map((b) => b.toString()).sort()).toEqual(['', 'multi', 'no id']);
    expect(t.inboundPeers).toBe(2);
    // A frame to an id that never connected opens a DEALER (here to nobody: it queues), it does not throw.
    t.send('tcp://127.0.0.1:1', Buffer.from('to nobody'));
    // Replies to a remembered odd id go back over its connection.
    const odd = dealer('tcp://odd');
    await odd.send(Buffer.from('hello'));
    await until(() => t.inboundPeers === 3, 'tcp://odd remembered');
    t.send('tcp://odd', Buffer.from('back'));
    const [back] = await odd.receive();
    expect(back!.toString()).toBe('back');
    expect(t.stats.sendDropped).toBe(0);
  });
});
