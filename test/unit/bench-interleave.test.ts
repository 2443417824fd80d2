// The block rotation the bench's same-run comparisons share (bench/interleave.ts).
import { describe, expect, it } from 'vitest';
import { interleavedBlocks } from '../../nodes/control/bench/interleave.js';

describe('interleavedBlocks', () => {
  it('runs every arm once per block, rotating the order (two arms: AB BA AB …), the last block short', async () => {
    const runs: string[] = [];
    const blocks: [number, number, number][] = [];
    const r = await interleavedBlocks(
      ['a', 'b'],
      { iterations: 50, blockSize: 20 },
      async (arm, n) => void runs.push(`${arm}${n}`),
      (b, of, n) => void blocks.push([b, of, n]),
    );
    expect(runs).toEqual(['a20', 'b20', 'b20', 'a20', 'a10', 'b10']);
    expect(blocks).toEqual([
      [1, 3, 20],
      [2, 3, 20],
      [3, 3, 10],
    ]);
    expect(r.blocks).toBe(3);
    expect(r.loadavg).toHaveLength(3);
  });

  it('rotates three or more arms by one each block', async () => {
    const runs: string[] = [];
    await interleavedBlocks(['a', 'b', 'c'], { iterations: 3, blockSize: 1 }, async (arm) => void runs.push(arm));
    expect(runs.join(' ')).toBe('a b c b c a c a b');
  });
});
