// The control channel between the supervisor and a node process (Node's IPC pipe).
// It carries commands and telemetry only; the protocol itself runs over ZeroMQ.
// Both directions are validated: the supervisor trusts no node, and a node trusts
// no parent.
import { z } from 'zod';
import { AccessSchema, NodeIdSchema } from '../protocol/messages.js';
import { LATENCY_MAX_NS, WINDOW_SAMPLES_MAX } from './latency.js';
import { NemesisCountersSchema, NodeNemesisSchema } from './nemesis.js';

const opKind = z.enum(['read', 'write']);

/** The longest reason a role change may carry (a node shortens longer ones: manager-node.ts). */
export const ROLE_REASON_MAX = 500;

/** A vector clock as {node: count}. */
export const TraceClockSchema = z.record(NodeIdSchema, z.number().int().min(0).max(0xffff_ffff));

const u32 = z.number().int().min(0).max(0xffff_ffff);
/** A trace note's text at most (a nemesis rule or a refusal's reason). */
export const TRACE_NOTE_MAX = 160;
/**
 * One traced frame, compact: [dir (0 send, 1 receive), peer, t (monotonic ns), type, epoch, page, req,
 * requester, view, seq, frame (the sender's own clock count at the send; null: received without a
 * clock), clock delta (code, count pairs: the entries this event raised, see trace-clock.ts),
 * note (optional, see TraceNoteSchema)].
 */
/**
 * What happened to a frame beyond its send or receive: on a send, what the nemesis did to it
 * (`drop`, `dup`, `delay`) and the rule that did it; on a receive, that the node refused it
 * (`refused`) and why (the core's reason, e.g. "stale epoch 3 < 4": a fenced old manager).
 */
export const TraceNoteSchema = z.tuple([z.enum(['drop', 'dup', 'delay', 'refused']), z.string().max(TRACE_NOTE_MAX)]);
export type TraceNote = z.infer<typeof TraceNoteSchema>;
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
/** Records per batch at most (tracer.ts ships at most TRACE_BATCH_MAX). */
export const TRACE_BATCH_LIMIT = 1024;

export const WorkloadSpecSchema = z.object({
  readRatio: z.number().min(0).max(1),
  /** Ops per second; 0 = back to back. */
  rate: z.number().min(0),
  /** Ops to run; 0 = until stopped. */
  ops: z.number().int().min(0),
  /** Pages touched: 0..pages-1. */
  pages: z.number().int().min(1),
  seed: z.number().int(),
});
export type WorkloadSpec = z.infer<typeof WorkloadSpecSchema>;

export const ToNodeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('workload'), spec: WorkloadSpecSchema.nullable() }),
  /** One operation now (the rounds of a scenario). `page: 'missing'` = a random page this client does not hold. */
  z.object({
    type: z.literal('op'),
    id: z.number().int(),
    kind: z.union([opKind, z.literal('random')]),
    page: z.union([z.number().int().min(0), z.literal('missing')]),
    seed: z.number().int(),
  }),
  z.object({ type: z.literal('shutdown') }),
  /**
   * Message tracing on or off. `clock`: where a node with no clock yet starts its vector clock (a
   * restarted node resumes above its predecessor's counts); a node that already has one keeps it.
   */
  z.object({ type: z.literal('trace'), on: z.boolean(), clock: TraceClockSchema.optional() }),
  /** The network nemesis rules for this node's outgoing links, complete (replacing the previous set; empty: heal). */
  z.object({ type: z.literal('nemesis'), ...NodeNemesisSchema.shape }),
]);
export type ToNode = z.infer<typeof ToNodeSchema>;

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
