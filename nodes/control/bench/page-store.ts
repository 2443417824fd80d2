// Micro-benchmark behind the page store's design (issue 10): a fixed slot per page
// (Rio Vista: write the data where it lives, no log) against LRVM's redo log with
// checkpoint and truncation (append every write, checkpoint the newest copy of each
// page into a data file when the log grows, truncate). Both in `recoverable` (the OS
// keeps the bytes) and `durable` (fdatasync per commit) modes; per-commit latency
// p50/p99 and the time to recover 64 pages of 4 KiB.
//
// Run: `npx tsx scripts/bench-page-store.ts [--commits N] [--dir DIR] [--json]`. This code
// records no figures: take them on a quiet machine.
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { mulberry32, pick } from '../../core/random.js';
import { openPageStore, recoverSegment, type StoredPage } from '../../runtime/page-store.js';

export interface StoreFigures {
  design: 'slot-file' | 'log-checkpoint';
  mode: 'recoverable' | 'durable';
  commits: number;
  commit_p50_us: number;
  commit_p99_us: number;
  /** Reading every page back after a (simulated) crash. */
  recover_ms: number;
  /** Bytes written per commit, on average (checkpoints included). */
  bytes_per_commit: number;
}

export interface StoreBenchOptions {
  dir: string;
  pages: number;
  pageSize: number;
  commits: number;
  seed: number;
}

/** LRVM-style: redo records appended to a log; at `checkpointBytes` the newest pages go to a data file and the log is truncated. */
class LogCheckpointStore {
  private readonly log: number;
  private readonly data: number;
  private logBytes = 0;
  private readonly newest = new Map<number, StoredPage>();
  written = 0;

  constructor(
    dir: string,
    private readonly pageSize: number,
    private readonly durable: boolean,
    private readonly checkpointBytes: number,
  ) {
    this.log = openSync(join(dir, 'redo.log'), 'w+');
    this.data = openSync(join(dir, 'data.seg'), 'w+');
  }

  put(p: StoredPage): void {
    const rec = Buffer.alloc(20 + this.pageSize);
    rec.writeUInt32LE(p.page, 0);
    rec.writeUInt32LE(p.version, 4);
    rec.writeUInt32LE(p.epoch, 8);
    rec.writeUInt32LE(this.pageSize, 12);
    rec.set(p.data, 20);
    rec.writeUInt32LE(crc32(rec.subarray(20), crc32(rec.subarray(0, 16))), 16);
    writeSync(this.log, rec, 0, rec.length, this.logBytes);
    this.logBytes += rec.length;
    this.written += rec.length;
    this.newest.set(p.page, p);
    if (this.durable) fdatasyncSync(this.log);
    if (this.logBytes >= this.checkpointBytes) this.checkpoint();
  }

  private checkpoint(): void {
    const slot = Buffer.alloc(this.pageSize);
    for (const [page, p] of this.newest) {
      slot.set(p.data);
      writeSync(this.data, slot, 0, slot.length, page * this.pageSize);
      this.written += slot.length;
    }
    // The data file must be on disk before the log that covers it goes (LRVM's truncation order).
    if (this.durable) fdatasyncSync(this.data);
    ftruncateSync(this.log, 0);
    this.logBytes = 0;
    if (this.durable) fdatasyncSync(this.log);
  }

  /** Replays the log over the data file, as recovery after a crash does. */
  static recover(dir: string, pageSize: number): Map<number, Uint8Array> {
    const pages = new Map<number, Uint8Array>();
    const data = readFileSync(join(dir, 'data.seg'));
    for (let off = 0; off + pageSize <= data.length; off += pageSize) pages.set(off / pageSize, data.subarray(off, off + pageSize));
    const log = readFileSync(join(dir, 'redo.log'));
    for (let off = 0; off + 20 + pageSize <= log.length; off += 20 + pageSize) {
      const rec = log.subarray(off, off + 20 + pageSize);
      if (crc32(rec.subarray(20), crc32(rec.subarray(0, 16))) !== rec.readUInt32LE(16)) break; // torn tail
      pages.set(rec.readUInt32LE(0), rec.subarray(20));
    }
    return pages;
  }

  close(): void {
    closeSync(this.log);
    closeSync(this.data);
  }
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export function benchPageStores(o: StoreBenchOptions): StoreFigures[] {
  const out: StoreFigures[] = [];
  for (const mode of ['recoverable', 'durable'] as const) {
    for (const design of ['slot-file', 'log-checkpoint'] as const) {
      const dir = join(o.dir, `${design}-${mode}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const rng = mulberry32(o.seed);
      const data = new Uint8Array(o.pageSize);
      const g = { pages: o.pages, pageSize: o.pageSize };
      const slot = design === 'slot-file' ? openPageStore(mode, join(dir, 'c0.seg'), g).store : null;
      const log = design === 'log-checkpoint' ? new LogCheckpointStore(dir, o.pageSize, mode === 'durable', 16 * o.pages * o.pageSize) : null;
      const times: number[] = [];
      for (let i = 0; i < o.commits; i++) {
        const page = pick(rng, o.pages);
        data.fill(i & 0xff);
        const p: StoredPage = { page, access: 'write', owner: true, version: i + 1, epoch: 1, data };
        const t0 = process.hrtime.bigint();
        if (slot) {
          slot.put(p);
          slot.sync();
        } else log!.put(p);
        times.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      const bytes = slot ? slot.stats.bytes : log!.written;
      slot?.close();
      log?.close();
      const t0 = process.hrtime.bigint();
      const recovered = slot ? recoverSegment(join(dir, 'c0.seg'), g).pages.length : LogCheckpointStore.recover(dir, o.pageSize).size;
      const recoverMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (recovered === 0 && o.commits > 0) throw new Error(`${design}/${mode}: nothing recovered`);
      times.sort((a, b) => a - b);
      out.push({
        design,
        mode,
        commits: o.commits,
        commit_p50_us: Math.round(quantile(times, 0.5) * 10) / 10,
        commit_p99_us: Math.round(quantile(times, 0.99) * 10) / 10,
        recover_ms: Math.round(recoverMs * 100) / 100,
        bytes_per_commit: Math.round(bytes / Math.max(1, o.commits)),
      });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
