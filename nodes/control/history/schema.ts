import { z } from 'zod';

/**
 * One line of a history file (JSON Lines), as fixed by the DESIGN contract:
 * {"client":"c3","op":"write","page":2,"value":"c3:17","start":…,"end":…,"outcome":"ok","fault":true}
 * Write-update (sequentially consistent) histories add the op's claimed place in
 * the total order: `pos` (writes: 1-based index; reads: writes applied at the
 * reader, 0 if none) and, on reads, `wpos` (index of the write read, 0 = initial).
 */

// hrtime.bigint() nanoseconds can exceed 2^53 after ~104 days of uptime, so
// z.number().int() (safe integers only) would reject real histories.
const nanos = z
  .number()
  .refine((n) => Number.isInteger(n) && n >= 0, { message: 'expected a non-negative integer (nanoseconds)' });

export const historyOpSchema = z
  .object({
    client: z.string().min(1),
    op: z.enum(['read', 'write']),
    page: z.number().int().nonnegative(),
    value: z.string().min(1).nullable(),
    start: nanos,
    end: nanos.nullable(),
    outcome: z.enum(['ok', 'fail', 'unknown']),
    fault: z.boolean(),
    pos: z.number().int().nonnegative().optional(),
    wpos: z.number().int().nonnegative().optional(),
  })
  .superRefine((o, ctx) => {
    // Only a completed op knows its place in the total order; a write occupies a
    // place (1-based), a read only reports one, and only a read has a wpos.
    if (o.pos !== undefined && o.outcome !== 'ok') {
      ctx.addIssue({ code: 'custom', path: ['pos'], message: `only an ok operation has a position, not outcome "${o.outcome}"` });
    }
    if (o.op === 'write' && o.pos !== undefined && o.pos < 1) {
      ctx.addIssue({ code: 'custom', path: ['pos'], message: 'a write\'s position is 1-based (≥ 1)' });
    }
    if (o.op === 'write' && o.wpos !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['wpos'], message: 'only a read has a wpos' });
    }
    if (o.op === 'read' && (o.pos === undefined) !== (o.wpos === undefined)) {
      const [has, lacks] = o.pos === undefined ? ['wpos', 'pos'] : ['pos', 'wpos'];
      ctx.addIssue({ code: 'custom', path: [lacks], message: `a read with ${has} must also carry ${lacks}` });
    }
    if (o.op === 'write' && o.value === null) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'a write must carry the token it wrote, not null' });
    }
    if (o.end === null && o.outcome !== 'unknown') {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `end may only be null for outcome "unknown", not "${o.outcome}"` });
    }
    if (o.end !== null && o.end < o.start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `end (${o.end}) is before start (${o.start})` });
    }
  });

export type HistoryOp = z.infer<typeof historyOpSchema>;

export class HistoryParseError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'HistoryParseError';
  }
}

const FIELDS = ['client', 'op', 'page', 'value', 'start', 'end', 'outcome', 'fault'] as const;
/** Written after the contract's fields, and only when set, so IVY histories are unchanged. */
const OPTIONAL_FIELDS = ['pos', 'wpos'] as const;

function describeIssues(raw: unknown, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length > 0 ? String(issue.path[0]) : '';
      if (field === '') return issue.message;
      const missing = issue.code !== 'custom' && typeof raw === 'object' && raw !== null && !(field in raw);
      return missing ? `missing field "${field}"` : `field "${field}": ${issue.message}`;
    })
    .join('; ');
}

/** Parse a whole history file. Blank lines are skipped; any malformed line throws. */
export function parseHistory(text: string): { ops: HistoryOp[] } {
  const ops: HistoryOp[] = [];
  // Token -> line of its write, to enforce the contract that write tokens are unique.
  const writtenAt = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new HistoryParseError(lineNo, `invalid JSON (${(err as Error).message})`);
    }
    const parsed = historyOpSchema.safeParse(raw);
    if (!parsed.success) throw new HistoryParseError(lineNo, describeIssues(raw, parsed.error.issues));
    const op = parsed.data;
    if (op.op === 'write' && op.value !== null) {
      const prev = writtenAt.get(op.value);
      if (prev !== undefined) {
        throw new HistoryParseError(lineNo, `write token "${op.value}" was already written on line ${prev} (tokens must be unique)`);
      }
      writtenAt.set(op.value, lineNo);
    }
    ops.push(op);
  }
  return { ops };
}

/** Serialise one op as a history line with the contract's field order. */
export function formatHistoryLine(op: HistoryOp): string {
  const ordered: Record<string, unknown> = {};
  for (const f of FIELDS) ordered[f] = op[f];
  for (const f of OPTIONAL_FIELDS) if (op[f] !== undefined) ordered[f] = op[f];
  return JSON.stringify(ordered);
}
