import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { checkAs, MODELS, type Model } from './check.js';
import { HistoryParseError, parseHistory, type HistoryOp } from './schema.js';

export { defaultModel, type Model } from './check.js';

/** The `--model` flag parser: a wrong value is answered with what is allowed. */
export function parseModel(value: string): Model {
  const model = MODELS.find((m) => m === value);
  if (model === undefined) throw new InvalidArgumentError(`expected ${MODELS.join(' or ')}, got "${value}"`);
  return model;
}

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
  const place = op.pos === undefined ? '' : op.wpos === undefined ? `  pos ${op.pos}` : `  pos ${op.pos} wpos ${op.wpos}`;
  return `  ${op.client.padEnd(6)} ${op.op.padEnd(5)} page ${String(op.page).padEnd(4)} ${value.padEnd(12)} ${us(op.start)} → ${end}  ${op.outcome}${place}${fault}`;
}

const NAMES: Record<Model, string> = { linearizable: 'linearizable', sequential: 'sequentially consistent' };

/**
 * Check a history file against a consistency model (default: defaultModel).
 * Exit codes: 0 consistent, 1 not (counterexample printed), 2 file missing,
 * unreadable or malformed.
 */
export async function runCheck(file: string, out: CheckOutput, model?: Model): Promise<number> {
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

  const { model: chosen, result } = checkAs(ops, model);
  const name = NAMES[chosen];
  // Say how the model was picked when the user did not pick it and it is not the historical default.
  const why = model === undefined && chosen === 'sequential' ? ' (model: sequential, because the operations carry pos)' : '';
  if (result.ok) {
    const unknown = ops.filter((o) => o.outcome === 'unknown').length;
    out.log(`${name}: ${result.ops} operations on ${result.pages} pages (${unknown} unknown)${why}`);
    return 0;
  }
  const base = ops.reduce((m, o) => Math.min(m, o.start), Number.POSITIVE_INFINITY);
  const rule = result.rule === undefined ? '' : ` [rule ${result.rule}]`;
  out.log(`NOT ${name}${rule}: ${result.explanation}${why}`);
  out.log(`counterexample (${result.counterexample.length} operations; times in µs since the first operation started):`);
  for (const op of result.counterexample) out.log(describeOp(op, base));
  return 1;
}
