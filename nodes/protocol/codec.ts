// Binary codec for node-to-node frames: MessagePack on the wire, zod at the door.
// decode() never throws: a malformed frame becomes a typed rejection that the
// runtime counts and drops, so a node never crashes on what it receives.
// (@msgpack/msgpack is pure TypeScript: no optional native add-on, so every
// platform installs the same thing from the lock file.)
import { Decoder, Encoder } from '@msgpack/msgpack';
import { fastValidate } from './fast-validate.js';
import { LIMITS, MessageSchema, type Message } from './messages.js';

const encoder = new Encoder({ ignoreUndefined: true });
// Size limits inside the decoder too: a hostile frame cannot make us allocate much.
const decoder = new Decoder({
  maxStrLength: 4096,
  maxBinLength: LIMITS.maxPageSize,
  maxArrayLength: Math.max(LIMITS.maxMembers, LIMITS.maxPages),
  maxMapLength: 64,
  maxExtLength: 0,
});

export function encode(msg: Message): Buffer {
  const bytes = encoder.encode(msg);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type DecodeResult =
  | { ok: true; msg: Message }
  | { ok: false; reason: 'oversize' | 'undecodable' | 'invalid'; detail: string };

export function decode(frame: Uint8Array): DecodeResult {
  if (frame.byteLength > LIMITS.maxFrameBytes) {
    return { ok: false, reason: 'oversize', detail: `${frame.byteLength} bytes > ${LIMITS.maxFrameBytes}` };
  }
  let raw: unknown;
  try {
    raw = decoder.decode(frame);
  } catch (err) {
    return { ok: false, reason: 'undecodable', detail: err instanceof Error ? err.message : String(err) };
  }
  // Binary decodes as a view of the input; a Buffer input yields Buffer views. Normalise to plain Uint8Array
  // (ISIS frames carry bytes nested in arrays: queue entries, decisions, state chunks).
  raw = plainBytes(raw, 0);
  // The frames of every fault are checked by hand first; anything it is unsure of goes to zod.
  const fast = fastValidate(raw);
  if (fast !== null) return { ok: true, msg: fast };
  const parsed = MessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid', detail: issue ? `${issue.path.join('.') || 'frame'}: ${issue.message}` : 'invalid' };
  }
  return { ok: true, msg: parsed.data };
}

/** Buffers anywhere in a decoded value (to a small depth) become plain Uint8Array views. */
function plainBytes(v: unknown, depth: number): unknown {
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (depth > 6 || v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null) v[i] = plainBytes(x, depth + 1);
    }
    return v;
  }
  // Every frame passes here: own keys walked in place (no key array per frame), and only object values
  // visited (numbers and strings, most of a frame, are left as they are: plainBytes would return them).
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const x = o[k];
    if (typeof x === 'object' && x !== null) o[k] = plainBytes(x, depth + 1);
  }
  return v;
}
