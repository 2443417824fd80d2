// CPU per fault of bench's fair throughput phase, by the kernel's accounting: a protocol cluster as bench's
// (m0 and c0..c10, 64 pages, recoverable memory) whose first ten clients run random ops back to back
// (read ratio 0.5) for a window; utime + stime of every thread of every node process over the window,
// divided by the faults the merged history shows started in it. Several builds of the nodes can be
// compared in one session, interleaved (A, B, A, B): `--entries` lists their node.js (a copy of out/nodes
// inside the project, e.g. out/ab-base/out/nodes/node.js, so it finds node_modules). `--fair` adds the fair
// bare path (this checkout's out/nodes/bare-fair.js) as the reference, in the same rotation.
//
//   node scripts/tput-cost.mjs [--entries out/nodes/node.js,out/ab-base/out/nodes/node.js] [--rounds 2]
//        [--window 4] [--windows 1] [--warmup 1] [--base-port 23000] [--fair] [--counters] [--perf FILE]
//   node scripts/tput-cost.mjs --bench-like 0,3 [--rounds 2]     (bench's fair throughput phase, by warm-up)
//
// Needs Linux (/proc) and `npm run build:nodes`. Run it under the shared lock and print `uptime` beside it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterConfigSchema, DEFAULT_CLIENT_MEMORY } from '../nodes/control/api.js';
import { mergeClientLogs } from '../nodes/control/history/merge.js';
import { checkHistory } from '../nodes/control/history/linearizability.js';
import { Supervisor } from '../nodes/control/supervisor.js';
import { FairBarePath } from '../nodes/control/bench/fair-bare-path.js';
import { threadCpu, threadWakeups } from './thread-cpu.mjs';
import { IvyPath } from '../nodes/control/bench/ivy-path.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
// An entry ending in `@nosnap` starts its nodes from node.js, not the start-up snapshot (IVY_NODE_SNAPSHOT=0);
// `entry@flags=--a+--b` runs its nodes with those V8 flags (IVY_NODE_FLAGS, `+` for a space; no snapshot then,
// unless it was built with the same flags).
const entries = opt('entries', 'out/nodes/node.js').split(',').filter(Boolean);
const rounds = Number(opt('rounds', '2'));
/** Measured windows per cluster, one after another (bench runs 6 short windows per path, after latency blocks). */
const windows = Number(opt('windows', '1'));
/** Seconds of an uncounted warm-up window before them (0: none). */
const warmupS = Number(opt('warmup', '1'));
const windowS = Number(opt('window', '4'));
const basePort = Number(opt('base-port', '23000'));
const withFair = args.includes('--fair');
/**
 * `--counters`: after each protocol window, the protocol counters that moved in it, per 1000 faults. They come
 * from each node's latest telemetry, up to a telemetry period (200 ms) old at either end: use windows of seconds.
 */
const showCounters = args.includes('--counters');
/** `--perf FILE`: `perf record` (kernel CPU samples, every thread) of the protocol cluster's nodes during each window. */
const perfOut = opt('perf', '');
const CLIENTS = 11;
const WORKING = 10;
const PAGES = 64;


/** CPU ms by role and by thread group, and the main and ZeroMQ threads' wake-ups (voluntary context switches). */
type Cpu = { manager: number; clients: number; main: number; zmq: number; other: number; wakeMain: number; wakeZmq: number };
function cpuAll(pids: { manager: number[]; client: number[] }): Cpu {
  const c: Cpu = { manager: 0, clients: 0, main: 0, zmq: 0, other: 0, wakeMain: 0, wakeZmq: 0 };
  for (const [role, list] of [['manager', pids.manager], ['clients', pids.client]] as const) {
    for (const pid of list) {
      const t = threadCpu(pid);
      if (!t) continue;
      c[role] += t.main + t.zmq + t.other;
      c.main += t.main;
      c.zmq += t.zmq;
      c.other += t.other;
      const w = threadWakeups(pid);
      if (w) {
        c.wakeMain += w.main;
        c.wakeZmq += w.zmq;
      }
    }
  }
  return c;
}
const minus = (a: Cpu, b: Cpu): Cpu => ({
  manager: a.manager - b.manager,
  clients: a.clients - b.clients,
  main: a.main - b.main,
  zmq: a.zmq - b.zmq,
  other: a.other - b.other,
  wakeMain: a.wakeMain - b.wakeMain,
  wakeZmq: a.wakeZmq - b.wakeZmq,
});

