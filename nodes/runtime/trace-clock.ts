// Vector clocks for message tracing (DESIGN §6 `--trace`). Only used while tracing is
// on: then every frame carries its sender's clock in front of it, in the same ZeroMQ
// message (see `envelope`), in a compact binary form (6 bytes per node: u16 node code,
// u32 count; the sender's own entry first). The protocol frame itself never changes, so
// tracing off costs no byte.
import type { NodeId } from '../protocol/messages.js';

/** Bytes per clock entry on the wire. */
export const CLOCK_ENTRY_BYTES = 6;
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
    const buf = Buffer.allocUnsafe(this.counts.size * CLOCK_ENTRY_BYTES);
    buf.writeUInt16BE(this.self, 0);
    buf.writeUInt32BE(this.own, 2);
    let at = CLOCK_ENTRY_BYTES;
    for (const [code, v] of this.counts) {
      if (code === this.self) continue;
      buf.writeUInt16BE(code, at);
      buf.writeUInt32BE(v, at + 2);
      at += CLOCK_ENTRY_BYTES;
    }
    return buf;
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

/** A clock part as received: null when it is malformed (wrong length, too long, a repeated node). */
export function decodeClock(part: Uint8Array): DecodedClock | null {
  const len = part.byteLength;
  if (len === 0 || len % CLOCK_ENTRY_BYTES !== 0 || len / CLOCK_ENTRY_BYTES > MAX_CLOCK_ENTRIES) return null;
  const view = new DataView(part.buffer, part.byteOffset, len);
  const entries: number[] = [];
  const seen = new Set<number>();
  for (let at = 0; at < len; at += CLOCK_ENTRY_BYTES) {
    const code = view.getUint16(at);
    // A code must name a node NodeIdSchema accepts (at most 4 digits).
    if ((code & ~MANAGER_BIT) > 9999 || seen.has(code)) return null;
    seen.add(code);
    entries.push(code, view.getUint32(at + 2));
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
 * A traced frame as one ZeroMQ message part: mark, u16 clock entry count, the clock, the frame.
 * (A second frame part cost each hop ~20 µs more in zeromq than one part a hundred bytes longer.)
 */
export function envelope(frame: Uint8Array, clock: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENVELOPE_HEAD + clock.byteLength + frame.byteLength);
  out[0] = TRACED_MARK;
  out.writeUInt16BE(clock.byteLength / CLOCK_ENTRY_BYTES, 1);
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
  const clockBytes = part.readUInt16BE(1) * CLOCK_ENTRY_BYTES;
  if (ENVELOPE_HEAD + clockBytes > part.byteLength) return { frame: part, clock: undefined };
  return { frame: part.subarray(ENVELOPE_HEAD + clockBytes), clock: part.subarray(ENVELOPE_HEAD, ENVELOPE_HEAD + clockBytes) };
}
