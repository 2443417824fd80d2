// Shared by the unit tests of held pages and recovered copies (core-held-spare, core-newest-copy): the
// messages a recoverable client sends a manager, and what the manager's verdicts on stored copies were.
import type { Report } from '../../nodes/core/rebuild.js';
import type { ManagerOutput } from '../../nodes/core/types.js';
import type { ClientMemory, MessageOf } from '../../nodes/protocol/messages.js';

/** c0 → port 7000, c12 → 7012: one endpoint per client id. */
export const endpoint = (id: string): string => `tcp://127.0.0.1:70${id.slice(1).padStart(2, '0')}`;

/** A client's report to a candidate at epoch 3 (recoverable, incarnation 0, hello `n`), with `fields` over it. */
export function report(from: string, fields: Partial<Report>, n = 1): Report {
  return { t: 'report', from, epoch: 3, endpoint: endpoint(from), incarnation: 0, pages: [], pending: [], n, memory: 'recoverable', ...fields };
}

/** A second hello (n 2) at epoch 1 with what the client's store recovered (a volatile client recovers nothing). */
export const hello = (from: string, recovered: { page: number; version: number }[], memory: ClientMemory = 'recoverable'): MessageOf<'hello'> => ({
  t: 'hello',
  from,
  epoch: 1,
  endpoint: endpoint(from),
  incarnation: 0,
  n: 2,
  memory,
  ...(memory === 'recoverable' ? { recovered } : {}),
});

/** The manager's verdicts on recovered copies: to whom, which version, kept or dropped. */
export const restores = (out: readonly ManagerOutput[]) =>
  out.flatMap((o) => (o.type === 'send' && o.msg.t === 'restore' ? [{ to: o.to, version: o.msg.version, keep: o.msg.keep }] : []));
