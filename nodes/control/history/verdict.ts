// What the UIs ask of a history: "is it consistent (linearizable for IVY, sequentially
// consistent for write-update), and if not, show me why" (checkHistory) and "give me the file" (exportHistory, JSON Lines of DESIGN §6).
import type { HistoryExport, HistorySource, HistoryVerdict } from '../api.js';
import { checkAs } from './check.js';
import { formatHistoryLine, type HistoryOp } from './schema.js';

export function historyVerdict(ops: readonly HistoryOp[], source: HistorySource, now: number, shrinkTimeMs = 2000): HistoryVerdict {
  const { model, result } = checkAs(ops, undefined, { shrinkTimeMs });
  const unknown = ops.filter((o) => o.outcome === 'unknown').length;
  const pages = new Set(ops.map((o) => o.page)).size;
  if (result.ok) {
    return { source, consistent: true, model, ops: ops.length, pages, unknown, page: null, explanation: null, counterexample: [], checkedAt: now };
  }
  return {
    source,
    consistent: false,
    model,
    ops: ops.length,
    pages,
    unknown,
    page: result.page,
    explanation: result.explanation,
    counterexample: result.counterexample,
    checkedAt: now,
  };
}

export function historyFileName(source: HistorySource): string {
  return source.kind === 'live' ? 'ivy-history.jsonl' : `ivy-history-${source.id}${source.protocol === 'ivy' ? '' : `-${source.protocol}`}.jsonl`;
}

export function historyExport(ops: readonly HistoryOp[], source: HistorySource): HistoryExport {
  return { jsonl: ops.map((o) => formatHistoryLine(o) + '\n').join(''), name: historyFileName(source), ops: ops.length };
}
