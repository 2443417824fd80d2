// A hand-checked fast path for trace batches (control.ts `trace`), in front of the zod schema,
// which stays the source of truth: like protocol/fast-validate.ts it only ever ACCEPTS. A batch it
// is not certain of goes to zod, which gives the verdict and the error message; what it accepts,
// zod accepts with a deep-equal result (test/unit/trace-validate.test.ts checks both by
// differential fuzzing). zod walking every field of every tuple was the supervisor's largest
// cost of tracing after the file write.
import type { TraceBatch, TraceTuple } from './control.js';
import { TRACE_BATCH_LIMIT, TRACE_NOTE_MAX } from './control.js';

const NODE_ID = /^[mc]\d{1,4}$/;
const isNodeId = (v: unknown): boolean => typeof v === 'string' && v.length <= 5 && NODE_ID.test(v);
const isU32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
const isU32OrNull = (v: unknown): boolean => v === null || isU32(v);
const MAX_DELTA = 2 * 8192;
const NOTE_KINDS = new Set(['drop', 'dup', 'delay', 'refused']);
const isNote = (v: unknown): boolean =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && NOTE_KINDS.has(v[0]) && typeof v[1] === 'string' && v[1].length <= TRACE_NOTE_MAX;

function isTuple(r: unknown): r is TraceTuple {
  if (!Array.isArray(r) || (r.length !== 12 && r.length !== 13)) return false;
  if (r.length === 13 && !isNote(r[12])) return false;
  const t: unknown = r[2];
  const type: unknown = r[3];
  const requester: unknown = r[7];
  if (!((r[0] === 0 || r[0] === 1) && isNodeId(r[1]) && typeof t === 'number' && Number.isFinite(t) && t >= 0)) return false;
  if (!(typeof type === 'string' && type.length <= 32 && isU32(r[4]))) return false;
  if (!(isU32OrNull(r[5]) && isU32OrNull(r[6]) && (requester === null || isNodeId(requester)) && isU32OrNull(r[8]) && isU32OrNull(r[9]) && isU32OrNull(r[10]))) return false;
  const delta: unknown = r[11];
  if (!Array.isArray(delta) || delta.length > MAX_DELTA) return false;
  for (let i = 0; i < delta.length; i++) if (!isU32(delta[i])) return false;
  return true;
}

/** The raw control message itself when it is certainly a valid trace batch with no extra keys; null: let zod decide. */
export function fastTraceBatch(raw: unknown): TraceBatch | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  if (o.type !== 'trace' || !isNodeId(o.id)) return null;
  let keys = 0;
  for (const k in o) if (Object.hasOwn(o, k)) keys++;
  const records = o.records;
  if (keys !== 3 || !Array.isArray(records) || records.length > TRACE_BATCH_LIMIT) return null;
  for (let i = 0; i < records.length; i++) if (!isTuple(records[i])) return null;
  return o as unknown as TraceBatch;
}
