// One history file for a run of several scenarios. Each scenario ran its own
// cluster, so its pages are different registers from another scenario's pages and
// its write tokens ("c3:17") repeat the other runs' tokens. To keep the combined
// file a valid, checkable history (`ivy-cluster check`), each scenario's ops are
// namespaced: client and tokens get an "s3/" prefix and pages are shifted into the
// scenario's own range (scenario k of the run, 0-based: pages k*P .. k*P+P-1).
// A run of a single scenario writes its history unchanged.
import type { HistoryOp } from '../history/schema.js';

export interface ScenarioHistory {
  id: string;
  ops: readonly HistoryOp[];
}

export function combineHistories(parts: readonly ScenarioHistory[], pages: number): HistoryOp[] {
  if (parts.length === 1) return [...parts[0]!.ops];
  const out: HistoryOp[] = [];
  parts.forEach((part, k) => {
    const ns = (s: string): string => `${part.id}/${s}`;
    for (const op of part.ops) {
      out.push({ ...op, client: ns(op.client), page: op.page + k * pages, value: op.value === null ? null : ns(op.value) });
    }
  });
  return out.sort((a, b) => a.start - b.start);
}
