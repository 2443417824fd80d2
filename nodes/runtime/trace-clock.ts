// Vector clocks for message tracing (DESIGN §6 `--trace`). Only used while tracing is
// on: then every frame carries its sender's clock in front of it, in the same ZeroMQ
// message (see `envelope`), in a compact binary form: per node a varint key (node number
// * 2, +1 for a manager) and a varint count, the sender's own entry first. Compact because
// zeromq copies a message part of up to 128 bytes but sends a longer one zero-copy, which
// costs a wake-up of the sender's main thread to release it: 6 fixed bytes per node pushed
// most fault frames of a 13-node cluster over that line. The protocol frame itself never
// changes, so tracing off costs no byte.
import type { NodeId } from '../protocol/messages.js';

/** Bytes per clock entry on the wire at most (a 3-byte key, a 5-byte count). */
export const CLOCK_ENTRY_MAX_BYTES = 8;
/** More entries than any cluster has nodes (4096 members + managers): a longer clock part is rejected. */
export const MAX_CLOCK_ENTRIES = 8192;

const MANAGER_BIT = 0x8000;

/** m0 -> 0x8000, c12 -> 12. Node numbers are at most 4 digits (NodeIdSchema), so they fit in 15 bits. */
export function nodeCode(id: NodeId): number {
  const n = Number(id.slice(1));
  return id.charCodeAt(0) === 109 /* m */ ? MANAGER_BIT | n : n;
}

export function nodeOfCode(code: number): NodeId {
  return code & MANAGER_BIT ? `m${code & ~MANAGER_BIT}` : `c${code}`;
}

/**
 * One node's vector clock: its own count ticks on every traced event (send or receive), and a
 * receive first takes the element-wise maximum with the sender's clock. Entries are kept by
 * node code; an absent entry is 0.
 */
export class VectorClock {
  private readonly counts = new Map<number, number>();
  readonly self: number;

  constructor(self: NodeId, start?: Readonly<Record<string, number>>) {
    this.self = nodeCode(self);
    if (start) for (const [id, v] of Object.entries(start)) if (v > 0) this.counts.set(nodeCode(id), v);
    if (!this.counts.has(this.self)) this.counts.set(this.self, 0);
  }

  get own(): number {
    return this.counts.get(this.self) ?? 0;
  }

  get(id: NodeId): number {
    return this.counts.get(nodeCode(id)) ?? 0;
  }

  /** A send: ticks, then encodes the clock for the frame (own entry first). */
  send(): Buffer {
    this.counts.set(this.self, this.own + 1);
    const buf = Buffer.allocUnsafe(this.counts.size * CLOCK_ENTRY_MAX_BYTES);
    let at = putVarint(buf, putVarint(buf, 0, wireKey(this.self)), this.own);
    for (const [code, v] of this.counts) {
      if (code === this.self) continue;
      at = putVarint(buf, putVarint(buf, at, wireKey(code)), v);
    }
    return buf.subarray(0, at);
  }

  /**
   * A receive of a frame stamped with `wire` (a decoded sender clock, or null when the frame came
   * without one): merges, then ticks. Appends to `delta` (code, value pairs) every entry it raised,
   * its own last, so whoever mirrors this clock can follow it with the deltas alone.
   */
  receive(wire: DecodedClock | null, delta: number[]): void {
    if (wire) {
      const e = wire.entries;
      for (let i = 0; i < e.length; i += 2) {
        const code = e[i]!;
        if (code === this.self) continue;
        const v = e[i + 1]!;
        if (v > (this.counts.get(code) ?? 0)) {
          this.counts.set(code, v);
          delta.push(code, v);
        }
      }
    }
    this.counts.set(this.self, this.own + 1);
    delta.push(this.self, this.own);
  }

  /** The clock as {node: count}, zero entries left out. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [code, v] of this.counts) if (v > 0) out[nodeOfCode(code)] = v;
    return out;
  }
}

export interface DecodedClock {
  /** The sender's node code and its own count at the send: together they name the frame. */
  sender: number;
  count: number;
  /** code, value pairs, the sender's first. */
  entries: number[];
}

