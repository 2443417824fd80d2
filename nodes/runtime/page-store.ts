// A client's recoverable page store (seed 004: Rio Vista's idea with the tools a Node
// process has). The pages this client owns live in a file, one fixed place per page,
// written with pwrite before the write is acknowledged. A SIGKILLed process loses
// nothing that pwrite returned: the bytes are in the OS page cache, which outlives the
// process. `durable` also calls fdatasync before acknowledging (LRVM's flush commit),
// so they survive power loss. `volatile` keeps no file.
//
// Layout (little endian):
//   file header, 64 bytes: "IVYSEG01", format u32, pages u32, pageSize u32, slotsPerPage u32, crc32 u32 of bytes 0..24
//   then per page two slots of (32-byte header + pageSize bytes). Writes alternate between a page's two
//   slots (shadow copies), so a write torn by a crash (Linux may stop a write() of several pages short on
//   SIGKILL; power loss may tear any sector) only ever damages the copy being written, never the last
//   acknowledged one.
//   slot header: magic u32 'IVYP', format u16, flags u16 (bits 0-1 access: 1 read 2 write; bit 2 owner),
//                page u32, seq u32 (per-page write count: the newer valid slot wins), version u32 (the
//                page's IVY version), epoch u32 (manager epoch when written), length u32, crc32 u32 of
//                header bytes 0..28 and the data.
// Recovery only reads: a crash during recovery recovers again, the same way (idempotent).
import { closeSync, constants, existsSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

import type { ClientMemory } from '../protocol/messages.js';

export type { ClientMemory };

export const FILE_MAGIC = 'IVYSEG01';
export const FORMAT = 1;
export const FILE_HEADER_BYTES = 64;
export const SLOT_HEADER_BYTES = 32;
export const SLOTS_PER_PAGE = 2;
export const SLOT_MAGIC = 0x50595649; // 'IVYP'

/** What the store keeps for a page: the owner's authoritative copy. */
export interface StoredPage {
  page: number;
  access: 'read' | 'write';
  owner: boolean;
  version: number;
  epoch: number;
  data: Uint8Array;
}

export interface RecoveredPage extends StoredPage {
  /** Per-page write count of the slot it came from. */
  seq: number;
}

/** Something recovery found wrong, in words a user can act on. */
export interface SegmentProblem {
  /** null: the whole file. */
  page: number | null;
  /** Which copy of the page (0 = A, 1 = B); null for the whole file. */
  slot: number | null;
  /** torn: a write that never completed (expected after a crash; the other copy is used). */
  kind: 'missing-header' | 'bad-header' | 'wrong-geometry' | 'wrong-size' | 'torn' | 'garbage' | 'unreadable';
  /** True when the page (or every page) lost its stored copy because of it. */
  lost: boolean;
  message: string;
}

export interface Recovery {
  file: string;
  /** No file existed: a first start. */
  fresh: boolean;
  pages: RecoveredPage[];
  problems: SegmentProblem[];
  /** Where a file we could not use was moved, so it can be inspected. */
  quarantined: string | null;
}

export interface Geometry {
  pages: number;
  pageSize: number;
}

export const slotBytes = (pageSize: number): number => SLOT_HEADER_BYTES + pageSize;
export const segmentBytes = (g: Geometry): number => FILE_HEADER_BYTES + g.pages * SLOTS_PER_PAGE * slotBytes(g.pageSize);
export const slotOffset = (g: Geometry, page: number, slot: number): number => FILE_HEADER_BYTES + (page * SLOTS_PER_PAGE + slot) * slotBytes(g.pageSize);

export function fileHeader(g: Geometry): Buffer {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  b.write(FILE_MAGIC, 0, 'latin1');
  b.writeUInt32LE(FORMAT, 8);
  b.writeUInt32LE(g.pages, 12);
  b.writeUInt32LE(g.pageSize, 16);
  b.writeUInt32LE(SLOTS_PER_PAGE, 20);
  b.writeUInt32LE(crc32(b.subarray(0, 24)), 24);
  return b;
}

/** Encodes one slot (header + data) into `into`, which must be slotBytes(pageSize) long. */
export function encodeSlot(p: StoredPage, seq: number, pageSize: number, into: Buffer): void {
  into.writeUInt32LE(SLOT_MAGIC, 0);
  into.writeUInt16LE(FORMAT, 4);
  into.writeUInt16LE((p.access === 'write' ? 2 : 1) | (p.owner ? 4 : 0), 6);
  into.writeUInt32LE(p.page, 8);
  into.writeUInt32LE(seq >>> 0, 12);
  into.writeUInt32LE(p.version >>> 0, 16);
  into.writeUInt32LE(p.epoch >>> 0, 20);
  into.writeUInt32LE(pageSize, 24);
  into.fill(0, SLOT_HEADER_BYTES);
  into.set(p.data.subarray(0, pageSize), SLOT_HEADER_BYTES);
  const crc = crc32(into.subarray(SLOT_HEADER_BYTES), crc32(into.subarray(0, 28)));
  into.writeUInt32LE(crc, 28);
}

type SlotRead = { kind: 'empty' } | { kind: 'valid'; page: RecoveredPage } | { kind: 'torn' | 'garbage'; why: string };

/** Classifies one slot's bytes. A zeroed slot was never written; anything else must check out completely. */
export function decodeSlot(buf: Buffer, page: number, pageSize: number): SlotRead {
  if (buf.length !== slotBytes(pageSize)) return { kind: 'garbage', why: `slot of ${buf.length} bytes` };
  const magic = buf.readUInt32LE(0);
  if (magic === 0 && buf.subarray(0, SLOT_HEADER_BYTES).every((x) => x === 0)) return { kind: 'empty' };
  if (magic !== SLOT_MAGIC) return { kind: 'garbage', why: `bad slot magic 0x${magic.toString(16).padStart(8, '0')}` };
  const crc = crc32(buf.subarray(SLOT_HEADER_BYTES), crc32(buf.subarray(0, 28)));
  // A checksum mismatch under a good magic is what an interrupted write leaves behind.
  if (crc !== buf.readUInt32LE(28)) return { kind: 'torn', why: 'checksum mismatch (an interrupted write)' };
  const format = buf.readUInt16LE(4);
  const flags = buf.readUInt16LE(6);
  const at = buf.readUInt32LE(8);
  const length = buf.readUInt32LE(24);
  if (format !== FORMAT) return { kind: 'garbage', why: `slot format ${format}, expected ${FORMAT}` };
  if (at !== page) return { kind: 'garbage', why: `slot says page ${at}` };
  if (length !== pageSize) return { kind: 'garbage', why: `slot holds ${length} bytes, pages are ${pageSize}` };
  const accessBits = flags & 3;
  if (accessBits === 0 || accessBits === 3 || flags > 7) return { kind: 'garbage', why: `bad flags 0x${flags.toString(16)}` };
  return {
    kind: 'valid',
    page: {
      page,
      access: accessBits === 2 ? 'write' : 'read',
      owner: (flags & 4) !== 0,
      seq: buf.readUInt32LE(12),
      version: buf.readUInt32LE(16),
      epoch: buf.readUInt32LE(20),
      data: new Uint8Array(buf.subarray(SLOT_HEADER_BYTES)),
    },
  };
}

/** Newer of two per-page write counts, wrap-around safe (serial-number arithmetic). */
const newer = (a: number, b: number): boolean => ((a - b) | 0) > 0;

/**
 * Reads a segment file without changing it. Every problem is reported; a page whose copies are all
 * unusable is left out (the client starts volatile for it), a file that is unusable as a whole yields
 * no pages at all.
 */
export function recoverSegment(file: string, g: Geometry): Omit<Recovery, 'quarantined'> {
  if (!existsSync(file)) return { file, fresh: true, pages: [], problems: [] };
  const problems: SegmentProblem[] = [];
  const whole = (kind: SegmentProblem['kind'], message: string): Omit<Recovery, 'quarantined'> => ({
    file,
    fresh: false,
    pages: [],
    problems: [{ page: null, slot: null, kind, lost: true, message: `${file}: ${message}; every page starts volatile` }],
  });
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return whole('unreadable', `cannot open (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < FILE_HEADER_BYTES) return whole('missing-header', `${size} bytes, shorter than the ${FILE_HEADER_BYTES}-byte header`);
    const head = Buffer.alloc(FILE_HEADER_BYTES);
    readSync(fd, head, 0, FILE_HEADER_BYTES, 0);
    if (head.toString('latin1', 0, 8) !== FILE_MAGIC) return whole('bad-header', `not a page segment (magic ${JSON.stringify(head.toString('latin1', 0, 8))})`);
    if (crc32(head.subarray(0, 24)) !== head.readUInt32LE(24)) return whole('bad-header', 'header checksum mismatch');
    const format = head.readUInt32LE(8);
    const pages = head.readUInt32LE(12);
    const pageSize = head.readUInt32LE(16);
    const slots = head.readUInt32LE(20);
    if (format !== FORMAT || slots !== SLOTS_PER_PAGE) return whole('bad-header', `format ${format} with ${slots} slots per page, expected ${FORMAT} with ${SLOTS_PER_PAGE}`);
    if (pages !== g.pages || pageSize !== g.pageSize) {
      return whole('wrong-geometry', `written for ${pages} pages of ${pageSize} bytes, the cluster has ${g.pages} of ${g.pageSize}`);
    }
    const expected = segmentBytes(g);
    if (size !== expected) return whole('wrong-size', `${size} bytes, expected ${expected} (truncated or extended)`);
    const out: RecoveredPage[] = [];
    const buf = Buffer.alloc(slotBytes(g.pageSize));
    for (let page = 0; page < g.pages; page++) {
      let best: RecoveredPage | null = null;
      const bad: string[] = [];
      for (let slot = 0; slot < SLOTS_PER_PAGE; slot++) {
        readSync(fd, buf, 0, buf.length, slotOffset(g, page, slot));
        const r = decodeSlot(buf, page, g.pageSize);
        if (r.kind === 'valid') {
          if (!best || newer(r.page.seq, best.seq)) best = r.page;
        } else if (r.kind !== 'empty') {
          bad.push(`copy ${slot === 0 ? 'A' : 'B'} ${r.kind === 'torn' ? 'torn' : 'garbage'}: ${r.why}`);
          problems.push({ page, slot, kind: r.kind, lost: false, message: '' });
        }
      }
      if (bad.length === 0) {
        if (best) out.push(best);
        continue;
      }
      // Fill in the messages now that we know whether another copy saved the page.
      const mine = problems.filter((p) => p.page === page);
      for (const [i, p] of mine.entries()) {
        p.lost = best === null;
        p.message = best
          ? `page ${page}: ${bad[i]}; recovered the other copy (version ${best.version})`
          : `page ${page}: ${bad[i]}; no good copy left, the page starts volatile`;
      }
      if (best) out.push(best);
    }
    return { file, fresh: false, pages: out, problems };
  } finally {
    closeSync(fd);
  }
}

/**
 * The open store a running client writes through. `put` returns once the bytes are in the OS
 * (recoverable) or on the device (durable, after `sync`).
 */
export interface PageStore {
  readonly mode: ClientMemory;
  readonly file: string | null;
  put(p: StoredPage): void;
  /** Forgets a page (its copies are zeroed), e.g. when the manager says a recovered copy is stale. */
  erase(page: number): void;
  /** Makes every put so far durable (fdatasync); a no-op below `durable`. Returns whether it flushed. */
  sync(): boolean;
  close(): void;
  readonly stats: { puts: number; syncs: number; bytes: number };
}

class VolatileStore implements PageStore {
  readonly mode = 'volatile' as const;
  readonly file = null;
  readonly stats = { puts: 0, syncs: 0, bytes: 0 };
  put(): void {}
  erase(): void {}
  sync(): boolean {
    return false;
  }
  close(): void {}
}

export class SlotFileStore implements PageStore {
  readonly stats = { puts: 0, syncs: 0, bytes: 0 };
  private fd: number | null;
  private readonly buf: Buffer;
  /** Per page: the write count of its newest copy, and which slot holds it (-1: none). */
  private readonly seq: Uint32Array;
  private readonly newest: Int8Array;
  private unsynced = false;

  constructor(
    readonly mode: 'recoverable' | 'durable',
    readonly file: string,
    private readonly g: Geometry,
    recovered: readonly RecoveredPage[],
    /** Start the file over (it could not be used, nor moved aside). */
    reset = false,
    /** Copies recovery could not use: zeroed now, so the next recovery does not report them again. */
    badSlots: readonly { page: number; slot: number }[] = [],
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.seq = new Uint32Array(g.pages);
    this.newest = new Int8Array(g.pages).fill(-1);
    this.buf = Buffer.alloc(slotBytes(g.pageSize));
    const fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600);
    this.fd = fd;
    if (reset || fstatSync(fd).size !== segmentBytes(g)) {
      // A new (or quarantined and replaced) segment: header, then every slot empty.
      writeSync(fd, fileHeader(g), 0, FILE_HEADER_BYTES, 0);
      const zero = Buffer.alloc(Math.min(1 << 20, segmentBytes(g) - FILE_HEADER_BYTES));
      for (let off = FILE_HEADER_BYTES; off < segmentBytes(g); off += zero.length) writeSync(fd, zero, 0, Math.min(zero.length, segmentBytes(g) - off), off);
      if (mode === 'durable') fdatasyncSync(fd);
    }
    for (const b of badSlots) if (b.page < g.pages && b.slot < SLOTS_PER_PAGE) writeAll(fd, Buffer.alloc(this.buf.length), slotOffset(g, b.page, b.slot));
    // The next write of a recovered page goes to its other slot, keeping the recovered copy intact.
    for (const r of recovered) {
      if (r.page >= g.pages) continue;
      this.seq[r.page] = r.seq;
      this.newest[r.page] = this.slotHolding(r.page, r.seq);
    }
  }

  put(p: StoredPage): void {
    const fd = this.open();
    if (p.page < 0 || p.page >= this.g.pages) throw new RangeError(`page ${p.page}`);
    const seq = (this.seq[p.page]! + 1) >>> 0;
    const slot = this.newest[p.page] === 0 ? 1 : 0;
    encodeSlot(p, seq, this.g.pageSize, this.buf);
    writeAll(fd, this.buf, slotOffset(this.g, p.page, slot));
    this.seq[p.page] = seq;
    this.newest[p.page] = slot;
    this.unsynced = true;
    this.stats.puts++;
    this.stats.bytes += this.buf.length;
  }

  erase(page: number): void {
    const fd = this.open();
    if (page < 0 || page >= this.g.pages) throw new RangeError(`page ${page}`);
    this.buf.fill(0);
    for (let slot = 0; slot < SLOTS_PER_PAGE; slot++) writeAll(fd, this.buf, slotOffset(this.g, page, slot));
    this.newest[page] = -1;
    this.unsynced = true;
  }

  sync(): boolean {
    if (this.mode !== 'durable' || !this.unsynced || this.fd === null) return false;
    fdatasyncSync(this.fd);
    this.unsynced = false;
    this.stats.syncs++;
    return true;
  }

  close(): void {
    if (this.fd === null) return;
    this.sync();
    closeSync(this.fd);
    this.fd = null;
  }

  private open(): number {
    if (this.fd === null) throw new Error(`page store ${this.file} is closed`);
    return this.fd;
  }

  /** Which slot holds the copy with write count `seq` (read back: recovery does not say). */
  private slotHolding(page: number, seq: number): number {
    const fd = this.open();
    for (let slot = 0; slot < SLOTS_PER_PAGE; slot++) {
      readSync(fd, this.buf, 0, this.buf.length, slotOffset(this.g, page, slot));
      const r = decodeSlot(this.buf, page, this.g.pageSize);
      if (r.kind === 'valid' && r.page.seq === seq) return slot;
    }
    return -1;
  }
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  // A regular file takes the whole buffer in one write() unless a signal cuts it short: finish it then.
  for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/**
 * Opens a client's store: recovers what the file holds, moves an unusable file aside (so nothing
 * half-trusted is ever written over, and a user can inspect it), and returns the store to write through.
 */
export function openPageStore(mode: ClientMemory, file: string | null, g: Geometry): { store: PageStore; recovery: Recovery | null } {
  if (mode === 'volatile' || file === null) return { store: new VolatileStore(), recovery: null };
  const r = recoverSegment(file, g);
  let quarantined: string | null = null;
  if (r.problems.some((p) => p.page === null)) {
    quarantined = `${file}.bad-${Date.now()}`;
    try {
      renameSync(file, quarantined);
    } catch {
      quarantined = null; // unreadable and unmovable: the store below starts it over in place
    }
  }
  const whole = r.problems.some((p) => p.page === null);
  const badSlots = r.problems.flatMap((p) => (p.page !== null && p.slot !== null ? [{ page: p.page, slot: p.slot }] : []));
  const store = new SlotFileStore(mode, file, g, r.pages, whole && quarantined === null, badSlots);
  return { store, recovery: { ...r, quarantined } };
}
