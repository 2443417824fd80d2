// What a node allocates that outlives a young collection and is then dropped: the garbage that makes V8's
// major GCs. V8's sampling heap profiler, keeping the objects that major GCs collected and leaving out those
// that minor GCs collected, over a window of one node's life. Two roles in one file:
//
//   Preload (in the node processes, through NODE_OPTIONS; nodes from node.js, not the start-up snapshot):
//     NODE_OPTIONS="--import $PWD/scripts/heap-promoted.mjs" IVY_HEAP_ID=c1 IVY_HEAP_AT=12000 IVY_HEAP_MS=5000 \
//       IVY_HEAP_OUT=/tmp/heap-c1.json node scripts/tput-cost.mjs --entries out/nodes/node.js@nosnap --window 8 --warmup 10
//   Summary (the allocation sites, by the three innermost frames):
//     node scripts/heap-promoted.mjs /tmp/heap-c1.json [--top 25]
//
// IVY_HEAP_AT: ms after the node starts (past start-up and warm-up); IVY_HEAP_MS: the window; IVY_HEAP_ALL=1:
// every allocation of the window, the young garbage too. Linux or not.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';

function preload() {
  const want = process.env.IVY_HEAP_ID || 'c1';
  // A node's only argument is its JSON config; every other process that inherits NODE_OPTIONS is left alone.
  const config = process.argv.find((a) => a.startsWith('{') && a.includes('"role"'));
  if (!config || !config.includes(`"id":"${want}"`)) return;
  const out = process.env.IVY_HEAP_OUT || `heap-${want}.json`;
  const session = new Session();
  session.connect();
  const fail = (what, err) => writeFileSync(out, JSON.stringify({ error: `${what}: ${String(err)}` }));
  setTimeout(() => {
    // IVY_HEAP_ALL=1: everything allocated in the window (minor GCs' garbage too), to find what a fault allocates.
    const params = { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.IVY_HEAP_ALL === '1' };
    session.post('HeapProfiler.startSampling', params, (err) => {
      if (err) return fail('startSampling', err);
      setTimeout(() => {
        session.post('HeapProfiler.stopSampling', (err2, r) => (err2 ? fail('stopSampling', err2) : writeFileSync(out, JSON.stringify({ ...r.profile, ivyAll: params.includeObjectsCollectedByMinorGC }))));
      }, Number(process.env.IVY_HEAP_MS || 5000));
    });
  }, Number(process.env.IVY_HEAP_AT || 12000)).unref();
}

function summary(file, top) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  if (profile.error) throw new Error(profile.error);
  const stacks = new Map();
  const walk = (node, stack) => {
    const f = node.callFrame;
    const here = [...stack, `${f.functionName || '(anonymous)'}@${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`];
    stacks.set(node.id, here);
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head, []);
  const bySite = new Map();
  let total = 0;
  for (const s of profile.samples) {
    const stack = stacks.get(s.nodeId);
    if (stack.some((f) => f.includes('heap-promoted.mjs'))) continue; // the profiler's own calls
    const site = stack.slice(-3).join(' > ');
    bySite.set(site, (bySite.get(site) || 0) + s.size);
    total += s.size;
  }
  const kept = profile.ivyAll ? 'whatever collected it (IVY_HEAP_ALL)' : 'collected by a major GC (or alive at its end)';
  console.log(`${(total / 1024).toFixed(0)} KiB sampled, allocated in the window and ${kept}`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(bytes / 1024).toFixed(0).padStart(6)} KiB  ${site}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--top');
  if (!args[0] || args[0].startsWith('--')) {
    console.error('usage: node scripts/heap-promoted.mjs PROFILE.json [--top 25]');
    process.exit(2);
  }
  summary(args[0], i >= 0 ? Number(args[i + 1]) : 25);
} else {
  preload();
}
