// Binary codec for node-to-node frames: msgpack on the wire, zod at the door.
// decode() never throws: a malformed frame becomes a typed rejection that the
// runtime counts and drops, so a node never crashes on what it receives.
import { Packr } from 'msgpackr';
import { LIMITS, MessageSchema, type Message } from './messages.js';

// Plain maps and no record structures: frames are self-describing, so a node that
// restarts (or a foreign sender) never depends on shared structure definitions.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encode(msg: Message): Buffer {
  return packr.pack(msg);
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
    raw = packr.unpack(frame);
  } catch (err) {
    return { ok: false, reason: 'undecodable', detail: err instanceof Error ? err.message : String(err) };
  }
  // msgpack binary arrives as a Buffer; normalise so schemas and the core see plain Uint8Array.
  if (raw !== null && typeof raw === 'object' && 'data' in raw && Buffer.isBuffer(raw.data)) {
    const b = raw.data;
    (raw as { data: Uint8Array }).data = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const parsed = MessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid', detail: issue ? `${issue.path.join('.') || 'frame'}: ${issue.message}` : 'invalid' };
  }
  return { ok: true, msg: parsed.data };
}
