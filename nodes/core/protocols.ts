// The one place a protocol is registered: its member (client process) and seat
// (manager-seat process) constructors. Both protocols take the same configuration
// shapes, so the runtime and the supervisor need no per-protocol code to start one.
import { ClientCore, type ClientConfig } from './client.js';
import { ManagerRoleCore, type ManagerRoleConfig } from './manager-role.js';
import { IsisMemberCore } from './isis/member.js';
import { IsisRegistryCore } from './isis/registry.js';
import type { MemberCore, ProtocolName, SeatCore } from './protocol.js';

export type MemberConfig = ClientConfig;
export type SeatConfig = ManagerRoleConfig;

export interface ProtocolEntry {
  /** What users read (start form, tables). */
  label: string;
  member(cfg: MemberConfig): MemberCore;
  seat(cfg: SeatConfig): SeatCore;
}

export const PROTOCOLS: Record<ProtocolName, ProtocolEntry> = {
  ivy: {
    label: 'IVY (central manager)',
    member: (cfg) => new ClientCore(cfg),
    seat: (cfg) => new ManagerRoleCore(cfg),
  },
  isis: {
    label: 'Write-update (ISIS total order)',
    member: (cfg) => new IsisMemberCore(cfg),
    seat: (cfg) => new IsisRegistryCore(cfg),
  },
};
