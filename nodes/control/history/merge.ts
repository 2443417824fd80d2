// Turns the per-client logs written by the nodes (one file per client incarnation)
// into the run's history in the format of DESIGN §6. An invoke with no completion
// means the client died with the operation in flight: outcome "unknown".
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatHistoryLine, type HistoryOp } from './schema.js';

const InvokeSchema = z.object({
  i: z.number().int(),
  op: z.enum(['read', 'write']),
  page: z.number().int().min(0),
  value: z.string().nullable(),
  start: z.number(),
});
const CompleteSchema = z.object({
  c: z.number().int(),
  value: z.string().nullable(),
  end: z.number(),
  outcome: z.enum(['ok', 'fail', 'unknown']),
  fault: z.boolean(),
  pos: z.number().int().min(0).optional(),
  wpos: z.number().int().min(0).optional(),
});

const FILE = /^(c\d+)\.(\d+)\.jsonl$/;

export interface MergeOptions {
  /**
   * A consistent cut for reading a live run (monotonic ns, taken before the first file is
   * read): operations invoked after it are left out, and completions after it are ignored
   * (the operation counts as in flight: "unknown"). Without it, a file read later could hold
   * a read of a value whose write was invoked after an earlier file was read — a read of a
   * value nobody wrote, in the merged history. With it, every read that completed before the
   * cut returns a value whose invoke line (written before the write can take effect) was
   * already on disk when the first file was read.
   */
  cutNs?: number;
}

export function mergeClientLogs(dir: string, opts: MergeOptions = {}): HistoryOp[] {
  const cut = opts.cutNs ?? Number.POSITIVE_INFINITY;
  const ops: HistoryOp[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = FILE.exec(name);
    if (!m) continue;
    const client = m[1]!;
    const invokes = new Map<number, z.infer<typeof InvokeSchema>>();
    const completions = new Map<number, z.infer<typeof CompleteSchema>>();
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        continue; // a line torn by SIGKILL mid-write: its op is unknown at worst
      }
      const inv = InvokeSchema.safeParse(raw);
      if (inv.success && inv.data.start <= cut) invokes.set(inv.data.i, inv.data);
      const done = CompleteSchema.safeParse(raw);
      if (done.success && done.data.end <= cut) completions.set(done.data.c, done.data);
    }
    for (const [id, inv] of invokes) {
      const done = completions.get(id);
      ops.push(done ? completedOp(client, inv, done) : { client, op: inv.op, page: inv.page, value: inv.value, start: inv.start, end: null, outcome: 'unknown', fault: true });
    }
  }
  return ops.sort((a, b) => a.start - b.start);
}

function completedOp(client: string, inv: z.infer<typeof InvokeSchema>, done: z.infer<typeof CompleteSchema>): HistoryOp {
  const op: HistoryOp = {
    client,
    op: inv.op,
    page: inv.page,
    value: inv.op === 'write' ? inv.value : done.value,
    start: inv.start,
    end: Math.max(done.end, inv.start),
    outcome: done.outcome,
    fault: done.fault,
  };
  // Only a completed op has a place in the total order, and only a read has a wpos
  // (the history schema rejects anything else, so a bad log line cannot poison the file).
  if (done.outcome === 'ok' && done.pos !== undefined && (inv.op === 'read' ? done.wpos !== undefined : done.pos >= 1)) {
    op.pos = done.pos;
    if (inv.op === 'read') op.wpos = done.wpos;
  }
  return op;
}

export function writeHistory(file: string, ops: readonly HistoryOp[]): void {
  writeFileSync(file, ops.map((o) => formatHistoryLine(o) + '\n').join(''));
}
