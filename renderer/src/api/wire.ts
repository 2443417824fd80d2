// Validation of everything that reaches the renderer from outside (IPC or WebSocket).
// The engine is trusted more than a browser, but a view must never crash or show
// nonsense because a frame was truncated, stale or from a different version.
import { z } from 'zod';
import type { CommandReply, ServerPush } from '../../../nodes/control/api.js';
import { PageTablesSchema } from './page-tables.js';
import { fastTracePush, NODE_NAME, TRACE_LIMITS } from './trace-push.js';

const num = z.number();
const numOrNull = z.number().nullable();
/**
 * A measured figure. The engine uses NaN for "nothing measured"; NaN survives IPC
 * (structured clone) but becomes null in JSON, so accept both and normalise to NaN.
 */
const figure = z.union([z.number(), z.nan(), z.null()]).transform((v) => (v === null ? Number.NaN : v));
const optFigures = z.array(figure).optional();

const NodeInfoSchema = z.looseObject({
  id: z.string(),
  role: z.enum(['primary', 'backup', 'candidate', 'rejoining', 'client']),
  state: z.enum(['starting', 'up', 'down', 'stopped', 'rebooting']),
  pid: numOrNull,
  endpoint: z.string(),
  epoch: num,
  upSince: numOrNull,
  restarts: num,
  lastExit: z.object({ code: numOrNull, signal: z.string().nullable() }).nullable(),
  dropped: num,
  rssBytes: numOrNull,
  nemesis: z.looseObject({ partitioned: num, lost: num, duplicated: num, delayed: num }).nullable().optional(),
});

const LatencySummarySchema = z.looseObject({ count: num, p50Us: figure, p90Us: figure, p99Us: figure, maxUs: figure });

const ClientStatsSchema = z.looseObject({
  id: z.string(),
  ops: num,
  hits: num,
  faults: num,
  failed: num,
  read: LatencySummarySchema,
  write: LatencySummarySchema,
});

const opKind = z.enum(['read', 'write']);
const RecordViewSchema = z.looseObject({
  page: num,
  owner: z.string().nullable(),
  copyset: z.array(z.string()),
  version: num,
  active: z
    .looseObject({ requester: z.string(), req: num, kind: opKind, phase: z.string() })
    .nullable(),
  queue: z.array(z.looseObject({ requester: z.string(), req: num, kind: opKind })),
});


const protocol = z.enum(['ivy', 'isis']);
const model = z.enum(['linearizable', 'sequential']);

// Write-update views: the registry's membership view and each member's place in the total order.
const prio = z.tuple([num, num]);
const MembershipSchema = z.looseObject({
  view: num,
  members: z.array(z.looseObject({ id: z.string(), incarnation: num, pos: numOrNull })),
  change: z
    .looseObject({ view: num, phase: z.enum(['flush', 'install']), members: z.array(z.string()), waitingFor: z.array(z.string()) })
    .nullable(),
  blocked: z.looseObject({ view: num, have: num, of: num }).nullable().optional(),
});
const OrderSchema = z.looseObject({
  view: num,
  preparing: numOrNull,
  members: z.array(z.string()),
  pos: num,
  hasState: z.boolean(),
  queue: z.array(
    z.looseObject({ sender: z.string(), seq: num, page: num, proposed: prio, agreed: prio.nullable(), stable: z.boolean(), deliverable: z.boolean() }),
  ),
});

const LatencyPointSchema = z.looseObject({
  t: num,
  ops: num,
  faults: num,
  readP50Us: numOrNull,
  readP99Us: numOrNull,
  writeP50Us: numOrNull,
  writeP99Us: numOrNull,
});

