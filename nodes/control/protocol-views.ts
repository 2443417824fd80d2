// What the views show of a node, per protocol, taken from its telemetry. The one
// place that knows how each protocol's telemetry maps onto the snapshot: IVY
// managers ship record caches, write-update registries a membership view; IVY
// clients ship page tables, write-update members a full replica plus their place in
// the total order (view, delivered position, pending ISIS queue).
import type { Telemetry } from '../runtime/control.js';
import type { MemberOrderView, MembershipView, PageRow } from './api.js';

export function membershipOf(t: Telemetry | null): MembershipView | null {
  const m = t?.membership;
  return m ? { view: m.view, members: [...m.members], changing: m.changing, nextView: m.nextView } : null;
}

export function orderOf(t: Telemetry | null): MemberOrderView | null {
  const o = t?.order;
  if (!o) return null;
  return {
    view: o.view,
    pos: o.pos,
    members: [...o.members],
    queue: o.queue.map((q) => ({ ...q, proposed: { ...q.proposed }, agreed: q.agreed && { ...q.agreed } })),
  };
}

export function pageRowsOf(t: Telemetry | null): PageRow[] | null {
  return t?.pageTable ?? null;
}
