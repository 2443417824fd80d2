// What the views show of a node, per protocol, taken from its telemetry. The one
// place that knows how each protocol's telemetry maps onto the snapshot: IVY
// managers ship record caches, write-update registries a membership view; IVY
// clients ship page tables, write-update members a full replica plus their place in
// the total order (view, delivered position, pending ISIS queue).
import type { Telemetry } from '../runtime/control.js';
import type { MemberOrderView, MembershipView, PageRow } from './api.js';

export function membershipOf(t: Telemetry | null): MembershipView | null {
  const m = t?.isisRegistry;
  if (!m) return null;
  return {
    view: m.view,
    members: m.members.map((x) => ({ ...x })),
    change: m.change && { ...m.change, members: [...m.change.members], waitingFor: [...m.change.waitingFor] },
    ...(m.blocked ? { blocked: { ...m.blocked } } : {}),
  };
}

export function orderOf(t: Telemetry | null): MemberOrderView | null {
  const o = t?.isisMember;
  if (!o) return null;
  return {
    view: o.view,
    preparing: o.preparing,
    pos: o.pos,
    hasState: o.hasState,
    members: [...o.members],
    queue: o.queue.map((q) => ({ ...q, proposed: [q.proposed[0], q.proposed[1]], agreed: q.agreed && [q.agreed[0], q.agreed[1]] })),
  };
}

export function pageRowsOf(t: Telemetry | null): PageRow[] | null {
  const rows = t?.pageTable;
  if (!rows) return null;
  // A write-update member's page version is the total-order position of the write its replica holds.
  return t.isisMember ? rows.map((r) => ({ ...r, wpos: r.wpos ?? r.version })) : rows;
}
