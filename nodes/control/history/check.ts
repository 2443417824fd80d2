// One entry point for every caller that checks a history (the check command, scenarios,
// bench), so a write-update history is checked as sequential wherever it is checked.
import { checkHistory, type CheckOptions, type CheckResult } from './linearizability.js';
import type { HistoryOp } from './schema.js';
import { checkSequential } from './sequential.js';

export const MODELS = ['linearizable', 'sequential'] as const;
export type Model = (typeof MODELS)[number];

/** DESIGN §6: sequential when the operations carry their place in a total order, else linearizable. */
export function defaultModel(ops: readonly HistoryOp[]): Model {
  return ops.some((o) => o.pos !== undefined) ? 'sequential' : 'linearizable';
}

/** Check `ops` against `model` (default: defaultModel); says which model it checked. */
export function checkAs(ops: readonly HistoryOp[], model: Model = defaultModel(ops), options: CheckOptions = {}): { model: Model; result: CheckResult } {
  return { model, result: model === 'sequential' ? checkSequential(ops) : checkHistory(ops, options) };
}
