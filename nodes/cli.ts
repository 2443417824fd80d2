// The `ivy-cluster` command. Each subcommand validates its flags and delegates to
// nodes/control; nothing here knows the protocol.
import { Command } from 'commander';
import { runCheck } from './control/history/check-command.js';
import { intIn, numberIn } from './control/commands/options.js';
import { runUp, type UpOptions } from './control/commands/up.js';

const out = { log: (s: string) => console.log(s), error: (s: string) => console.error(s) };

const program = new Command()
  .name('ivy-cluster')
  .description('Run, break and measure a real IVY distributed shared memory cluster on this machine')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('up')
  .description('run a local cluster in the foreground until Ctrl-C, the duration ends, or every client ran its --ops')
  .option('--clients <n>', 'number of clients', intIn(1, 128), 4)
  .option('--backup', 'also run a backup manager', false)
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
  .action(async (opts: UpOptions) => {
    process.exitCode = await runUp(opts, out);
  });

program
  .command('check')
  .description('check a history file for linearizability (exit 0: linearizable, 1: not, with a minimal counterexample)')
  .argument('<history>', 'history file (JSON Lines)')
  .action(async (file: string) => {
    process.exitCode = await runCheck(file, out);
  });

await program.parseAsync(process.argv);
