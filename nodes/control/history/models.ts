// Which consistency check a protocol's histories get: IVY pages are linearizable
// registers; write-update with local reads is only sequentially consistent (a read
// may miss a write completed elsewhere), so its histories are checked against the
// total order they claim (pos / wpos), never against real time. The model follows
// from the protocol that ran, not from whether the ops happen to carry pos.
import { PROTOCOL_MODEL, type ConsistencyModel, type Protocol } from '../api.js';
import { checkAs } from './check.js';
import type { CheckResult } from './linearizability.js';
import type { HistoryOp } from './schema.js';

export function checkModel(model: ConsistencyModel, ops: readonly HistoryOp[]): CheckResult {
  return checkAs(ops, model).result;
}

export function checkProtocol(protocol: Protocol, ops: readonly HistoryOp[]): { model: ConsistencyModel; result: CheckResult } {
  const model = PROTOCOL_MODEL[protocol];
  return { model, result: checkModel(model, ops) };
}

/** How a check result reads in one word, per model. */
export function verdict(model: ConsistencyModel, ok: boolean): string {
  const name = model === 'linearizable' ? 'linearizable' : 'sequentially consistent';
  return ok ? name : `NOT ${name}`;
}
