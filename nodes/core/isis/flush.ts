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
  installed: number;
  hasState: boolean;
  queue: { sender: NodeId; seq: number; page: number; offset: number; data: Uint8Array; prio: Prio; agreed: boolean }[];
  lastInstall: InstallBody | null;
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
  const known = new Map<number, { from: number; closing: Closing }>();
  for (const r of reports) {
    const li = r.lastInstall;
    if (!li) continue;
    for (const c of li.closings) {
      const prev = known.get(c.view);
      if (c.view >= oldest && (!prev || li.view > prev.from)) known.set(c.view, { from: li.view, closing: c });
    }
  }
  const closings = new Map<number, Closing>();
  for (const [view, k] of known) closings.set(view, k.closing);
  if (!closings.has(newest)) closings.set(newest, { view: newest, decisions: opts.skipFlush ? [] : agreedIn(stateful.filter((r) => r.installed === newest)) });

  // A member at a view whose closing nobody can supply cannot reach the cut: it gets a state transfer instead.
  const lost = stateful.filter((r) => !closings.has(r.installed)).map((r) => r.id);
  const donors = stateful.filter((r) => closings.has(r.installed)).sort((a, b) => b.installed - a.installed || cmpId(a.id, b.id));
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
