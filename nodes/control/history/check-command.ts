import { readFile } from 'node:fs/promises';
import { checkHistory } from './linearizability.js';
import { HistoryParseError, parseHistory, type HistoryOp } from './schema.js';

export interface CheckOutput {
  log(s: string): void;
  error(s: string): void;
}

/** One op per line; times are microseconds since `base` (the earliest start in the file). */
export function describeOp(op: HistoryOp, base: number): string {
  const us = (t: number): string => `${((t - base) / 1000).toFixed(1)}µs`;
  const end = op.end === null ? '?' : us(op.end);
  const value = op.value ?? 'null';
  const fault = op.fault ? '  (fault injected)' : '';
  return `  ${op.client.padEnd(6)} ${op.op.padEnd(5)} page ${String(op.page).padEnd(4)} ${value.padEnd(12)} ${us(op.start)} → ${end}  ${op.outcome}${fault}`;
}

/**
 * Check a history file. Exit codes: 0 linearizable, 1 not linearizable
 * (counterexample printed), 2 file missing, unreadable or malformed.
 */
export async function runCheck(file: string, out: CheckOutput): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    out.error(`cannot read history file ${file}: ${why}`);
    return 2;
  }
  let ops: HistoryOp[];
  try {
    ops = parseHistory(text).ops;
  } catch (err) {
    if (!(err instanceof HistoryParseError)) throw err;
    out.error(`malformed history file ${file}: ${err.message}`);
    return 2;
  }

  const result = checkHistory(ops);
  if (result.ok) {
    const unknown = ops.filter((o) => o.outcome === 'unknown').length;
    out.log(`linearizable: ${result.ops} operations on ${result.pages} pages (${unknown} unknown)`);
    return 0;
  }
  const base = ops.reduce((m, o) => Math.min(m, o.start), Number.POSITIVE_INFINITY);
  out.log(`NOT linearizable: ${result.explanation}`);
  out.log(`counterexample (${result.counterexample.length} operations; times in µs since the first operation started):`);
  for (const op of result.counterexample) out.log(describeOp(op, base));
  return 1;
}
