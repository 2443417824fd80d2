// What the views show of a node, per protocol, taken from its telemetry. The one
// place that knows how each protocol's telemetry maps onto the snapshot: IVY
// managers ship record caches, write-update registries a membership view; IVY
// clients ship page tables, write-update members a full replica plus their place in
// the total order (view, delivered position, pending ISIS queue).
import type { Telemetry } from '../runtime/control.js';
import type { MemberOrderView, MembershipView, PageRow } from './api.js';

export function membershipOf(t: Telemetry | null): MembershipView | null {
  const m = t?.membership;
  if (!m) return null;
  return {
    view: m.view,
    members: m.members.map((x) => ({ ...x })),
    change: m.change && { ...m.change, members: [...m.change.members], waitingFor: [...m.change.waitingFor] },
  };
}

export function orderOf(t: Telemetry | null): MemberOrderView | null {
  const o = t?.order;
  if (!o) return null;
  return {
    ...o,
    members: [...o.members],
    queue: o.queue.map((q) => ({ ...q, proposed: [q.proposed[0], q.proposed[1]], agreed: q.agreed && [q.agreed[0], q.agreed[1]] })),
  };
}

export function pageRowsOf(t: Telemetry | null): PageRow[] | null {
  return t?.pageTable ?? null;
}