const SnapshotSchema = z.looseObject({
  seq: num,
  t: num,
  running: z.boolean(),
  config: z.looseObject({ protocol: protocol.optional(), clients: num, backup: z.boolean(), pages: num, pageSize: num }).nullable(),
  workload: z.looseObject({ readRatio: num, rate: num }).nullable(),
  nodes: z.array(NodeInfoSchema),
  clients: z.array(ClientStatsSchema),
  records: z.record(z.string(), z.array(RecordViewSchema)),
  pageTables: PageTablesSchema.optional(),
  membership: z.record(z.string(), MembershipSchema).optional(),
  orders: z.record(z.string(), OrderSchema).optional(),
  histogram: z.array(z.looseObject({ leUs: figure, read: num, write: num })),
  series: z.array(LatencyPointSchema),
  marks: z.array(z.looseObject({ t: num, kind: z.string(), node: z.string(), atNs: num.optional() })),
  nemesis: z
    .looseObject({
      spec: z.looseObject({ presets: z.array(z.string()), rules: z.array(z.looseObject({ from: z.array(z.string()), to: z.array(z.string()) })) }).nullable(),
      rules: z.array(z.looseObject({ from: z.array(z.string()), to: z.array(z.string()), text: z.string() })),
      since: numOrNull,
      windows: z.array(z.looseObject({ from: num, to: numOrNull, label: z.string() })),
    })
    .optional(),
});

const EventSchema = z.looseObject({
  t: num,
  level: z.enum(['info', 'warn', 'error']),
  kind: z.string(),
  node: z.string().optional(),
  message: z.string(),
});

const ProgressSchema = z.looseObject({
  scenario: z.string(),
  protocol: protocol.optional(),
  index: num,
  of: num,
  trial: num,
  trials: num,
  message: z.string(),
  round: num.optional(),
  rounds: num.optional(),
});

const TrialRowSchema = z.looseObject({
  trial: num,
  highestMs: figure,
  highestNode: z.string(),
  lowestMs: figure,
  lowestNode: z.string(),
  faults: num.optional(),
  failed: num.optional(),
});

const SlowestFaultSchema = z.object({
  trial: num,
  client: z.string(),
  kind: z.enum(['read', 'write']),
  page: num,
  ms: figure,
  frames: z
    .array(
      z.object({
        type: z.string().max(32),
        from: z.string().max(16),
        to: z.string().max(16),
        sendUs: num.nullable(),
        recvUs: num.nullable(),
        note: z.string().max(400).optional(),
        fenced: z.boolean().optional(),
      }),
    )
    .max(1000),
  moreFrames: num,
});

const ScenarioResultSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  trials: z.array(TrialRowSchema),
  highAverageMs: figure,
  lowAverageMs: figure,
  averageMs: figure,
  p50Ms: figure,
  p99Ms: figure,
  failoverMs: z.array(figure),
  recoveryMs: optFigures,
  handbackMs: optFigures,
  clients: num.optional(),
  pages: num.optional(),
  rounds: num.optional(),
  seed: num.optional(),
  faultOps: num.optional(),
  hits: num.optional(),
  failedOps: num.optional(),
  schedule: z.array(z.string()).optional(),
  linearizable: z.boolean().nullable().optional(),
  protocol: protocol.optional(),
  model: model.optional(),
  consistent: z.boolean().nullable().optional(),
  measures: z.enum(['faults', 'writes']).optional(),
  slowest: z.array(SlowestFaultSchema).max(1000).optional(),
});

/** One traced frame (DESIGN §6) as views are pushed it: without its vector clock (nodes/control/trace/frames.ts withoutClock). */
const nodeName = z.string().regex(NODE_NAME);
const TraceRecordWireSchema = z.looseObject({
  node: nodeName,
  dir: z.enum(['send', 'recv']),
  peer: nodeName,
  t: num,
  type: z.string().max(TRACE_LIMITS.type),
  page: num.optional(),
  req: num.optional(),
  requester: nodeName.optional(),
  view: num.optional(),
  seq: num.optional(),
  epoch: num,
  frame: z.string().max(TRACE_LIMITS.frame).optional(),
  nemesis: z.enum(['drop', 'dup', 'delay']).optional(),
  rule: z.string().max(TRACE_LIMITS.note).optional(),
  refused: z.string().max(TRACE_LIMITS.note).optional(),
});

