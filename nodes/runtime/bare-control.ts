// Configuration and control channel of the bare-transport benchmark node (bare.ts).
// Shared by the node and the benchmark that drives it, validated on both sides like
// the real nodes' control channel.
import { z } from 'zod';
import { NodeIdSchema } from '../protocol/messages.js';

const endpoint = z.string().regex(/^tcp:\/\/[\w.-]+:\d+$/, 'endpoint must look like tcp://127.0.0.1:7000');

export const BareConfigSchema = z.object({
  /** IVY fault pattern: manager, owner, copy, requester. Write-update's two multicast rounds: mc-sender, mc-member. */
  role: z.enum(['manager', 'owner', 'copy', 'requester', 'mc-sender', 'mc-member']),
  id: NodeIdSchema,
  endpoint,
  pageSize: z.number().int().min(64).max(1 << 20),
  peers: z.array(z.object({ id: NodeIdSchema, endpoint })).max(64),
  manager: NodeIdSchema,
  owner: NodeIdSchema,
  /** Copy holders, in order: a write with k copies invalidates the first k. */
  copies: z.array(NodeIdSchema).max(128),
});
export type BareConfig = z.infer<typeof BareConfigSchema>;

export const ToBareSchema = z.discriminatedUnion('type', [
  /** multicast: two rounds to the first `copies` members (i_msg -> i_propose, then i_agreed -> i_ack). */
  z.object({ type: z.literal('op'), id: z.number().int(), kind: z.enum(['read', 'write', 'multicast']), copies: z.number().int().min(0).max(128) }),
]);
export type ToBare = z.infer<typeof ToBareSchema>;

export const FromBareSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), id: NodeIdSchema }),
  z.object({ type: z.literal('done'), id: z.number().int(), startNs: z.number(), endNs: z.number() }),
  z.object({ type: z.literal('log'), message: z.string().max(2000) }),
]);
export type FromBare = z.infer<typeof FromBareSchema>;
