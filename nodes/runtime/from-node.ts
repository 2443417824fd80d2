// What a node sends its supervisor over the IPC pipe (control.ts has the other direction): telemetry, op
// results, role changes, traced frames, log lines. Validated by the supervisor, which trusts no node. Node
// processes import only the types from here, so these schemas are never built in a node.
import { z } from 'zod';
import { AccessSchema, NodeIdSchema } from '../protocol/messages.js';
import { ROLE_REASON_MAX, TRACE_BATCH_LIMIT, TRACE_NOTE_MAX } from './control.js';
import { LATENCY_MAX_NS, WINDOW_SAMPLES_MAX } from './latency.js';
import { NemesisCountersSchema } from './nemesis.js';

const opKind = z.enum(['read', 'write']);
const u32 = z.number().int().min(0).max(0xffff_ffff);

/**
 * What happened to a frame beyond its send or receive: on a send, what the nemesis did to it
 * (`drop`, `dup`, `delay`) and the rule that did it; on a receive, that the node refused it
 * (`refused`) and why (the core's reason, e.g. "stale epoch 3 < 4": a fenced old manager).
 */
export const TraceNoteSchema = z.tuple([z.enum(['drop', 'dup', 'delay', 'refused']), z.string().max(TRACE_NOTE_MAX)]);
export type TraceNote = z.infer<typeof TraceNoteSchema>;
/**
 * One traced frame, compact: [dir (0 send, 1 receive), peer, t (monotonic ns), type, epoch, page, req,
 * requester, view, seq, frame (the sender's own clock count at the send; null: received without a
 * clock), clock delta (code, count pairs: the entries this event raised, see trace-clock.ts),
 * note (optional, see TraceNoteSchema)].
 */
export const TraceTupleSchema = z.tuple([
  z.union([z.literal(0), z.literal(1)]),
  NodeIdSchema,
  z.number().min(0),
  z.string().max(32),
  u32,
  u32.nullable(),
  u32.nullable(),
  NodeIdSchema.nullable(),
  u32.nullable(),
  u32.nullable(),
  u32.nullable(),
  z.array(u32).max(2 * 8192),
  TraceNoteSchema.optional(),
]);
export type TraceTuple = z.infer<typeof TraceTupleSchema>;

/** A window of fault latencies (latency.ts): an encoded HDR histogram, or the raw samples in ns when there are few. */
const windowLatency = z.union([z.string(), z.array(z.number().int().min(100).max(LATENCY_MAX_NS)).max(WINDOW_SAMPLES_MAX)]);
const latency = z.object({ read: windowLatency, write: windowLatency });
const prio = z.tuple([z.number().int(), z.number().int()]);

/** Write-update member: its view, delivered position and pending ISIS queue (the Total order panel). */
export const IsisMemberTelemetrySchema = z.object({
  protocol: z.literal('isis'),
  view: z.number().int(),
  preparing: z.number().int().nullable(),
  members: z.array(NodeIdSchema).max(4096),
  pos: z.number().int(),
  hasState: z.boolean(),
  queue: z
    .array(
      z.object({
        sender: NodeIdSchema,
        seq: z.number().int(),
        page: z.number().int(),
        proposed: prio,
        agreed: prio.nullable(),
        stable: z.boolean(),
        deliverable: z.boolean(),
      }),
    )
    .max(1000),
});

/** Write-update registry: the membership view and the view change under way, if any. */
export const IsisRegistryTelemetrySchema = z.object({
  protocol: z.literal('isis'),
  view: z.number().int(),
  members: z.array(z.object({ id: NodeIdSchema, incarnation: z.number().int(), pos: z.number().int().nullable() })).max(4096),
  change: z
    .object({ view: z.number().int(), phase: z.enum(['flush', 'install']), members: z.array(NodeIdSchema).max(4096), waitingFor: z.array(NodeIdSchema).max(4096) })
    .nullable(),
  /** A view change refused for want of a quorum of `view` (IsisRegistryView.blocked). */
  blocked: z.object({ view: z.number().int().min(0), have: z.number().int().min(0), of: z.number().int().min(0) }).nullable().optional(),
});