/** Starts `perf record` of every thread of `pids` when asked (--perf); the returned function stops it. */
function startPerf(pids: { manager: number[]; client: number[] }, tag: string): () => Promise<void> {
  if (!perfOut) return async () => undefined;
  const perf = spawn('perf', ['record', '-F', '997', '-g', '-o', `${perfOut}.${tag}.${rows.length}`, '-p', [...pids.manager, ...pids.client].join(',')], { stdio: 'ignore' });
  return async () => {
    const done = new Promise((r) => perf.once('exit', r));
    perf.kill('SIGINT');
    await done;
  };
}

/** Resident MiB of `pid` (VmRSS), 0 if it is gone. */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every node's protocol counters summed by name (the latest telemetry of each): retries, repeats, drops per window. */
function counters(sup: Supervisor): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const n of sup.nodeInfos()) {
    const t = sup.telemetryOf(n.id);
    if (!t) continue;
    for (const [k, v] of Object.entries(t.counters)) sum[`${n.id[0]}.${k}`] = (sum[`${n.id[0]}.${k}`] ?? 0) + v;
    for (const [k, v] of Object.entries(t.dropped)) sum[`drop.${k}`] = (sum[`drop.${k}`] ?? 0) + v;
  }
  return sum;
}

interface Row {
  /** What the protocol did besides faults in the window (counters that moved, per 1000 faults). */
  extra?: Record<string, number>;
  /** Largest client's and the manager's resident MiB after the window. */
  rss?: { client: number; manager: number };
  arm: string;
  faults: number;
  seconds: number;
  cpu: Cpu;
  supMs: number;
  load: number;
}

/** Arms measured in consecutive windows (`--windows`), each reported on its own: the JIT's warm-up shows as a trend. */
async function ivyWindows(arm: string, port: number): Promise<Row[]> {
  const [path, ...mods] = arm.split('@');
  const entry = resolve(path!);
  if (mods.includes('nosnap')) process.env.IVY_NODE_SNAPSHOT = '0';
  else delete process.env.IVY_NODE_SNAPSHOT;
  const flags = mods.find((m) => m.startsWith('flags='));
  if (flags) process.env.IVY_NODE_FLAGS = flags.slice('flags='.length).split('+').join(' ');
  else delete process.env.IVY_NODE_FLAGS;
  const config = ClusterConfigSchema.parse({ clients: CLIENTS, pages: PAGES, basePort: port });
  const runDir = mkdtempSync(join(tmpdir(), 'ivy-tput-cost-'));
  const sup = new Supervisor({ config, runDir, launcher: { entry } });
  try {
    await sup.start();
    const infos = sup.nodeInfos();
    const pids = { manager: infos.filter((n) => n.id.startsWith('m') && n.pid !== null).map((n) => n.pid!), client: infos.filter((n) => n.id.startsWith('c') && n.pid !== null).map((n) => n.pid!) };
    const ids = sup.clientIds().slice(0, WORKING);
    if (warmupS > 0) {
      // A warm-up window (JIT, connections), not counted.
      sup.setWorkload({ readRatio: 0.5, rate: 0, ops: 0, pages: PAGES, seed: 99 }, ids);
      await sleep(warmupS * 1000);
      sup.setWorkload(null, ids);
      await sleep(300);
    }
    const measured: { fromNs: number; toNs: number; cpu: Cpu; supMs: number; load: number; rss: { client: number; manager: number }; moved: Record<string, number> }[] = [];
    for (let w = 0; w < windows; w++) {
      const load = loadavg()[0]!;
      const k0 = counters(sup);
      const c0 = cpuAll(pids);
      const s0 = process.cpuUsage();
      const fromNs = Number(process.hrtime.bigint());
      const perf = startPerf(pids, 'ivy');
      sup.setWorkload({ readRatio: 0.5, rate: 0, ops: 0, pages: PAGES, seed: w + 1 }, ids);
      await sleep(windowS * 1000);
      await perf();
      const toNs = Number(process.hrtime.bigint());
      sup.setWorkload(null, ids);
      const c1 = cpuAll(pids);
      const s1 = process.cpuUsage(s0);
      const rss = { client: Math.max(...pids.client.map(rssMiB)), manager: Math.max(...pids.manager.map(rssMiB)) };
      await sleep(100); // as bench's pause between windows (and the last telemetry of the window comes in)
      const k1 = counters(sup);
      const moved: Record<string, number> = {};
      for (const [k, v] of Object.entries(k1)) if (v !== (k0[k] ?? 0)) moved[k] = v - (k0[k] ?? 0);
      measured.push({ fromNs, toNs, cpu: minus(c1, c0), supMs: (s1.user + s1.system) / 1000, load, rss, moved });
    }
    await sleep(200);
    await sup.shutdown();
    const ops = mergeClientLogs(sup.historyDir());
    if (!checkHistory(ops).ok) throw new Error(`${entry}: history not linearizable`);
    return measured.map((m, w) => ({
      arm: `${arm}#${w + 1}`,
      faults: ops.filter((o) => o.fault && o.outcome === 'ok' && o.start >= m.fromNs && o.start <= m.toNs).length,
      seconds: (m.toNs - m.fromNs) / 1e9,
      cpu: m.cpu,
      supMs: m.supMs,
      load: m.load,
      rss: m.rss,
      extra: m.moved,
    }));
  } finally {
    await sup.shutdown().catch(() => undefined);
    rmSync(runDir, { recursive: true, force: true });
  }
}

