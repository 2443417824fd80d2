// Frames and the operations they make up, from trace records (DESIGN §6): the arrows of a
// space-time diagram (a send and its receive, matched by frame name) and the operations
// (an IVY fault from its request to its confirm, matched by page + req + requester; a
// write-update write from its multicast to its agreed priority, matched by writer + seq).
// Pure; shared by the Messages view and the scenario runner (the slowest fault of each trial).
import type { TraceRecord } from './record.js';

/** A trace record as these functions read it: every field but the vector clock, which none of them needs. */
export type TraceFields = Omit<TraceRecord, 'vc'>;

/**
 * A record without its vector clock, as views are pushed it: at 64 clients the clock names up to every
 * node, ~80 % of a record's bytes, and nothing a view draws reads it (the trace file and its export keep it).
 */
export function withoutClock(r: TraceRecord): TraceFields {
  const { vc: _vc, ...fields } = r;
  return fields;
}

/** Operations listed by default: the latest ones. */
export const MAX_OPS = 200;

/** A frame as one arrow: its send and its receive (either may be outside the window, or still in flight). */
export interface Arrow {
  frame: string;
  from: string;
  to: string;
  type: string;
  page?: number;
  req?: number;
  epoch: number;
  requester?: string;
  /** Write-update (ISIS) frames: the sender's sequence number of the write they order. */
  seq?: number;
  sendT: number | null;
  recvT: number | null;
  /** What the network nemesis did to it at the sender, and the rule that did it (trace `nemesis`, `rule`). */
  nemesis?: 'drop' | 'dup' | 'delay';
  rule?: string;
  /** A duplicate's second arrival (the nemesis sent it twice). */
  dupRecvT?: number;
  /** The receiver refused it, and why (trace `refused`; "stale epoch 3 < 4": fenced). */
  refused?: string;
}

/** Hover text for a refused frame: a fenced one (stale epoch) says so, with the two epochs. */
export function refusalText(reason: string): string {
  const m = /^stale epoch (\d+) < (\d+)/.exec(reason);
  return m ? `fenced: epoch ${m[1]} < ${m[2]}` : `refused: ${reason}`;
}

/** Whether a refusal is fencing (the sender's epoch is behind the receiver's). */
export const isFenced = (reason: string): boolean => reason.startsWith('stale epoch ');

/** Hover text for what the nemesis did to a frame. */
export function nemesisText(a: Pick<Arrow, 'nemesis' | 'rule'>): string | undefined {
  if (a.nemesis === undefined) return undefined;
  const what = a.nemesis === 'drop' ? 'dropped' : a.nemesis === 'dup' ? 'duplicated' : 'delayed';
  return `${what} by nemesis: rule ${a.rule ?? '?'}`;
}

const OP_START = new Set(['read_req', 'write_req']);
/** Frames the requester itself sends for its fault. */
const FROM_REQUESTER = new Set(['read_req', 'write_req', 'confirm']);
/** Frames that go to the requester. */
const TO_REQUESTER = new Set(['grant', 'nack', 'page_data', 'resume']);

/** The client whose fault a frame belongs to (IVY); undefined for frames of no fault (heartbeats, ISIS). */
export function requesterOf(r: { dir: 'send' | 'recv'; node: string; peer: string; type: string; requester?: string; req?: number }): string | undefined {
  if (r.req === undefined) return undefined;
  if (r.requester !== undefined) return r.requester;
  const sender = r.dir === 'send' ? r.node : r.peer;
  const receiver = r.dir === 'send' ? r.peer : r.node;
  if (FROM_REQUESTER.has(r.type)) return sender;
  if (TO_REQUESTER.has(r.type)) return receiver;
  return undefined;
}

export const opKey = (requester: string, page: number, req: number): string => `${requester}/${page}/${req}`;

/** ISIS frames the writer sends for its write, and those that answer it. */
const ISIS_FROM_WRITER = new Set(['i_msg', 'i_agreed', 'i_stable']);
const ISIS_TO_WRITER = new Set(['i_propose', 'i_ack', 'i_query']);
export const isisOpKey = (writer: string, seq: number): string => `${writer}#${seq}`;

/** The write-update write a frame orders: its writer and seq (undefined for every other frame). */
function isisOpKeyOf(type: string, from: string, to: string, seq: number | undefined): string | undefined {
  if (seq === undefined) return undefined;
  if (ISIS_FROM_WRITER.has(type)) return isisOpKey(from, seq);
  if (ISIS_TO_WRITER.has(type)) return isisOpKey(to, seq);
  return undefined;
}

