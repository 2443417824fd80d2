// A member's ISIS queue: every message of the current view it has received and not
// yet delivered, ordered by priority (its own proposal until the sender's agreed
// priority arrives). The head may be delivered once it is stable: agreed, and held
// agreed by every member of the view (so a view change can never drop a message
// that some member, even one that crashed right after, has delivered).
import type { NodeId } from '../../protocol/messages.js';
import { comparePrio, type Prio } from './types.js';

export interface QueueEntry {
  sender: NodeId;
  seq: number;
  page: number;
  offset: number;
  data: Uint8Array;
  /** This member's proposal. */
  proposed: Prio;
  /** The agreed priority once known, else null. */
  agreed: Prio | null;
  stable: boolean;
  /** When this member last heard anything new of the message (retry / query clock). */
  since: number;
}

/** How the head is judged deliverable. 'proposed' is a deliberately broken variant for the simulator. */
export type DeliveryRule = 'stable' | 'proposed';

export const entryKey = (sender: NodeId, seq: number): string => `${sender}#${seq}`;
export const prioOf = (e: QueueEntry): Prio => e.agreed ?? e.proposed;

export class DeliveryQueue {
  private readonly entries = new Map<string, QueueEntry>();

  get size(): number {
    return this.entries.size;
  }

  get(sender: NodeId, seq: number): QueueEntry | undefined {
    return this.entries.get(entryKey(sender, seq));
  }

  delete(sender: NodeId, seq: number): void {
    this.entries.delete(entryKey(sender, seq));
  }

  add(e: QueueEntry): void {
    this.entries.set(entryKey(e.sender, e.seq), e);
  }

  /** Entries in priority order (proposed or agreed). */
  list(): QueueEntry[] {
    return [...this.entries.values()].sort((a, b) => comparePrio(prioOf(a), prioOf(b)));
  }

  head(): QueueEntry | undefined {
    let best: QueueEntry | undefined;
    for (const e of this.entries.values()) if (!best || comparePrio(prioOf(e), prioOf(best)) < 0) best = e;
    return best;
  }

  /** Removes and returns the head while it is deliverable under `rule`. */
  popDeliverable(rule: DeliveryRule): QueueEntry | undefined {
    const h = this.head();
    if (!h || !(rule === 'proposed' || h.stable)) return undefined;
    this.entries.delete(entryKey(h.sender, h.seq));
    return h;
  }

  isHeadDeliverable(e: QueueEntry, rule: DeliveryRule): boolean {
    return (rule === 'proposed' || e.stable) && this.head() === e;
  }

  values(): IterableIterator<QueueEntry> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
  }
}
