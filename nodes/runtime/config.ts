// What the supervisor tells a node process at spawn (one JSON argument). Validated
// like any other input: a node started by hand with a bad config exits with a
// clear message instead of misbehaving.
import { z } from 'zod';
import { ClientMemorySchema, NodeIdSchema } from '../protocol/messages.js';
import { TraceClockSchema } from './control.js';
import { NodeNemesisSchema } from './nemesis.js';
import { LinksSchema } from './link-keys.js';

export type { Links } from './link-keys.js';

const endpoint = z.string().regex(/^tcp:\/\/[\w.-]+:\d+$/, 'endpoint must look like tcp://127.0.0.1:7000');

const common = {
  id: NodeIdSchema,
  endpoint,
  pages: z.number().int().min(1).max(65_536),
  pageSize: z.number().int().min(64).max(1 << 20),
  /** Epoch this node starts in (the supervisor's current one). */
  epoch: z.number().int().min(1).default(1),
  telemetryMs: z.number().int().min(20).max(10_000).default(200),
  /** Coherence protocol: IVY (manager seat = manager) or write-update by ISIS (manager seat = registry). */
  protocol: z.enum(['ivy', 'isis']).default('ivy'),
  /** Present: trace every frame from the start, with the vector clock starting here (see tracer.ts). */
  trace: z.object({ clock: TraceClockSchema }).optional(),
  /** Present: network nemesis rules in force from the first frame (a node rebooted under a nemesis). */
  nemesis: NodeNemesisSchema.optional(),
  /**
   * curve: authenticated links; the keys come over the IPC pipe (link-keys.ts), never in this config, which
   * travels in argv. plain: unauthenticated, only for measuring what CURVE costs (bench --curve-overhead).
   */
  links: LinksSchema.default('curve'),
  /**
   * IVY: recover lost and duplicated frames (issue 11's lossy nemesis; docs/CONSISTENCY.md). On by default;
   * a healthy run never retransmits (the counters retransmits, repeats and redrives stay 0).
   */
  recoverLoss: z.boolean().default(true),
};

export const NodeConfigSchema = z.discriminatedUnion('role', [
  z.object({
    role: z.literal('manager'),
    ...common,
    peer: z.object({ id: NodeIdSchema, endpoint }).nullable(),
    /** primary / backup at cluster start; rejoin after a reboot (the home seat then asks for the role back). */
    start: z.enum(['primary', 'backup', 'rejoin']),
    /** At a rejoin: the peer's process was not running at our spawn, so there are no records to wait for. */
    peerDown: z.boolean().optional(),
    heartbeatMs: z.number().int().min(1).default(50),
    heartbeatTimeoutMs: z.number().int().min(5).default(500),
    clientTimeoutMs: z.number().int().min(0).default(2000),
    /** With recoverLoss: a request stalled at one step this long has the step sent again (the supervisor uses the clients' retryMs). */
    redriveMs: z.number().int().min(0).optional(),
    /** The floor of the adaptive re-drive interval (nodes/core/rto.ts); absent: a fixed redriveMs. */
    minRedriveMs: z.number().int().min(1).optional(),
    /** Clients known at spawn, so a manager rebooted with no peer can still reach them. */
    clients: z.array(z.object({ id: NodeIdSchema, endpoint, incarnation: z.number().int().min(0), memory: ClientMemorySchema.optional() })).default([]),
  }),
  z.object({
    role: z.literal('client'),
    ...common,
    managers: z.array(z.object({ id: NodeIdSchema, endpoint })).min(1),
    opTimeoutMs: z.number().int().min(10).default(5000),
    heartbeatMs: z.number().int().min(1).default(100),
    retryMs: z.number().int().min(5).default(500),
    /** The floor of the adaptive retry interval (nodes/core/rto.ts: srtt + 4 rttvar, doubled per retry, up to retryMs); absent: a fixed retryMs. */
    minRetryMs: z.number().int().min(1).optional(),
    /**
     * The managers' leader lease (leaseMsFor(clientTimeoutMs)): this client votes for the manager it follows
     * and keeps each vote's promise this long (nodes/core/quorum.ts). 0: it never votes, and no manager can
     * take over from a live primary by a quorum of clients.
     */
    voteMs: z.number().int().min(0).max(3_600_000).default(0),
    /** Per-client history log; every op is appended before it starts. */
    historyFile: z.string().optional(),
    /** Restarts of this client id so far: write tokens and request numbers of each incarnation never collide. */
    incarnation: z.number().int().min(0).max(4000).default(0),
    /** Where this client keeps its pages (DESIGN §3); recoverable and durable need `storeFile`. IVY only. */
    memory: ClientMemorySchema.default('volatile'),
    /** The client's page segment (page-store.ts), the same file for every incarnation of this client id. */
    storeFile: z.string().optional(),
  }),
]);
export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type ClientNodeConfig = Extract<NodeConfig, { role: 'client' }>;
export type ManagerNodeConfig = Extract<NodeConfig, { role: 'manager' }>;
