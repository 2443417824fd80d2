// The seeded fault schedule of a scenario: in which trial and round, and how many
// milliseconds after that round's start, each kill and reboot happens. Pure data
// from (scenario, trials, rounds, seed), so a run can be repeated with --seed and
// the schedule can be checked without starting a process.
import { mulberry32, pick } from '../../core/random.js';
import type { FaultTarget, ScenarioDef } from './definitions.js';
import { describeRuleSpec, type NemesisSpec } from '../nemesis/spec.js';

export interface FaultEvent {
  /** Index of the kill/reboot cycle this event belongs to. */
  cycle: number;
  /** nemesis: apply `nemesis` (network rules); heal: every link back to normal. */
  action: 'kill' | 'reboot' | 'nemesis' | 'heal';
  /** For nemesis events, the seat the rules are about (informational). */
  node: FaultTarget;
  nemesis?: NemesisSpec;
  /** 'client' kills: which of the page-owning clients, as a fraction in [0, 1) of their list (seeded). */
  choice?: number;
  /** 0-based trial and round at whose start the delay begins. */
  trial: number;
  round: number;
  /**
   * Delay after the round's ops were issued, so the fault lands while they are in flight.
   * A reboot in its kill's round (FaultPlan.rebootAfterMs) comes this long after the kill.
   */
  delayMs: number;
}

export interface ScheduleShape {
  trials: number;
  rounds: number;
  seed: number;
}

/** Upper bound of the delay after a round's start: a round of ten faults takes a few milliseconds here. */
export const MAX_DELAY_MS = 5;

/** A stream per scenario, so adding a scenario does not shift the others' schedules. */
function scenarioRng(def: ScenarioDef, seed: number): () => number {
  const salt = Number(def.id.slice(1)) * 0x9e3779b1;
  return mulberry32((seed ^ salt) >>> 0);
}

const delay = (rng: () => number): number => Math.round(rng() * MAX_DELAY_MS * 10) / 10;

export function buildSchedule(def: ScenarioDef, shape: ScheduleShape): FaultEvent[] {
  const plan = def.faults;
  if (shape.trials < 1 || shape.rounds < 1) return [];
  const rng = scenarioRng(def, shape.seed);
  const when = def.nemesis?.when;
  if (def.nemesis && when !== undefined && when !== 'whole-run') {
    // One nemesis window in a seeded trial: applied in the first half of it, under load, healed holdMs later.
    const trial = pick(rng, shape.trials);
    const round = pick(rng, Math.max(1, Math.ceil(shape.rounds / 2)));
    const [lo, hi] = when.holdMs;
    return [
      { cycle: 0, action: 'nemesis', node: 'm0', nemesis: def.nemesis.spec, trial, round, delayMs: delay(rng) },
      { cycle: 0, action: 'heal', node: 'm0', trial, round, delayMs: Math.round(lo + rng() * (hi - lo)) },
    ];
  }
  if (!plan) return [];
  const { trials, rounds } = shape;
  const cycleTrials = plan.cycles === 'once' ? [pick(rng, trials)] : Array.from({ length: trials }, (_, t) => t);
  const events: FaultEvent[] = [];
  cycleTrials.forEach((trial, cycle) => {
    const node = plan.targets[cycle % plan.targets.length]!;
    // Kill in the first half of the trial so the rest of it runs on the survivor.
    const killRound = pick(rng, Math.max(1, Math.ceil(rounds / 2)));
    if (node === 'client') {
      // Which page-owning client is only known at the kill; the draw is made here, so it is seeded.
      const choice = rng();
      events.push({ cycle, action: 'kill', node, choice, trial, round: killRound, delayMs: delay(rng) });
    } else events.push({ cycle, action: 'kill', node, trial, round: killRound, delayMs: delay(rng) });
    if (!plan.reboot) return;
    if (plan.rebootAfterMs) {
      const [lo, hi] = plan.rebootAfterMs;
      events.push({ cycle, action: 'reboot', node, trial, round: killRound, delayMs: Math.round(lo + rng() * (hi - lo)) });
      return;
    }
    // Reboot at least one round later when the trial has room for it.
    const first = Math.min(killRound + 1, rounds - 1);
    const rebootRound = first + pick(rng, rounds - first);
    events.push({ cycle, action: 'reboot', node, trial, round: rebootRound, delayMs: delay(rng) });
  });
  return events;
}

/**
 * Replays the schedule in order (the injector carries events out one after another,
 * each reboot complete before the next kill) and returns the most seats ever down at
 * once. For s6 it must stay 1: never both managers down.
 */
export function maxSeatsDown(events: readonly FaultEvent[]): number {
  const down = new Set<FaultTarget>();
  let max = 0;
  for (const e of events) {
    if (e.action === 'kill') down.add(e.node);
    else if (e.action === 'reboot') down.delete(e.node);
    max = Math.max(max, down.size);
  }
  return max;
}

/** Events are carried out in list order; the list must also be in (trial, round) order. */
export function isInSlotOrder(events: readonly FaultEvent[]): boolean {
  return events.every((e, i) => {
    const prev = events[i - 1];
    return !prev || prev.trial < e.trial || (prev.trial === e.trial && prev.round <= e.round);
  });
}

export function describeEvent(e: FaultEvent): string {
  if (e.action === 'nemesis') return `trial ${e.trial + 1} round ${e.round + 1} +${e.delayMs} ms: nemesis ${e.nemesis ? describeRuleSpec(e.nemesis) : ''}`;
  if (e.action === 'heal') return `trial ${e.trial + 1} round ${e.round + 1}: heal every link ${e.delayMs} ms after the nemesis`;
  if (e.node === 'client' && e.action === 'reboot') return `trial ${e.trial + 1} round ${e.round + 1}: reboot that client ${e.delayMs} ms after its kill`;
  const what = e.node === 'client' ? 'a client that owns pages' : e.node;
  return `trial ${e.trial + 1} round ${e.round + 1} +${e.delayMs} ms: ${e.action === 'kill' ? 'SIGKILL' : 'reboot'} ${what}`;
}