export function frameOpKey(r: Arrow | TraceFields): string | undefined {
  if ('frame' in r && 'from' in r) {
    const isis = isisOpKeyOf(r.type, r.from, r.to, r.seq);
    if (isis !== undefined) return isis;
  } else {
    const rec = r as TraceFields;
    const isis = rec.dir === 'send' ? isisOpKeyOf(rec.type, rec.node, rec.peer, rec.seq) : isisOpKeyOf(rec.type, rec.peer, rec.node, rec.seq);
    if (isis !== undefined) return isis;
  }
  const req = r.req;
  const page = r.page;
  if (req === undefined || page === undefined) return undefined;
  const who = 'frame' in r && 'from' in r ? arrowRequester(r) : requesterOf(r as TraceFields);
  return who === undefined ? undefined : opKey(who, page, req);
}

function arrowRequester(a: Arrow): string | undefined {
  return requesterOf({ dir: 'send', node: a.from, peer: a.to, type: a.type, ...(a.requester !== undefined ? { requester: a.requester } : {}), ...(a.req !== undefined ? { req: a.req } : {}) });
}

export function arrowsOf(records: readonly TraceFields[]): Arrow[] {
  const index = new ArrowIndex();
  for (const r of records) index.add(r);
  return index.list();
}

/**
 * Copy-on-write bookkeeping for the indexes below: items handed out by a `list()` are never changed
 * afterwards (a view holding them keeps its picture); a later record that changes one replaces it
 * in the index with a changed copy. One generation per `list()`; an item made or copied in the
 * current generation is still private and changes in place.
 */
class Generations {
  private gen = 0;
  private readonly born: number[] = [];
  /** The item at `i` may be changed in place (else copy it first and call `mine(i)`). */
  owned(i: number): boolean {
    return this.born[i] === this.gen;
  }
  mine(i: number): void {
    this.born[i] = this.gen;
  }
  /** Everything so far is now shared. */
  share(): void {
    this.gen++;
  }
}

/**
 * The arrows of a growing list of records, one record at a time: the same arrows, in the same order,
 * as arrowsOf over the whole list (arrowsOf is this index). The Messages view keeps one per window,
 * so a push costs its own records, not the window's.
 */
export class ArrowIndex {
  private readonly byFrame = new Map<string, number>();
  private readonly out: Arrow[] = [];
  private readonly gens = new Generations();

  add(r: TraceFields): void {
    if (r.frame === undefined) return;
    const i = this.byFrame.get(r.frame);
    let a: Arrow;
    if (i === undefined) {
      const from = r.dir === 'send' ? r.node : r.peer;
      const to = r.dir === 'send' ? r.peer : r.node;
      a = { frame: r.frame, from, to, type: r.type, epoch: r.epoch, sendT: null, recvT: null };
      if (r.page !== undefined) a.page = r.page;
      if (r.req !== undefined) a.req = r.req;
      if (r.requester !== undefined) a.requester = r.requester;
      if (r.seq !== undefined) a.seq = r.seq;
      this.byFrame.set(r.frame, this.out.length);
      this.gens.mine(this.out.length);
      this.out.push(a);
    } else if (this.gens.owned(i)) a = this.out[i]!;
    else {
      a = { ...this.out[i]! };
      this.out[i] = a;
      this.gens.mine(i);
    }
    if (r.dir === 'send') {
      a.sendT = r.t;
      if (r.nemesis !== undefined) {
        a.nemesis = r.nemesis;
        if (r.rule !== undefined) a.rule = r.rule;
      }
    } else {
      // A second receive of one frame: the nemesis duplicated it.
      if (a.recvT === null) a.recvT = r.t;
      else if (r.t < a.recvT) {
        a.dupRecvT = a.recvT;
        a.recvT = r.t;
      } else a.dupRecvT = r.t;
      if (r.refused !== undefined && a.refused === undefined) a.refused = r.refused;
    }
  }

  /** The arrows so far, in order of their first record (a copy: later records change neither it nor its arrows). */
  list(): Arrow[] {
    this.gens.share();
    return this.out.slice();
  }
}

/** A manager's move to a new epoch (a takeover), where its line first shows it. */
export interface EpochMark {
  node: string;
  t: number;
  epoch: number;
  /** The epoch its frames carried before (null: its first in the records, not marked as a change). */
  from: number;
}

