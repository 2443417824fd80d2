// CPU per new link, in one process: M ROUTER sockets set up as a node's (transport.ts: CURVE server, ZAP
// handler from zap.ts, the handshake-error observer), then rounds of M new DEALER sockets (CURVE clients,
// a routing id each, as a node's) each connecting and sending one frame. Per-thread CPU (/proc/self/task: the main thread, ZeroMQ's I/O
// thread) per link tells what a link costs the two ends together, and what each knob saves:
//
//   npx tsx scripts/link-cost.ts [--links 100] [--rounds 4] [--base-port 26700] [--plain] [--no-observer]
import { threadCpu, type ThreadCpu } from './thread-cpu.mjs';
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import { generateLinkKeys } from '../nodes/runtime/link-keys.js';
import { admitClient, ZAP_DOMAIN } from '../nodes/runtime/zap.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const links = Number(opt('links', '100'));
const rounds = Number(opt('rounds', '4'));
const basePort = Number(opt('base-port', '26700'));
const plain = args.includes('--plain');
const observer = !args.includes('--no-observer');

/** This process's CPU by thread group (it is running, so never null). */
const cpu = (): ThreadCpu => threadCpu(process.pid)!;

const keys = generateLinkKeys();
if (!plain) await admitClient(keys.client.publicKey);
const server = plain ? {} : { curveServer: true, curveSecretKey: keys.server.secretKey, curvePublicKey: keys.server.publicKey, zapDomain: ZAP_DOMAIN, zapEnforceDomain: true };
const client = plain ? {} : { curveServerKey: keys.server.publicKey, curvePublicKey: keys.client.publicKey, curveSecretKey: keys.client.secretKey };
let received = 0;
let refused = 0;
const pulls: Zmq.Router[] = [];
for (let i = 0; i < links; i++) {
  const pull = new zmq.Router({ linger: 0, receiveHighWaterMark: 100_000, sendHighWaterMark: 10_000, sendTimeout: 0, mandatory: true, handover: true, ...server });
  if (observer && !plain) {
    pull.events.on('handshake:error:auth', () => void refused++);
    pull.events.on('handshake:error:protocol', () => void refused++);
    pull.events.on('handshake:error:other', () => void refused++);
  }
  await pull.bind(`tcp://127.0.0.1:${basePort + i}`);
  pulls.push(pull);
  void (async () => {
    try {
      for (;;) {
        await pull.receive();
        received++;
      }
    } catch {
      // closed
    }
  })();
}

const frame = Buffer.alloc(60, 1);
for (let r = 0; r < rounds; r++) {
  const target = received + links;
  const t0 = cpu();
  const w0 = performance.now();
  const pushes: Zmq.Dealer[] = [];
  for (let i = 0; i < links; i++) {
    const push = new zmq.Dealer({ linger: 0, sendTimeout: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 100_000, reconnectInterval: 20, reconnectMaxInterval: 500, routingId: `tcp://127.0.0.1:${basePort + links + i}`, ...client });
    push.connect(`tcp://127.0.0.1:${basePort + i}`);
    void push.send(frame).catch(() => undefined);
    pushes.push(push);
  }
  while (received < target) await new Promise((res) => setTimeout(res, 5));
  const t1 = cpu();
  const wall = performance.now() - w0;
  for (const p of pushes) p.close();
  await new Promise((res) => setTimeout(res, 200));
  const per = (k: 'main' | 'zmq' | 'other'): string => ((t1[k] - t0[k]) / links).toFixed(3);
  console.log(`${plain ? 'plain' : 'curve'}${observer ? '' : ' no-observer'} round ${r}: ${links} links in ${wall.toFixed(0)} ms; CPU per link main ${per('main')} ms, zmq ${per('zmq')} ms, other ${per('other')} ms; refused ${refused}`);
}
for (const p of pulls) p.close();
process.exit(0);