/** m0 -> 1, c12 -> 24: node number * 2, +1 for a manager (at most 19999: 1 to 3 varint bytes). */
const wireKey = (code: number): number => ((code & ~MANAGER_BIT) << 1) | (code & MANAGER_BIT ? 1 : 0);

/** LEB128: 7 bits a byte, low first, high bit set on all but the last. Returns the offset after it. */
function putVarint(buf: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

// One set reused by every decode (cleared first), not one per received frame.
const seen = new Set<number>();

/** A clock part as received: null when it is malformed (truncated, overlong, too long, a repeated node). */
export function decodeClock(part: Uint8Array): DecodedClock | null {
  const len = part.byteLength;
  if (len === 0 || len > MAX_CLOCK_ENTRIES * CLOCK_ENTRY_MAX_BYTES) return null;
  const entries: number[] = [];
  seen.clear();
  let at = 0;
  while (at < len) {
    // The key: at most 3 bytes, naming a node NodeIdSchema accepts (at most 4 digits).
    let key = 0;
    let shift = 1;
    for (let i = 0; ; i++) {
      if (at >= len || i === 3) return null;
      const b = part[at++]!;
      key += (b & 0x7f) * shift;
      shift *= 128;
      if (b < 0x80) break;
    }
    const n = key >>> 1;
    if (n > 9999) return null;
    const code = key & 1 ? MANAGER_BIT | n : n;
    // The count: at most 5 bytes, at most 2^32 - 1.
    let v = 0;
    shift = 1;
    for (let i = 0; ; i++) {
      if (at >= len || i === 5) return null;
      const b = part[at++]!;
      v += (b & 0x7f) * shift;
      shift *= 128;
      if (b < 0x80) break;
    }
    if (v > 0xffff_ffff || seen.has(code) || seen.size >= MAX_CLOCK_ENTRIES) return null;
    seen.add(code);
    entries.push(code, v);
  }
  if (entries[1] === 0) return null; // a send always ticks first
  return { sender: entries[0]!, count: entries[1]!, entries };
}

/**
 * The first byte of a traced ZeroMQ message: 0xc1 is the one byte MessagePack never uses, so no
 * plain frame starts with it and a receiver tells the two apart whatever its own tracing state.
 */
export const TRACED_MARK = 0xc1;
const ENVELOPE_HEAD = 3;

/**
 * A traced frame as one ZeroMQ message part: mark, u16 clock byte length, the clock, the frame.
 * (A second frame part cost each hop ~20 µs more in zeromq than one part a hundred bytes longer.)
 * A clock over 65535 bytes (thousands of nodes) cannot be framed: the frame goes plain.
 */
export function envelope(frame: Buffer, clock: Uint8Array): Buffer {
  if (clock.byteLength > 0xffff) return frame;
  const out = Buffer.allocUnsafe(ENVELOPE_HEAD + clock.byteLength + frame.byteLength);
  out[0] = TRACED_MARK;
  out.writeUInt16BE(clock.byteLength, 1);
  out.set(clock, ENVELOPE_HEAD);
  out.set(frame, ENVELOPE_HEAD + clock.byteLength);
  return out;
}

/**
 * Splits a received message part into frame and clock (views, no copy). A plain frame comes back
 * whole with no clock; a marked one whose length does not add up comes back whole too, and its
 * mark then fails the frame's decode (it is dropped and counted like any undecodable frame).
 */
export function openEnvelope(part: Buffer): { frame: Buffer; clock: Buffer | undefined } {
  if (part.byteLength < ENVELOPE_HEAD || part[0] !== TRACED_MARK) return { frame: part, clock: undefined };
  const clockBytes = part.readUInt16BE(1);
  if (ENVELOPE_HEAD + clockBytes > part.byteLength) return { frame: part, clock: undefined };
  return { frame: part.subarray(ENVELOPE_HEAD + clockBytes), clock: part.subarray(ENVELOPE_HEAD, ENVELOPE_HEAD + clockBytes) };
}
