// The block rotation every same-run comparison of the bench uses (bench/run.ts's
// paths, --trace-overhead, --client-memory, --curve-overhead): `iterations` samples
// per arm in blocks of `blockSize`, the arms' order rotating by one each block, so
// the bursts of other work on a shared machine fall on every arm alike. With two arms
// that is AB, BA, AB, … (ABBA pairs).
import { loadavg } from 'node:os';

export interface Interleaved {
  blocks: number;
  /** 1-minute load average before each block. */
  loadavg: number[];
}

export const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

export async function interleavedBlocks<A>(
  arms: readonly A[],
  o: { iterations: number; blockSize: number },
  run: (arm: A, n: number) => Promise<void>,
  /** Before each block: its number (from 1), the number of blocks, its size, and the load then. */
  onBlock?: (block: number, blocks: number, n: number, load: number) => void,
): Promise<Interleaved> {
  const blocks = Math.ceil(o.iterations / o.blockSize);
  const loads: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const n = Math.min(o.blockSize, o.iterations - b * o.blockSize);
    loads.push(load1());
    onBlock?.(b + 1, blocks, n, loads[b]!);
    for (let k = 0; k < arms.length; k++) await run(arms[(b + k) % arms.length]!, n);
  }
  return { blocks, loadavg: loads };
}