export const FromNodeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), id: NodeIdSchema, pid: z.number().int(), endpoint: z.string() }),
  z.object({
    type: z.literal('telemetry'),
    id: NodeIdSchema,
    epoch: z.number().int(),
    /** Managers: the role they play now. */
    role: z.enum(['primary', 'backup', 'candidate', 'rejoining']).optional(),
    rssBytes: z.number(),
    dropped: z.record(z.string(), z.number()),
    counters: z.record(z.string(), z.number()),
    /** What the network nemesis did to this node's outgoing frames (present once it had rules). */
    nemesis: NemesisCountersSchema.optional(),
    /** Client: its page table with a byte preview. */
    pageTable: z
      .array(
        z.object({
          page: z.number().int(),
          access: AccessSchema,
          owner: z.boolean(),
          version: z.number().int(),
          pending: opKind.nullable(),
          preview: z.string(),
          token: z.string().nullable(),
          /** Write-update: pos of the write the replica holds. */
          wpos: z.number().int().min(0).optional(),
          /** Recovered from the client's page store, waiting for the manager's verdict. */
          recovered: z.boolean().optional(),
        }),
      )
      .optional(),
    /** Manager: record cache and client list. */
    records: z
      .array(
        z.object({
          page: z.number().int(),
          owner: NodeIdSchema.nullable(),
          lostWith: NodeIdSchema.nullable(),
          heldBy: NodeIdSchema.nullable().optional(),
          downSince: z.number().nullable().optional(),
          copyset: z.array(NodeIdSchema),
          version: z.number().int(),
          active: z
            .object({ requester: NodeIdSchema, req: z.number().int(), kind: opKind, phase: z.enum(['invalidating', 'transferring']) })
            .nullable(),
          queue: z.array(z.object({ requester: NodeIdSchema, req: z.number().int(), kind: opKind })),
        }),
      )
      .optional(),
    clientList: z.array(z.object({ id: NodeIdSchema, endpoint: z.string() })).optional(),
    /** Write-update only: a member's view and pending queue, or the registry's membership view. */
    isisMember: IsisMemberTelemetrySchema.optional(),
    isisRegistry: IsisRegistryTelemetrySchema.optional(),
    /** Client: fault latencies since the last telemetry, in ns: HDR histograms (compressed base64) or raw samples. */
    latency: latency.optional(),
  }),
  /**
   * Telemetry's keepalive when nothing it reports has changed: the resident memory, the only figure that
   * moves in an idle node. The supervisor keeps the node's last telemetry and updates its memory.
   */
  z.object({ type: z.literal('alive'), id: NodeIdSchema, rssBytes: z.number() }),
  z.object({
    type: z.literal('opDone'),
    id: z.number().int(),
    client: NodeIdSchema,
    kind: opKind,
    page: z.number().int(),
    ok: z.boolean(),
    fault: z.boolean(),
    startNs: z.number(),
    endNs: z.number(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('workloadDone'), id: NodeIdSchema, ops: z.number().int() }),
  /** A manager changed role (failover, handback, stepping down), reported the moment it happens. */
  z.object({
    type: z.literal('role'),
    id: NodeIdSchema,
    role: z.enum(['primary', 'backup', 'candidate', 'rejoining']),
    epoch: z.number().int(),
    reason: z.string().max(ROLE_REASON_MAX),
    /** Monotonic ns, comparable with op timings. */
    atNs: z.number(),
  }),
  /** Traced frames, in the order they happened at this node. */
  z.object({ type: z.literal('trace'), id: NodeIdSchema, records: z.array(TraceTupleSchema).max(TRACE_BATCH_LIMIT) }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string().max(2000) }),
]);
export type FromNode = z.infer<typeof FromNodeSchema>;
export type Telemetry = Extract<FromNode, { type: 'telemetry' }>;
export type TraceBatch = Extract<FromNode, { type: 'trace' }>;
