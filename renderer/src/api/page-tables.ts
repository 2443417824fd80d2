// The clients' page tables are most of every snapshot (8,192 rows at 128 clients, four
// times a second). zod walking them cost the renderer ~7 ms per snapshot at 64 clients,
// so a hand-written check runs first: it accepts exactly what PageRowSchema accepts
// (test/unit/wire-page-tables.test.ts compares the two) and returns the value itself,
// not a copy. Only input it rejects goes through zod, for zod's precise issues.
import { z } from 'zod';
import type { PageRow } from '../../../nodes/control/api.js';

const num = z.number();
const opKind = z.enum(['read', 'write']);

export const PageRowSchema = z.looseObject({
  page: num,
  access: z.enum(['none', 'read', 'write']),
  owner: z.boolean(),
  version: num,
  pending: opKind.nullable(),
  preview: z.string(),
  token: z.string().nullable(),
  wpos: num.optional(),
});

const PageTablesZod = z.record(z.string(), z.array(PageRowSchema));

/** zod's z.number(): finite numbers only. */
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isPageRow(v: unknown): v is PageRow {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  const a = r.access;
  const p = r.pending;
  return (
    isNum(r.page) &&
    (a === 'none' || a === 'read' || a === 'write') &&
    typeof r.owner === 'boolean' &&
    isNum(r.version) &&
    (p === null || p === 'read' || p === 'write') &&
    typeof r.preview === 'string' &&
    (r.token === null || typeof r.token === 'string') &&
    (r.wpos === undefined || isNum(r.wpos))
  );
}

/** True when `v` is a record of page-row arrays, exactly as PageTablesZod would accept it. */
export function isPageTables(v: unknown): v is Record<string, PageRow[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const rows of Object.values(v)) {
    if (!Array.isArray(rows)) return false;
    for (let i = 0; i < rows.length; i++) if (!isPageRow(rows[i])) return false;
  }
  return true;
}

/** The page tables of a snapshot: the fast check, and zod (with its issues) only for what it rejects. */
export const PageTablesSchema = z.unknown().transform((v, ctx): Record<string, PageRow[]> => {
  if (isPageTables(v)) return v;
  const r = PageTablesZod.safeParse(v);
  if (r.success) return r.data as Record<string, PageRow[]>;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});
