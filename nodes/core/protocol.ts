// The small interfaces every coherence protocol implements, so the runtime and the
// supervisor program against them and not against IVY or ISIS. A member is what a
// client process runs; a seat is what a manager-seat process runs (IVY's manager,
// ISIS's registry). protocols.ts maps a protocol name to its constructors.
import type { Message, NodeId } from '../protocol/messages.js';
import type { IsisMemberView, IsisRegistryView } from './isis/types.js';
import type { ManagerRole, RoleChange } from './manager-role.js';
import type { StoreChange } from './client.js';
import type { Done, Ignored, OpRequest, PageView, RecordView, Send } from './types.js';

export type ProtocolName = 'ivy' | 'isis';
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['ivy', 'isis'];

export type MemberOutput = Send | Done | Ignored;
export type SeatOutput = Send | Ignored | RoleChange;

/** Protocol-specific state for telemetry (IVY has none beyond the page table and records). */
export type MemberProtocolView = IsisMemberView;
export type SeatProtocolView = IsisRegistryView;

export interface MemberCore {
  readonly id: NodeId;
  /** First outputs (hello / join to every seat). */
  start(now: number): MemberOutput[];
  submit(op: OpRequest, now: number): MemberOutput[];
  receive(msg: Message, now: number): MemberOutput[];
  /** Heartbeats, retries, timeouts: call every few ms. */
  tick(now: number): MemberOutput[];
  /** Endpoint of a peer, as learned from the seat. */
  endpointOf(id: NodeId): string | undefined;
  /** True once the member may serve operations (IVY: listed by the manager; ISIS: in a view, with state). */
  readonly joined: boolean;
  pageTable(): PageView[];
  pageBytes(page: number): Uint8Array | null;
  readonly currentEpoch: number;
  readonly counters: Record<string, number>;
  protocolView?(): MemberProtocolView;
  /** Owner copies to persist before acting on outputs (protocols with recoverable client memory: IVY). */
  takeDirty?(): readonly StoreChange[];
  /** When (member clock) the next retransmission falls due, if one can (IVY's adaptive retry): the shell ticks then. */
  nextRetryAt?(): number | null;
}

export interface SeatCore {
  readonly id: NodeId;
  receive(msg: Message, now: number): SeatOutput[];
  tick(now: number): SeatOutput[];
  /** The transport saw the connection to the other seat drop (its process died). */
  peerConnectionLost(now: number): SeatOutput[];
  /** The transport saw the connection to a member drop (ISIS: start a view change at once). */
  memberConnectionLost?(id: NodeId, now: number): SeatOutput[];
  readonly currentEpoch: number;
  readonly currentRole: ManagerRole;
  readonly counters: Record<string, number>;
  endpointOf(id: NodeId): string | undefined;
  clientList(): { id: NodeId; endpoint: string }[];
  /** IVY: the record cache (primary's live records or the backup's replica); ISIS: empty. */
  recordCache(): RecordView[];
  protocolView?(): SeatProtocolView;
}
