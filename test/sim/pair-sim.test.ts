// The whole cluster on a simulated network: both managers (ManagerRoleCore), the clients,
// the supervisor's configs, SIGKILL / restart / SIGSTOP / SIGCONT of managers and crashes of
// clients, each run checked by the oracles in pair-simulator.ts (linearizability, invariants,
// one primary with the highest epoch, no lost acknowledged write, no hang, no stranded client).
//
//   PAIR_SEEDS=5000 npx vitest run --project sim test/sim/pair-sim.test.ts      more seeds (default 270)
//   PAIR_SEED_BASE=20000 ...                                                      another range of seeds
//   PAIR_SEED=123 npx vitest run --project sim test/sim/pair-sim.test.ts         replay one seed, with a trace
//   PAIR_SEED=123 PAIR_KIND=mixed PAIR_TRACE=400 ...                             …of another fault kind, longer trace
//   PAIR_SEED=85 PAIR_KIND=mixed PAIR_MEMORY=recoverable ...                      …with another client memory mode
//   PAIR_SEED=7 PAIR_PLAN=client-pause ...                                        …of a planned sweep (client-pause, die-together, lone-pause, loaded, recordless-rejoin)
//   PAIR_PAUSE_SEEDS=5000 ...                                                     more client-pause seeds (default 1000)
//   PAIR_LOSSY_SEEDS=10000 ...                                                    more lossy seeds (default 1000); PAIR_PLAN=lossy replays one
//   PAIR_PARTITION_SEEDS=5000 ...                                                 more partition seeds (default 1000; replay: PAIR_PLAN=partition)
//                                                                                 (a fifth of them, at least 20, for the primary cut from the backup: PAIR_PLAN=duel)
//   PAIR_FIXED_RETRY=1 PAIR_SEED=...                                              replay with fixed retry intervals (no adaptive timeout)
import { describe, expect, it } from 'vitest';
import { ClientCore, type ClientConfig } from '../../nodes/core/client.js';
import { ManagerRoleCore } from '../../nodes/core/manager-role.js';
import { leaseMsFor } from '../../nodes/core/manager.js';
import { VOTE_TRUST } from '../../nodes/core/quorum.js';
import type { ClientOutput } from '../../nodes/core/types.js';
import type { Message, NodeId } from '../../nodes/protocol/messages.js';
import {
  FAULT_KINDS,
  PARTITION_PRESETS,
  pairOptionsForSeed,
  pairReplayCommand,
  pairReport,
  runPairSeed,
  supervisorTiming,
  type FaultKind,
  type FaultStep,
  type PairOptions,
  type PairResult,
} from './pair-simulator.js';
import { envInt } from './env.js';
import { mulberry32 } from '../../nodes/core/random.js';

function envKind(): FaultKind | undefined {
  const raw = process.env.PAIR_KIND;
  if (raw === undefined || raw === '') return undefined;
  if (!(FAULT_KINDS as readonly string[]).includes(raw)) throw new Error(`PAIR_KIND must be one of ${FAULT_KINDS.join(', ')}`);
  return raw as FaultKind;
}

function envMemory(): PairOptions['memory'] | undefined {
  const raw = process.env.PAIR_MEMORY;
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'volatile' && raw !== 'recoverable') throw new Error('PAIR_MEMORY must be volatile or recoverable');
  return raw;
}

const replay = process.env.PAIR_SEED;
const SEEDS = envInt('PAIR_SEEDS', 270);
const BASE = envInt('PAIR_SEED_BASE', 1);
const TRACE = envInt('PAIR_TRACE', 120);
const PAUSE_SEEDS = envInt('PAIR_PAUSE_SEEDS', 1000);
const LOSSY_SEEDS = envInt('PAIR_LOSSY_SEEDS', 1000);
const PARTITION_SEEDS = envInt('PAIR_PARTITION_SEEDS', 1000);
const SENDER_SEEDS = envInt('PAIR_SENDER_SEEDS', 40);

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
/** Problems that break safety (as opposed to liveness: a hang, a page written off, a cluster slow to go quiet). */
const SAFETY = /^(swmr|invariant|linearizability|final|roles|replica|codec|workload)/;

/**
 * Every run safe; at most 0.2 % of them slow to finish after the faults (a liveness problem: an op that
 * timed out, a cluster not quiet in time). A manager whose authority rests on votes over a link stalled
 * for most of a lease (these sweeps' slow tails reach 0.67 s) grants leases that run out before its
 * acknowledgement arrives (a lease counts from the client's send); an op parked for the lease used to ask
 * again only every retryMs (1 s) and time out (lossy seed 396, traced; client-pause 63 and lossy 528 no
 * longer reproduce on this branch even with fixed intervals, PAIR_FIXED_RETRY=1, so were not traced). It
 * now asks again after the adaptive timeout, doubling (rto.ts): 0 of 1000 in both sweeps at seeds 1-1000
 * and at 1001-2000.
 * The lease itself is as before, so a longer stall can still starve an op: hence not 0.
 */
function expectSafeAndNearlyLive(failed: readonly PairResult[], n: number, plan: string): void {
  const line = (r: PairResult): string => `seed ${r.seed} (${r.options.faultKind}): ${r.problems[0]?.split('\n')[0]?.slice(0, 300)}  — replay: PAIR_SEED=${r.seed} PAIR_PLAN=${plan}`;
  const unsafe = failed.filter((r) => r.problems.some((p) => SAFETY.test(p)));
  const slow = failed.filter((r) => !unsafe.includes(r));
  if (slow.length) console.log(`liveness problems (${plan}):\n  ${slow.map(line).join('\n  ')}`);
  expect(unsafe.map(line)).toEqual([]);
  expect(slow.length, slow.map(line).join('\n')).toBeLessThanOrEqual(Math.ceil(n * 0.002));
}

/** A failed run, explained: the report, the replay command, and the last events (re-run with a trace). */
function explain(r: PairResult, overrides: Partial<PairOptions> = {}): string {
  const traced = r.trace ? r : runPairSeed(r.seed, { ...overrides, traceLast: TRACE });
  return [pairReport(r, overrides.faultKind !== undefined), `  last ${traced.trace?.length ?? 0} events:`, ...(traced.trace ?? []).map((l) => `    ${l}`)].join('\n');
}

interface Totals {
  byKind: Record<string, number>;
  ops: number;
  failed: number;
  unknown: number;
  crossReads: number;
  kills: number;
  restarts: number;
  stops: number;
  clientCrashes: number;
  takeovers: number;
  handbacks: number;
  /** Epoch bumps (every candidacy), and those while a partition was in force. */
  epochChanges: number;
  partitionEpochChanges: number;
  fifo: number;
  codec: number;
  /** Frames the lossy nemesis dropped and duplicated. */
  lost: number;
  duplicated: number;
}

