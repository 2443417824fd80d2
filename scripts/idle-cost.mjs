// Idle cost and ready time of a cluster, measured from outside by the kernel's own
// accounting: starts `ivy-cluster up --backup --clients N` (no workload), takes the
// ready time it prints, lets it settle, then sums utime + stime of every node process
// (/proc/PID/stat) over a window and reads each one's RSS and PSS (smaps_rollup).
// CPU time and memory do not depend on how loaded the machine is the way wall-clock
// latencies do; the load average is printed beside them anyway.
//
//   node scripts/idle-cost.mjs [--clients 64] [--window 10] [--settle 20] [--base-port 23000] [--json]
//   node scripts/idle-cost.mjs --clients 10,64,128 --window 5       (one cluster after another)
//   node scripts/idle-cost.mjs --clients 64 --rate 10 --read-ratio 0.6 --pages 64   (cost under a light workload)
//
// Needs Linux (/proc) and `npm run build:nodes`.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const clientCounts = String(opt('clients', '64')).split(',').map(Number);
const windowS = Number(opt('window', '10'));
// Nodes keep warming up for several seconds after ready (V8 optimising, GC shrinking the start-up heap):
// measured 3 s after ready, 1+1+64 idle clients used ~2x their steady CPU, and a faster start (the
// start-up snapshot) moved more of that warm-up into the window. 20 s measures the idle cluster.
const settleS = Number(opt('settle', '20'));
const basePort = Number(opt('base-port', '23000'));
const json = args.includes('--json');
// A workload during the window (ops/s per client): the same measurement of a lightly loaded cluster.
const workload = opt('rate', null) === null ? [] : ['--rate', opt('rate'), '--read-ratio', opt('read-ratio', '0.6'), '--pages', opt('pages', '64')];
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ivy-cluster.js');
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux
const sleep = (ms) => sleepMs(ms);
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of the line)
  } catch {
    return null;
  }
}

/** Voluntary context switches of every thread of the process: how often it went to sleep and woke (load-independent). */
function wakeups(pid) {
  try {
    let n = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    }
    return n;
  } catch {
    return null;
  }
}

function mem(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN);
    return { rss: kb('Rss'), pss: kb('Pss'), anon: kb('Pss_Anon') };
  } catch {
    return null;
  }
}

