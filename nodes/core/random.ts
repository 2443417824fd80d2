// A small seeded PRNG (mulberry32). Randomness is an input like any other: the
// workload, the simulator and the scenario schedules all take a seed so a run can
// be repeated exactly.
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export const pick = (rng: Rng, n: number): number => Math.floor(rng() * n);
