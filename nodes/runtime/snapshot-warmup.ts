// Run once while the start-up snapshot is built (snapshot-main.ts), never in a node: the work every
// node otherwise does for the first time at start, done at build time so that its result is in the
// blob. Nothing here touches a socket, a file, a timer or the IPC pipe, and nothing it makes is kept:
// what stays is what V8 and the modules cache on first use (zod's compiled fast paths of each object
// schema parsed, Node's perf_hooks module behind the `performance` global).
import { NodeConfigSchema } from './config.js';
import { ToNodeSchema } from './control.js';
import { generateLinkKeys, LinkKeysMessageSchema } from './link-keys.js';

/** What the supervisor sends (supervisor.ts nodeConfig), in both roles: every field a config of each carries. */
const common = {
  endpoint: 'tcp://127.0.0.1:7010',
  pages: 64,
  pageSize: 4096,
  epoch: 1,
  telemetryMs: 200,
  protocol: 'ivy',
  links: 'curve',
  recoverLoss: true,
};
const CLIENT = {
  role: 'client',
  id: 'c0',
  ...common,
  managers: [
    { id: 'm0', endpoint: 'tcp://127.0.0.1:7000' },
    { id: 'm1', endpoint: 'tcp://127.0.0.1:7001' },
  ],
  opTimeoutMs: 5000,
  heartbeatMs: 400,
  retryMs: 1000,
  minRetryMs: 20,
  voteMs: 1000,
  historyFile: '/tmp/history/c0.0.jsonl',
  incarnation: 0,
  memory: 'recoverable',
  storeFile: '/tmp/pages/c0.seg',
};
const MANAGER = {
  role: 'manager',
  id: 'm0',
  ...common,
  endpoint: 'tcp://127.0.0.1:7000',
  peer: { id: 'm1', endpoint: 'tcp://127.0.0.1:7001' },
  start: 'primary',
  heartbeatMs: 50,
  heartbeatTimeoutMs: 500,
  clientTimeoutMs: 2000,
  redriveMs: 1000,
  minRedriveMs: 20,
  clients: [{ id: 'c0', endpoint: 'tcp://127.0.0.1:7010', incarnation: 0, memory: 'recoverable' }],
};

/** Throws if a sample no longer passes its schema: the warm-up would then warm nothing, silently. */
export function warmUpForSnapshot(): void {
  const check = (what: string, r: { success: boolean }): void => {
    if (!r.success) throw new Error(`snapshot warm-up: the sample ${what} does not pass its schema`);
  };
  check('client config', NodeConfigSchema.safeParse(CLIENT));
  check('manager config', NodeConfigSchema.safeParse(MANAGER));
  check('link keys', LinkKeysMessageSchema.safeParse({ type: 'linkKeys', keys: generateLinkKeys() }));
  check('workload', ToNodeSchema.safeParse({ type: 'workload', spec: { readRatio: 0.6, rate: 10, ops: 0, pages: 64, seed: 1 } }));
  // The global `performance` loads Node's perf_hooks on first use (every node reads the clock at start).
  performance.now();
}