async function fairWindows(port: number): Promise<Row[]> {
  const fair = await FairBarePath.start(port, 4096, PAGES, DEFAULT_CLIENT_MEMORY);
  try {
    if (warmupS > 0) await fair.throughputWindow(WORKING, PAGES, warmupS, 99);
    const pids = fair.pids();
    const out: Row[] = [];
    for (let w = 0; w < windows; w++) {
      const before = fair.throughput();
      const load = loadavg()[0]!;
      const c0 = cpuAll(pids);
      const s0 = process.cpuUsage();
      const perf = startPerf(pids, 'fair');
      await fair.throughputWindow(WORKING, PAGES, windowS, w + 1);
      await perf();
      const c1 = cpuAll(pids);
      const s1 = process.cpuUsage(s0);
      const after = fair.throughput();
      out.push({ arm: `fair-bare#${w + 1}`, faults: after.windowFaults - before.windowFaults, seconds: after.windowSeconds - before.windowSeconds, cpu: minus(c1, c0), supMs: (s1.user + s1.system) / 1000, load });
    }
    return out;
  } finally {
    await fair.stop();
  }
}

/**
 * `--bench-like 0,3`: bench's fair throughput phase itself, once per warm-up (seconds, interleaved over the
 * rounds): a fair bare path and a protocol path up at once, an uncounted warm-up window of that many
 * seconds per path, then 6 windows of 0.83 s per path alternating ABBA (bench's default --throughput-seconds 5),
 * as run.ts does but without the latency blocks before. Prints faults/s and node CPU per fault of each path.
 */
async function benchLike(warmS: number, port: number): Promise<void> {
  const [fair, ivy] = await Promise.all([FairBarePath.start(port + 400, 4096, PAGES, DEFAULT_CLIENT_MEMORY), IvyPath.start(port + 100, 4096, false, PAGES)]);
  const cpu = { fair: 0, ivy: 0 };
  const load = loadavg()[0]!;
  try {
    if (warmS > 0) {
      await fair.throughputWindow(WORKING, PAGES, warmS, 0, false);
      await ivy.throughputWindow(WORKING, PAGES, warmS, 0, false);
    }
    const fairPids = fair.pids();
    const ivyPids = ivy.pids();
    const total = (c: Cpu): number => c.manager + c.clients;
    for (let w = 0; w < 6; w++) {
      const pair: [keyof typeof cpu, () => Promise<void>][] = [
        ['fair', () => fair.throughputWindow(WORKING, PAGES, 5 / 6, w + 1)],
        ['ivy', () => ivy.throughputWindow(WORKING, PAGES, 5 / 6, w + 1)],
      ];
      if (w % 4 === 1 || w % 4 === 2) pair.reverse();
      for (const [side, run] of pair) {
        const pids = side === 'fair' ? fairPids : ivyPids;
        const c0 = total(cpuAll(pids));
        await run();
        cpu[side] += total(cpuAll(pids)) - c0;
      }
    }
  } finally {
    await fair.stop();
  }
  const f = fair.throughput();
  const i = await ivy.stop();
  const fairRate = f.windowFaults / f.windowSeconds;
  const ivyRate = i.windowFaults / i.windowSeconds;
  console.log(
    `warm-up ${String(warmS).padStart(3)} s  load ${load.toFixed(2).padStart(5)}  fair bare ${fairRate.toFixed(0).padStart(5)} faults/s ${((cpu.fair * 1000) / f.windowFaults).toFixed(0)} us/fault  ivy ${ivyRate.toFixed(0).padStart(5)} faults/s ${((cpu.ivy * 1000) / i.windowFaults).toFixed(0)} us/fault  ratio ${(ivyRate / fairRate).toFixed(2)}  linearizable ${i.linearizable}`,
  );
}

