// The `ivy-cluster` command. Each subcommand validates its flags and delegates to
// nodes/control; nothing here knows the protocol.
import { Command } from 'commander';
import { parseModel, runCheck, type Model } from './control/history/check-command.js';
import { clientMemory, clientMemoryList, intIn, nemesisSpec, numberIn, oneProtocol, protocolList, scaleShape } from './control/commands/options.js';
import { NEMESIS_HELP } from './control/nemesis/spec.js';
import { runUp, type UpOptions } from './control/commands/up.js';
import { runServe, type ServeOptions } from './control/commands/serve.js';
import { runScenarioCommand, type ScenarioOptions } from './control/commands/scenario.js';
import { runBenchCommand, type BenchCliOptions } from './control/commands/bench.js';
import { runTraceCommand, type TraceCommandOptions } from './control/commands/trace.js';

const out = { log: (s: string) => console.log(s), error: (s: string) => console.error(s) };

const program = new Command()
  .name('ivy-cluster')
  .description('Run, break and measure a real IVY distributed shared memory cluster on this machine')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('up')
  .description('run a local cluster in the foreground until Ctrl-C, the duration ends, or every client ran its --ops')
  .option('--protocol <p>', 'ivy (central manager, write-invalidate) or isis (write-update, ISIS total order; registry in the manager seat)', oneProtocol, 'ivy')
  .option('--clients <n>', 'number of clients', intIn(1, 128), 4)
  .option('--backup', 'also run a backup manager (isis: a backup registry)', false)
  .option('--pages <p>', 'pages in the shared address space', intIn(1, 4096), 64)
  .option('--page-size <bytes>', 'bytes per page', intIn(64, 1 << 20), 4096)
  .option('--read-ratio <r>', 'run a random workload with this fraction of reads (0..1)', numberIn(0, 1))
  .option('--ops <n>', 'run a random workload of n operations per client', intIn(1, 100_000_000))
  .option('--rate <n>', 'run a random workload at n ops/s per client (default: back to back)', numberIn(0.1, 1_000_000))
  .option('--duration <s>', 'stop after s seconds', numberIn(0.1, 7 * 86_400))
  .option('--history <file>', 'write every operation to this JSON Lines history file')
  .option('--status <file>', 'keep this JSON status file current')
  .option('--seed <n>', 'seed of the random workload', intIn(0, 2 ** 31 - 1), 1)
  .option('--base-port <port>', 'first port (managers: base, base+1; clients from base+10)', intIn(1024, 65_000), 7000)
  .option('--client-memory <mode>', 'where clients keep pages: volatile (lost with the process), recoverable (a page file the OS keeps through kill -9), durable (also flushed to disk before a write is acknowledged)', clientMemory, 'recoverable')
  .option('--trace <file>', 'write every frame sent and received (JSON Lines, with vector clocks) to this file')
  .option('--nemesis <spec>', `break the network once the cluster is ready: ${NEMESIS_HELP}`, nemesisSpec)
  .action(async (opts: UpOptions) => {
    process.exitCode = await runUp(opts, out);
  });

program
  .command('check')
  .description('check a history file for linearizability or sequential consistency (exit 0: consistent, 1: not, with a minimal counterexample)')
  .argument('<history>', 'history file (JSON Lines)')
  .option('--model <model>', 'linearizable or sequential (default: sequential when the operations carry pos, else linearizable)', parseModel)
  // Exit 1 means "not consistent" here, so a usage error (bad flag, missing file argument) exits 2 like a bad file.
  .exitOverride((err) => process.exit(err.exitCode === 1 ? 2 : err.exitCode))
  .action(async (file: string, opts: { model?: Model }) => {
    process.exitCode = await runCheck(file, out, opts.model);
  });