function sweep(
  seeds: number[],
  overrides: Partial<PairOptions> = {},
  stopAtFirstFailure = false,
  plan: (seed: number) => Partial<PairOptions> = () => ({}),
  onRun: (r: PairResult) => void = () => {},
): { failed: PairResult[]; totals: Totals } {
  const failed: PairResult[] = [];
  const totals: Totals = { byKind: {}, ops: 0, failed: 0, unknown: 0, crossReads: 0, kills: 0, restarts: 0, stops: 0, clientCrashes: 0, takeovers: 0, handbacks: 0, epochChanges: 0, partitionEpochChanges: 0, fifo: 0, codec: 0, lost: 0, duplicated: 0 };
  for (const seed of seeds) {
    const r = runPairSeed(seed, { ...plan(seed), ...overrides });
    onRun(r);
    const s = r.stats;
    totals.byKind[r.options.faultKind] = (totals.byKind[r.options.faultKind] ?? 0) + 1;
    totals.ops += s.ops;
    totals.failed += s.failed;
    totals.unknown += s.unknown;
    totals.crossReads += s.crossReads;
    totals.kills += s.kills;
    totals.restarts += s.restarts;
    totals.stops += s.stops;
    totals.clientCrashes += s.clientCrashes;
    totals.takeovers += s.takeovers;
    totals.handbacks += s.handbacks;
    totals.epochChanges += s.epochChanges;
    totals.partitionEpochChanges += s.partitionEpochChanges;
    totals.lost += s.dropped['nemesis_loss'] ?? 0;
    totals.duplicated += s.dropped['nemesis_dup'] ?? 0;
    if (r.options.ordering === 'fifo') totals.fifo++;
    if (r.options.codec) totals.codec++;
    if (!r.ok) {
      failed.push(r);
      if (stopAtFirstFailure) break;
    }
  }
  return { failed, totals };
}

// --- seeds that reproduced protocol bugs ---------------------------------------------------------
//
// Each failed with its fix in nodes/core reverted (the rest of the current core kept) and passes with
// it. They replay exactly only while pair-simulator.ts draws its randomness the same way; the sweep
// above and the mutants below are what keep guarding the same ground after it changes.
const REGRESSIONS: { seed: number; why: string; plan?: Partial<PairOptions> }[] = [
  { seed: 278, why: 'handback without records: a page lost with a crashed client came back as a zero page after the home seat took the role back' },
  { seed: 1106, why: 'a backup that gave up a takeover left the clients it had taken following it; the primary must re-take them' },
  { seed: 4354, why: 'as above, with the home seat still a candidate when its backup gives up (clients that reported to it were never asked again)' },
  { seed: 494, why: 'a backup restarted faster than the heartbeat timeout got only sync deltas, never a full replica' },
  { seed: 430, why: 'same, ending in a zero page handed out after the next takeover' },
  { seed: 746, why: 'every takeover waited clientTimeoutMs for the report of a client long declared dead (it stayed in the known list)' },
  { seed: 107, why: 'a backup applied the sync of a deposed primary (paused, woken up, its clients timed out) and lost its client list and replica' },
  { seed: 1862, why: 'a rejoining home seat that took over alone rebuilt a page lost with a crashed client as a zero page (no replica; tombstones say the page existed)' },
  { seed: 44, why: 'a write caught in flight at a takeover was rebuilt with no owner, so a handback before the writer died handed out a zero page' },
  {
    seed: 85,
    why: 'a rebooted client obeyed a stale evict (answer to a report sent before its hello was taken) after its welcome, wiping a write being served: the page stayed transferring',
    plan: { faultKind: 'mixed', memory: 'recoverable' },
  },
  // Issue 11, loss recovery (recoverLoss): each failed before its fix, when it was found. Later changes that draw
  // the simulation's randomness differently (the hello timing) moved at least seed 998 off its path (it passes
  // with its fix disabled now); the rules themselves are pinned by test/unit/core-lossy.test.ts and core-rebuild.test.ts.
  {
    seed: 55,
    why: 'recoverLoss, no loss: a forward repeated by the new primary (it re-drives every buffered retransmission) reached the old sender after the page came back to it; served afresh, it gave its current page away and the page wedged',
    plan: clientPause(55),
  },
  { seed: 191, why: 'lossy: a page_data lost before a takeover; the new primary re-drives the rebuilt transfer, but the sender re-sent the copy it gave only within the epoch it served it in', plan: lossy(191) },
  { seed: 998, why: 'lossy: a first-touch grant whose confirm was lost, its requester crashed after writing, the primary paused: the replica said untouched and the backup handed out a zero page', plan: lossy(998) },
  { seed: 61, why: 'lossy: the write requester crashed while its forward was lost: the page was written off though its owner still held it', plan: lossy(61) },
  { seed: 70, why: 'lossy: a page lost while on the way to its requester, whose confirm and confirm-again were both lost: records said lost, the requester owned it', plan: lossy(70) },
  { seed: 494, why: 'lossy: the owner and writer died mid-invalidation with an invalidate lost: the page was lost but a copy holder kept its copy', plan: lossy(494) },
  { seed: 138, why: 'partition: a write transfer to a client cut off and written off was lost with it, though its refused report still listed the request as pending (the sender kept the copy)', plan: partitionPlan(138) },
  { seed: 558, why: 'partition: as seed 138', plan: partitionPlan(558) },
  {
    seed: 906,
    why: 'partition (split-clients, recoverable): the owner (read access) and its one copy holder both cut off; the primary made the holder heir (its own lost to the cut), then held the page for it. After the heal it came back alive without the page (read copies are not stored): the page was written off, named after a stale tombstone ("held by c0, which crashed"), though the old owner\'s store still had it',
    plan: partitionPlan(906),
  },
  { seed: 1854, why: 'partition: as seed 906', plan: partitionPlan(1854) },
  {
    seed: 1294,
    why: 'partition (split-clients, recoverable): the owner on the losing side wrote the page and sent its only copy to a writer on the other side; the cut dropped it and the sender was written off. Starting over on the takeover\'s evict it dropped the copy it gave (its store, through a crash, would have kept it): the page and its acknowledged write were lost though no client crashed',
    plan: partitionPlan(1294),
  },
  { seed: 570, why: 'partition: as seed 1294', plan: partitionPlan(570) },
  {
    seed: 2554,
    why: 'partition (split-clients, recoverable), with the evict keeping the given copy: sender and requester both cut off, the requester installed the page and wrote (acknowledged), its confirm lost to the cut; the takeover restored the sender\'s older given copy (the held client, `back`) over the requester\'s newer stored one (stale read)',
    plan: partitionPlan(2554),
  },
  {
    seed: 927,
    why: 'client-pause: a woken client\'s hello #3 overtaken by its report #3 and its next write request; the primary, whose record said hello #2, took the late hello for a start-over and reclaimed the write transfer on its way to the client, which installed it: two writers (swmr, stale read)',
    plan: clientPause(927),
  },
  { seed: 1106, why: 'lossy: a home seat rejoining over a slow link gave up on its peer and took over with no records; the peer\'s full sync came during the candidacy and was dropped, so a page lost with a crashed (restarted) client came back as a zero page', plan: lossy(1106) },
];

