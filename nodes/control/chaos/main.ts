// Command line of the chaos driver (run it with `node scripts/chaos.mjs`, which bundles this file).
// Runs seeded chaos runs one after another, prints one verdict line per run, appends every
// result to OUT/runs.jsonl, and exits 1 if any run broke safety.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { intIn, numberIn } from '../commands/options.js';
import { runChaos, verdictLine } from './run.js';

const program = new Command('chaos')
  .description('Break a real cluster from outside (kill -9, kill -STOP/-CONT) at seeded moments and check the history')
  .addOption(new Option('--protocol <list>', 'ivy, isis or ivy,isis').default('ivy,isis'))
  .option('--seed <n>', 'first seed', intIn(0, 1_000_000), 1)
  .option('--runs <n>', 'seeds per protocol (seed, seed+1, …)', intIn(1, 10_000), 1)
  .option('--duration <s>', 'fault window per run, seconds', numberIn(1, 3600), 10)
  .option('--clients <n>', 'clients', intIn(2, 32), 6)
  .option('--pages <n>', 'pages', intIn(1, 64), 3)
  .option('--rate <n>', 'ops/s per client', numberIn(1, 10_000), 40)
  .option('--read-ratio <r>', 'share of reads', numberIn(0, 1), 0.5)
  .option('--max-concurrent <n>', 'nodes down or paused at once', intIn(1, 64), 2)
  .option('--no-client-stops', 'never SIGSTOP a client (IVY issue 13)')
  .option('--no-client-kills', 'never SIGKILL a client (IVY: its sole page copies are lost for good)')
  .option('--nemesis', 'also break the network: seeded windows of nemesis presets, partitions and duplication, one at a time, healed after 0.3–3 s')
  .option('--out <dir>', 'where failing runs are saved', 'test-results/chaos')
  .option('--quiet', 'only the verdict lines');

program.parse();
const opts = program.opts<{
  protocol: string;
  seed: number;
  runs: number;
  duration: number;
  clients: number;
  pages: number;
  rate: number;
  readRatio: number;
  maxConcurrent: number;
  clientStops: boolean;
  clientKills: boolean;
  nemesis?: boolean;
  out: string;
  quiet?: boolean;
}>();

const protocols = opts.protocol.split(',').map((p) => p.trim());
for (const p of protocols) {
  if (p !== 'ivy' && p !== 'isis') {
    console.error(`--protocol: expected ivy, isis or ivy,isis, got "${opts.protocol}"`);
    process.exit(2);
  }
}

mkdirSync(opts.out, { recursive: true });
let violations = 0;
for (let i = 0; i < opts.runs; i++) {
  for (const protocol of protocols as ('ivy' | 'isis')[]) {
    const seed = opts.seed + i;
    const r = await runChaos({
      protocol,
      seed,
      durationMs: opts.duration * 1000,
      clients: opts.clients,
      pages: opts.pages,
      rate: opts.rate,
      readRatio: opts.readRatio,
      clientStops: opts.clientStops,
      clientKills: opts.clientKills,
      maxConcurrent: opts.maxConcurrent,
      nemesis: opts.nemesis === true,
      outDir: opts.out,
      log: opts.quiet ? undefined : (line) => console.log(`  [${protocol} ${seed}] ${line}`),
    });
    console.log(verdictLine(r));
    if (r.violation) console.log(r.violation);
    appendFileSync(join(opts.out, 'runs.jsonl'), JSON.stringify({ ...r, at: new Date().toISOString() }) + '\n');
    if (!r.safe) violations++;
  }
}
process.exit(violations > 0 ? 1 : 0);
