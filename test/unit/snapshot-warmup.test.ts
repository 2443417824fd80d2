// The start-up snapshot's warm-up (snapshot-warmup.ts) parses sample node configs and link keys at build
// time so nodes start with zod's fast paths compiled. Its samples must stay valid as the schemas change:
// a sample that fails would warm nothing, and the build would then fail loudly (it throws).
import { describe, expect, it } from 'vitest';
import { warmUpForSnapshot } from '../../nodes/runtime/snapshot-warmup.js';

describe('snapshot warm-up', () => {
  it('parses every sample it warms with', () => {
    expect(() => warmUpForSnapshot()).not.toThrow();
  });
});