/**
 * Both managers and a client SIGKILLed within a fraction of a millisecond, four times, under a slow
 * network with busy clients: pages are often in flight from the dying client when the managers go.
 * (The 'both-down' kind lets the schedule take both managers; the client comes back at once.)
 */
function dieTogether(seed: number): Partial<PairOptions> {
  const schedule: FaultStep[] = [];
  for (let i = 0; i < 4; i++) {
    const t = 700 + i * 2000;
    schedule.push({ atMs: t, action: 'kill', target: 'primary', bind: `a${i}` });
    schedule.push({ atMs: t + 0.1, action: 'kill', target: 'backup', bind: `b${i}` });
    schedule.push({ atMs: t + 0.2, action: 'crash', target: 'any-client', bind: `c${i}` });
    schedule.push({ atMs: t + 40, action: 'client-restart', target: `$c${i}` });
    schedule.push({ atMs: t + 200, action: 'restart', target: `$a${i}` });
    schedule.push({ atMs: t + 700, action: 'restart', target: `$b${i}` });
  }
  return {
    faultKind: 'both-down',
    schedule,
    clients: 3 + (seed % 2),
    pages: 1 + (seed % 2),
    thinkMeanMs: 1,
    delay: { kind: 'mixed', meanNs: 200_000, slowProb: 0.3, slowMaxNs: 20_000_000 },
  };
}

/**
 * The backup is down and the primary is paused (SIGSTOP) past the client timeout, then resumed: its
 * clients' frames waited in its queue, so none of them was silent. (Found here: the resumed primary's
 * overdue timer declared every client dead and wrote off every page.)
 */
function lonePause(seed: number): Partial<PairOptions> {
  const schedule: FaultStep[] = [
    { atMs: 600, action: 'kill', target: 'backup', bind: 'b' },
    { atMs: 900, action: 'stop', target: 'primary', bind: 'p' },
    { atMs: 3000 + (seed % 5) * 300, action: 'cont', target: '$p' },
    { atMs: 5000, action: 'restart', target: '$b' },
  ];
  return { faultKind: 'mixed', schedule };
}

/**
 * A machine so loaded that links stall longer than the heartbeat timeout (8% of frames up to 1.3×
 * the timeout, FIFO links queue behind them): failovers with nobody dead, candidates outbidding each
 * other, handbacks racing takeovers. Every fault kind, both heartbeat settings.
 */
function loaded(seed: number): Partial<PairOptions> {
  const fast = seed % 2 === 0;
  const timing = fast ? supervisorTiming({ heartbeatMs: 25, heartbeatTimeoutMs: 150, clientTimeoutMs: 2000, opTimeoutMs: 5000 }) : supervisorTiming();
  return {
    faultKind: FAULT_KINDS[seed % FAULT_KINDS.length]!,
    timing,
    delay: { kind: 'mixed', meanNs: 300_000, slowProb: 0.08, slowMaxNs: Math.round(timing.heartbeatTimeoutMs * 1.3 * 1e6) },
  };
}

/**
 * A client paused (SIGSTOP) for 0.5×, 1×, 1.5× or 3× the client timeout, often with an op in flight,
 * while the primary is killed and rebooted (the backup takes over, then hands back: two takeovers the
 * client sleeps through) or paused too, then resumed with its old page table and inbox (issue 13).
 */
function clientPause(seed: number): Partial<PairOptions> {
  const base = pairOptionsForSeed(seed, 'mixed');
  const timeout = base.timing.clientTimeoutMs;
  const r = (k: number): number => ((seed * 2654435761 + k * 40503) >>> 0) / 2 ** 32;
  const t = 600 + r(1) * 400;
  const pause = [0.5, 1, 1.5, 3][seed % 4]! * timeout;
  const schedule: FaultStep[] = [{ atMs: t, action: 'stop', target: 'any-client', bind: 'c' }];
  const during = t + r(2) * pause * 0.6;
  switch (Math.floor(seed / 4) % 4) {
    case 0: // the client alone
      break;
    case 1: // the primary dies and comes back (takeover, then handback) while the client sleeps
      schedule.push({ atMs: during, action: 'kill', target: 'primary', bind: 'p' }, { atMs: during + 50 + r(3) * 700, action: 'restart', target: '$p' });
      break;
    case 2: // twice
      schedule.push({ atMs: during, action: 'kill', target: 'primary', bind: 'p' }, { atMs: during + 50 + r(3) * 300, action: 'restart', target: '$p' });
      schedule.push({ atMs: during + 900 + r(4) * 400, action: 'kill', target: 'primary', bind: 'q' }, { atMs: during + 1400 + r(5) * 600, action: 'restart', target: '$q' });
      break;
    case 3: // the primary is paused past the heartbeat timeout too (the backup takes over, the old one wakes up deposed)
      schedule.push({ atMs: during, action: 'stop', target: 'primary', bind: 'p' }, { atMs: during + base.timing.heartbeatTimeoutMs * (1 + r(3) * 3), action: 'cont', target: '$p' });
      break;
  }
  schedule.push({ atMs: t + pause, action: 'cont', target: '$c' });
  // Both memory modes: a volatile client's sole copies are written off when it is evicted, a recoverable one's wait for it.
  const memory = r(6) < 0.5 ? 'volatile' : 'recoverable';
  return { faultKind: 'mixed', schedule: schedule.sort((a, b) => a.atMs - b.atMs), thinkMeanMs: 4 + (seed % 3) * 8, pages: 1 + (seed % 3), clients: 3 + (seed % 4), memory };
}

/**
 * Issue 11's lossy nemesis on every link for the whole run (scenario s8): 1–5 % of frames lost, 0–5 %
 * duplicated, over every fault kind, so crashes, takeovers and handbacks happen with frames lost around them.
 */
function lossy(seed: number): Partial<PairOptions> {
  const r = mulberry32(seed ^ 0x10557);
  return { loss: 0.01 + r() * 0.04, dup: r() * 0.05 };
}

/**
 * The recordless-candidate gap (CONSISTENCY.md, lost and duplicated frames): a client that owns a page
 * crashes and restarts (its report no longer mentions the page: the records alone know it was lost), then
 * the home seat m0, serving, is killed and rebooted. Its peer m1 took over with the records; every frame m1
 * sends m0 from the reboot on stalls on the link until well after m0 could have given up waiting and
 * served on its clients' votes. A recordless m0 that serves before the records arrive hands the lost page
 * out as a zero page: a read of 0 after an acknowledged write.
 */
