// The fair bare path keeps the clients' memory of the protocol path: in recoverable mode each bare client
// writes the pages it owns to a real segment file that the recovery code reads back; volatile writes none.
// Real processes, real sockets, real files.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FairBarePath } from '../../nodes/control/bench/fair-bare-path.js';
import { recoverSegment } from '../../nodes/runtime/page-store.js';
import { freshPorts } from './cluster.js';

const PAGES = 8;
const PAGE_SIZE = 4096;

describe('fair bare path: client memory', () => {
  it('recoverable: the owned pages are in the clients\' segments, as the protocol clients keep them', async () => {
    const path = await FairBarePath.start(await freshPorts(11, false), PAGE_SIZE, PAGES, 'recoverable');
    try {
      await path.block(3, null);
      const files = readdirSync(path.storeDir).filter((f) => f.endsWith('.seg'));
      expect(files.length).toBe(11); // c0..c10, each opened its segment
      let owned = 0;
      for (const f of files) {
        const r = recoverSegment(join(path.storeDir, f), { pages: PAGES, pageSize: PAGE_SIZE });
        expect(r.problems).toEqual([]);
        owned += r.pages.length;
      }
      // The rotation makes clients own pages (first touches, write faults); every one of them was written.
      expect(owned).toBeGreaterThan(0);
      expect(path.anomalies).toBe(0);
    } finally {
      await path.stop();
    }
    expect(existsSync(path.storeDir)).toBe(false);
  }, 60_000);

  it('volatile: no segment at all', async () => {
    const path = await FairBarePath.start(await freshPorts(11, false), PAGE_SIZE, PAGES, 'volatile');
    try {
      await path.block(2, null);
      expect(readdirSync(path.storeDir)).toEqual([]);
    } finally {
      await path.stop();
    }
  }, 60_000);
});
