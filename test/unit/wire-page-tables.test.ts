// The hand-written page-table check (renderer/src/api/page-tables.ts) against the zod
// schema it stands in for: over seeded random mutations of real-looking page tables,
// the fast check accepts exactly what zod accepts, and the snapshot parse rejects the
// rest with zod's issue, so skipping zod on the hot path loosens nothing.
import { describe, expect, it } from 'vitest';
import type { PageRow } from '../../nodes/control/api.js';
import { PageRowSchema, PageTablesSchema, isPageTables } from '../../renderer/src/api/page-tables.js';
import { parsePush } from '../../renderer/src/api/wire.js';
import { z } from 'zod';
import { mulberry32 } from '../sim/simulator.js';

const zodTables = z.record(z.string(), z.array(PageRowSchema));

function row(page: number, extra: Partial<PageRow> = {}): PageRow {
  return { page, access: 'read', owner: false, version: 3, pending: null, preview: '00ff', token: 'c1:2', ...extra };
}

const BAD_VALUES: unknown[] = [undefined, null, NaN, Infinity, -1, 0, 1.5, '', 'none', 'read', 'write', 'x', true, false, [], {}, ['read']];
const KEYS = ['page', 'access', 'owner', 'version', 'pending', 'preview', 'token', 'wpos', 'extra'];

describe('page tables: fast check = zod', () => {
  it('accepts good tables, with and without wpos and extra keys, and returns them uncopied', () => {
    const good = { c0: [row(0), row(1, { access: 'write', owner: true, pending: 'write', token: null })], c1: [row(0, { wpos: 4 }), { ...row(1), extra: 1 }], c2: [] };
    expect(isPageTables(good)).toBe(true);
    expect(PageTablesSchema.parse(good)).toBe(good);
  });

  it('agrees with zod on 5,000 seeded mutations', () => {
    const rng = mulberry32(9);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const tables: Record<string, unknown> = { c0: [row(0), row(1)], c1: [row(2, { wpos: 1 })] };
      const kind = rng();
      if (kind < 0.7) {
        const rows = tables[pick(['c0', 'c1'])] as Record<string, unknown>[];
        const r = rows[Math.floor(rng() * rows.length)] as Record<string, unknown>;
        const k = pick(KEYS);
        if (rng() < 0.2) delete r[k];
        else r[k] = pick(BAD_VALUES);
      } else if (kind < 0.8) tables[pick(['c0', 'c9'])] = pick(BAD_VALUES);
      else if (kind < 0.9) (tables.c0 as unknown[]).push(pick(BAD_VALUES));
      const value: unknown = kind < 0.95 ? tables : pick(BAD_VALUES);
      const fast = isPageTables(value);
      const slow = zodTables.safeParse(value).success;
      expect(fast, JSON.stringify(value)).toBe(slow);
      expect(PageTablesSchema.safeParse(value).success).toBe(slow);
      if (!slow) rejected++;
    }
    expect(rejected).toBeGreaterThan(1000); // the mutations do hit the checks
  });

  it('a snapshot with a bad page row is rejected with the path of the bad field', () => {
    const snapshot = {
      seq: 1, t: 1, running: true, config: null, workload: null, nodes: [], clients: [], records: {},
      pageTables: { c0: [row(0), { ...row(1), access: 'all' }] },
      histogram: [], series: [], marks: [],
    };
    const r = parsePush({ type: 'snapshot', snapshot });
    expect('error' in r).toBe(true);
    if ('error' in r) expect(r.error).toMatch(/pageTables.*c0.*1.*access|access/);
    const ok = parsePush({ type: 'snapshot', snapshot: { ...snapshot, pageTables: { c0: [row(0)] } } });
    expect('push' in ok).toBe(true);
  });
});