function recordlessRejoin(seed: number): Partial<PairOptions> {
  const r = (k: number): number => ((seed * 2654435761 + k * 2246822519) >>> 0) / 2 ** 32;
  const crash = 300 + r(1) * 200;
  const kill = crash + 300 + r(2) * 900;
  const restart = kill + 100 + r(3) * 300;
  const stallEnd = restart + 4000;
  const schedule: FaultStep[] = [
    { atMs: crash, action: 'crash', target: 'any-client', bind: 'c' },
    { atMs: crash + 20 + r(4) * 150, action: 'client-restart', target: '$c' },
    { atMs: kill, action: 'kill', target: 'm0' },
    { atMs: restart, action: 'restart', target: 'm0' },
  ];
  const slowLink = (from: NodeId, to: NodeId, _m: Message, atMs: number): number => (from === 'm1' && to === 'm0' && atMs >= restart && atMs < stallEnd ? stallEnd - atMs : 0);
  return { faultKind: 'mixed', schedule, slowLink, pages: 6 + (seed % 3), clients: 3 + (seed % 3), thinkMeanMs: 2 + (seed % 3) * 4, readRatio: 0.5, recoveryMs: 6000 };
}

/**
 * The crash path of partition seed 2554 (docs/CONSISTENCY.md, partitions, limits), recoverable memory: c0 owns
 * the one page, c1 asks to write it, c0 sends its only copy and c1 installs it and writes (acknowledged: its
 * store has it), but c1's confirms of write transfers are lost from `t` on (a targeted loss). c0 is SIGKILLed
 * while the transfer waits for that confirm: the primary holds the page for c0 (the transfer in flight). c1 is
 * SIGKILLed once c0 is written off; then both restart, in either order. Both stores report the page: c0's is the
 * copy it sent, c1's the newer one with c1's writes. Restoring c0's (the held client's) over c1's loses c1's
 * acknowledged writes: a later read returns a value older than one of them (linearizability).
 */
function senderCrash(seed: number, takeover = false): Partial<PairOptions> {
  const base = pairOptionsForSeed(seed, 'mixed');
  const T = base.timing;
  const r = (k: number): number => ((seed * 2654435761 + k * 2246822519) >>> 0) / 2 ** 32;
  const t = 600 + r(1) * 300;
  const crashSender = t + 100 + r(2) * 100;
  const crashRequester = crashSender + T.clientTimeoutMs + 400 + r(3) * 400;
  // Either may come back first. Even seeds: the requester, at once. Odd seeds: the sender, once the requester was
  // written off too (its copy must then wait for the requester's hello), then the requester.
  const restarts: FaultStep[] =
    seed % 2 === 0
      ? [
          { atMs: crashRequester + 50 + r(4) * 100, action: 'client-restart', target: 'c1' },
          { atMs: crashRequester + 300 + r(5) * 500, action: 'client-restart', target: 'c0' },
        ]
      : [
          { atMs: crashRequester + T.clientTimeoutMs + 300 + r(4) * 300, action: 'client-restart', target: 'c0' },
          { atMs: crashRequester + T.clientTimeoutMs + 800 + (takeover ? 4000 : 0) + r(5) * 500, action: 'client-restart', target: 'c1' },
        ];
  // With `takeover`: the primary is killed while the page waits for the requester, and the requester stays down
  // through the takeover: the replica must name the transfer in flight (replicaOf, `granted` on a held page).
  const kill: FaultStep[] = takeover
    ? [
        { atMs: crashRequester + T.clientTimeoutMs + 100, action: 'kill', target: 'primary', bind: 'p' },
        { atMs: crashRequester + T.clientTimeoutMs + 700, action: 'restart', target: '$p' },
      ]
    : [];
  const crashes: FaultStep[] = [
    { atMs: crashSender, action: 'crash', target: 'c0' },
    { atMs: crashRequester, action: 'crash', target: 'c1' },
  ];
  const schedule = [...crashes, ...restarts, ...kill].sort((a, b) => a.atMs - b.atMs);
  // c1's first life loses every confirm of a write transfer from t on (it still confirms reads, heartbeats, asks).
  const makeClient = (cfg: ClientConfig): ClientCore => {
    const c = new ClientCore(cfg);
    if (cfg.id !== 'c1' || cfg.incarnation !== 0) return c;
    const receive = c.receive.bind(c);
    c.receive = (msg: Message, now: number): ClientOutput[] => receive(msg, now).filter((o) => !(now >= t && o.type === 'send' && o.msg.t === 'confirm' && o.msg.access === 'write'));
    return c;
  };
  return { faultKind: 'mixed', schedule, makeClient, clients: 2, pages: 1, readRatio: 0.5, thinkMeanMs: 5, memory: 'recoverable', recoveryMs: 2 * T.clientTimeoutMs + 1500 };
}

/** PAIR_PLAN replays a seed of one of the planned sweeps below. */
function envPlan(seed: number): Partial<PairOptions> {
  const plans: Record<string, (seed: number) => Partial<PairOptions>> = { 'client-pause': clientPause, 'die-together': dieTogether, 'lone-pause': lonePause, loaded, lossy, partition: partitionPlan, duel: duelPlan, 'recordless-rejoin': recordlessRejoin, 'sender-crash': senderCrash, 'sender-crash-takeover': (seed) => senderCrash(seed, true) };
  const raw = process.env.PAIR_PLAN;
  if (raw === undefined || raw === '') return {};
  const plan = plans[raw];
  if (!plan) throw new Error(`PAIR_PLAN must be one of ${Object.keys(plans).join(', ')}`);
  return plan(seed);
}

/**
 * A network partition (cut at the senders, connections up): the primary cut from the backup, from
 * everyone, from the backup one way only, or the cluster split in two halves with a manager each; for
 * less than the heartbeat timeout, a few times it, or past the client timeout; then healed. Sometimes
 * the primary is killed after the heal. Split brain must never show: every history linearizable.
 */
function partitionPlan(seed: number): Partial<PairOptions> {
  const base = pairOptionsForSeed(seed, 'mixed');
  const T = base.timing;
  const r = (k: number): number => ((seed * 2246822519 + k * 3266489917) >>> 0) / 2 ** 32;
  const preset = PARTITION_PRESETS[seed % PARTITION_PRESETS.length]!;
  const t = 600 + r(1) * 400;
  const length = [0.5 * T.heartbeatTimeoutMs, 3 * T.heartbeatTimeoutMs, 1.5 * T.clientTimeoutMs, 2.5 * T.clientTimeoutMs][Math.floor(seed / 4) % 4]!;
  const schedule: FaultStep[] = [
    { atMs: t, action: 'partition', target: 'primary', preset },
    { atMs: t + length, action: 'heal', target: 'primary' },
  ];
  if (r(2) < 0.3) schedule.push({ atMs: t + length + 200 + r(3) * 800, action: 'kill', target: 'primary', bind: 'p' }, { atMs: t + length + 1000 + r(4) * 800, action: 'restart', target: '$p' });
  const memory = r(5) < 0.5 ? 'volatile' : 'recoverable';
  // The cut frames are lost: what was in flight then is recovered by the cores' loss recovery (or a takeover).
  // Shorter than the other sweeps (a client timeout and a half to recover, a short tail): 1000 seeds per run.
  const recoveryMs = 1.5 * T.clientTimeoutMs + 1000;
  return { faultKind: 'mixed', schedule, thinkMeanMs: 20 + (seed % 3) * 20, pages: 1 + (seed % 2), clients: 3 + (seed % 4), memory, recoverLoss: true, recoveryMs, tailMs: 300 };
}

