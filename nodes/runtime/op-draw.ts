// How a client draws its ops: the next op of a random workload, and the op an `op` command names (a
// `random` kind, a `missing` page). The protocol client and the fair bare client of the bench both draw
// here, so both paths of a comparison run the very same ops.
import { mulberry32, pick, type Rng } from '../core/random.js';
import type { Access } from '../protocol/index.js';

/**
 * Kind first, then the page, from one stream seeded by `seed`. A `missing` page is one whose access (in
 * `accessByPage`, indexed by page) would not satisfy the kind, so the op is a real fault (the seed's rounds);
 * when the client holds every page so, any page of the `pages`.
 */
export function drawOp(
  kind: 'read' | 'write' | 'random',
  page: number | 'missing',
  seed: number,
  accessByPage: readonly Access[],
  pages: number,
): { kind: 'read' | 'write'; page: number } {
  const rng = mulberry32(seed);
  const k = kind === 'random' ? (rng() < 0.5 ? 'read' : 'write') : kind;
  if (page !== 'missing') return { kind: k, page };
  const candidates: number[] = [];
  accessByPage.forEach((a, p) => {
    if (k === 'read' ? a === 'none' : a !== 'write') candidates.push(p);
  });
  return { kind: k, page: candidates.length > 0 ? candidates[pick(rng, candidates.length)]! : pick(rng, pages) };
}

/** The next op of a random workload from the client's stream: the kind by `readRatio`, then a page of the first `pages`. */
export function drawWorkloadOp(rng: Rng, readRatio: number, pages: number): { kind: 'read' | 'write'; page: number } {
  const kind = rng() < readRatio ? 'read' : 'write';
  return { kind, page: pick(rng, pages) };
}
