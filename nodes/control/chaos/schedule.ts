// The chaos driver's fault plan: drawn up front from a seed, so a run can be repeated
// (as far as a loaded machine repeats anything) and printed. Pure: no clocks, no I/O.
import { mulberry32, pick } from '../../core/random.js';

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