/**
 * The primary cut from the backup only (every client reaches both): no leadership duel. The cut-off backup
 * never serves (the clients it asks have promised the primary, which renews their promises); on links whose
 * slow tail stays short (see `loaded`) the primary keeps its quorum throughout, so the only epoch
 * change is the backup's one candidacy. On a loaded link (a tail past the heartbeat timeout, or long enough
 * that a client's vote arrives after it ran out) the primary may lose its quorum and take its own clients back with a
 * fresh epoch, and the backup, outbid, may run again: bumps, but never the two taking turns.
 * A problem, or null.
 */
function noDuel(r: PairResult): string | null {
  const s = r.stats;
  const T = r.options.timing;
  const tail = r.options.delay.kind === 'mixed' ? r.options.delay.slowMaxNs / 1e6 : 0;
  // Loaded: a tail long enough for a false heartbeat timeout, or for a vote to run out before the next
  // echo arrives (acknowledgement and echo both late, a heartbeat interval apart, past lease × trust).
  const loaded = tail >= Math.min(T.heartbeatTimeoutMs, (leaseMsFor(T.clientTimeoutMs) * VOTE_TRUST - T.clientHeartbeatMs) / 2);
  const what = `seed ${r.seed}: ${s.partitionEpochChanges} epoch changes, ${s.partitionTakeovers} takeovers (${s.partitionTakeoversByOther} by the backup) during the cut`;
  if (s.partitionTakeoversByOther > 0) return `${what}: the backup took over`;
  if (!loaded && (s.partitionEpochChanges > 1 || s.partitionTakeovers > 0)) return `${what}, on links with a slow tail of ${tail} ms only`;
  return null;
}

/**
 * The primary cut from the backup only, under load, past the client timeout: every client still reaches
 * both managers. The sitting primary keeps its clients' votes (their promises) and serves on; the backup's
 * candidacy gets no vote and yields at the heal. Once a duel (issue 11, real processes): each manager's
 * takeover fenced the other's clients, epochs 1 → 23 in 3 s.
 */
function duelPlan(seed: number): Partial<PairOptions> {
  const T = pairOptionsForSeed(seed, 'mixed').timing;
  const r = (k: number): number => ((seed * 2654435761 + k * 40503) >>> 0) / 2 ** 32;
  // After the start-up window: a client votes for nobody in its first lease (it keeps whatever its previous
  // life promised), so until then the primary's authority is the backup's vote alone, which the cut ends.
  const t = 1500 + r(1) * 1000;
  const schedule: FaultStep[] = [
    { atMs: t, action: 'partition', target: 'primary', preset: 'isolate-primary-backup' },
    { atMs: t + (1.5 + r(2)) * T.clientTimeoutMs, action: 'heal', target: 'primary' },
  ];
  return { faultKind: 'mixed', schedule, thinkMeanMs: 10 + (seed % 3) * 10, pages: 1 + (seed % 3), clients: 3 + (seed % 6), memory: r(3) < 0.5 ? 'volatile' : 'recoverable', recoverLoss: true, recoveryMs: 1.5 * T.clientTimeoutMs + 1000, tailMs: 300 };
}

