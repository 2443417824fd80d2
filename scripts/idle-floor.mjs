// The floor under an idle cluster's CPU: what this stack (Node + ZeroMQ, CURVE or plain) costs per process
// for the wake-ups an idle IVY client cannot avoid, with no protocol code at all. N "clients" each send a
// small frame every --every ms (an idle client's heartbeat: clientTimeoutMs / 5 = 400 ms) on a DEALER to
// one "server" ROUTER, which answers each back over the same connection (the manager's lease ack, which
// rides the client's link as transport.ts sends it); every process binds a ROUTER, as a node does, and the
// sockets have transport.ts's options. A second run has N bare `node` processes waking on a timer twice per
// period (a client's tick and its ack), with no sockets. CPU is utime + stime from /proc over the window,
// like scripts/idle-cost.mjs, so the two compare directly.
//
//   node scripts/idle-floor.mjs [--clients 32] [--every 400] [--window 20] [--base-port 24000] [--plain]
//
// Needs Linux (/proc).
import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const me = fileURLToPath(import.meta.url);

if (args[0] === '--role') await role(args[1], args[2], args[3], Number(args[4]));
else await main();

async function role(kind, endpoint, server, everyMs) {
  if (kind === 'timer') {
    const t = () => setTimeout(t, everyMs / 2);
    t();
    return;
  }
  const zmq = require('zeromq');
  const keys = process.env.IVY_FLOOR_KEYS ? JSON.parse(process.env.IVY_FLOOR_KEYS) : null;
  const router = new zmq.Router({
    linger: 0,
    receiveHighWaterMark: 100_000,
    sendHighWaterMark: 10_000,
    sendTimeout: 0,
    mandatory: true,
    handover: true,
    ...(keys ? { curveServer: true, curveSecretKey: keys.server.secretKey, curvePublicKey: keys.server.publicKey } : {}),
  });
  const ignore = () => undefined;
  await router.bind(endpoint);
  if (kind === 'server') {
    for (;;) {
      const [id, m] = await router.receive();
      router.send([id, m]).then(ignore, ignore);
    }
  }
  const idle = async () => {
    for (;;) await router.receive();
  };
  void idle();
  const out = new zmq.Dealer({
    linger: 0,
    sendTimeout: 0,
    sendHighWaterMark: 10_000,
    receiveHighWaterMark: 100_000,
    reconnectInterval: 20,
    reconnectMaxInterval: 500,
    routingId: endpoint,
    ...(keys ? { curveServerKey: keys.server.publicKey, curvePublicKey: keys.client.publicKey, curveSecretKey: keys.client.secretKey } : {}),
  });
  out.connect(server);
  const frame = Buffer.from(`${endpoint.padEnd(32)}hb`);
  const tick = () => {
    out.send(frame).then(ignore, ignore);
    setTimeout(tick, everyMs);
  };
  tick();
  for (;;) await out.receive();
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function measure(kids, windowS) {
  await sleep(8000); // connected and settled
  const a = kids.map((k) => cpuTicks(k.pid));
  await sleep(windowS * 1000);
  const b = kids.map((k) => cpuTicks(k.pid));
  for (const k of kids) k.kill('SIGKILL');
  return b.map((x, i) => ((x - a[i]) * 10) / windowS); // ms of CPU per second (1 tick = 10 ms)
}

async function main() {
  const n = Number(opt('clients', '32'));
  const every = Number(opt('every', '400'));
  const windowS = Number(opt('window', '20'));
  const base = Number(opt('base-port', '24000'));
  const plain = args.includes('--plain');
  const env = { ...process.env };
  if (!plain) {
    const zmq = require('zeromq');
    env.IVY_FLOOR_KEYS = JSON.stringify({ server: zmq.curveKeyPair(), client: zmq.curveKeyPair() });
  }
  const server = `tcp://127.0.0.1:${base}`;
  const kids = [fork(me, ['--role', 'server', server, server, String(every)], { env })];
  for (let i = 0; i < n; i++) kids.push(fork(me, ['--role', 'client', `tcp://127.0.0.1:${base + 1 + i}`, server, String(every)], { env }));
  const d = await measure(kids, windowS);
  const perClient = d.slice(1).reduce((x, y) => x + y, 0) / n;
  const timers = await measure(Array.from({ length: n }, () => fork(me, ['--role', 'timer', '', '', String(every)])), windowS);
  const perTimer = timers.reduce((x, y) => x + y, 0) / n;
  console.log(
    `${n} clients, a ${plain ? 'plain' : 'CURVE'} round trip every ${every} ms each: ${perClient.toFixed(2)} ms CPU/s per client, server ${d[0].toFixed(1)} ms/s; ` +
      `bare node waking every ${every / 2} ms: ${perTimer.toFixed(2)} ms/s per process (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
  );
  process.exit(0);
}
