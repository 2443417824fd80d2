// Where two paths' CPU per fault differs, by what ran: reads `perf script` output of each path (as
// `scripts/tput-cost.mjs --perf FILE` records it; nodes run with --perf-basic-prof so JavaScript frames have
// names), keeps the samples of the threads asked for, and prints µs per fault by category (V8 builtins, GC,
// TurboFan, our JavaScript, the kernel, libc, …) and the leaf functions that differ most.
//
//   perf script -i FILE.ivy.1 > ivy.txt; perf script -i FILE.fair.0 > bare.txt
//   node scripts/perf-split.mjs ivy.txt FAULTS_IVY bare.txt FAULTS_BARE [--threads clients|manager|all] [--top 30] [--hz 997]
//
// FAULTS_* are the faults each window counted (faults/s × seconds, as tput-cost prints). `--threads clients`
// (the default) keeps the `node` threads (main and V8 workers) of every process but the busiest one, which
// is the manager seat; ZeroMQ's I/O threads are named ZMQbg and are left out unless `--threads all`.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const [fileA, faultsA, fileB, faultsB] = args;
if (!fileA || !fileB || !(Number(faultsA) > 0) || !(Number(faultsB) > 0)) {
  console.error('usage: node scripts/perf-split.mjs A.txt FAULTS_A B.txt FAULTS_B [--threads clients|manager|all] [--top N] [--hz 997]');
  process.exit(2);
}
const threads = flag('threads', 'clients');
if (!['clients', 'manager', 'all'].includes(threads)) {
  console.error(`--threads: expected clients, manager or all, got "${threads}"`);
  process.exit(2);
}
const top = Number(flag('top', '30'));
const usPerSample = 1e6 / Number(flag('hz', '997'));

/** Samples of `perf script` text: the thread's name, pid and stack (leaf first). */
function samples(file) {
  const out = [];
  let cur = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') {
      if (cur) out.push(cur);
      cur = null;
    } else if (!/^\s/.test(line)) {
      // "node  5819 [000] 371.041728: ..." or "ZMQbg/IO/0 5843 ...": name, then the pid/tid.
      const m = /^(\S+)\s+(\d+)/.exec(line);
      cur = m ? { comm: m[1], tid: m[2], stack: [] } : null;
    } else if (cur) {
      cur.stack.push(frame(line));
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** One stack line as "symbol  (dso)": offsets and addresses dropped, JavaScript tier marks and paths too. */
function frame(line) {
  const m = /^\s*[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)\s*$/.exec(line);
  if (!m) return { sym: line.trim(), dso: '', nodeJs: false };
  let sym = m[1];
  // "JS:*name file:///…/node.js:84:15169" or "JS:^name node:internal/timers:438:28": named alike on both paths
  // (node.js and bare-fair.js are different bundles), Node's own JavaScript told apart by its location.
  const js = /^JS:[*^~+]?(\S*)\s*(\S*)/.exec(sym);
  if (js) return { sym: `JS:${js[1]}`, dso: m[2], nodeJs: js[2].startsWith('node:') };
  return { sym, dso: m[2], nodeJs: false };
}

function category({ sym, dso, nodeJs }) {
  if (dso.includes('kernel')) return 'kernel';
  if (dso.includes('addon.node')) return 'zeromq addon';
  if (/libc|libstdc|libgcc/.test(dso)) return 'libc';
  if (dso.includes('perf-')) return nodeJs ? "node's JavaScript" : 'our JavaScript';
  if (dso.endsWith('/node')) {
    if (/Scaveng|MarkCompact|Marking|Sweep|Heap::|heap::|Evacuat|MinorGC|GCTracer|MemoryAllocator|PagedSpace|Factory::Allocate|RecordWrite/.test(sym)) return 'V8 GC and allocation';
    if (/compiler::|Compile|Pipeline|Turbofan|Maglev|interpreter::|Parse/.test(sym) && !sym.startsWith('Builtins_')) return 'V8 compilers';
    if (sym.startsWith('Builtins_')) return 'V8 builtins';
    if (/\buv_|uv__/.test(sym)) return 'libuv';
    if (sym.startsWith('node::') || sym.includes('napi')) return "node's C++";
    return "V8's runtime, other";
  }
  return 'other';
}

/** The samples of the threads asked for: the manager seat is the process whose main thread has the most samples. */
function pick(all) {
  if (threads === 'all') return all;
  const byTid = new Map();
  for (const s of all) if (s.comm === 'node') byTid.set(s.tid, (byTid.get(s.tid) ?? 0) + 1);
  const manager = [...byTid].sort((a, b) => b[1] - a[1])[0]?.[0];
  return all.filter((s) => s.comm === 'node' && (threads === 'manager' ? s.tid === manager : s.tid !== manager));
}

function tally(file, faults) {
  const cats = new Map();
  const leaves = new Map();
  const picked = pick(samples(file));
  for (const s of picked) {
    const leaf = s.stack[0];
    if (!leaf) continue;
    const c = category(leaf);
    cats.set(c, (cats.get(c) ?? 0) + 1);
    leaves.set(leaf.sym, (leaves.get(leaf.sym) ?? 0) + 1);
  }
  const per = (n) => (n * usPerSample) / faults;
  return { total: per(picked.length), cats: new Map([...cats].map(([k, v]) => [k, per(v)])), leaves: new Map([...leaves].map(([k, v]) => [k, per(v)])) };
}

const a = tally(fileA, Number(faultsA));
const b = tally(fileB, Number(faultsB));
const row = (name, x, y) => `${name.slice(0, 70).padEnd(70)} ${x.toFixed(1).padStart(8)} ${y.toFixed(1).padStart(8)} ${(x - y >= 0 ? '+' : '') + (x - y).toFixed(1).padStart(7)}`;
console.log(`threads: ${threads}; µs per fault (samples at ${Math.round(1e6 / usPerSample)} Hz)`);
console.log(`${'category'.padEnd(70)} ${'A'.padStart(8)} ${'B'.padStart(8)} ${'A - B'.padStart(8)}`);
const names = [...new Set([...a.cats.keys(), ...b.cats.keys()])].sort((x, y) => (a.cats.get(y) ?? 0) - (b.cats.get(y) ?? 0) - ((a.cats.get(x) ?? 0) - (b.cats.get(x) ?? 0)));
for (const n of names) console.log(row(n, a.cats.get(n) ?? 0, b.cats.get(n) ?? 0));
console.log(row('total', a.total, b.total));
console.log(`\nleaf functions that differ most (${top} each way)`);
const diffs = [...new Set([...a.leaves.keys(), ...b.leaves.keys()])].map((n) => [n, a.leaves.get(n) ?? 0, b.leaves.get(n) ?? 0]).sort((x, y) => y[1] - y[2] - (x[1] - x[2]));
for (const [n, x, y] of [...diffs.slice(0, top), ...diffs.slice(-top).filter((d) => !diffs.slice(0, top).includes(d))]) console.log(row(n, x, y));
