// The chaos driver's fault plan: drawn up front from a seed, so a run can be repeated
// (as far as a loaded machine repeats anything) and printed. Pure: no clocks, no I/O.
import { mulberry32, pick } from '../../core/random.js';
import { NemesisSpecSchema, type NemesisSpec, type NemesisSpecInput } from '../nemesis/spec.js';

/** Which seat a fault hits; `primary` / `backup` are resolved to a node id when the fault fires (roles move). */
export type Target = 'primary' | 'backup' | 'client';

export type Fault =
  /** SIGKILL at `at`, reboot through the supervisor `downMs` later. */
  | { kind: 'kill'; at: number; target: Target; downMs: number }
  /** SIGSTOP at `at`, SIGCONT `pauseMs` later. */
  | { kind: 'stop'; at: number; target: Target; pauseMs: number };

export interface PlanOptions {
  seed: number;
  /** Length of the fault window, ms from the start of the workload. */
  durationMs: number;
  backup: boolean;
  /** IVY issue 13: a SIGSTOPped client resumed after eviction may serve stale reads; a run can leave that out. */
  clientStops: boolean;
  /** IVY clients keep pages in volatile memory: a killed client's sole copies are lost for good, so a run can spare them. */
  clientKills?: boolean;
  /** The cluster's timeouts: pauses are drawn short of, between and beyond them. */
  heartbeatTimeoutMs: number;
  clientTimeoutMs: number;
}

/** Pause lengths: below the heartbeat timeout, between it and the client timeout, beyond the client timeout. */
export function pauseBands(o: Pick<PlanOptions, 'heartbeatTimeoutMs' | 'clientTimeoutMs'>): [number, number][] {
  const hb = o.heartbeatTimeoutMs;
  const ct = o.clientTimeoutMs;
  return [
    [Math.max(20, hb * 0.2), hb * 0.8],
    [hb * 1.2, Math.max(hb * 1.3, ct * 0.9)],
    [ct * 1.2, ct * 2],
  ];
}

/** A fault every 0.3–1.2 s over the window, each on a random seat, kill or stop at random. */
export function planFaults(o: PlanOptions): Fault[] {
  const rng = mulberry32(o.seed * 7919 + 17);
  const bands = pauseBands(o);
  const faults: Fault[] = [];
  const targets: Target[] = o.backup ? ['primary', 'backup', 'client', 'client'] : ['primary', 'client', 'client'];
  for (let at = 400 + rng() * 600; at < o.durationMs; at += 300 + rng() * 900) {
    const target = targets[pick(rng, targets.length)]!;
    const coin = rng() < 0.5;
    const stop = target === 'client' ? (o.clientKills === false ? true : coin && o.clientStops) : coin;
    if (target === 'client' && stop && !o.clientStops) continue;
    if (stop) {
      const [lo, hi] = bands[pick(rng, bands.length)]!;
      faults.push({ kind: 'stop', at: Math.round(at), target, pauseMs: Math.round(lo + rng() * (hi - lo)) });
    } else {
      faults.push({ kind: 'kill', at: Math.round(at), target, downMs: Math.round(150 + rng() * 2000) });
    }
  }
  return faults;
}

/** A network nemesis window of a chaos run: `spec` applied at `at` (ms into the window), healed `holdMs` later. */
export interface NemesisWindow {
  at: number;
  spec: NemesisSpec;
  holdMs: number;
}

/** What a chaos run draws from: every preset, the s7 cut, one client cut from the managers, duplication everywhere. */
function nemesisChoices(clients: number): NemesisSpecInput[] {
  return [
    { presets: ['isolate-primary-backup'] },
    { presets: ['isolate-primary'] },
    { presets: ['slow-client'] },
    { presets: ['lossy'] },
    ...(clients >= 2 ? [{ presets: ['split-clients' as const] }] : []),
    { rules: [{ from: ['primary'], to: ['backup', ...(clients >= 2 ? ['half-a' as const] : [])], partition: true }] },
    { rules: [{ from: ['c0'], to: ['managers'], partition: true }] },
    { rules: [{ from: ['all'], to: ['all'], dup: 0.05, symmetric: false }] },
  ];
}

/**
 * Nemesis windows one after another over the run (`--nemesis`): each starts 0.3–1.5 s after the last
 * healed and holds 0.3–3 s. A stream of its own, so the kill/stop plan of a seed does not change.
 */
export function planNemesis(o: { seed: number; durationMs: number; clients: number }): NemesisWindow[] {
  const rng = mulberry32((o.seed * 104_729 + 91) >>> 0);
  const choices = nemesisChoices(o.clients);
  const out: NemesisWindow[] = [];
  for (let at = 300 + rng() * 1200; at < o.durationMs; ) {
    const holdMs = Math.round(300 + rng() * 2700);
    out.push({ at: Math.round(at), spec: NemesisSpecSchema.parse(choices[pick(rng, choices.length)]!), holdMs });
    at += holdMs + 300 + rng() * 1200;
  }
  return out;
}
