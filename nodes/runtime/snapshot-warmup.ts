// Run once while the start-up snapshot is built (snapshot-main.ts), never in a node: the work every
// node otherwise does for the first time at start, done at build time so that its result is in the
// blob. Nothing here touches a socket, a file, a timer or the IPC pipe, and nothing it makes is kept:
// what stays is what V8 and the modules cache on first use (the bytecode of every function run, zod's
// compiled fast paths of each object schema parsed, Node's perf_hooks module behind the `performance`
// global, the frame codec's key cache).
import { PROTOCOLS, type MemberOutput, type SeatOutput } from '../core/index.js';
import { decode, encode, type Message } from '../protocol/index.js';
import { NodeConfigSchema } from './config.js';
import { ToNodeSchema } from './control.js';
import { addWindow, LatencyWindow, newHistogram, WINDOW_SAMPLES_MAX } from './latency.js';
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
  joinAndFault();
  latencyRoundTrip();
}

/**
 * A busy client's telemetry window: more faults than ship raw, so a deflated histogram. The node bundles
 * leave pako out (build-nodes.mjs): hdr-histogram-js must find Node's zlib through `require`, and this
 * fails the build if it does not.
 */
function latencyRoundTrip(): void {
  const window = new LatencyWindow();
  for (let i = 0; i <= WINDOW_SAMPLES_MAX; i++) window.record(100_000 + i);
  const shipped = window.take();
  const h = newHistogram();
  addWindow(shipped, [h]);
  if (typeof shipped !== 'string' || h.totalCount !== WINDOW_SAMPLES_MAX + 1) throw new Error('snapshot warm-up: a latency window did not survive its histogram encoding');
}

/**
 * An IVY client joins a primary and faults a page in for reading, then for writing, every frame through the
 * codec as on the wire: the code every node runs first (hello, welcome, heartbeats, the first faults) is
 * compiled here. The cores are pure state machines: the simulated clock and the frames are all there is.
 */
function joinAndFault(): void {
  const seat = PROTOCOLS.ivy.seat({
    id: 'm0', peer: null, pages: 4, parity: 1, home: true, heartbeatMs: 50, heartbeatTimeoutMs: 500, clientTimeoutMs: 2000,
    start: 'primary', epoch: 1, clients: [], recoverLoss: true, redriveMs: 1000, minRedriveMs: 20,
  });
  const member = PROTOCOLS.ivy.member({
    id: 'c0', endpoint: 'tcp://127.0.0.1:7010', managers: ['m0'], epoch: 1, pages: 4, pageSize: 4096, opTimeoutMs: 5000,
    incarnation: 0, heartbeatMs: 400, retryMs: 1000, minRetryMs: 20, memory: 'volatile', recoverLoss: true, voteMs: 1000,
  });
  let now = 0;
  const queue: { to: string; msg: Message }[] = [];
  let done = 0;
  const sent = (outs: readonly (MemberOutput | SeatOutput)[]): void => {
    for (const o of outs) {
      if (o.type === 'send') queue.push({ to: o.to, msg: o.msg });
      else if (o.type === 'done' && o.result.ok) done++;
    }
  };
  const deliver = (): void => {
    for (let guard = 0; queue.length > 0 && guard < 1000; guard++) {
      const { to, msg } = queue.shift()!;
      const r = decode(encode(msg));
      if (!r.ok) throw new Error(`snapshot warm-up: a ${msg.t} frame did not decode (${r.detail})`);
      sent(to === 'm0' ? seat.receive(r.msg, now) : member.receive(r.msg, now));
    }
  };
  sent(member.start(now));
  deliver();
  for (let i = 0; i < 10; i++) {
    now += 50;
    sent(seat.tick(now));
    sent(member.tick(now));
    deliver();
  }
  if (!member.joined) throw new Error('snapshot warm-up: the client did not join');
  sent(member.submit({ id: 1, kind: 'read', page: 1, offset: 0, length: 8 }, now));
  deliver();
  sent(member.submit({ id: 2, kind: 'write', page: 2, offset: 0, data: new Uint8Array(8) }, now));
  deliver();
  if (done !== 2) throw new Error(`snapshot warm-up: ${done} of 2 faults completed`);
  member.pageTable();
  seat.recordCache();
}
