// `bench --s1`: the seed's s1 — 10 clients, 3 pages, rounds in which every client
// faults at the same instant on a page it does not hold (scenarios/rounds.ts) — on the
// protocol path and on the fair bare path in the same run, trials alternating between
// the paths (ABBA) so the machine's drift falls on both. The scenario's figure can then
// be read against the same hop shapes and the same one-request-per-page queue without
// the protocol, and each path's Average against its own single read fault.
import type { Rng } from '../../core/random.js';
import type { ClientMemory } from '../../protocol/messages.js';
import { checkHistory } from '../history/linearizability.js';
import { percentile } from '../scenarios/figures.js';
import { faultSamples, roundsRng, runRound, type RoundDriver, type RoundOp } from '../scenarios/rounds.js';
import { summarizeTrials, trialRow } from '../scenarios/table.js';
import type { TrialRow } from '../api.js';
import { startBenchCluster, stopBenchCluster } from './bench-cluster.js';
import { FairBarePath } from './fair-bare-path.js';
import { load1 } from './interleave.js';

/** The scenario's shape (DESIGN §5 s1, runner.ts): clients, pages, rounds per trial, unrecorded warm-up rounds. */
export const S1_SHAPE = { clients: 10, pages: 3, rounds: 20, warmupRounds: 2 } as const;
/** A round's op that no answer came back for within this is failed (runner.ts: 2 × the op timeout + 2 s). */
const GUARD_MS = 12_000;

export interface S1Figures {
  /** The seed's Average: (high average + low average) / 2. */
  average_ms: number;
  high_average_ms: number;
  low_average_ms: number;
  /** Over every measured fault of every trial. */
  p50_ms: number;
  p99_ms: number;
  faults: number;
  failed: number;
}

export interface S1Report {
  clients: number;
  pages: number;
  trials: number;
  rounds: number;
  bare: S1Figures;
  ivy: S1Figures;
  /** Protocol ÷ fair bare. */
  ratio: { average: number; p50: number };
  /** The protocol path's history (every round, warm-up included) is linearizable. */
  linearizable: boolean;
  /** Load average before each trial pair. */
  loadavg: number[];
}

export interface S1Options {
  basePort: number;
  pageSize: number;
  clientMemory: ClientMemory;
  trials: number;
  seed: number;
  onProgress?: (message: string) => void;
}

/** One path's rounds: its own op stream, drawn as the scenario runner draws s1's (the same seed on both paths). */
class PathRounds {
  private readonly rng: Rng;
  readonly rows: TrialRow[] = [];
  readonly samplesMs: number[] = [];
  failed = 0;

  constructor(
    readonly driver: RoundDriver,
    seed: number,
  ) {
    this.rng = roundsRng(seed, 1);
  }

  async warmUp(): Promise<void> {
    for (let w = 0; w < S1_SHAPE.warmupRounds; w++) await runRound(this.driver, this.rng, GUARD_MS);
  }

  async trial(): Promise<void> {
    const ops: RoundOp[] = [];
    for (let r = 0; r < S1_SHAPE.rounds; r++) ops.push(...(await runRound(this.driver, this.rng, GUARD_MS)));
    const samples = faultSamples(ops);
    this.failed += ops.filter((o) => !o.ok).length;
    this.samplesMs.push(...samples.map((s) => s.ms));
    this.rows.push(trialRow(this.rows.length + 1, samples));
  }

  figures(): S1Figures {
    const sum = summarizeTrials(this.rows);
    const ms3 = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      average_ms: sum.averageMs,
      high_average_ms: sum.highAverageMs,
      low_average_ms: sum.lowAverageMs,
      p50_ms: ms3(percentile(this.samplesMs, 50)),
      p99_ms: ms3(percentile(this.samplesMs, 99)),
      faults: this.samplesMs.length,
      failed: this.failed,
    };
  }
}

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

export async function runS1Compare(opts: S1Options): Promise<S1Report> {
  const say = opts.onProgress ?? (() => undefined);
  const { clients, pages } = S1_SHAPE;
  say(`s1: starting the protocol cluster and the fair bare nodes (${clients} clients, ${pages} pages)`);
  const started = await Promise.allSettled([
    startBenchCluster({ clients, pages, pageSize: opts.pageSize, basePort: opts.basePort, backup: false, clientMemory: opts.clientMemory }, 'ivy-bench-s1-'),
    FairBarePath.open(opts.basePort + 50, clients, pages, opts.pageSize, opts.clientMemory),
  ]);
  const [ivyStart, bareStart] = started;
  if (ivyStart.status === 'rejected' || bareStart.status === 'rejected') {
    if (ivyStart.status === 'fulfilled') await stopBenchCluster(ivyStart.value);
    if (bareStart.status === 'fulfilled') await bareStart.value.stop();
    throw ivyStart.status === 'rejected' ? ivyStart.reason : (bareStart as PromiseRejectedResult).reason;
  }
  const cluster = ivyStart.value;
  const bare = bareStart.value;
  const ivyRounds = new PathRounds(cluster.sup, opts.seed);
  const bareRounds = new PathRounds(bare, opts.seed);
  const loads: number[] = [];
  try {
    await bareRounds.warmUp();
    await ivyRounds.warmUp();
    for (let t = 0; t < opts.trials; t++) {
      const load = load1();
      loads.push(load);
      say(`s1 trial ${t + 1}/${opts.trials}: ${S1_SHAPE.rounds} rounds per path (load ${load})`);
      const pair = [bareRounds, ivyRounds];
      if (t % 4 === 1 || t % 4 === 2) pair.reverse();
      for (const p of pair) await p.trial();
    }
  } catch (err) {
    await Promise.all([bare.stop(), stopBenchCluster(cluster)]);
    throw err;
  }
  const [, history] = await Promise.all([bare.stop(), stopBenchCluster(cluster)]);
  const ivy = ivyRounds.figures();
  const bareF = bareRounds.figures();
  return {
    clients,
    pages,
    trials: opts.trials,
    rounds: S1_SHAPE.rounds,
    bare: bareF,
    ivy,
    ratio: { average: ratio(ivy.average_ms, bareF.average_ms), p50: ratio(ivy.p50_ms, bareF.p50_ms) },
    linearizable: checkHistory(history).ok,
    loadavg: loads,
  };
}
