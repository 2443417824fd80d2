// Configuration and control channel of the bare-transport benchmark node (bare.ts).
// Shared by the node and the benchmark that drives it, validated on both sides like
// the real nodes' control channel.
import { z } from 'zod';
import { ClientMemorySchema, NodeIdSchema } from '../protocol/messages.js';
import { LinksSchema } from './link-keys.js';

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
  /** As a real node's (config.ts): the bench compares paths on the same kind of links. */
  links: LinksSchema.default('curve'),
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

// --- the fair bare path (bare-fair.ts): the same processes and hop shapes as the protocol path ---

export const FairBareConfigSchema = z.object({
  role: z.enum(['manager', 'client']),
  id: NodeIdSchema,
  endpoint,
  pages: z.number().int().min(1).max(65_536),
  pageSize: z.number().int().min(64).max(1 << 20),
  peers: z.array(z.object({ id: NodeIdSchema, endpoint })).max(256),
  manager: NodeIdSchema,
  links: LinksSchema.default('curve'),
  /** Where a client keeps the pages it owns, as the protocol path's clients do in the same mode (page-store.ts). */
  memory: ClientMemorySchema.default('volatile'),
  storeFile: z.string().min(1).max(4096).optional(),
}).refine((c) => c.role === 'manager' || c.memory === 'volatile' || c.storeFile !== undefined, { message: 'a recoverable or durable client needs storeFile', path: ['storeFile'] });
export type FairBareConfig = z.infer<typeof FairBareConfigSchema>;

export const ToFairBareSchema = z.discriminatedUnion('type', [
  /**
   * One op. As the protocol client's (control.ts): `random` draws read or write from `seed`, and page `missing`
   * draws a page the client does not hold for that kind (the seed's rounds, `bench --s1`).
   */
  z.object({
    type: z.literal('op'),
    id: z.number().int(),
    kind: z.enum(['read', 'write', 'random']),
    page: z.union([z.number().int().min(0), z.literal('missing')]),
    seed: z.number().int().default(0),
  }),
  /**
   * Random ops until `null` (then the client answers with `count`): back to back, or `rate` a second from a
   * seeded start in the first period, as the protocol client runs them. `record`: send every op back with the count.
   */
  z.object({
    type: z.literal('workload'),
    spec: z
      .object({
        readRatio: z.number().min(0).max(1),
        pages: z.number().int().min(1),
        seed: z.number().int(),
        rate: z.number().min(0).max(10_000).default(0),
        record: z.boolean().default(false),
      })
      .nullable(),
  }),
]);
export type ToFairBare = z.infer<typeof ToFairBareSchema>;

/** One workload op of a fair bare client: kind, whether it succeeded, whether it faulted, start and end (monotonic ns). */
const OpRecordSchema = z.tuple([z.enum(['read', 'write']), z.boolean(), z.boolean(), z.number(), z.number()]);
export type OpRecord = z.infer<typeof OpRecordSchema>;

export const FromFairBareSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), id: NodeIdSchema }),
  /** `kind` and `page`: what the op turned out to be (a `random` kind, a `missing` page). */
  z.object({
    type: z.literal('done'),
    id: z.number().int(),
    kind: z.enum(['read', 'write']),
    page: z.number().int().min(0),
    ok: z.boolean(),
    fault: z.boolean(),
    startNs: z.number(),
    endNs: z.number(),
  }),
  /** Workload ops completed since the workload started: faults and cache hits, and each op when recorded. */
  z.object({ type: z.literal('count'), id: NodeIdSchema, faults: z.number().int(), hits: z.number().int(), ops: z.array(OpRecordSchema).max(1_000_000).optional() }),
  z.object({ type: z.literal('log'), message: z.string().max(2000) }),
]);
export type FromFairBare = z.infer<typeof FromFairBareSchema>;