program
  .command('scenario')
  .description('run failover scenarios on real clusters and print the seed\'s highest / lowest / average timing tables')
  .argument('<scenario...>', 's1..s9, a name (baseline, backup, primary-fail, primary-reboot, primary-reboot-many, alternate, partition-primary, lossy, client-crash-reboot) or all')
  .option('--protocol <list>', 'ivy, isis, or a comma list (ivy,isis) to run every scenario for each and compare them', protocolList, ['ivy'])
  .option('--clients <n>', 'clients per cluster', intIn(1, 128), 10)
  .option('--trials <t>', 'trials per scenario (default 5; 6 for s5 and s6)', intIn(1, 1000))
  .option('--pages <p>', 'pages in the shared address space', intIn(1, 4096), 3)
  .option('--seed <n>', 'seed of the fault schedule and the ops', intIn(0, 2 ** 31 - 1), 1)
  .option('--csv <file>', 'write the timing CSV here')
  .option('--history <file>', 'write the combined history (JSON Lines) here')
  .option('--json', 'print one JSON object with the results instead of tables', false)
  .option('--rounds <r>', 'rounds per trial (every client issues one fault per round)', intIn(1, 100_000), 20)
  .option('--base-port <port>', 'first port; scenario k of the run uses base + 200k', intIn(1024, 65_000), 7200)
  .option('--op-timeout <ms>', 'an operation fails after waiting this long for a manager', intIn(50, 600_000), 5000)
  .option('--client-memory <mode>', 'where clients keep pages: volatile (lost with the process), recoverable (a page file the OS keeps through kill -9), durable (also flushed to disk before a write is acknowledged)', clientMemory, 'recoverable')
  .option('--sustained <s>', 'instead of rounds, run a random workload for s seconds and report histograms and throughput', numberIn(0.5, 86_400))
  .option('--rate <n>', 'sustained mode: ops/s per client (0 = back to back)', numberIn(0, 1_000_000), 0)
  .option('--read-ratio <r>', 'sustained mode: fraction of reads', numberIn(0, 1), 0.5)
  .option('--trace <file>', 'write every frame sent and received (JSON Lines, with vector clocks; one run per scenario cluster) to this file')
  .option('--nemesis <spec>', `break the network of every scenario cluster for its whole run (on top of the scenario's own faults): ${NEMESIS_HELP}`, nemesisSpec)
  .action(async (names: string[], opts: ScenarioOptions) => {
    process.exitCode = await runScenarioCommand(names, opts, out);
  });

program
  .command('bench')
  .description('fault latency of the protocol against the bare transport (same sockets and codec), and aggregate fault throughput')
  .option('--json', 'print one JSON object: {"bare":{…},"ivy":{…},"ratio":{…},"faults_per_s":…} (+ "isis", "compare" with --protocol isis / --compare)', false)
  .option('--protocol <list>', 'ivy, isis, or ivy,isis (both, same run)', protocolList, ['ivy'])
  .option('--compare', 'both protocols in the same run: latency, write latency by client count, throughput by read ratio (= --protocol ivy,isis)', false)
  .option('--iterations <n>', 'samples per fault kind and path (default 1000, or IVY_BENCH_ITERATIONS)', intIn(1, 1_000_000))
  .option('--throughput-seconds <s>', 'seconds of each throughput run (default 5, or IVY_BENCH_SECONDS)', numberIn(0.2, 3600))
  .option('--base-port <port>', 'first port (bare nodes from base, clusters from base+100)', intIn(1024, 65_000), 8600)
  .option('--trace-overhead', 'only measure what message tracing costs: fault latency p50/p99 with tracing on vs off, alternating blocks on one cluster (--json: {"trace_overhead":{…}})', false)
  .option('--curve-overhead', 'only measure what authenticated links cost: fault latency p50/p99 with CurveZMQ vs plain links, two clusters in alternating blocks of one run, with the load average (--json: {"curve_overhead":{…}})', false)
  .option('--scale <NxR[xS]>', 'only measure many clients at a steady rate: N clients at R ops/s each for S seconds (default 15) on 64 pages, 60 % reads, on the fair bare path and on the protocol (with a backup manager), one after the other: share of the offered ops served, fault latency, ready time, node CPU (--json: {"scale":{…}})', scaleShape)
  .option('--scale-pairs <n>', 'with --scale: runs of both paths, the order alternating (bare first, then ivy first, …), and the runs pooled (default 1)', intIn(1, 20))
  .option('--s1 [trials]', "also run the seed's s1 rounds (10 clients fault at once on 3 pages) on the protocol path and on the fair bare path, trials alternating (default 5 trials; --json: \"s1\")", intIn(1, 100))
  .option(
    '--client-memory <list>',
    'where clients keep pages: volatile (lost with the process), recoverable (a page file the OS keeps through kill -9), durable (also flushed to disk before a write is acknowledged); a comma list (volatile,recoverable,durable) compares the modes instead: write hit and fault latency, ratios, recovery of 64 pages after kill -9 and reboot',
    clientMemoryList,
    ['recoverable'],
  )
  .action(async (opts: BenchCliOptions) => {
    process.exitCode = await runBenchCommand(opts, out);
  });

program
  .command('trace')
  .description('convert a trace written by --trace (JSON Lines) for another viewer')
  .argument('<file>', 'trace file (JSON Lines, DESIGN §6)')
  .option('--shiviz <out>', 'write the log format ShiViz reads (https://bestchai.bitbucket.io/shiviz/) to this file')
  .action(async (file: string, opts: TraceCommandOptions) => {
    process.exitCode = await runTraceCommand(file, opts, out);
  });

program
  .command('serve')
  .description('serve the app\'s UI to a browser on 127.0.0.1 (prints the URL with its per-run token first)')
  .option('--port <n>', 'port to listen on (0 = any free port)', intIn(0, 65_535), 7777)
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--base-port <port>', 'first port of the clusters it starts (scenario runs from base+200)', intIn(1024, 64_000), 7000)
  .action(async (opts: ServeOptions) => {
    process.exitCode = await runServe(opts, out);
  });

await program.parseAsync(process.argv);