async function measure(clients, port) {
  const t0 = performance.now();
  const cli = spawn(process.execPath, [CLI, 'up', '--backup', '--clients', String(clients), '--base-port', String(port), ...workload], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  cli.stdout.setEncoding('utf8');
  cli.stderr.setEncoding('utf8');
  cli.stderr.on('data', (s) => process.stderr.write(s));
  const ready = await new Promise((resolve, reject) => {
    cli.stdout.on('data', (s) => {
      out += s;
      const m = /cluster ready in (\d+) ms: (.*)/.exec(out);
      if (m) resolve(m);
    });
    cli.once('exit', (code) => reject(new Error(`ivy-cluster up exited (${code}) before the cluster was ready:\n${out}`)));
  });
  const readyMs = Number(ready[1]);
  const nodes = [...ready[2].matchAll(/(\w+)\((\w+)\) pid (\d+)/g)].map((m) => ({ id: m[1], role: m[2], pid: Number(m[3]) }));
  // CPU the nodes and the supervisor spent to get here: on a busy 2-core machine the ready time is mostly
  // this divided by the cores, and unlike the wall-clock time it hardly depends on what else runs.
  const atReady = nodes.map((n) => cpuTicks(n.pid));
  const cliAtReady = cpuTicks(cli.pid);
  await sleep(settleS * 1000);
  const before = nodes.map((n) => cpuTicks(n.pid));
  const wakeBefore = nodes.map((n) => wakeups(n.pid));
  const cliBefore = cpuTicks(cli.pid);
  const loadBefore = load();
  await sleep(windowS * 1000);
  const after = nodes.map((n) => cpuTicks(n.pid));
  const wakeAfter = nodes.map((n) => wakeups(n.pid));
  const cliAfter = cpuTicks(cli.pid);
  const mems = nodes.map((n) => ({ ...n, ...mem(n.pid) }));
  cli.kill('SIGINT');
  await new Promise((r) => cli.once('exit', r));
  let ticks = 0;
  const perRole = {};
  const wakes = { manager: 0, client: 0 };
  nodes.forEach((n, i) => {
    if (wakeBefore[i] !== null && wakeAfter[i] !== null) wakes[n.role === 'client' ? 'client' : 'manager'] += wakeAfter[i] - wakeBefore[i];
  });
  const clientCount = nodes.filter((n) => n.role === 'client').length;
  nodes.forEach((n, i) => {
    const d = before[i] !== null && after[i] !== null ? after[i] - before[i] : 0;
    ticks += d;
    const role = n.role === 'client' ? 'client' : 'manager';
    perRole[role] = (perRole[role] ?? 0) + d;
  });
  const coresShare = (t) => Math.round((t / TICK / windowS / cpus().length) * 1000) / 10; // % of all cores
  const mib = (kb) => Math.round((kb / 1024) * 10) / 10;
  const roleMem = (pred) => {
    const ms = mems.filter(pred).filter((m) => Number.isFinite(m.rss));
    const mean = (k) => mib(ms.reduce((s, m) => s + m[k], 0) / Math.max(1, ms.length));
    const max = (k) => mib(Math.max(0, ...ms.map((m) => m[k])));
    return { rss_mean: mean('rss'), rss_max: max('rss'), pss_mean: mean('pss'), pss_max: max('pss'), anon_mean: mean('anon') };
  };
  return {
    clients,
    nodes: nodes.length,
    ready_ms: readyMs,
    spawn_to_ready_ms: Math.round(performance.now() - t0 - settleS * 1000 - windowS * 1000),
    /** CPU seconds of all nodes from spawn to ready, and per node (mean); the supervisor's separately. */
    start_cpu_s: Math.round(atReady.reduce((a, t) => a + (t ?? 0), 0)) / TICK,
    start_cpu_ms_per_node: Math.round((atReady.reduce((a, t) => a + (t ?? 0), 0) * (1000 / TICK)) / Math.max(1, nodes.length)),
    supervisor_start_cpu_s: cliAtReady === null ? null : cliAtReady / TICK,
    window_s: windowS,
    workload: workload.join(' ') || null,
    idle_cpu_pct_of_cores: coresShare(ticks),
    idle_cpu_pct_managers: coresShare(perRole.manager ?? 0),
    idle_cpu_pct_clients: coresShare(perRole.client ?? 0),
    /** Thread wake-ups (voluntary context switches, all threads) per second: per manager (both summed / 2) and per client. */
    wakeups_per_s: {
      manager: Math.round(wakes.manager / windowS / Math.max(1, nodes.length - clientCount)),
      client: Math.round(wakes.client / windowS / Math.max(1, clientCount)),
    },
    supervisor_cpu_pct_of_cores: cliBefore !== null && cliAfter !== null ? coresShare(cliAfter - cliBefore) : null,
    // m0 and m1 apart too: the primary keeps what the backup does not (client leases, telemetry of every client).
    memory_mib: { manager: roleMem((m) => m.role !== 'client'), m0: roleMem((m) => m.id === 'm0'), m1: roleMem((m) => m.id === 'm1'), client: roleMem((m) => m.role === 'client') },
    loadavg_before_window: loadBefore,
    cpus: cpus().length,
  };
}

const results = [];
for (const [i, n] of clientCounts.entries()) {
  const r = await measure(n, basePort + 200 * i);
  results.push(r);
  if (!json) {
    console.log(
      `1+1+${n}: ready ${r.ready_ms} ms (start-up CPU ${r.start_cpu_s} s, ${r.start_cpu_ms_per_node} ms per node, supervisor ${r.supervisor_start_cpu_s} s); ${r.workload ? `CPU under workload (${r.workload})` : "idle CPU"} ${r.idle_cpu_pct_of_cores}% of ${r.cpus} cores over ${r.window_s} s ` +
        `(managers ${r.idle_cpu_pct_managers}%, clients ${r.idle_cpu_pct_clients}%; supervisor ${r.supervisor_cpu_pct_of_cores}%); ` +
        `wake-ups/s per manager ${r.wakeups_per_s.manager}, per client ${r.wakeups_per_s.client}; ` +
        `client RSS ${r.memory_mib.client.rss_mean} MiB mean / ${r.memory_mib.client.rss_max} max, PSS ${r.memory_mib.client.pss_mean} mean (${r.memory_mib.client.anon_mean} anon); ` +
        `m0 RSS ${r.memory_mib.m0.rss_max} MiB, PSS ${r.memory_mib.m0.pss_max}; m1 RSS ${r.memory_mib.m1.rss_max} MiB, PSS ${r.memory_mib.m1.pss_max}; load average ${r.loadavg_before_window.join(' ')}`,
    );
  }
}
if (json) console.log(JSON.stringify(results));
