// A hand-checked fast path for trace pushes, in front of the zod schema (wire.ts), which stays
// the single source of truth. At 64 clients the engine pushes thousands of traced frames a
// second; zod walking each record cost the renderer a fifth of a core. This only ever ACCEPTS: a push it is not
// certain of (any field missing or of another type, a string too long, an odd object) goes
// to zod, which gives the verdict and the error message. So the pushes rejected are exactly
// zod's, and what it accepts zod accepts with a deep-equal result
// (test/unit/trace-push-validate.test.ts checks both by differential fuzzing).
import type { ServerPush } from '../../../nodes/control/api.js';

/** The same limits as TraceRecordWireSchema and the trace push in ServerPushSchema (wire.ts). */
export const TRACE_LIMITS = { records: 10_000, type: 32, frame: 40, note: 160 } as const;
/** The same pattern as nodeName in wire.ts. */
export const NODE_NAME = /^[mc]\d{1,4}$/;

type Rec = Record<string, unknown>;
type TracePush = Extract<ServerPush, { type: 'trace' }>;

const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const optNum = (v: unknown): boolean => v === undefined || isNum(v);
const isName = (v: unknown): boolean => typeof v === 'string' && NODE_NAME.test(v);
const optStr = (v: unknown, max: number): boolean => v === undefined || (typeof v === 'string' && v.length <= max);

/**
 * A plain object as JSON.parse or a structured clone makes it, with no own `__proto__` key
 * (zod leaves that key out of its copy; the original would not be deep-equal to it).
 */
const isPlain = (v: unknown): v is Rec => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && !Object.hasOwn(v, '__proto__');

function isRecord(v: unknown): boolean {
  if (!isPlain(v)) return false;
  return (
    isName(v.node) &&
    (v.dir === 'send' || v.dir === 'recv') &&
    isName(v.peer) &&
    isNum(v.t) &&
    typeof v.type === 'string' &&
    v.type.length <= TRACE_LIMITS.type &&
    isNum(v.epoch) &&
    optNum(v.page) &&
    optNum(v.req) &&
    optNum(v.view) &&
    optNum(v.seq) &&
    (v.requester === undefined || isName(v.requester)) &&
    optStr(v.frame, TRACE_LIMITS.frame) &&
    (v.nemesis === undefined || v.nemesis === 'drop' || v.nemesis === 'dup' || v.nemesis === 'delay') &&
    optStr(v.rule, TRACE_LIMITS.note) &&
    optStr(v.refused, TRACE_LIMITS.note)
  );
}

/**
 * The push when it is certainly a valid trace push (its records kept as they are, the envelope's
 * unknown keys dropped as zod's strict-by-default object does); null: let zod decide.
 */
export function fastTracePush(raw: unknown): TracePush | null {
  if (!isPlain(raw) || raw.type !== 'trace') return null;
  const { records, skipped, cluster } = raw;
  if (!Array.isArray(records) || records.length > TRACE_LIMITS.records || !isNum(skipped) || !isNum(cluster)) return null;
  for (const r of records) if (!isRecord(r)) return null;
  return { type: 'trace', records: records as TracePush['records'], skipped: skipped as number, cluster: cluster as number };
}
