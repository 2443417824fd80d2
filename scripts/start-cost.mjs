// Where a starting cluster's CPU goes, per node and per thread, measured from outside by the kernel's
// accounting (/proc/PID/task/TID/stat), with variants compared interleaved (A, B, A, B, …) so that the
// load of the machine falls on all of them alike. Starts `ivy-cluster up --backup --clients N` (no
// workload), reads every node's threads at "cluster ready" (and again `--after` seconds later), the
// supervisor's CPU, then stops the cluster.
//
//   node scripts/start-cost.mjs [--clients 8] [--runs 3] [--after 2] [--base-port 23000] [--json]
//        [--variant NAME:VAR=value,VAR2=value] [--variant NAME:cli=out/variants/A/out/nodes/cli.js] …
//
// A variant is a name and the environment it runs the CLI with (the nodes inherit it), or another
// build of the CLI and nodes (`cli=`): `npm run build:nodes`, then copy out/nodes to e.g.
// out/variants/A/out/nodes (under the project, so zeromq still resolves from node_modules; the CLI
// finds its nodes next to it only in a folder named out/nodes). With no
// --variant there is one, `base`. Threads are grouped: main (the JS thread), zmq (ZMQbg/IO and
// Reaper), other (V8's worker, libuv's pool, Node's own). Linux only (/proc).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { threadCpu, TICK_MS } from './thread-cpu.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const clients = Number(opt('clients', '8'));
const runs = Number(opt('runs', '3'));
const afterS = Number(opt('after', '2'));
const basePort = Number(opt('base-port', '23000'));
const json = args.includes('--json');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const variants = args
  .flatMap((a, i) => (a === '--variant' ? [args[i + 1]] : []))
  .map((spec) => {
    const [name, rest = ''] = spec.split(/:(.*)/s);
    const env = {};
    let cli = join(ROOT, 'bin', 'ivy-cluster.js');
    for (const kv of rest.split(',').filter(Boolean)) {
      const [k, v = ''] = kv.split(/=(.*)/s);
      if (k === 'cli') cli = resolve(v);
      else env[k] = v;
    }
    return { name, env, cli };
  });
if (variants.length === 0) variants.push({ name: 'base', env: {}, cli: join(ROOT, 'bin', 'ivy-cluster.js') });

function procTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

async function once(v, port) {
  const cli = spawn(process.execPath, [v.cli, 'up', '--backup', '--clients', String(clients), '--base-port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...v.env },
  });
  let out = '';
  cli.stdout.setEncoding('utf8');
  cli.stderr.setEncoding('utf8');
  cli.stderr.on('data', (s) => process.stderr.write(s));
  const m = await new Promise((res, rej) => {
    cli.stdout.on('data', (s) => {
      out += s;
      const r = /cluster ready in (\d+) ms: (.*)/.exec(out);
      if (r) res(r);
    });
    cli.once('exit', (code) => rej(new Error(`ivy-cluster up exited (${code}) before ready:\n${out}`)));
  });
  const nodes = [...m[2].matchAll(/(\w+)\((\w+)\) pid (\d+)/g)].map((x) => ({ id: x[1], role: x[2] === 'client' ? 'client' : 'manager', pid: Number(x[3]) }));
  const at = nodes.map((n) => threadCpu(n.pid));
  const supAt = procTicks(cli.pid);
  await sleep(afterS * 1000);
  const later = nodes.map((n) => threadCpu(n.pid));
  const supLater = procTicks(cli.pid);
  const load = loadavg()[0];
  cli.kill('SIGINT');
  await new Promise((r) => cli.once('exit', r));
  const sum = (role, snap, key) => nodes.reduce((a, n, i) => a + (n.role === role && snap[i] ? snap[i][key] : 0), 0);
  const count = (role) => nodes.filter((n) => n.role === role).length;
  const perNode = (role, snap, key) => sum(role, snap, key) / Math.max(1, count(role));
  const keys = ['total', 'user', 'sys', 'main', 'zmq', 'other'];
  const row = (snap) => Object.fromEntries(['client', 'manager'].map((role) => [role, Object.fromEntries(keys.map((k) => [k, perNode(role, snap, k)]))]));
  const all = (snap) => nodes.reduce((a, _n, i) => a + (snap[i]?.total ?? 0), 0);
  return {
    variant: v.name,
    readyMs: Number(m[1]),
    load,
    nodeMsPerNode: all(at) / nodes.length,
    supervisorMsPerNode: ((supAt ?? 0) * TICK_MS) / nodes.length,
    atReady: row(at),
    afterMsPerNode: (all(later) - all(at)) / nodes.length,
    supervisorAfterMs: ((supLater ?? 0) - (supAt ?? 0)) * TICK_MS,
  };
}

const results = [];
for (let r = 0; r < runs; r++) {
  for (const [i, v] of variants.entries()) {
    const res = await once(v, basePort + 200 * i);
    results.push(res);
    if (!json) {
      const c = res.atReady.client;
      console.log(
        `${v.name.padEnd(10)} ready ${String(res.readyMs).padStart(5)} ms  node CPU to ready ${res.nodeMsPerNode.toFixed(0)} ms/node ` +
          `(client ${c.total.toFixed(0)}: main thread ${c.main.toFixed(0)} zmq ${c.zmq.toFixed(0)} other threads ${c.other.toFixed(0)}, user ${c.user.toFixed(0)} sys ${c.sys.toFixed(0)}; ` +
          `manager ${res.atReady.manager.total.toFixed(0)})  supervisor ${res.supervisorMsPerNode.toFixed(0)} ms/node  next ${afterS} s ${res.afterMsPerNode.toFixed(0)} ms/node  load ${res.load.toFixed(2)}`,
      );
    }
  }
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const summary = variants.map((v) => {
  const rs = results.filter((r) => r.variant === v.name);
  return {
    variant: v.name,
    runs: rs.length,
    ready_ms: Math.round(mean(rs.map((r) => r.readyMs))),
    node_ms_per_node: Math.round(mean(rs.map((r) => r.nodeMsPerNode))),
    client_ms: Math.round(mean(rs.map((r) => r.atReady.client.total))),
    manager_ms: Math.round(mean(rs.map((r) => r.atReady.manager.total))),
    supervisor_ms_per_node: Math.round(mean(rs.map((r) => r.supervisorMsPerNode))),
    after_ms_per_node: Math.round(mean(rs.map((r) => r.afterMsPerNode))),
  };
});
if (json) console.log(JSON.stringify({ clients, cpus: cpus().length, results, summary }));
else {
  console.log(`\n1+1+${clients}, ${runs} runs per variant, interleaved; means:`);
  for (const s of summary)
    console.log(
      `${s.variant.padEnd(10)} ready ${s.ready_ms} ms, node CPU to ready ${s.node_ms_per_node} ms/node (client ${s.client_ms}, manager ${s.manager_ms}), supervisor ${s.supervisor_ms_per_node} ms/node, next ${afterS} s ${s.after_ms_per_node} ms/node`,
    );
}
