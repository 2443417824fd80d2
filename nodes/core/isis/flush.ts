// The decision of a view change, as a pure function of the survivors' flush reports.
//
// Every member of the new view that holds the replicated state must end the old view
// at the same cut. A member is "at" the last view it committed; the closing of a view
// is the list of its messages to deliver at its end, in priority order:
// - a closing some member already received in an install (its lastInstall, possibly
//   never committed) is reused as it stands: someone may have delivered it;
// - otherwise the closing of the newest view is computed: every message that ANY
//   survivor holds agreed is delivered at its agreed priority, the rest are dropped.
//   A message some member delivered was stable, i.e. held agreed by every member, so
//   it is never dropped; a dropped one was delivered by nobody.
// Members without state (joiners, rebooted members) get a state transfer from a donor
// once the new view is committed.
import type { NodeId } from '../../protocol/messages.js';
import { comparePrio, type Closing, type Decision, type InstallBody, type Prio } from './types.js';

export interface FlushReport {
  id: NodeId;
  incarnation: number;
  installed: number;
  hasState: boolean;
  queue: { sender: NodeId; seq: number; page: number; offset: number; data: Uint8Array; prio: Prio; agreed: boolean }[];
  lastInstall: InstallBody | null;
  /** The highest view this member ever installed (absent: unknown). */
  maxInstalled?: number;
}

export interface FlushDecision {
  closings: Closing[];
  donor: NodeId | null;
  joiners: NodeId[];
}

export interface DecideOptions {
  /** Deliberately broken variant for the simulator: close the newest view without delivering anything. */
  skipFlush?: boolean;
}

export function decideViewChange(reports: readonly FlushReport[], opts: DecideOptions = {}): FlushDecision {
  const stateful = reports.filter((r) => r.hasState);
  const joiners = reports.filter((r) => !r.hasState).map((r) => r.id);
  if (stateful.length === 0) return { closings: [], donor: null, joiners };
  const newest = Math.max(...stateful.map((r) => r.installed));
  const oldest = Math.min(...stateful.map((r) => r.installed));

  // Closings already handed out, from the highest install that carries each (later installs reuse earlier ones).
  const known = new Map<number, { from: number; closing: Closing; members: InstallBody['members'] }>();
  for (const r of reports) {
    const li = r.lastInstall;
    if (!li) continue;
    for (const c of li.closings) {
      const prev = known.get(c.view);
      if (c.view >= oldest && (!prev || li.view > prev.from)) known.set(c.view, { from: li.view, closing: c, members: li.members });
    }
  }
  const closings = new Map<number, Closing>();
  for (const [view, k] of known) closings.set(view, k.closing);
  if (!closings.has(newest)) closings.set(newest, { view: newest, decisions: opts.skipFlush ? [] : agreedIn(stateful.filter((r) => r.installed === newest)) });

  // A member at a view whose closing nobody can supply cannot reach the cut: it gets a state transfer instead.
  // So does one behind the newest view that is not among that view's members: that view may have delivered
  // writes without it (the other side of a healed partition), which no closing carries.
  const newestBody = reports.find((r) => r.lastInstall?.view === newest)?.lastInstall ?? null;
  const behind = (r: FlushReport): boolean => r.installed < newest && !(newestBody?.members.some((m) => m.id === r.id && m.incarnation === r.incarnation) ?? false);
  // A handed-out closing was computed from its own view's flushes: it holds what a member of that view may
  // lack, but not what a member outside it lacks (it may have missed deliveries the others made before).
  const outside = (r: FlushReport): boolean => {
    const k = known.get(r.installed);
    return k !== undefined && !k.members.some((m) => m.id === r.id && m.incarnation === r.incarnation);
  };
  const catchesUp = (r: FlushReport): boolean => closings.has(r.installed) && !behind(r) && !outside(r);
  const lost = stateful.filter((r) => !catchesUp(r)).map((r) => r.id);
  const donors = stateful.filter(catchesUp).sort((a, b) => b.installed - a.installed || cmpId(a.id, b.id));
  return {
    closings: [...closings.values()].sort((a, b) => a.view - b.view),
    donor: donors[0]?.id ?? null,
    joiners: [...joiners, ...lost],
  };
}

/** Every message any report holds agreed, once, in priority order. */
function agreedIn(reports: readonly FlushReport[]): Decision[] {
  const seen = new Map<string, Decision>();
  for (const r of reports) {
    for (const q of r.queue) {
      if (!q.agreed) continue;
      const key = `${q.sender}#${q.seq}`;
      if (!seen.has(key)) seen.set(key, { sender: q.sender, seq: q.seq, page: q.page, offset: q.offset, data: q.data, prio: [q.prio[0], q.prio[1]] });
    }
  }
  return [...seen.values()].sort((a, b) => comparePrio(a.prio, b.prio));
}

