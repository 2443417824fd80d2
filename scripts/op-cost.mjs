// CPU per operation of a lightly loaded cluster, measured from outside by the kernel's own accounting:
// runs `ivy-cluster up --backup --clients N --rate R … --duration D --history H`, sums utime + stime of
// every thread of every node process (/proc/PID/task/TID/stat) over a window after a settle time, split
// into the main (JavaScript) thread, ZeroMQ's I/O threads and the rest (V8 helpers, libuv pool), and
// divides by the operations the history shows invoked in that window (the monotonic clock is shared by
// every process on the machine). --cli runs another build (a copy of out/ inside the project, so it
// finds node_modules): run A and B interleaved (A, B, A, B) in one session for a comparison.
// The copy's path must end in out/nodes/cli.js (e.g. out/ab-main/out/nodes/cli.js): the supervisor takes the
// node entry next to the CLI only there, and otherwise walks up to the project's own out/nodes/node.js, so A
// and B would both run the project's nodes.
//
//   node scripts/op-cost.mjs --clients 64 --rate 2 [--window 6] [--settle 6] [--base-port 26000] [--runs 1] [--cli path/out/nodes/cli.js]
//
// Needs Linux (/proc) and `npm run build:nodes`. Print `uptime` beside the figures: they are CPU times,
// which depend on the machine's load far less than latencies do, but not at all is too much to claim.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { threadCpu } from './thread-cpu.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const clients = Number(opt('clients', '64'));
const rate = Number(opt('rate', '2'));
const windowS = Number(opt('window', '6'));
const settleS = Number(opt('settle', '6'));
const basePort = Number(opt('base-port', '26000'));
const runs = Number(opt('runs', '1'));
const pages = opt('pages', '64');
const readRatio = opt('read-ratio', '0.6');
const cli = opt('cli', join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ivy-cluster.js'));


/** Established TCP connections whose local port is one of the cluster's (the accepting end of each link). */
function links(ports) {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '01') continue; // 01: ESTABLISHED
      if (ports.has(parseInt(f[1].split(':')[1], 16))) n++;
    }
  }
  return n;
}

async function once(port) {
  const dir = mkdtempSync(join(tmpdir(), 'op-cost-'));
  const history = join(dir, 'history.jsonl');
  // A backstop only (the run is stopped after the window); it counts from the start, not from ready.
  const duration = Math.ceil(settleS + windowS + 60);
  const child = spawn(process.execPath, [cli, 'up', '--backup', '--clients', String(clients), '--base-port', String(port), '--rate', String(rate), '--read-ratio', readRatio, '--pages', pages, '--duration', String(duration), '--history', history], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const ready = await new Promise((resolve, reject) => {
    child.stdout.on('data', (s) => {
      out += s;
      const m = /cluster ready in (\d+) ms: (.*)/.exec(out);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`up exited (${code}) before ready:\n${out}`)));
  });
  const nodes = [...ready[2].matchAll(/(\w+)\((\w+)\) pid (\d+)/g)].map((m) => ({ id: m[1], role: m[2], pid: Number(m[3]) }));
  await sleep(settleS * 1000);
  const t0 = process.hrtime.bigint();
  const before = nodes.map((n) => threadCpu(n.pid));
  const ports = new Set([...ready[2].matchAll(/tcp:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
  const linksBefore = links(ports);
  const supBefore = threadCpu(child.pid);
  const load = loadavg()[0];
  await sleep(windowS * 1000);
  const after = nodes.map((n) => threadCpu(n.pid));
  const t1 = process.hrtime.bigint();
  const linksAfter = links(ports);
  const supAfter = threadCpu(child.pid);
  // Ctrl-C ends the run as the duration would (the history is written either way); the duration is a backstop.
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  const ops = readFileSync(history, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  rmSync(dir, { recursive: true, force: true });
  const inWindow = ops.filter((o) => BigInt(Math.round(o.start)) >= t0 && BigInt(Math.round(o.start)) < t1);
  const ok = inWindow.filter((o) => o.outcome === 'ok').length;
  const sum = { client: { main: 0, zmq: 0, other: 0 }, manager: { main: 0, zmq: 0, other: 0 } };
  nodes.forEach((n, i) => {
    const a = before[i];
    const b = after[i];
    if (!a || !b) return;
    const s = sum[n.role === 'client' ? 'client' : 'manager'];
    for (const k of Object.keys(s)) s[k] += b[k] - a[k];
  });
  const total = Object.values(sum).reduce((a, s) => a + s.main + s.zmq + s.other, 0);
  const summary = /ops: .*|read faults: .*/g;
  return { ops: inWindow.length, ok, cpu_ms: total, ms_per_op: total / Math.max(1, inWindow.length), sum, load, links: [linksBefore, linksAfter], supervisor_ms: supBefore && supAfter ? supAfter.main + supAfter.other - supBefore.main - supBefore.other : null, summary: out.match(summary)?.join(' | ') ?? '' };
}

for (let r = 0; r < runs; r++) {
  const x = await once(basePort + (r % 4) * 200);
  const per = (v) => (v / Math.max(1, x.ops)).toFixed(2);
  console.log(
    `${cli} 1+1+${clients} @${rate}/s: ${x.ops} ops in ${windowS} s (${x.ok} ok), CPU ${x.cpu_ms} ms = ${x.ms_per_op.toFixed(2)} ms/op ` +
      `[clients main ${per(x.sum.client.main)} zmq ${per(x.sum.client.zmq)} other ${per(x.sum.client.other)}; managers main ${per(x.sum.manager.main)} zmq ${per(x.sum.manager.zmq)} other ${per(x.sum.manager.other)}]; supervisor ${x.supervisor_ms === null ? '?' : per(x.supervisor_ms)} ms/op (not in the total); links ${x.links[0]} -> ${x.links[1]} (${per(x.links[1] - x.links[0])} new per op); load1 ${x.load.toFixed(2)}`,
  );
}
