// A hand-checked fast path for the frames of every fault and heartbeat, in front of
// the zod schema (messages.ts), which stays the single source of truth. It only
// ever ACCEPTS: a frame it is not certain of (any unknown or missing key, any field
// out of range, any other type) goes to zod, which gives the verdict and the error
// message. So the set of frames rejected is exactly zod's; what it accepts, zod
// accepts with a deep-equal result (test/unit/fast-validate.test.ts checks both by
// differential fuzzing against the schema).
import { LIMITS, type Message } from './messages.js';

/** The same pattern as NodeIdSchema. */
const NODE_ID = /^[mc]\d{1,4}$/;

type Rec = Record<string, unknown>;

const isNodeId = (v: unknown): boolean => typeof v === 'string' && NODE_ID.test(v);
const isU32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
const isPage = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= LIMITS.maxPages - 1;
const isAccess = (v: unknown): boolean => v === 'none' || v === 'read' || v === 'write';
const isRole = (v: unknown): boolean => v === 'primary' || v === 'backup' || v === 'candidate' || v === 'rejoining';

/** Own enumerable keys, counted without allocating (a decoded frame is a plain object). */
function keyCount(o: Rec): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n;
}

const head = (o: Rec): boolean => isNodeId(o.from) && isU32(o.epoch);
const fault = (o: Rec): boolean => head(o) && isPage(o.page) && isU32(o.req);

/** The decoded frame itself when it is certainly a valid message with no extra keys; null: let zod decide. */
export function fastValidate(raw: unknown): Message | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const o = raw as Rec;
  let ok: boolean;
  switch (o.t) {
    case 'read_req':
    case 'write_req':
    case 'resume':
      ok = keyCount(o) === 5 && fault(o);
      break;
    case 'inv_ack':
      ok = keyCount(o) === 6 && fault(o) && isNodeId(o.requester);
      break;
    case 'read_fwd':
    case 'write_fwd':
    case 'invalidate': {
      // The manager names the holder's incarnation and hello count (both optional in the schema).
      const extra = (o.inc === undefined ? 0 : 1) + (o.n === undefined ? 0 : 1);
      ok = keyCount(o) === 6 + extra && fault(o) && isNodeId(o.requester) && (o.inc === undefined || isU32(o.inc)) && (o.n === undefined || isU32(o.n));
      break;
    }
    case 'confirm':
      ok = keyCount(o) === 7 && fault(o) && isAccess(o.access) && isU32(o.version);
      break;
    case 'grant':
      ok = keyCount(o) === 7 && fault(o) && isAccess(o.access) && typeof o.zero === 'boolean';
      break;
    case 'page_data':
      ok =
        keyCount(o) === 8 &&
        fault(o) &&
        isAccess(o.access) &&
        isU32(o.version) &&
        o.data instanceof Uint8Array &&
        o.data.byteLength <= LIMITS.maxPageSize;
      break;
    case 'hb': {
      // A lease request carries its number; a vote echoes the last acknowledgement.
      const extra = (o.n === undefined ? 0 : 1) + (o.v === undefined ? 0 : 1) + (o.w === undefined ? 0 : 1);
      ok = keyCount(o) === 3 + extra && head(o) && (o.n === undefined || isU32(o.n)) && (o.v === undefined || isU32(o.v)) && (o.w === undefined || isU32(o.w));
      break;
    }
    case 'hb_ack':
      ok = keyCount(o) === 5 && head(o) && isU32(o.n) && isU32(o.ms);
      break;
    case 'takeover': {
      const extra = (o.n === undefined ? 0 : 1) + (o.firm === undefined ? 0 : 1);
      ok = keyCount(o) === 3 + extra && head(o) && (o.n === undefined || isU32(o.n)) && (o.firm === undefined || typeof o.firm === 'boolean');
      break;
    }
    case 'handback_req':
    case 'handback_ok':
      ok = keyCount(o) === (o.n === undefined ? 3 : 4) && head(o) && (o.n === undefined || isU32(o.n));
      break;
    case 'mping':
    case 'mpong':
      // Numbered pings; a backup's answer echoes the number as its vote.
      ok = keyCount(o) === (o.n === undefined ? 4 : 5) && head(o) && isRole(o.role) && (o.n === undefined || isU32(o.n));
      break;
    default:
      ok = false;
  }
  return ok ? (o as Message) : null;
}