/**
 * Each manager's epoch changes in the records: the first frame it sends at an epoch above every
 * one it sent before (its `takeover` frames, or the first frame after it, where takeovers are not traced).
 */
export function epochMarks(records: readonly TraceFields[]): EpochMark[] {
  const index = new EpochIndex();
  for (const r of records) index.add(r);
  return index.list();
}

/** epochMarks one record at a time (epochMarks is this index). */
export class EpochIndex {
  private readonly seen = new Map<string, number>();
  private readonly out: EpochMark[] = [];

  add(r: TraceFields): void {
    if (r.dir !== 'send' || !r.node.startsWith('m')) return;
    const before = this.seen.get(r.node);
    if (before === undefined) this.seen.set(r.node, r.epoch);
    else if (r.epoch > before) {
      this.seen.set(r.node, r.epoch);
      this.out.push({ node: r.node, t: r.t, epoch: r.epoch, from: before });
    }
  }

  /** The marks so far (a copy). */
  list(): EpochMark[] {
    return this.out.slice();
  }
}

export interface TracedOp {
  key: string;
  /** ivy: a fault (req = its request id); isis: a write-update write (req = the writer's seq). */
  protocol: 'ivy' | 'isis';
  client: string;
  kind: 'read' | 'write';
  page: number;
  req: number;
  startT: number;
  endT: number | null;
  outcome: 'ok' | 'fail' | 'pending';
}

/**
 * The operations in the window. IVY: a fault from the request a client sends to its confirm (ok) or a
 * nack (fail). Write-update: a write from its writer's first multicast (i_msg) to the agreed priority
 * it sends (ok); delivery follows at once unless earlier writes are still being ordered.
 */
export function opsOf(records: readonly TraceFields[], max = MAX_OPS): TracedOp[] {
  const index = new OpIndex();
  for (const r of records) index.add(r);
  return index.list(max);
}

/** opsOf one record at a time (opsOf is this index), copy-on-write as ArrowIndex. */
export class OpIndex {
  private readonly byKey = new Map<string, number>();
  private readonly out: TracedOp[] = [];
  private readonly gens = new Generations();

  private put(op: TracedOp): void {
    this.byKey.set(op.key, this.out.length);
    this.gens.mine(this.out.length);
    this.out.push(op);
  }

  /** The open operation under `key`, to end it (a private copy when the current one was handed out); null if none is open. */
  private open(key: string): TracedOp | null {
    const i = this.byKey.get(key);
    if (i === undefined) return null;
    let op = this.out[i]!;
    if (op.endT !== null) return null;
    if (!this.gens.owned(i)) {
      op = { ...op };
      this.out[i] = op;
      this.gens.mine(i);
    }
    return op;
  }

  add(r: TraceFields): void {
    if (r.seq !== undefined && r.dir === 'send' && (r.type === 'i_msg' || r.type === 'i_agreed')) {
      const key = isisOpKey(r.node, r.seq);
      if (r.type === 'i_msg') {
        if (r.page !== undefined && !this.byKey.has(key)) this.put({ key, protocol: 'isis', client: r.node, kind: 'write', page: r.page, req: r.seq, startT: r.t, endT: null, outcome: 'pending' });
      } else {
        const op = this.open(key);
        if (op) {
          op.endT = r.t;
          op.outcome = 'ok';
        }
      }
      return;
    }
    if (r.page === undefined || r.req === undefined) return;
    if (r.dir === 'send' && OP_START.has(r.type)) {
      const key = opKey(r.node, r.page, r.req);
      if (!this.byKey.has(key)) this.put({ key, protocol: 'ivy', client: r.node, kind: r.type === 'read_req' ? 'read' : 'write', page: r.page, req: r.req, startT: r.t, endT: null, outcome: 'pending' });
      return;
    }
    // Its end is at the requester: the confirm it sends, or a nack it receives.
    const ends = (r.dir === 'send' && r.type === 'confirm') || (r.dir === 'recv' && r.type === 'nack');
    if (!ends) return;
    const key = opKey(r.node, r.page, r.req);
    const i = this.byKey.get(key);
    if (i === undefined || this.out[i]!.client !== r.node) return;
    const op = this.open(key);
    if (!op) return;
    op.endT = r.t;
    op.outcome = r.type === 'confirm' ? 'ok' : 'fail';
  }

  /** The latest `max` operations (a copy: later records change neither it nor its operations). */
  list(max = MAX_OPS): TracedOp[] {
    this.gens.share();
    return this.out.slice(-max);
  }
}