const benchLikeWarmups = opt('bench-like', '');
if (benchLikeWarmups) {
  const list = benchLikeWarmups.split(',').map(Number);
  for (let round = 0; round < rounds; round++) for (const w of round % 2 === 0 ? list : [...list].reverse()) await benchLike(w, basePort);
  process.exit(0);
}

const rows: Row[] = [];
const print = (r: Row): void => {
  const per = (ms: number): string => ((ms * 1000) / Math.max(1, r.faults)).toFixed(0);
  console.log(
    `${r.arm.padEnd(48)} load ${r.load.toFixed(2).padStart(5)}  faults/s ${(r.faults / r.seconds).toFixed(0).padStart(5)}  CPU us/fault ${per(r.cpu.manager + r.cpu.clients).padStart(4)} (m0 ${per(r.cpu.manager)}, clients ${per(r.cpu.clients)}; main ${per(r.cpu.main)}, zmq ${per(r.cpu.zmq)}, other ${per(r.cpu.other)}; wake-ups/fault main ${(r.cpu.wakeMain / Math.max(1, r.faults)).toFixed(1)} zmq ${(r.cpu.wakeZmq / Math.max(1, r.faults)).toFixed(1)})  supervisor ${per(r.supMs)}${r.rss ? `  RSS client ${r.rss.client.toFixed(1)} m0 ${r.rss.manager.toFixed(1)} MiB` : ''}`,
  );
  if (showCounters && r.extra) {
    const per1000 = (v: number): string => ((v * 1000) / Math.max(1, r.faults)).toFixed(1);
    console.log(`  per 1000 faults: ${Object.entries(r.extra).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${per1000(v)}`).join(', ')}`);
  }
};
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? entries : [...entries].reverse();
  if (withFair) {
    for (const r of await fairWindows(basePort + 400)) {
      rows.push(r);
      print(r);
    }
  }
  for (const [i, entry] of order.entries()) {
    for (const r of await ivyWindows(entry, basePort + 100 * (i + 1))) {
      rows.push(r);
      print(r);
    }
  }
}
console.log('\nsummary (sum over rounds and windows; then by window):');
const armOf = (r: Row): string => r.arm.replace(/#\d+$/, '');
for (const arm of [...new Set(rows.map(armOf)), ...(windows > 1 ? new Set(rows.map((r) => r.arm)) : [])]) {
  const of = rows.filter((r) => r.arm === arm || armOf(r) === arm);
  const faults = of.reduce((a, r) => a + r.faults, 0);
  const sec = of.reduce((a, r) => a + r.seconds, 0);
  const cpu = of.reduce((a, r) => a + r.cpu.manager + r.cpu.clients, 0);
  const m = of.reduce((a, r) => a + r.cpu.manager, 0);
  // The median of the windows too: one window that another job's burst slowed moves it less than the sum.
  const per = of.map((r) => ((r.cpu.manager + r.cpu.clients) * 1000) / Math.max(1, r.faults)).sort((a, b) => a - b);
  const median = per.length % 2 === 1 ? per[(per.length - 1) / 2]! : (per[per.length / 2 - 1]! + per[per.length / 2]!) / 2;
  console.log(
    `${arm.padEnd(48)} faults/s ${(faults / sec).toFixed(0).padStart(5)}  CPU us/fault ${((cpu * 1000) / faults).toFixed(0)} (m0 ${((m * 1000) / faults).toFixed(0)}), median ${median.toFixed(0)} over ${per.length}`,
  );
}