describe('pair simulator: both managers, all clients, real faults', () => {
  if (replay !== undefined) {
    it(`replays seed ${replay}`, () => {
      const seed = envInt('PAIR_SEED', 0);
      const kind = envKind();
      const memory = envMemory();
      const plan = envPlan(seed);
      // PAIR_FIXED_RETRY=1: fixed retry and re-drive intervals (before the adaptive timeout, rto.ts).
      const fixed = process.env.PAIR_FIXED_RETRY === '1' ? { minRetryMs: null } : {};
      const overrides: Partial<PairOptions> = { ...plan, ...fixed, traceLast: TRACE, ...(kind ? { faultKind: kind } : {}), ...(memory ? { memory } : {}) };
      const r = runPairSeed(seed, overrides);
      console.log(r.ok ? pairReport(r, kind !== undefined) : explain(r, overrides));
      expect(r.problems).toEqual([]);
    });
    return;
  }

  it(`${SEEDS} seeds (from ${BASE}) across every fault kind: linearizable, coherent, one primary, nothing lost or hung`, () => {
    const t0 = performance.now();
    const { failed, totals } = sweep(range(BASE, SEEDS));
    const s = (performance.now() - t0) / 1000;
    console.log(`pair sim: ${SEEDS} seeds in ${s.toFixed(1)} s, ${failed.length} failed; ${JSON.stringify(totals)}`);
    for (const r of failed.slice(0, 3)) console.error(explain(r));
    expect(failed.map((r) => `seed ${r.seed} (${r.options.faultKind}): ${r.problems[0]?.split('\n')[0]}  — replay: ${pairReplayCommand(r.seed)}`)).toEqual([]);
    if (SEEDS >= FAULT_KINDS.length * 10) {
      // The runs did what they are for: every fault kind, real failovers and handbacks, crashes with
      // ops in flight ("unknown"), failed ops, and pages really shared between clients.
      for (const kind of FAULT_KINDS) expect(totals.byKind[kind] ?? 0, kind).toBeGreaterThan(0);
      expect(totals.kills).toBeGreaterThan(SEEDS / 4);
      expect(totals.restarts).toBeGreaterThan(SEEDS / 8);
      expect(totals.stops).toBeGreaterThan(SEEDS / 20);
      expect(totals.clientCrashes).toBeGreaterThan(SEEDS / 10);
      expect(totals.takeovers).toBeGreaterThan(SEEDS / 2);
      expect(totals.handbacks).toBeGreaterThan(SEEDS / 10);
      expect(totals.unknown).toBeGreaterThan(0);
      expect(totals.failed).toBeGreaterThan(0);
      expect(totals.crossReads).toBeGreaterThan(SEEDS);
      expect(totals.fifo).toBeGreaterThan(0);
      expect(totals.fifo).toBeLessThan(SEEDS);
      expect(totals.codec).toBeGreaterThan(0);
    }
  });

  it.each(REGRESSIONS)('regression: seed $seed ($why)', ({ seed, plan }) => {
    const r = runPairSeed(seed, plan);
    if (!r.ok) console.error(explain(r, plan));
    expect(r.problems).toEqual([]);
  });

  // Before the fix (nodes/core/manager-role.ts: a recordless rejoin gives up on its peer only once no records
  // survive) seeds 18, 22 and 38 of these 60 handed such a page out as a zero page (a read of null after an
  // acknowledged write); the rest did not have a page only the crashed client had ever held. Replay: PAIR_PLAN=recordless-rejoin.
  // Seed 26 failed the same way after the merge with duel: m1 ran for an epoch, yielded to the serving m0 and,
  // as a backup ahead of m0's epoch, dropped m0's syncs; its takeover rebuilt from records older than the page
  // (nodes/core/manager-role.ts, the stale-epoch sync rule; test/unit/core-yield-records.test.ts).
  it('a rebooted home seat without records waits for its peer\'s over a stalled link: a page lost with a restarted client is never a zero page', () => {
    const runs = range(1, 60).map((seed) => runPairSeed(seed, recordlessRejoin(seed)));
    const line = (r: PairResult, p: string | undefined): string => `seed ${r.seed}: ${p?.split('\n')[0]?.slice(0, 300)}  — replay: PAIR_SEED=${r.seed} PAIR_PLAN=recordless-rejoin`;
    const unsafe = runs.filter((r) => r.problems.some((p) => SAFETY.test(p)));
    for (const r of unsafe.slice(0, 1)) console.error(explain(r, recordlessRejoin(r.seed)));
    expect(unsafe.map((r) => line(r, r.problems.find((p) => SAFETY.test(p))))).toEqual([]);
    // The price: the peer handed back at the first request, so nobody serves until its records get through
    // the stall (4 s): clients follow a backup meanwhile ("stranded"). Nothing else may go wrong.
    const other = runs.filter((r) => r.problems.some((p) => !SAFETY.test(p) && !p.startsWith('stranded')));
    expect(other.map((r) => line(r, r.problems.find((p) => !p.startsWith('stranded'))))).toEqual([]);
  });

  it('survives both managers and a client dying together, again and again', () => {
    const { failed } = sweep(range(BASE, Math.min(SEEDS, 40)), {}, false, dieTogether);
    for (const r of failed.slice(0, 2)) console.error(explain(r, dieTogether(r.seed)));
    expect(failed.map((r) => `seed ${r.seed}: ${r.problems[0]?.split('\n')[0]}`)).toEqual([]);
  });

  it('recoverable client memory: client crashes (alone, during failovers, with both managers down) lose no page, histories and final reads linearizable', () => {
    const kinds = ['client-crash', 'mixed'] as const;
    const seeds = range(BASE, Math.min(SEEDS, 120));
    const runs: PairResult[] = [];
    for (const seed of seeds) runs.push(runPairSeed(seed, { faultKind: kinds[seed % kinds.length]!, memory: 'recoverable' }));
    for (const seed of range(BASE, Math.min(SEEDS, 30))) runs.push(runPairSeed(seed, { ...dieTogether(seed), memory: 'recoverable' }));
    // Safety must hold in every run: one writer, coherent records, linearizable histories and final reads.
    const unsafe = runs.filter((r) => r.problems.some((p) => /^(swmr|invariant|linearizability|final)/.test(p)));
    // Liveness is reported: a page lost in a case recovery does not cover (see the report), or a wedge.
    const other = runs.filter((r) => !r.ok && !unsafe.includes(r));
    const lostOps = runs.reduce((n, r) => n + r.lostOps, 0);
    const crashes = runs.reduce((n, r) => n + r.stats.clientCrashes, 0);
    for (const r of unsafe.slice(0, 2)) console.error(explain(r, { memory: 'recoverable', ...(r.options.faultKind === 'both-down' ? dieTogether(r.seed) : { faultKind: r.options.faultKind }) }));
    console.log(
      `pair sim, recoverable: ${runs.length} runs, ${crashes} client crashes, ${unsafe.length} unsafe, ${other.length} with liveness problems (${other.map((r) => `seed ${r.seed} ${r.options.faultKind}: ${r.problems[0]?.slice(0, 60)}`).join('; ')}), ${lostOps} ops failed on a lost page`,
    );
    // Seed 85 'mixed' (fixed): a takeover rebuilt a page held by a silent recoverable client without a floor, so its
    // reboot restored an older copy its store kept from an earlier turn as owner (stale read). See core-rebuild.test.ts.
    expect(unsafe.map((r) => `seed ${r.seed} (${r.options.faultKind}): ${r.problems.find((p) => /^(swmr|invariant|linearizability|final)/.test(p))?.split('\n')[0]}`)).toEqual([]);
    // Client crashes alone (no manager fault at the same moment) lose nothing.
    expect(runs.filter((r) => r.options.faultKind === 'client-crash').reduce((n, r) => n + r.lostOps, 0)).toBe(0);
    expect(crashes).toBeGreaterThan(seeds.length / 4);
  });

  it('keeps its guarantees on a machine so loaded that heartbeats time out with nobody dead', () => {
    const { failed, totals } = sweep(range(BASE, Math.min(SEEDS, 90)), {}, false, loaded);
    for (const r of failed.slice(0, 2)) console.error(explain(r, loaded(r.seed)));
    expect(failed.map((r) => `seed ${r.seed} (loaded, ${r.options.faultKind}): ${r.problems[0]?.split('\n')[0]}`)).toEqual([]);
    if (SEEDS >= 90) expect(totals.takeovers).toBeGreaterThan(totals.kills + totals.stops);
  });

  it('a lone primary paused past the client timeout does not write its clients off', () => {
    const { failed } = sweep(range(BASE, Math.min(SEEDS, 20)), {}, false, lonePause);
    for (const r of failed.slice(0, 2)) console.error(explain(r, lonePause(r.seed)));
    expect(failed.map((r) => `seed ${r.seed}: ${r.problems[0]?.split('\n')[0]}`)).toEqual([]);
  });

  it('a client paused across takeovers, past its eviction, serves nothing stale when it wakes', () => {
    const n = Math.max(40, Math.min(PAUSE_SEEDS, SEEDS * 4));
    const { failed, totals } = sweep(range(BASE, n), {}, false, clientPause);
    console.log(`pair sim, client pauses: ${n} seeds, ${failed.length} failed; ${JSON.stringify(totals)}`);
    for (const r of failed.slice(0, 2)) console.error(explain(r, clientPause(r.seed)));
    expectSafeAndNearlyLive(failed, n, 'client-pause');
    expect(totals.stops).toBeGreaterThanOrEqual(n);
    expect(totals.takeovers).toBeGreaterThan(n / 3);
  });

  it(`${LOSSY_SEEDS} seeds with 1–5 % of frames lost and 0–5 % duplicated, across every fault kind: linearizable, nothing wedged`, () => {
    const t0 = performance.now();
    const seeds = range(BASE, LOSSY_SEEDS);
    const { failed, totals } = sweep(seeds, {}, false, lossy);
    console.log(`pair sim, lossy: ${LOSSY_SEEDS} seeds in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${failed.length} failed; ${JSON.stringify(totals)}`);
    for (const r of failed.slice(0, 2)) console.error(explain(r, lossy(r.seed)));
    expectSafeAndNearlyLive(failed, LOSSY_SEEDS, 'lossy');
    if (LOSSY_SEEDS >= 200) {
      // Frames really were lost and duplicated, around real failovers, handbacks and crashes.
      expect(totals.lost).toBeGreaterThan(LOSSY_SEEDS * 10);
      expect(totals.duplicated).toBeGreaterThan(LOSSY_SEEDS * 5);
      expect(totals.clientCrashes).toBeGreaterThan(LOSSY_SEEDS / 10);
      for (const kind of FAULT_KINDS) expect(totals.byKind[kind] ?? 0, kind).toBeGreaterThan(0);
      expect(totals.takeovers).toBeGreaterThan(LOSSY_SEEDS / 2);
      expect(totals.handbacks).toBeGreaterThan(LOSSY_SEEDS / 10);
      expect(totals.crossReads).toBeGreaterThan(LOSSY_SEEDS);
    }
  });

  it('partitions (primary from backup, from everyone, one way, split in halves) never let two primaries serve', () => {
    const n = Math.max(40, Math.min(PARTITION_SEEDS, SEEDS * 4));
    const t0 = performance.now();
    // Epoch bumps while the cut is in force, per preset: a leadership duel (two managers taking the clients
    // from each other in turn) shows as dozens of them.
    const bumps: Record<string, number[]> = {};
    const duels: string[] = [];
    const onRun = (r: PairResult): void => {
      const preset = PARTITION_PRESETS[r.seed % PARTITION_PRESETS.length]!;
      (bumps[preset] ??= []).push(r.stats.partitionEpochChanges);
      if (preset === 'isolate-primary-backup') {
        const duel = noDuel(r);
        if (duel) duels.push(`${duel} — replay: PAIR_SEED=${r.seed} PAIR_PLAN=partition`);
      }
    };
    const { failed, totals } = sweep(range(BASE, n), {}, false, partitionPlan, onRun);
    const line = (r: PairResult): string => `seed ${r.seed} (${PARTITION_PRESETS[r.seed % PARTITION_PRESETS.length]}): ${r.problems[0]?.split('\n')[0]?.slice(0, 240)}  — replay: PAIR_SEED=${r.seed} PAIR_PLAN=partition`;
    // Safety, in every run: one writer, coherent records, one primary at the end, linearizable histories and final reads.
    const unsafe = failed.filter((r) => r.problems.some((p) => SAFETY.test(p)));
    // Liveness after the heal: no page is written off while its holder lives (docs/CONSISTENCY.md). Seeds
    // 1-3000 used to show 4 such runs, all split-clients (430 before them no longer fails): 906 and 1854, a
    // page held for an heir that came back alive without it (the spare rule); 570 and 1294, a sender written
    // off mid-transfer that dropped the copy it gave (an evict keeps it now, as a crash does; safe since a held
    // page never comes back older than another stored copy, seed 2554). 0 of 3000 now: held to 0.
    const slow = failed.filter((r) => !unsafe.includes(r));
    console.log(`pair sim, partitions: ${n} seeds in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${unsafe.length} unsafe, ${slow.length} with liveness problems${slow.length ? `:\n  ${slow.map(line).join('\n  ')}` : ''}; ${JSON.stringify(totals)}`);
    const spread = Object.entries(bumps).map(([k, v]) => `${k} max ${Math.max(...v)} mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)}`);
    console.log(`pair sim, partitions: epoch changes during the cut: ${spread.join('; ')}`);
    for (const r of unsafe.slice(0, 2)) console.error(explain(r, partitionPlan(r.seed)));
    expect(unsafe.map(line)).toEqual([]);
    expect(slow.map(line)).toEqual([]);
    expect(totals.takeovers).toBeGreaterThan(n / 3);
    expect(duels).toEqual([]);
  });

  it('the primary cut from the backup only, under load, keeps serving: no takeover, one candidacy, no duel', () => {
    const n = Math.max(20, Math.min(PARTITION_SEEDS / 5, SEEDS));
    const duels: string[] = [];
    const hist: Record<number, number> = {};
    const { failed } = sweep(range(BASE, n), {}, false, duelPlan, (r) => {
      const k = r.stats.partitionEpochChanges;
      hist[k] = (hist[k] ?? 0) + 1;
      const duel = noDuel(r);
      if (duel) duels.push(`${duel} — replay: PAIR_SEED=${r.seed} PAIR_PLAN=duel`);
    });
    console.log(`pair sim, primary cut from the backup: ${n} seeds, epoch changes during the cut ${JSON.stringify(hist)}, ${failed.length} failed`);
    for (const r of failed.filter((x) => x.problems.some((p) => SAFETY.test(p))).slice(0, 1)) console.error(explain(r, duelPlan(r.seed)));
    expectSafeAndNearlyLive(failed, n, 'duel');
    expect(duels.slice(0, 10)).toEqual([]);
    // The backup did notice the cut (not a vacuous pass): most runs have its one candidacy and nothing else.
    expect(hist[1] ?? 0).toBeGreaterThan(n / 2);
  });

  // Before the fix (a held page's sender never restored over its requester's newer stored copy: manager.ts
  // restoreFrom and forget, rebuild.ts `newer` and `flight`), 13 of these 40 seeds broke linearizability (replay:
  // PAIR_PLAN=sender-crash), and with a takeover while the page waited for the requester, seeds 3, 11, 33 and
  // more (PAIR_PLAN=sender-crash-takeover; the replica did not name the transfer in flight).
  it('a sender SIGKILLed mid-transfer (its requester wrote, the confirm lost) never comes back over the requester\'s newer copy', () => {
    const n = Math.max(20, Math.min(SENDER_SEEDS, SEEDS));
    for (const takeover of [false, true]) {
      const plan = takeover ? 'sender-crash-takeover' : 'sender-crash';
      const { failed, totals } = sweep(range(BASE, n), {}, false, (seed) => senderCrash(seed, takeover));
      const unsafe = failed.filter((r) => r.problems.some((p) => SAFETY.test(p)));
      const line = (r: PairResult): string => `seed ${r.seed}: ${r.problems[0]?.split('\n')[0]?.slice(0, 240)}  — replay: PAIR_SEED=${r.seed} PAIR_PLAN=${plan}`;
      console.log(`pair sim, ${plan}: ${n} seeds, ${unsafe.length} unsafe, ${failed.length - unsafe.length} with liveness problems${failed.length ? `:\n  ${failed.map(line).join('\n  ')}` : ''}`);
      for (const r of unsafe.slice(0, 1)) console.error(explain(r, senderCrash(r.seed, takeover)));
      expect(unsafe.map(line)).toEqual([]);
      expect(failed.map(line)).toEqual([]);
      expect(totals.clientCrashes).toBe(2 * n);
      if (takeover) expect(totals.takeovers).toBeGreaterThan(n);
    }
  });

  it('is deterministic: a seed replays to the same history and trace', () => {
    for (const seed of [3, 8, 17]) {
      const a = runPairSeed(seed, { traceLast: 50 });
      const b = runPairSeed(seed, { traceLast: 50 });
      expect(b.history).toEqual(a.history);
      expect(b.trace).toEqual(a.trace);
      expect(b.stats).toEqual(a.stats);
    }
  });

  it('mirrors the supervisor: the cluster defaults, client and manager ticks derived like nodeConfig', () => {
    const t = supervisorTiming();
    expect(t.retryMs).toBe(Math.max(300, t.heartbeatTimeoutMs * 2));
    expect(t.clientHeartbeatMs).toBe(Math.max(100, Math.floor(t.clientTimeoutMs / 10)));
    expect(t.managerTickMs).toBe(Math.max(1, Math.floor(t.heartbeatMs / 4)));
    const opts = range(1, FAULT_KINDS.length * 4).map((s) => pairOptionsForSeed(s));
    expect(new Set(opts.map((o) => o.faultKind))).toEqual(new Set(FAULT_KINDS));
    expect(new Set(opts.map((o) => o.ordering))).toEqual(new Set(['fifo', 'random']));
  });

  it('keeps each link FIFO in fifo mode (per sender process), and reorders links in random mode', () => {
    const inversions = (ordering: 'fifo' | 'random'): number => {
      let n = 0;
      for (const seed of range(1, 12)) {
        const last = new Map<string, number>();
        runPairSeed(seed, {
          ordering,
          onDeliver: (d) => {
            const link = `${d.from}#${d.fromIncarnation}>${d.to}`;
            if ((last.get(link) ?? 0) > d.id) n++;
            last.set(link, Math.max(d.id, last.get(link) ?? 0));
          },
        });
      }
      return n;
    };
    expect(inversions('fifo')).toBe(0);
    expect(inversions('random')).toBeGreaterThan(100);
  });

  it('reports a seed it cannot bring to quiescence (a lost page transfer wedges its page)', () => {
    // Lose one page transfer between live clients, with loss recovery off (recoverLoss false): nothing
    // re-sends it, the manager waits for a confirm forever, and the oracles must say so rather than pass.
    let dropped = false;
    const r = runPairSeed(2, {
      faultKind: 'none',
      recoverLoss: false,
      makeClient: (cfg) => {
        const c = new ClientCore(cfg);
        const send = c.receive.bind(c);
        c.receive = (msg: Message, now: number): ClientOutput[] =>
          send(msg, now).filter((o) => {
            if (dropped || o.type !== 'send' || o.msg.t !== 'page_data') return true;
            dropped = true;
            return false;
          });
        return c;
      },
    });
    expect(dropped).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.startsWith('quiescence:') || p.startsWith('hang:'))).toBe(true);
  });
});

