// Shapes of the write-update protocol (ISIS total order) shared by the member, the
// registry, the queue, the flush decision and the telemetry views.
import type { z } from 'zod';
import type { ClosingSchema, DecisionSchema, InstallBodySchema, IsisMemberSchema } from '../../protocol/isis-messages.js';
import type { NodeId } from '../../protocol/messages.js';

/** [counter, proposer number]: unique per (proposer, counter), ordered lexicographically. */
export type Prio = readonly [number, number];
export type IsisMember = z.infer<typeof IsisMemberSchema>;
export type Decision = z.infer<typeof DecisionSchema>;
export type Closing = z.infer<typeof ClosingSchema>;
export type InstallBody = z.infer<typeof InstallBodySchema>;

export const comparePrio = (a: Prio, b: Prio): number => a[0] - b[0] || a[1] - b[1];

/** The number a node proposes with: c12 -> 12 (node ids are unique, so priorities are). */
export const proposerNumber = (id: NodeId): number => Number(id.slice(1));

/** What a member shows of itself (telemetry, the Total order panel). */
export interface IsisMemberView {
  protocol: 'isis';
  /** Committed view (0 before the first) and the one being prepared, if any. */
  view: number;
  preparing: number | null;
  members: NodeId[];
  /** Delivered position: writes applied so far, in the total order. */
  pos: number;
  /** False while a joiner waits for its state transfer. */
  hasState: boolean;
  queue: {
    sender: NodeId;
    seq: number;
    page: number;
    /** This member's proposal, and the agreed priority once the sender decided it. */
    proposed: [number, number];
    agreed: [number, number] | null;
    /** Every member holds it agreed (it may be delivered once it reaches the head). */
    stable: boolean;
    deliverable: boolean;
  }[];
}

/** What the registry shows: the membership view and any view change under way. */
export interface IsisRegistryView {
  protocol: 'isis';
  view: number;
  members: { id: NodeId; incarnation: number; pos: number | null }[];
  change: { view: number; phase: 'flush' | 'install'; members: NodeId[]; waitingFor: NodeId[] } | null;
  /**
   * The last view change was refused for want of a quorum of the view it would replace (a partition, or
   * most of its members down at once): `view` is that view, `have` of its `of` members could vouch for it.
   * Writes wait until a quorum of it is heard again; null once a view change has its quorum.
   */
  blocked?: { view: number; have: number; of: number } | null;
}
