// Shapes shared by the manager and client state machines. The cores never do
// I/O: they take inputs (a decoded message, an operation, a clock reading) and
// return outputs (messages to send, operations completed) for the shell to act on.
import type { Access, Message, NodeId } from '../protocol/messages.js';

export type Send = { type: 'send'; to: NodeId; msg: Message };
/** A frame that was well-formed but made no sense here (stale epoch, unknown request, …). */
export type Ignored = { type: 'ignored'; msg: Message; reason: string };

export type OpKind = 'read' | 'write';

export type OpRequest =
  | { id: number; kind: 'read'; page: number; offset: number; length: number }
  | { id: number; kind: 'write'; page: number; offset: number; data: Uint8Array };

/**
 * `pos` / `wpos` (write-update only, DESIGN §6): a write's place in the total order; a read's delivered
 * position and the position of the write whose value it returned. `unknown` on a failure: the op may
 * still take effect (history outcome "unknown").
 */
export type OpResult =
  | { id: number; kind: OpKind; page: number; ok: true; fault: boolean; version: number; data?: Uint8Array; pos?: number; wpos?: number }
  | { id: number; kind: OpKind; page: number; ok: false; fault: boolean; error: string; unknown?: true };

export type Done = { type: 'done'; result: OpResult };

export type ClientOutput = Send | Done | Ignored;
export type ManagerOutput = Send | Ignored;

/** One row of a client's page table, as shown to people and used to check invariants. */
export interface PageView {
  page: number;
  access: Access;
  owner: boolean;
  version: number;
  /** Outstanding fault for this page, if any. */
  pending: OpKind | null;
  /** Recovered from the page store, waiting for the manager's verdict. */
  recovered?: boolean;
}

/** One row of the manager's record cache. */
export interface RecordView {
  page: number;
  owner: NodeId | null;
  /** Set when the page's only copy died with this client. */
  lostWith: NodeId | null;
  /** The only copy is with this client, which is down but keeps its pages (recoverable memory): shown "held by c3 (down)". */
  heldBy?: NodeId | null;
  /** Manager clock (ms) since when `heldBy` has been down. */
  downSince?: number | null;
  copyset: NodeId[];
  version: number;
  active: { requester: NodeId; req: number; kind: OpKind; phase: 'invalidating' | 'transferring' } | null;
  queue: { requester: NodeId; req: number; kind: OpKind }[];
  /** A held page's write transfer that was on its way when its holder went down (PageRecord.lostInFlight): absent if none. */
  inFlight?: { requester: NodeId; req: number };
}
