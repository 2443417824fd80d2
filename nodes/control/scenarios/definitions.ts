// The scenarios of DESIGN §5 (s1–s9) as plain data: cluster shape, default trials,
// which nodes are killed (and rebooted) how often, and what the network nemesis does.
// The runner, the CLI and the UI all read this table; nothing here does anything.
import { NemesisSpecSchema, type NemesisSpec } from '../nemesis/spec.js';

/** Manager seats: m0 is the primary seat, m1 the backup seat. */
export type ManagerSeat = 'm0' | 'm1';

export type ScenarioId = 's1' | 's2' | 's3' | 's4' | 's5' | 's6' | 's7' | 's8' | 's9';

/** What a fault hits: a manager seat, or 'client': a live client that owns pages, chosen (seeded) when the kill is due. */
export type FaultTarget = ManagerSeat | 'client';

export interface FaultPlan {
  /** 'once': one kill (and reboot) in one seeded trial; 'per-trial': one cycle in every trial (k = trials). */
  cycles: 'once' | 'per-trial';
  /** Seats killed in turn: cycle i kills targets[i % targets.length]. */
  targets: readonly FaultTarget[];
  /** Whether each killed seat is rebooted later in the same trial. */
  reboot: boolean;
  /** Reboot this many ms (seeded, [min, max]) after the kill, in the same round, instead of in a later round. */
  rebootAfterMs?: readonly [number, number];
}

/** A timing table as published by the seed (ms), for side-by-side comparison. */
export interface SeedTable {
  highs: readonly number[];
  lows: readonly number[];
  /** The summary line exactly as the seed printed it (its s5 line does not match its own rows). */
  published: { highAverage: number; lowAverage: number; average: number };
}

/**
 * The network nemesis of a scenario: for the whole run (from before the warm-up to the end), or
 * once, in a seeded trial, applied under load and healed after holdMs (seeded in [min, max]).
 * Groups ("primary", "half-a") are resolved when the rules are applied, with the roles of then.
 */
export interface NemesisPlan {
  spec: NemesisSpec;
  when: 'whole-run' | { holdMs: readonly [number, number] };
}

export interface ScenarioDef {
  id: ScenarioId;
  name: string;
  description: string;
  backup: boolean;
  defaultTrials: number;
  faults: FaultPlan | null;
  seed: SeedTable | null;
  nemesis?: NemesisPlan;
}

export const SCENARIOS: readonly ScenarioDef[] = [
  {
    id: 's1',
    name: 'baseline',
    description: 'central manager, no backup, no faults',
    backup: false,
    defaultTrials: 5,
    faults: null,
    seed: {
      highs: [14248, 14245, 14235, 13498, 14248],
      lows: [751, 751, 751, 750, 750],
      published: { highAverage: 14094.8, lowAverage: 750.6, average: 7422.7 },
    },
  },
  {
    id: 's2',
    name: 'backup',
    description: 'primary + backup, no faults (the cost of the backup)',
    backup: true,
    defaultTrials: 5,
    faults: null,
    seed: null,
  },
  {
    id: 's3',
    name: 'primary-fail',
    description: 'primary SIGKILLed once, never rebooted',
    backup: true,
    defaultTrials: 5,
    faults: { cycles: 'once', targets: ['m0'], reboot: false },
    seed: {
      highs: [14240, 13461, 14247, 14240, 14247],
      lows: [751, 751, 750, 750, 751],
      published: { highAverage: 14087, lowAverage: 750.6, average: 7418.8 },
    },
  },
  {
    id: 's4',
    name: 'primary-reboot',
    description: 'primary SIGKILLed once, then rebooted',
    backup: true,
    defaultTrials: 5,
    faults: { cycles: 'once', targets: ['m0'], reboot: true },
    seed: {
      highs: [14259, 14248, 13497, 14239, 14229],
      lows: [751, 750, 751, 750, 751],
      published: { highAverage: 14094.4, lowAverage: 750.6, average: 7422.5 },
    },
  },
  {
    id: 's5',
    name: 'primary-reboot-many',
    description: 'primary SIGKILLed and rebooted once in every trial',
    backup: true,
    defaultTrials: 6,
    faults: { cycles: 'per-trial', targets: ['m0'], reboot: true },
    seed: {
      highs: [14247, 14237, 13496, 13494, 14250, 14239],
      lows: [752, 761, 750, 756, 760, 754],
      published: { highAverage: 14049.63, lowAverage: 754.25, average: 7401.938 },
    },
  },
  {
    id: 's6',
    name: 'alternate',
    description: 'primary and backup SIGKILLed and rebooted in turn, never both down',
    backup: true,
    defaultTrials: 6,
    faults: { cycles: 'per-trial', targets: ['m0', 'm1'], reboot: true },
    seed: {
      highs: [13498, 13497, 14243, 13500, 13497, 14247],
      lows: [751, 754, 757, 750, 751, 750],
      published: { highAverage: 13747, lowAverage: 752.167, average: 7249.583 },
    },
  },
  {
    id: 's7',
    name: 'partition-primary',
    description: 'the primary cut from the backup and from half the clients for 3–4 s under load, then healed (once, in a seeded trial)',
    backup: true,
    defaultTrials: 5,
    faults: null,
    seed: null,
    nemesis: {
      spec: NemesisSpecSchema.parse({ rules: [{ from: ['primary'], to: ['backup', 'half-a'], symmetric: true, partition: true }] }),
      // Long enough for the backup's takeover: a heartbeat timeout (500 ms) to run, then the client timeout
      // (2 s) waiting for the primary's half, which stays promised to the primary and never reports to it.
      when: { holdMs: [3000, 4000] },
    },
  },
  {
    id: 's8',
    name: 'lossy',
    description: '5 % loss and 1–5 ms delay (3 ± 2 ms, uniform) on every link for the whole run',
    backup: true,
    defaultTrials: 5,
    faults: null,
    seed: null,
    nemesis: { spec: NemesisSpecSchema.parse({ presets: ['lossy'] }), when: 'whole-run' },
  },
  {
    id: 's9',
    name: 'client-crash-reboot',
    description: 'a client that owns pages SIGKILLed and rebooted shortly after, once in every trial (recoverable memory brings its pages back)',
    backup: true,
    defaultTrials: 5,
    faults: { cycles: 'per-trial', targets: ['client'], reboot: true, rebootAfterMs: [50, 400] },
    seed: null,
  },
];

/** Resolves `s3`, `primary-fail` or `all` (case-insensitive) to scenario definitions, in table order, without duplicates. */
export function resolveScenarios(names: readonly string[]): ScenarioDef[] {
  const wanted = new Set<ScenarioId>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name === 'all') {
      for (const s of SCENARIOS) wanted.add(s.id);
      continue;
    }
    const def = SCENARIOS.find((s) => s.id === name || s.name === name);
    if (!def) {
      const known = SCENARIOS.map((s) => `${s.id} (${s.name})`).join(', ');
      throw new Error(`unknown scenario "${raw}": expected one of ${known}, or all`);
    }
    wanted.add(def.id);
  }
  return SCENARIOS.filter((s) => wanted.has(s.id));
}
