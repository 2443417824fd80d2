// The control channel between the supervisor and a node process (Node's IPC pipe).
// It carries commands and telemetry only; the protocol itself runs over ZeroMQ.
// Both directions are validated: the supervisor trusts no node, and a node trusts
// no parent. This file holds what a node is sent; from-node.ts what it sends.
import { z } from 'zod';
import { NodeIdSchema } from '../protocol/messages.js';
import { NodeNemesisSchema } from './nemesis.js';

/** The longest reason a role change may carry (a node shortens longer ones: manager-node.ts). */
export const ROLE_REASON_MAX = 500;

const opKind = z.enum(['read', 'write']);

/** A vector clock as {node: count}. */
export const TraceClockSchema = z.record(NodeIdSchema, z.number().int().min(0).max(0xffff_ffff));

/** A trace note's text at most (a nemesis rule or a refusal's reason). */
export const TRACE_NOTE_MAX = 160;
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

// What nodes send the supervisor is validated there (from-node.ts), and its schemas are not built in node
// processes: a node only ever parses what it is sent.
export type { FromNode, Telemetry, TraceBatch, TraceNote, TraceTuple } from './from-node.js';