export const ServerPushSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('trace'), records: z.array(TraceRecordWireSchema).max(TRACE_LIMITS.records), skipped: num, cluster: num }),
  z.object({ type: z.literal('snapshot'), snapshot: SnapshotSchema }),
  z.object({ type: z.literal('event'), event: EventSchema }),
  z.object({ type: z.literal('scenarioProgress'), progress: ProgressSchema }),
  z.object({
    type: z.literal('scenarioResult'),
    results: z.array(ScenarioResultSchema),
    csv: z.string(),
    linearizable: z.boolean().nullable(),
    consistent: z.boolean().nullable().optional(),
  }),
]);

export const CommandReplySchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown().optional() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** What `ivy-cluster serve` sends back for every request: `{ id, reply }`. */
export const ReplyEnvelopeSchema = z.object({
  id: z.union([z.number(), z.string()]).nullable(),
  reply: CommandReplySchema,
});

export type ParsedServerMessage =
  | { kind: 'reply'; id: number | string | null; reply: CommandReply }
  | { kind: 'push'; push: ServerPush }
  | { kind: 'invalid'; error: string };

/** Parses a push. Returns null (and the reason) for anything that does not fit the contract. */
export function parsePush(value: unknown): { push: ServerPush } | { error: string } {
  // Trace pushes (thousands of records a second at 64 clients) go through a hand-checked fast path
  // first; what it is not certain of, zod decides (trace-push.ts).
  const trace = fastTracePush(value);
  if (trace) return { push: trace };
  const r = ServerPushSchema.safeParse(value);
  if (!r.success) return { error: z.prettifyError(r.error) };
  // The schema is loose (extra keys are kept) and checks every field the views read.
  return { push: r.data as unknown as ServerPush };
}

/** Classifies one WebSocket text frame. */
export function parseServerMessage(text: string): ParsedServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', error: `not JSON: ${(err as Error).message}` };
  }
  if (value !== null && typeof value === 'object' && 'reply' in value) {
    const r = ReplyEnvelopeSchema.safeParse(value);
    if (!r.success) return { kind: 'invalid', error: z.prettifyError(r.error) };
    return { kind: 'reply', id: r.data.id, reply: r.data.reply as CommandReply };
  }
  const p = parsePush(value);
  if ('error' in p) return { kind: 'invalid', error: p.error };
  return { kind: 'push', push: p.push };
}

// --- replies whose value a view reads ----------------------------------------------------

const HistoryOpSchema = z.looseObject({
  client: z.string(),
  op: opKind,
  page: num,
  value: z.string().nullable(),
  start: num,
  end: numOrNull,
  outcome: z.enum(['ok', 'fail', 'unknown']),
  fault: z.boolean(),
});

/** The value of a `checkHistory` reply. */
export const HistoryVerdictSchema = z.looseObject({
  consistent: z.boolean(),
  model: z.enum(['linearizable', 'sequential']),
  ops: num,
  pages: num,
  unknown: num,
  page: numOrNull,
  explanation: z.string().nullable(),
  counterexample: z.array(HistoryOpSchema),
  checkedAt: num,
});
export type HistoryVerdictView = z.infer<typeof HistoryVerdictSchema>;

/** The value of an `exportTrace` reply. */
export const TraceExportSchema = z.looseObject({ jsonl: z.string(), name: z.string().min(1), records: num });

/** The value of a `runOp` reply. */
export const OpReplySchema = z.looseObject({ client: z.string(), kind: opKind, page: num, ok: z.boolean(), fault: z.boolean(), latencyUs: num, error: z.string().optional() });

/** The value of an `exportHistory` reply. */
export const HistoryExportSchema = z.looseObject({ jsonl: z.string(), name: z.string().min(1), ops: num });
