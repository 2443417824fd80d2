// The recoverable page store: what survives, what recovery detects (torn writes, garbage, wrong
// size or geometry, foreign files), that it never hands back bytes that were not written, and that
// recovering twice gives the same answer.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32, pick } from '../../nodes/core/random.js';
import {
  FILE_HEADER_BYTES,
  openPageStore,
  recoverSegment,
  SLOT_HEADER_BYTES,
  SlotFileStore,
  segmentBytes,
  slotOffset,
  type Geometry,
  type StoredPage,
} from '../../nodes/runtime/page-store.js';

const root = join(process.cwd(), 'test-results', 'page-store');
let dir = '';
let n = 0;
beforeEach(() => {
  dir = join(root, `t${process.pid}-${n++}`);
  mkdirSync(dir, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const g: Geometry = { pages: 4, pageSize: 256 };
const bytes = (fill: number, size = g.pageSize): Uint8Array => new Uint8Array(size).fill(fill);
const page = (p: number, version: number, fill: number, extra: Partial<StoredPage> = {}): StoredPage => ({
  page: p,
  access: 'write',
  owner: true,
  version,
  epoch: 1,
  data: bytes(fill),
  ...extra,
});

/** Flips one byte of the file in place. */
function corrupt(file: string, at: number): void {
  const b = readFileSync(file);
  b[at] = b[at]! ^ 0xff;
  writeFileSync(file, b);
}

describe('page store', () => {
  it('a first start has no file and nothing to recover; volatile keeps no file', () => {
    const file = join(dir, 'c0.seg');
    expect(recoverSegment(file, g)).toMatchObject({ fresh: true, pages: [], problems: [] });
    const v = openPageStore('volatile', file, g);
    v.store.put(page(0, 1, 7));
    expect(v.recovery).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it('recovers the newest copy of every page written, with its access, owner flag, version and epoch', () => {
    const file = join(dir, 'c1.seg');
    const { store } = openPageStore('recoverable', file, g);
    expect(statSync(file).size).toBe(segmentBytes(g));
    store.put(page(0, 1, 1));
    store.put(page(0, 2, 2));
    store.put(page(0, 3, 3, { epoch: 5 }));
    store.put(page(2, 9, 9, { access: 'read', owner: true }));
    // Not closed: a SIGKILLed process never closes; the bytes are in the OS already.
    const r = recoverSegment(file, g);
    expect(r.problems).toEqual([]);
    expect(r.pages.map((p) => [p.page, p.version, p.access, p.owner, p.epoch, p.data[0]])).toEqual([
      [0, 3, 'write', true, 5, 3],
      [2, 9, 'read', true, 1, 9],
    ]);
    store.close();
  });

  it('is idempotent: recovering, reopening and recovering again gives the same pages, and the recovered copy survives the next write', () => {
    const file = join(dir, 'c2.seg');
    const a = openPageStore('recoverable', file, g);
    a.store.put(page(1, 4, 4));
    a.store.put(page(1, 5, 5));
    const first = recoverSegment(file, g);
    const b = openPageStore('recoverable', file, g); // a reboot
    const second = recoverSegment(file, g); // a crash during recovery, then another reboot
    expect(second.pages).toEqual(first.pages);
    expect(b.recovery?.pages).toEqual(first.pages);
    // The next write goes to the other copy: tear it and the recovered version is still there.
    b.store.put(page(1, 6, 6));
    expect(recoverSegment(file, g).pages[0]?.version).toBe(6);
    b.store.put(page(1, 7, 7));
    const newestSlot = [0, 1].find((s) => readFileSync(file)[slotOffset(g, 1, s) + SLOT_HEADER_BYTES] === 7)!;
    corrupt(file, slotOffset(g, 1, newestSlot) + SLOT_HEADER_BYTES + 100);
    const r = recoverSegment(file, g);
    expect(r.pages.map((p) => p.version)).toEqual([6]);
    expect(r.problems).toMatchObject([{ page: 1, kind: 'torn', lost: false }]);
    expect(r.problems[0]!.message).toMatch(/page 1: copy [AB] torn: checksum mismatch.*recovered the other copy \(version 6\)/);
  });

  it('a page with both copies damaged is reported lost and left out (the client starts volatile for it)', () => {
    const file = join(dir, 'c3.seg');
    const { store } = openPageStore('recoverable', file, g);
    store.put(page(3, 1, 1));
    store.put(page(3, 2, 2));
    store.put(page(0, 1, 8));
    corrupt(file, slotOffset(g, 3, 0) + 40);
    corrupt(file, slotOffset(g, 3, 1) + 0); // the magic: garbage rather than torn
    const r = recoverSegment(file, g);
    expect(r.pages.map((p) => p.page)).toEqual([0]);
    expect(r.problems.map((p) => [p.page, p.kind, p.lost])).toEqual([
      [3, 'torn', true],
      [3, 'garbage', true],
    ]);
    expect(r.problems[1]!.message).toMatch(/bad slot magic.*no good copy left, the page starts volatile/);
    // Opening zeroes the unusable copies: the next recovery has nothing to report for page 3.
    const again = openPageStore('recoverable', file, g);
    expect(again.recovery?.problems).toHaveLength(2);
    expect(recoverSegment(file, g).problems).toEqual([]);
  });

  it('detects a slot that claims another page, another page size or impossible flags (with a valid checksum)', async () => {
    const { encodeSlot, slotBytes } = await import('../../nodes/runtime/page-store.js');
    const file = join(dir, 'c4.seg');
    const { store } = openPageStore('recoverable', file, g);
    store.close();
    const b = readFileSync(file);
    const slot = Buffer.alloc(slotBytes(g.pageSize));
    encodeSlot(page(2, 1, 1), 1, g.pageSize, slot);
    slot.copy(b, slotOffset(g, 1, 0)); // page 2's slot written where page 1's belongs
    writeFileSync(file, b);
    const r = recoverSegment(file, g);
    expect(r.pages).toEqual([]);
    expect(r.problems).toMatchObject([{ page: 1, kind: 'garbage', lost: true }]);
    expect(r.problems[0]!.message).toMatch(/slot says page 2/);
  });

  it.each([
    ['truncated', (f: string) => truncateSync(f, segmentBytes(g) - 100), 'wrong-size', /bytes, expected .* \(truncated or extended\)/],
    ['extended', (f: string) => writeFileSync(f, Buffer.alloc(10), { flag: 'a' }), 'wrong-size', /truncated or extended/],
    ['shorter than its header', (f: string) => truncateSync(f, 10), 'missing-header', /shorter than the 64-byte header/],
    ['garbage', (f: string) => writeFileSync(f, Buffer.from(Array.from({ length: segmentBytes(g) }, (_, i) => (i * 31 + 7) & 0xff))), 'bad-header', /not a page segment/],
    ['a damaged header', (f: string) => corrupt(f, 13), 'bad-header', /header checksum mismatch/],
  ])('a file %s is detected, reported, moved aside, and the client starts volatile', (_name, damage, kind, message) => {
    const file = join(dir, 'c5.seg');
    const first = openPageStore('recoverable', file, g);
    first.store.put(page(0, 1, 1));
    first.store.close();
    damage(file);
    const r = recoverSegment(file, g);
    expect(r.pages).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ page: null, kind, lost: true });
    expect(r.problems[0]!.message).toMatch(message);
    expect(r.problems[0]!.message).toMatch(/every page starts volatile/);
    const reopened = openPageStore('recoverable', file, g);
    expect(reopened.recovery?.quarantined).toMatch(/c5\.seg\.bad-\d+$/);
    expect(readdirSync(dir).filter((f) => f.includes('.bad-'))).toHaveLength(1);
    // A fresh, valid segment in its place.
    expect(statSync(file).size).toBe(segmentBytes(g));
    reopened.store.put(page(0, 2, 2));
    expect(recoverSegment(file, g)).toMatchObject({ problems: [], pages: [{ page: 0, version: 2 }] });
  });

  it('a segment written for another geometry is not used', () => {
    const file = join(dir, 'c6.seg');
    openPageStore('recoverable', file, g).store.put(page(0, 1, 1));
    const r = recoverSegment(file, { pages: 8, pageSize: 256 });
    expect(r.problems[0]).toMatchObject({ kind: 'wrong-geometry', lost: true });
    expect(r.problems[0]!.message).toMatch(/written for 4 pages of 256 bytes, the cluster has 8 of 256/);
  });

  it('never returns bytes that were not written: 400 random corruptions of a live segment', () => {
    const rng = mulberry32(42);
    for (let trial = 0; trial < 400; trial++) {
      const file = join(dir, `f${trial % 3}.seg`);
      rmSync(file, { force: true });
      const { store } = openPageStore('recoverable', file, g);
      const written = new Map<number, Set<string>>();
      for (let i = 0; i < 6; i++) {
        const p = pick(rng, g.pages);
        const v = i + 1;
        store.put(page(p, v, 10 * p + v));
        const set = written.get(p) ?? new Set<string>();
        set.add(`${v}:${10 * p + v}`);
        written.set(p, set);
      }
      store.close();
      // Damage 1..3 bytes in the slot area (the header is covered by the tests above).
      const b = readFileSync(file);
      for (let k = 0, hits = 1 + pick(rng, 3); k < hits; k++) {
        const at = FILE_HEADER_BYTES + pick(rng, b.length - FILE_HEADER_BYTES);
        b[at] = b[at]! ^ (1 + pick(rng, 255));
      }
      writeFileSync(file, b);
      const r = recoverSegment(file, g);
      for (const got of r.pages) {
        expect(got.data.every((x) => x === got.data[0])).toBe(true);
        expect(written.get(got.page)?.has(`${got.version}:${got.data[0]}`)).toBe(true);
      }
    }
  });

  it('durable flushes on sync; recoverable never does', () => {
    const d = openPageStore('durable', join(dir, 'd.seg'), g).store;
    d.put(page(0, 1, 1));
    expect(d.sync()).toBe(true);
    expect(d.sync()).toBe(false); // nothing new
    expect(d.stats).toMatchObject({ puts: 1, syncs: 1 });
    const r = openPageStore('recoverable', join(dir, 'r.seg'), g).store;
    r.put(page(0, 1, 1));
    expect(r.sync()).toBe(false);
    expect(r).toBeInstanceOf(SlotFileStore);
  });

  it('the per-page write count wraps around without losing the newest copy', () => {
    const file = join(dir, 'w.seg');
    const { store } = openPageStore('recoverable', file, g);
    store.put(page(0, 1, 1));
    // Simulate a long-lived page: recover with the count near 2^32, then write twice more.
    const rec = recoverSegment(file, g).pages.map((p) => ({ ...p, seq: 0xffff_ffff }));
    store.close();
    const s2 = new SlotFileStore('recoverable', file, g, rec);
    s2.put(page(0, 2, 2)); // seq wraps to 0
    s2.put(page(0, 3, 3)); // seq 1
    expect(recoverSegment(file, g).pages[0]?.version).toBe(3);
  });
});

describe('page store benchmark code', () => {
  it('runs both designs in both modes and recovers what it wrote (no figures asserted: the machine is shared)', async () => {
    const { benchPageStores } = await import('../../nodes/control/bench/page-store.js');
    const figures = benchPageStores({ dir: join(dir, 'bench'), pages: 8, pageSize: 512, commits: 20, seed: 3 });
    expect(figures.map((f) => `${f.design}/${f.mode}`)).toEqual(['slot-file/recoverable', 'log-checkpoint/recoverable', 'slot-file/durable', 'log-checkpoint/durable']);
    for (const f of figures) expect(f.commit_p50_us).toBeGreaterThan(0);
  });
});
