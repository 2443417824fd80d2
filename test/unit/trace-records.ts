// Trace records for tests of the Messages view model: one builder, a clock that steps 1 µs per record.
import type { TraceRecord } from '../../nodes/control/trace/record.js';

export type RecordMaker = (node: string, dir: 'send' | 'recv', peer: string, type: string, frame: string, extra?: Partial<TraceRecord>) => TraceRecord;

/** A builder of records at increasing times (each maker keeps its own clock). */
export function recordMaker(): RecordMaker {
  let t = 0;
  return (node, dir, peer, type, frame, extra = {}) => ({ node, dir, peer, t: (t += 1000), type, epoch: 1, frame, vc: { [node]: 1 }, ...extra });
}