const cmpId = (a: NodeId, b: NodeId): number => Number(a.slice(1)) - Number(b.slice(1));

/**
 * The partition rule: may a view whose members sent these flush reports be installed?
 *
 * A new view must hold a quorum of every view it may be replacing: the newest view any of its
 * members committed, and every newer install one of them received (that one may have been
 * committed by others). A quorum of a view is a strict majority of its members, or exactly half
 * if that half holds the view's lowest-numbered member (the tie-breaker: a pure function of the
 * view, so both registry seats compute the same winner, and two disjoint halves never both hold
 * it). Only members that prove they are still in that view count: same incarnation (a restarted
 * member lost its promises with its memory) and that view (or a later install) installed or
 * committed (an evicted member forgot it). Each of them has prepared the new view, so it ignores any lower one from
 * now on: two views built from disjoint sides of a partition can never both gather a quorum.
 */
export interface QuorumVerdict {
  ok: boolean;
  /** The view whose quorum is missing (when !ok), with how many of its members are in and of how many. */
  view: number;
  have: number;
  of: number;
}

export interface QuorumOptions {
  /** The registry's own last view and its members (committed by it, or synced from the primary). */
  known?: { view: number; members: readonly { id: NodeId; incarnation: number }[] } | null;
  /**
   * The clients the supervisor spawned the seat with (the same list at both seats): the first view (no member,
   * nor the registry, has any) needs a quorum of them, or two seats cut apart at the start could each found a
   * group. (Not the members each seat has heard from: a join during a partition reaches one side only.)
   */
  everyone?: readonly { id: NodeId; incarnation: number }[];
  /** Deliberately unsafe variant for the simulator: no quorum needed (any side installs what it reaches). */
  off?: boolean;
}

export function checkQuorum(reports: readonly FlushReport[], opts: QuorumOptions = {}): QuorumVerdict {
  const yes: QuorumVerdict = { ok: true, view: 0, have: 0, of: 0 };
  if (opts.off) return yes;
  const newest = Math.max(0, ...reports.map((r) => r.installed));
  const bodies = new Map<number, readonly { id: NodeId; incarnation: number }[]>();
  for (const r of reports) if (r.lastInstall && r.lastInstall.view >= newest && r.lastInstall.members.length > 0) bodies.set(r.lastInstall.view, r.lastInstall.members);
  // The registry's own view, if no report is newer: members that all lost it (restarted, evicted) cannot replace it alone.
  if (opts.known && opts.known.view > 0 && opts.known.view >= newest && opts.known.members.length > 0 && !bodies.has(opts.known.view)) bodies.set(opts.known.view, opts.known.members);
  // No view committed anywhere we can see (pending installs of a first view may exist, or may be dead): a first
  // view, whatever the installs say, also needs a quorum of the spawned clients.
  const committedSeen = newest > 0 || (opts.known?.view ?? 0) > 0;
  if (!committedSeen && opts.everyone && opts.everyone.length > 0) {
    // In that incarnation: a restarted client forgot whatever it promised before.
    const listed = new Set(opts.everyone.map((c) => `${c.id}/${c.incarnation}`));
    const counted = reports.filter((r) => listed.has(`${r.id}/${r.incarnation}`));
    const have = counted.length;
    const lowest = [...opts.everyone].sort((a, b) => cmpId(a.id, b.id))[0]!;
    const tie = 2 * have === listed.size && counted.some((r) => r.id === lowest.id);
    if (2 * have <= listed.size && !tie) return { ok: false, view: 0, have, of: listed.size };
  }
  for (const [view, members] of [...bodies].sort((a, b) => a[0] - b[0])) {
    // An install some member of it never installed, and never will (it prepared our view), was never committed.
    if (view > newest && reports.some((r) => members.some((m) => m.id === r.id && m.incarnation === r.incarnation) && (r.maxInstalled ?? Infinity) < view)) continue;
    const inView = new Set(members.map((m) => `${m.id}/${m.incarnation}`));
    // In it (that incarnation) and still at it or past it: committed it, or holds its install or a later one.
    const counted = reports.filter((r) => inView.has(`${r.id}/${r.incarnation}`) && (r.installed === view || (r.lastInstall?.view ?? 0) >= view));
    const have = counted.length;
    const of = members.length;
    const lowest = [...members].sort((a, b) => cmpId(a.id, b.id))[0]!;
    const tie = 2 * have === of && counted.some((r) => r.id === lowest.id);
    if (2 * have <= of && !tie) return { ok: false, view, have, of };
  }
  return yes;
}
