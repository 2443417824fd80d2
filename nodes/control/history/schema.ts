import { z } from 'zod';

/**
 * One line of a history file (JSON Lines), as fixed by the DESIGN contract:
 * {"client":"c3","op":"write","page":2,"value":"c3:17","start":…,"end":…,"outcome":"ok","fault":true}
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
    /** Write-update (DESIGN §6): a write's index in the total order; a read's delivered position… */
    pos: z.number().int().nonnegative().optional(),
    /** …and, on a read, the index of the write whose value it returned (0: the initial value). */
    wpos: z.number().int().nonnegative().optional(),
  })
  .superRefine((o, ctx) => {
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

function describeIssues(raw: unknown, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length > 0 ? String(issue.path[0]) : '';
      if (field === '') return issue.message;
      const missing = typeof raw === 'object' && raw !== null && !(field in raw);
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
  if (op.pos !== undefined) ordered.pos = op.pos;
  if (op.wpos !== undefined) ordered.wpos = op.wpos;
  return JSON.stringify(ordered);
}