// --- mutants: broken protocols the oracles must reject ---------------------------------------

const kinds = (...ks: FaultKind[]): ((seed: number) => Partial<PairOptions>)[] => ks.map((faultKind) => () => ({ faultKind }));

/** Rebuilds as if no client reported a served tombstone: a page caught in flight at a takeover is forgotten. */
class TombstoneBlindManager extends ManagerRoleCore {
  override receive(msg: Message, now: number) {
    if (msg.t !== 'report') return super.receive(msg, now);
    return super.receive({ ...msg, pages: msg.pages.map((p) => ({ ...p, served: null })) }, now);
  }
}

/** Sends the home seat no records on a handback (the bug fixed here): pages lost with a crashed client come back as zero pages. */
class RecordlessHandbackManager extends ManagerRoleCore {
  override receive(msg: Message, now: number) {
    if (msg.t === 'handback_req') {
      // Answer with an empty full sync, as a backup that never had a replica would.
      const out = super.receive(msg, now);
      return out.map((o) => (o.type === 'send' && o.msg.t === 'sync' ? { ...o, msg: { ...o.msg, records: [] } } : o));
    }
    return super.receive(msg, now);
  }
}

/** `from`: the first seed tried (150 from there); `safety`: only a broken safety oracle counts as caught (not a hang or a lost page). */
const MUTANTS: { name: string; overrides: Partial<PairOptions>; plans: ((seed: number) => Partial<PairOptions>)[]; from?: number; safety?: boolean }[] = [
  // Not listed: a client that installs pre-takeover pages without waiting for `resume`. The stash matters only
  // when the page's sender dies together with the primary, and 150 seeds of `dieTogether` did not produce that
  // interleaving: the harness cannot yet show this defence is needed.
  { name: 'rebuild that ignores served tombstones', overrides: { makeManager: (cfg) => new TombstoneBlindManager(cfg) }, plans: kinds('primary-kill', 'primary-reboot', 'alternate') },
  // From 270: the quorum's timing moved the handbacks of seeds 1–150 away from lost pages; seed 278 is the regression seed.
  // With fixed retry intervals: the adaptive timeout (rto.ts) moved seed 278's handback away from its lost page too.
  { name: 'handback that carries no records', overrides: { makeManager: (cfg) => new RecordlessHandbackManager(cfg), minRetryMs: null }, plans: kinds('mixed', 'client-crash'), from: 270 },
  // The client before leases (issue 13): it serves hits, and forwards, from whatever its table says.
  { name: 'clients without leases', overrides: { makeClient: (cfg) => new ClientCore({ ...cfg, unsafeNoLease: true }) }, plans: [clientPause] },
  // Issue 11: the cores before loss recovery (no re-drive, no re-sent page, confirm or hello) on lossy links.
  { name: 'no loss recovery (recoverLoss off) on lossy links', overrides: { recoverLoss: false }, plans: [lossy] },
  // Issue 11: a backup takes over on heartbeat silence alone and the old primary never lapses (no quorum, no
  // backup vote): cut from its backup but not from its clients, it serves beside the new one (split brain).
  { name: 'takeover on heartbeat silence alone', overrides: { makeManager: (cfg) => new ManagerRoleCore({ ...cfg, unsafeNoQuorum: true }) }, plans: [partitionPlan], safety: true },
];

describe.skipIf(replay !== undefined).each(MUTANTS)('mutant: $name', ({ overrides, plans, from, safety }) => {
  it('is caught on some seed', () => {
    let caught: PairResult | null = null;
    for (const plan of plans) {
      for (const seed of range(from ?? 1, 150)) {
        const r = runPairSeed(seed, { ...plan(seed), ...overrides, shrinkTimeMs: 20 });
        if (safety ? r.problems.some((p) => SAFETY.test(p)) : !r.ok) {
          caught = r;
          break;
        }
      }
      if (caught) break;
    }
    expect(caught, `not caught in ${plans.length} plans × 150 seeds`).not.toBeNull();
    const shown = safety ? caught!.problems.find((p) => SAFETY.test(p)) : caught!.problems[0];
    console.log(`caught: seed ${caught!.seed} (${caught!.options.faultKind}): ${shown?.split('\n')[0]}`);
  });
});
