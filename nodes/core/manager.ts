// The IVY central manager as a deterministic state machine. It keeps a record per
// page (owner, copy set, version) and serves one fault per page at a time: a write
// waits for every invalidation to be acknowledged before the page moves, and the
// next request for a page starts only after the requester confirms it installed
// the page. That discipline is what makes every page a linearizable register.
//
// One ManagerCore serves one epoch. A manager that takes over builds a new one from
// the clients' page tables (see rebuild.ts); this class never decides roles.
import type { ClientMemory, Message, MessageOf, NodeId } from '../protocol/messages.js';
import { REQS_PER_INCARNATION } from './client.js';
import { RttEstimator } from './rto.js';
import type { ManagerOutput, OpKind, RecordView } from './types.js';

/**
 * How a page's only holder lost it, as a refusal says: a SIGKILL, or (after a partition or a reboot that
 * kept no copy) a holder that came back alive without it. The record cannot tell which, so it does not claim a crash.
 */
const LOST_HOW = 'which crashed or came back without it';

export interface ManagerConfig {
  id: NodeId;
  epoch: number;
  pages: number;
  /** A client not heard from for this long is declared dead: what it alone held is lost. 0 = never. */
  clientTimeoutMs: number;
  /** How long a fault on a page held by a down recoverable client waits for it to come back (default HELD_WAIT_MS). */
  heldWaitMs?: number;
  /**
   * A request that made no progress for this long has its current step sent again (the forward, the
   * invalidations still unacknowledged, the grant): a lost confirm has no requester left to retransmit.
   * Default REDRIVE_MS; 0 = never (a network that loses nothing between live processes).
   */
  redriveMs?: number;
  /**
   * The lower bound of an adaptive re-drive interval (rto.ts): a stalled request's step goes again after
   * srtt + 4 rttvar of the steps answered without a re-drive (Karn), doubled per re-drive, within
   * [minRedriveMs, redriveMs]. Absent: a fixed redriveMs, as before.
   */
  minRedriveMs?: number;
  /**
   * Recover lost and duplicated frames between live processes (issue 11's lossy nemesis): answer a
   * retransmitted request with its current step or nack again, and re-drive stalled requests. Off by
   * default until the pair (takeover) paths are proven under loss; the single-manager simulator proves it.
   */
  recoverLoss?: boolean;
}

/** Default re-drive interval of a stalled request: a few client retry intervals (the runtime's retryMs is 500). */
export const REDRIVE_MS = 2000;
/** How often the refusal to a transfer caught in flight by a lost page is re-sent (renackInFlight): 5 losses in a row at 5 % is 3e-7. */
const MAX_IN_FLIGHT_RENACKS = 5;

/**
 * The documented rule for a page whose only copy is with a client that is down but recoverable (its page
 * store survives the crash): faults on the page wait this long for the client to come back and restore it,
 * then fail with a message naming the client. The page stays held by that client (never handed out as a
 * zero page, never given to another client): only its reboot can bring the acknowledged bytes back. Below
 * the clients' default operation timeout (5 s), so a waiting operation fails with this message, not a timeout.
 */
export const HELD_WAIT_MS = 3000;
/** A lease that never runs out, for a manager that never evicts (clientTimeoutMs 0). */
export const NO_EXPIRY_MS = 0xffff_ffff;

/**
 * The client lease a manager grants (Gray & Cheriton): half the client timeout. A lease runs from the
 * client's SEND time of the heartbeat it answers, and the manager hears that heartbeat after it was sent
 * and evicts only after clientTimeoutMs of silence from then on, so every lease it granted has run out
 * clientTimeoutMs / 2 before it may evict. That half is the safety margin: for the pause between a
 * client's lease check and its answer, for timer lateness, and for a takeover (manager-role.ts), where a
 * candidate waits clientTimeoutMs for a silent client whose last lease from the old primary may have
 * been granted up to a message delay after the candidacy began.
 */
export function leaseMsFor(clientTimeoutMs: number): number {
  return clientTimeoutMs > 0 ? Math.floor(clientTimeoutMs / 2) : NO_EXPIRY_MS;
}

export interface Request {
  requester: NodeId;
  req: number;
  kind: OpKind;
  /** Manager clock when it was queued (how long a fault on a held page has waited). */
  at?: number;
}

export interface Active extends Request {
  phase: 'invalidating' | 'transferring';
  /** Copy holders whose invalidation acknowledgement we still wait for. */
  awaiting: Set<NodeId>;
  /** Since when (manager clock) the request has been at this step (`step`): tick re-drives a stalled one, `tries` times so far. */
  stalled?: { step: string; since: number; tries: number };
  /** When its current step went out (manager clock), and whether a step was ever sent twice (Karn: no sample then). */
  stepAt?: number;
  redriven?: boolean;
}

export interface PageRecord {
  owner: NodeId | null;
  /** The only copy died with this client: faults on the page fail instead of returning stale or zero data. */
  lostWith: NodeId | null;
  /**
   * The only copy is with this client, which is down but recoverable: faults wait (HELD_WAIT_MS) for it to
   * come back and restore the page, or for `lostInFlight`'s confirm.
   */
  heldBy: NodeId | null;
  /** Since when (manager clock) heldBy has been down. */
  downSince: number | null;
  /**
   * The oldest version of heldBy's copy that is current. It died as the owner: the record's version (its
   * own writes only raised it). It died as the requester of a write transfer: above the record's version,
   * since the sender may have written since its own confirm and a copy at the record's version can be the
   * stale one it kept from before (an equal version is ambiguous and is not restored).
   */
  heldFloor: number;
  /** heldBy died as the requester of this write transfer: should it come back without the page, its sender takes it back. */
  reclaimFrom: { owner: NodeId; req: number; requester: NodeId } | null;
  /**
   * heldBy died as the requester of a first-touch grant: should it come back without the page, it never
   * wrote it (a write is acknowledged only once stored) and the page is still untouched.
   */
  heldUntouched: boolean;
  /**
   * Another client's stored copy at a version not older than heldFloor, reported while heldBy was down and
   * left unvouched (no verdict yet): should heldBy come back alive without the page (an heir named while it
   * was cut off never stored it), this copy is the page. Only a report that heldBy has nothing writes it off.
   */
  spare: { client: NodeId; version: number } | null;
  /** A reclaim sent to the owner and not yet answered: nothing else starts on the page meanwhile. `unsent`: see reclaim. */
  reclaiming: { owner: NodeId; req: number; requester: NodeId; unsent?: boolean } | null;
  /**
   * A transfer to this request was under way when the page was declared lost (or held): its confirm recovers it.
   * `gone`: its requester (recoverable) went down (or was written off) since, and has not said hello again: it may have installed
   * the page and written on it, so the holder's copy may be older than its store's (see restoreFrom).
   */
  lostInFlight: { requester: NodeId; req: number; kind?: OpKind; gone?: boolean } | null;
  /**
   * The page was lost while this request was invalidating copies: holders whose acknowledgement never came
   * may still hold theirs (the invalidation was lost). It goes again until each acknowledges (recoverLoss).
   */
  dropping: { requester: NodeId; req: number; holders: Set<NodeId>; since: number } | null;
  copyset: Set<NodeId>;
  version: number;
  active: Active | null;
  queue: Request[];
  /** Last request served per client, so a retried request that already completed is not served twice. */
  lastDone: Map<NodeId, number>;
  /** The last request refused per client, with why: a retransmission of it (the nack was lost) is refused again. */
  nacked: Map<NodeId, { req: number; reason: string }>;
}

export interface ClientEntry {
  endpoint: string;
  incarnation: number;
  /** The count of its latest hello we know of: the one that listed it, or the one its report named (absent: an older client). */
  hellos?: number;
  /** Requests numbered up to this were sent before that hello: answers to them would reach nobody. */
  seqFloor?: number;
  lastHeard: number;
  /** Where it keeps pages: a down recoverable client still holds what it owned. */
  memory?: ClientMemory;
}

/** Whether a client of this memory mode keeps its pages through a crash. */
export const keepsPages = (memory: ClientMemory | undefined): boolean => memory === 'recoverable' || memory === 'durable';

export interface ManagerCounters {
  requests: number;
  duplicates: number;
  served: number;
  invalidations: number;
  ignored: number;
  evictions: number;
  /** Steps sent again: for a retransmitted request, or by the re-drive timer (recoverLoss). 0 on a healthy run. */
  redrives: number;
}

const sameRequest = (a: { requester: NodeId; req: number }, requester: NodeId, req: number): boolean => a.requester === requester && a.req === req;

export const emptyRecord = (): PageRecord => ({
  owner: null,
  lostWith: null,
  heldBy: null,
  downSince: null,
  heldFloor: 0,
  reclaimFrom: null,
  heldUntouched: false,
  spare: null,
  reclaiming: null,
  lostInFlight: null,
  dropping: null,
  copyset: new Set<NodeId>(),
  version: 0,
  active: null,
  queue: [],
  lastDone: new Map(),
  nacked: new Map(),
});

export class ManagerCore {
  readonly id: NodeId;
  readonly epoch: number;
  private readonly cfg: ManagerConfig;
  private readonly records: PageRecord[];
  /** The client list: every client that said hello, with its endpoint. */
  private readonly clients: Map<NodeId, ClientEntry>;
  /** Pages whose record changed since the last takeDirty() (what the backup needs). */
  private readonly dirty = new Set<number>();
  private lastTick: number | null = null;
  /** Per page, the reclaim we wait on and since when (redriveStalled asks again). */
  private readonly reclaimStalled = new Map<number, { key: string; since: number }>();
  /** Per page, the refusal re-sent to a transfer caught in flight when the page was lost (renackInFlight). */
  private readonly inFlightNacked = new Map<number, { key: string; since: number; tries: number }>();
  /** Round trips of steps answered without a re-drive (Karn): the re-drive interval follows them (rto.ts). */
  private readonly stepRtt: RttEstimator;
  /** The latest clock reading we were given (receive, tick): when a step goes out from a path without `now`. */
  private clock = 0;
  readonly counters: ManagerCounters = { requests: 0, duplicates: 0, served: 0, invalidations: 0, ignored: 0, evictions: 0, redrives: 0 };

  constructor(cfg: ManagerConfig, restored?: { records: PageRecord[]; clients: Map<NodeId, ClientEntry> }) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.epoch = cfg.epoch;
    const every = cfg.redriveMs ?? REDRIVE_MS;
    this.stepRtt = new RttEstimator({ minMs: Math.min(cfg.minRedriveMs ?? every, every), maxMs: every });
    this.records = restored?.records ?? Array.from({ length: cfg.pages }, emptyRecord);
    this.clients = restored?.clients ?? new Map();
  }

  endpointOf(id: NodeId): string | undefined {
    return this.clients.get(id)?.endpoint;
  }

  clientList(): { id: NodeId; endpoint: string }[] {
    return [...this.clients].map(([id, c]) => ({ id, endpoint: c.endpoint }));
  }

  clientEntries(): { id: NodeId; endpoint: string; incarnation: number; memory?: ClientMemory }[] {
    return [...this.clients].map(([id, c]) => ({ id, endpoint: c.endpoint, incarnation: c.incarnation, ...(c.memory ? { memory: c.memory } : {}) }));
  }

  receive(msg: Message, now: number): ManagerOutput[] {
    this.clock = Math.max(this.clock, now);
    if (!msg.from.startsWith('c')) return this.ignore(msg, `${msg.from} is not a client`);
    const client = this.clients.get(msg.from);
    if (msg.t === 'hello') return this.onHello(msg, now);
    if (!client) {
      // A client we declared dead (or never met) is still talking: tell it to start over.
      return [this.send(msg.from, { t: 'evict', from: this.id, epoch: this.epoch, reason: 'unknown to this manager; say hello again' })];
    }
    client.lastHeard = now;
    if (msg.epoch < this.epoch) return this.ignore(msg, `stale epoch ${msg.epoch} < ${this.epoch}`);
    if ('page' in msg && msg.page >= this.cfg.pages) {
      if (msg.t === 'read_req' || msg.t === 'write_req') {
        return [this.nack(msg.from, msg.page, msg.req, `page ${msg.page} is outside 0..${this.cfg.pages - 1}`)];
      }
      return this.ignore(msg, `page ${msg.page} out of range`);
    }
    switch (msg.t) {
      case 'hb':
        // Renews the client's lease (the heartbeat updated lastHeard above, which is what the lease relies on).
        if (msg.n === undefined) return [];
        return [this.send(msg.from, { t: 'hb_ack', from: this.id, epoch: this.epoch, n: msg.n, ms: leaseMsFor(this.cfg.clientTimeoutMs) })];
      case 'read_req':
      case 'write_req': {
        // Request numbers carry the incarnation, and links need not be FIFO. A dead incarnation's request
        // may arrive after its successor's hello: serving it would send a page nobody confirms, wedging
        // the page. A successor's request may overtake its own hello: it proves the restart just as well.
        const inc = Math.floor(msg.req / REQS_PER_INCARNATION);
        if (inc < client.incarnation) return this.ignore(msg, `request ${msg.req} is from an earlier incarnation of ${msg.from}`);
        if (inc === client.incarnation && msg.req <= (client.seqFloor ?? 0)) return this.ignore(msg, `request ${msg.req} was sent before ${msg.from}'s hello #${client.hellos ?? '?'}`);
        let restarted: ManagerOutput[] = [];
        if (inc > client.incarnation) {
          client.incarnation = inc;
          restarted = this.forget(msg.from, now, keepsPages(client.memory));
        }
        return [...restarted, ...this.onRequest(msg, msg.t === 'read_req' ? 'read' : 'write', now)];
      }
      case 'inv_ack':
        return this.onInvAck(msg, now);
      case 'confirm':
        return this.onConfirm(msg, now);
      case 'reclaimed':
        return this.onReclaimed(msg);
      default:
        return this.ignore(msg, `a serving manager does not handle ${msg.t}`);
    }
  }

  /** Declares clients dead that fell silent; the clock is an input like any other. */
  tick(now: number): ManagerOutput[] {
    this.clock = Math.max(this.clock, now);
    const out = [...this.redriveStalled(now), ...this.expireHeld(now)];
    if (this.cfg.clientTimeoutMs <= 0) return out;
    // A long gap since our last tick means we did not run (SIGSTOP, a starved machine): the clients'
    // messages are still queued for us, so the silence is ours. Don't count it against them.
    const gap = this.lastTick === null ? 0 : now - this.lastTick;
    this.lastTick = now;
    if (gap > this.cfg.clientTimeoutMs / 4) for (const c of this.clients.values()) c.lastHeard = Math.min(now, c.lastHeard + gap);
    for (const [id, c] of [...this.clients]) {
      if (now - c.lastHeard <= this.cfg.clientTimeoutMs) continue;
      this.counters.evictions++;
      this.clients.delete(id);
      out.push(...this.forget(id, now, keepsPages(c.memory)));
      // Names the hello it ends, so the client can tell it from an evict it already obeyed.
      const names = { inc: c.incarnation, ...(c.hellos !== undefined ? { n: c.hellos } : {}) };
      out.push(this.send(id, { t: 'evict', from: this.id, epoch: this.epoch, reason: `silent for ${now - c.lastHeard} ms`, ...names }));
    }
    return out;
  }

  recordCache(): RecordView[] {
    return this.records.map((r, page) => ({
      page,
      owner: r.owner,
      lostWith: r.lostWith,
      heldBy: r.heldBy,
      downSince: r.downSince,
      copyset: [...r.copyset].sort(),
      version: r.version,
      active: r.active && { requester: r.active.requester, req: r.active.req, kind: r.active.kind, phase: r.active.phase },
      queue: r.queue.map((q) => ({ ...q })),
      ...(r.heldBy !== null && r.lostInFlight !== null && r.lostInFlight.kind !== 'read' ? { inFlight: { requester: r.lostInFlight.requester, req: r.lostInFlight.req } } : {}),
    }));
  }

  /** Pages whose record changed since the last call. */
  takeDirty(): number[] {
    const pages = [...this.dirty];
    this.dirty.clear();
    return pages;
  }

  // --- handlers -----------------------------------------------------------------

  private onHello(msg: MessageOf<'hello'>, now: number): ManagerOutput[] {
    const known = this.clients.get(msg.from);
    // A dead incarnation's hello arriving late must not replace (and forget) its successor.
    if (known && msg.incarnation < known.incarnation) return this.ignore(msg, `hello from earlier incarnation ${msg.incarnation} of ${msg.from}`);
    const sameInc = known?.incarnation === msg.incarnation;
    const counted = sameInc && msg.n !== undefined && known.hellos !== undefined;
    if (counted && msg.n! < known.hellos!) return this.ignore(msg, `hello #${msg.n} of ${msg.from} is older than #${known.hellos}`);
    // A client re-sends hello only after an evict wiped it: a later hello of the same incarnation is a
    // start-over, and whatever we still recorded for it (a request we serve, pages) is gone as after a reboot.
    const startedOver = known !== undefined && (!sameInc || (counted && msg.n! > known.hellos!));
    const hellos = msg.n ?? (sameInc ? known.hellos : undefined);
    const seqFloor = Math.max(msg.seq ?? 0, sameInc ? (known.seqFloor ?? 0) : 0);
    this.clients.set(msg.from, {
      endpoint: msg.endpoint,
      incarnation: msg.incarnation,
      ...(hellos !== undefined ? { hellos } : {}),
      ...(seqFloor > 0 ? { seqFloor } : {}),
      lastHeard: now,
      ...(msg.memory ? { memory: msg.memory } : {}),
    });
    // A newcomer needs everyone; everyone else needs only to learn of the newcomer.
    const welcome = { t: 'members' as const, from: this.id, epoch: this.epoch, members: this.clientList(), ...(msg.n !== undefined ? { n: msg.n } : {}) };
    const out: ManagerOutput[] = [this.send(msg.from, welcome)];
    // A new incarnation restarted with only what its page store kept (nothing, if volatile): the rest is gone.
    if (startedOver) out.push(...this.forget(msg.from, now, keepsPages(known.memory ?? msg.memory)));
    // What it recovered comes back only where nobody else has had the page since (see restoreFrom).
    out.push(...this.restoreFrom(msg.from, msg.recovered ?? [], msg.n, now));
    if (known?.endpoint !== msg.endpoint) {
      const news = [{ id: msg.from, endpoint: msg.endpoint }];
      for (const id of this.clients.keys()) {
        if (id !== msg.from) out.push(this.send(id, { t: 'members', from: this.id, epoch: this.epoch, members: news }));
      }
    }
    return out;
  }

  private onRequest(msg: MessageOf<'read_req'> | MessageOf<'write_req'>, kind: OpKind, now: number): ManagerOutput[] {
    const rec = this.record(msg.page);
    const done = rec.lastDone.get(msg.from);
    const dup =
      (done !== undefined && msg.req <= done) ||
      (rec.active && sameRequest(rec.active, msg.from, msg.req)) ||
      rec.queue.some((q) => sameRequest(q, msg.from, msg.req));
    if (dup) {
      this.counters.duplicates++;
      return this.answerAgain(msg.page, msg.from, msg.req);
    }
    if (rec.lostWith !== null) return [this.lostNack(msg.page, rec.lostWith, msg.from, msg.req)];
    this.counters.requests++;
    // On a held page it waits for the holder's reboot (startNext does not start it; expireHeld fails it in time).
    rec.queue.push({ requester: msg.from, req: msg.req, kind, at: now });
    return rec.active ? [] : this.startNext(msg.page);
  }

  private onInvAck(msg: MessageOf<'inv_ack'>, now: number): ManagerOutput[] {
    const rec = this.record(msg.page);
    const d = rec.dropping;
    if (d && sameRequest(d, msg.requester, msg.req) && d.holders.delete(msg.from)) {
      if (d.holders.size === 0) rec.dropping = null;
      return [];
    }
    const a = rec.active;
    if (!a || !sameRequest(a, msg.requester, msg.req) || a.phase !== 'invalidating' || !a.awaiting.has(msg.from)) {
      // A repeat for a request past its invalidations (the holder answers every re-sent or duplicated invalidate).
      const repeat = a && sameRequest(a, msg.requester, msg.req) ? msg.from !== a.requester : (rec.lastDone.get(msg.requester) ?? -1) >= msg.req;
      if (repeat && this.cfg.recoverLoss) return this.duplicate();
      return this.ignore(msg, 'acknowledgement for no invalidation in progress');
    }
    a.awaiting.delete(msg.from);
    rec.copyset.delete(msg.from);
    this.dirty.add(msg.page);
    if (a.awaiting.size > 0) return [];
    this.sampleStep(a, now);
    a.stepAt = now;
    return this.transferForWrite(msg.page, rec, a);
  }

  private onConfirm(msg: MessageOf<'confirm'>, now: number): ManagerOutput[] {
    const rec = this.record(msg.page);
    const a = rec.active;
    const lif = rec.lostInFlight;
    if ((rec.lostWith !== null || rec.heldBy !== null) && lif && sameRequest(lif, msg.from, msg.req) && msg.access !== 'none') {
      // The page was declared lost (or held by a down client) while its data was still on the way to this requester: it survived.
      rec.lostWith = null;
      rec.heldBy = null;
      rec.downSince = null;
      rec.reclaimFrom = null;
      rec.lostInFlight = null;
      rec.owner = msg.from;
      rec.copyset.clear();
      rec.version = msg.version;
      this.markDone(rec, msg.from, msg.req);
      // A held page kept this request queued for its holder to re-serve: it is served now.
      rec.queue = rec.queue.filter((q) => !sameRequest(q, msg.from, msg.req));
      this.dirty.add(msg.page);
      return [this.send(msg.from, { t: 'own', from: this.id, epoch: this.epoch, page: msg.page, version: msg.version }), ...this.startNext(msg.page)];
    }
    if (!a || !sameRequest(a, msg.from, msg.req) || a.phase !== 'transferring') {
      // A repeat of a confirm we took (the client confirms again each re-sent or duplicated answer).
      if (this.cfg.recoverLoss && (rec.lastDone.get(msg.from) ?? -1) >= msg.req && rec.lostInFlight === null) return this.duplicate();
      return this.ignore(msg, 'confirmation for no transfer in progress');
    }
    if (msg.access === 'write') {
      rec.owner = msg.from;
      rec.copyset.clear();
    } else if (rec.owner === null) {
      rec.owner = msg.from;
    } else if (rec.owner !== msg.from) {
      rec.copyset.add(msg.from);
    }
    rec.version = msg.version;
    rec.active = null;
    this.sampleStep(a, now);
    this.markDone(rec, msg.from, msg.req);
    this.dirty.add(msg.page);
    this.counters.served++;
    return this.startNext(msg.page);
  }

  /**
   * A retransmitted request: the requester still waits, so something we (or the owner) sent was lost.
   * The active request gets its current step again, a refused one its nack; a queued one waits its turn.
   * Every step is idempotent at its receiver (request ids), so a re-send that crosses the original is harmless.
   */
  protected answerAgain(page: number, requester: NodeId, req: number): ManagerOutput[] {
    if (!this.cfg.recoverLoss) return [];
    const rec = this.record(page);
    const a = rec.active;
    if (a && sameRequest(a, requester, req)) return this.redrive(page, rec, a);
    const refused = rec.nacked.get(requester);
    if (refused?.req === req) {
      this.counters.redrives++;
      return [this.nack(requester, page, req, refused.reason)];
    }
    return [];
  }

  /** A step answered (all invalidations acknowledged, or the confirm): its round trip, if it went out once. */
  private sampleStep(a: Active, now: number): void {
    if (a.stepAt !== undefined && a.redriven !== true) this.stepRtt.sample(now - a.stepAt);
  }

  /** Sends the step the active request waits on again: its invalidations still unacknowledged, or its transfer. */
  private redrive(page: number, rec: PageRecord, a: Active): ManagerOutput[] {
    this.counters.redrives++;
    a.redriven = true;
    if (a.phase === 'invalidating') {
      return [...a.awaiting].map((holder) =>
        this.send(holder, { t: 'invalidate', from: this.id, epoch: this.epoch, page, req: a.req, requester: a.requester, ...this.incOf(holder) }),
      );
    }
    const transfer = a.kind === 'read' ? this.transferForRead(page, rec, a) : this.transferForWrite(page, rec, a);
    // A forward: the owner sends the page straight to the requester, whose address it learned from a member
    // list that may have been lost too. The requester's entry again, ahead of the forward on the same link.
    const endpoint = this.clients.get(a.requester)?.endpoint;
    if (rec.owner === null || rec.owner === a.requester || endpoint === undefined) return transfer;
    return [this.send(rec.owner, { t: 'members', from: this.id, epoch: this.epoch, members: [{ id: a.requester, endpoint }] }), ...transfer];
  }

  /** Re-drives active requests stuck at one step for redriveMs (a lost confirm, or a requester that stopped retrying). */
  private redriveStalled(now: number): ManagerOutput[] {
    const every = this.cfg.redriveMs ?? REDRIVE_MS;
    if (!this.cfg.recoverLoss || every <= 0) return [];
    const out: ManagerOutput[] = [];
    this.records.forEach((rec, page) => {
      const r = rec.reclaiming;
      if (r) {
        // The reclaim or its answer was lost: ask again (the owner answers a repeat the same way).
        const key = `${r.owner}:${r.requester}:${r.req}`;
        const since = this.reclaimStalled.get(page);
        if (since?.key !== key) this.reclaimStalled.set(page, { key, since: now });
        else if (now - since.since >= every) {
          since.since = now;
          this.counters.redrives++;
          out.push(this.reclaimMsg(page, r));
        }
      }
      out.push(...this.renackInFlight(page, rec, now, every), ...this.redriveDropping(page, rec, now, every));
      const a = rec.active;
      if (!a) return;
      const step = `${a.phase}:${[...a.awaiting].sort().join(',')}:${rec.owner ?? ''}`;
      if (a.stalled?.step !== step) {
        // The step as first seen by a tick (a request started by a frame has stepAt, a rebuilt one not).
        a.stalled = { step, since: Math.min(now, a.stepAt ?? now), tries: 0 };
      }
      if (now - a.stalled.since < this.stepRtt.backoff(a.stalled.tries)) return;
      a.stalled.since = now;
      a.stalled.tries++;
      out.push(...this.redrive(page, rec, a));
    });
    return out;
  }

  /**
   * A page written off (or held) while its page was on the way to a requester: the requester's confirm is
   * what recovers it (onConfirm), and it confirms again on the refusal. Both may be lost, and a requester
   * that installed the page asks nothing more: the refusal goes again a few times (the requester ignores
   * it if it never installed the page). A queued request is refused by expireHeld instead.
   */
  private renackInFlight(page: number, rec: PageRecord, now: number, every: number): ManagerOutput[] {
    const lif = rec.lostInFlight;
    const queued = lif !== null && rec.queue.some((q) => sameRequest(q, lif.requester, lif.req));
    if (lif === null || queued || (rec.lostWith === null && rec.heldBy === null)) {
      this.inFlightNacked.delete(page);
      return [];
    }
    const key = `${lif.requester}:${lif.req}`;
    const last = this.inFlightNacked.get(page);
    if (last?.key !== key) {
      this.inFlightNacked.set(page, { key, since: now, tries: 0 });
      return [];
    }
    if (now - last.since < every || last.tries >= MAX_IN_FLIGHT_RENACKS) return [];
    last.since = now;
    last.tries++;
    this.counters.redrives++;
    const why = rec.lostWith !== null ? `page ${page} was lost: its only copy was held by ${rec.lostWith}, ${LOST_HOW}` : `page ${page} is held by ${rec.heldBy} (down)`;
    return [this.send(lif.requester, { t: 'nack', from: this.id, epoch: this.epoch, page, req: lif.req, reason: why })];
  }

  // --- the per-page queue ---------------------------------------------------------

  private startNext(page: number): ManagerOutput[] {
    const rec = this.record(page);
    if (rec.active || rec.heldBy !== null || rec.reclaiming !== null) return [];
    if (rec.lostWith !== null) {
      const lostWith = rec.lostWith;
      return rec.queue.splice(0).map((q) => this.lostNack(page, lostWith, q.requester, q.req));
    }
    const next = rec.queue.shift();
    if (!next) return [];
    const a: Active = { ...next, phase: 'transferring', awaiting: new Set(), stepAt: this.clock };
    rec.active = a;
    if (next.kind === 'read') return this.transferForRead(page, rec, a);
    for (const holder of rec.copyset) {
      if (holder !== a.requester && holder !== rec.owner) a.awaiting.add(holder);
    }
    if (a.awaiting.size === 0) return this.transferForWrite(page, rec, a);
    a.phase = 'invalidating';
    this.counters.invalidations += a.awaiting.size;
    return [...a.awaiting].map((holder) =>
      this.send(holder, { t: 'invalidate', from: this.id, epoch: this.epoch, page, req: a.req, requester: a.requester, ...this.incOf(holder) }),
    );
  }

  private transferForRead(page: number, rec: PageRecord, a: Active): ManagerOutput[] {
    const base = { from: this.id, epoch: this.epoch, page, req: a.req };
    // First touch: the requester becomes the owner of a zero page, with write access since no one else has a copy.
    if (rec.owner === null) return [this.zeroGrant(page, a)];
    if (rec.owner === a.requester) return [this.send(a.requester, { t: 'grant', ...base, access: 'read', zero: false })];
    return [this.send(rec.owner, { t: 'read_fwd', ...base, requester: a.requester, ...this.incOf(rec.owner) })];
  }

  private transferForWrite(page: number, rec: PageRecord, a: Active): ManagerOutput[] {
    a.phase = 'transferring';
    const base = { from: this.id, epoch: this.epoch, page, req: a.req };
    if (rec.owner === null) return [this.zeroGrant(page, a)];
    if (rec.owner === a.requester) return [this.send(a.requester, { t: 'grant', ...base, access: 'write', zero: false })];
    return [this.send(rec.owner, { t: 'write_fwd', ...base, requester: a.requester, ...this.incOf(rec.owner) })];
  }

  /** A first-touch grant: the page is marked changed so the backup's replica names the grant at once (replicaOf). */
  private zeroGrant(page: number, a: Active): ManagerOutput {
    this.dirty.add(page);
    return this.send(a.requester, { t: 'grant', from: this.id, epoch: this.epoch, page, req: a.req, access: 'write', zero: true });
  }

  // --- a client that restarted or died ----------------------------------------------

  /**
   * Drops everything `dead` held or asked for. Pages it alone held are lost; pages with a
   * surviving read copy pass to that copy's holder. A fault stuck on the dead client is
   * re-driven or failed, so no queue waits forever.
   */
  private forget(dead: NodeId, now: number, keeps: boolean): ManagerOutput[] {
    const lose = (rec: PageRecord, inFlight: { requester: NodeId; req: number; kind?: OpKind } | null): void => {
      if (keeps) this.hold(rec, dead, inFlight, now);
      else this.lose(rec, dead, inFlight);
    };
    const out: ManagerOutput[] = [];
    this.records.forEach((rec, page) => {
      const a = rec.active;
      // A sender that died keeps no copy to take back; one that died being asked is the page's owner (below).
      if (rec.reclaimFrom?.owner === dead) rec.reclaimFrom = null;
      if (rec.reclaiming?.owner === dead) rec.reclaiming = null;
      if (rec.spare?.client === dead) rec.spare = null;
      const lif = rec.lostInFlight;
      if (lif?.requester === dead && lif.kind !== 'read' && rec.heldBy !== null && rec.heldBy !== dead) {
        // The holder went down serving this write transfer, and now its requester is down too: it may have installed
        // the page and written (acknowledged), its confirm lost. Its store decides when it says hello (restoreFrom);
        // a volatile one kept nothing, and its writes may be gone with it: the page is lost with it.
        this.dirty.add(page);
        if (keeps) lif.gone = true;
        else {
          this.lose(rec, dead, null);
          out.push(...this.startNext(page));
        }
      }
      if (rec.owner !== dead && !rec.copyset.has(dead) && !a && !rec.queue.some((q) => q.requester === dead)) return;
      this.dirty.add(page);
      rec.copyset.delete(dead);
      rec.lastDone.delete(dead);
      rec.nacked.delete(dead);
      rec.queue = rec.queue.filter((q) => q.requester !== dead);
      if (a?.requester === dead) {
        // A write on its way to the dead requester may already have emptied the old owner; a zero page
        // granted to it (owner still null) may have been installed and written: either way it died there.
        if ((a.kind === 'write' || rec.owner === null) && a.phase === 'transferring' && rec.owner !== dead) {
          const sender = rec.owner;
          if (!keeps && sender !== null && this.cfg.recoverLoss) {
            // The forward may have been lost on a lossy link: the sender still has the page then. Ask before writing it off.
            out.push(this.reclaimUnsent(page, rec, { owner: sender, req: a.req, requester: dead }));
            rec.active = null;
            return;
          }
          lose(rec, null);
          if (rec.heldBy !== null && sender !== null) {
            rec.heldFloor = rec.version + 1;
            rec.reclaimFrom = { owner: sender, req: a.req, requester: dead };
          } else if (rec.heldBy !== null) {
            rec.heldUntouched = true;
          }
        }
        rec.active = null;
      } else if (a) {
        a.awaiting.delete(dead);
      }
      const live = rec.active;
      if (rec.owner === dead) {
        // An heir must still hold its copy: holders we are invalidating may have dropped theirs already,
        // also when the invalidating writer is the dead client itself (its request was just dropped).
        const heir = [...rec.copyset].filter((h) => !(a?.phase === 'invalidating' && a.awaiting.has(h))).sort()[0];
        if (heir === undefined) {
          lose(rec, live?.phase === 'transferring' ? live : null);
          if (a?.phase === 'invalidating') this.finishDropping(rec, a, dead, now);
          // A held page keeps the live request waiting (its page may still arrive; else the holder re-serves it).
          if (live && rec.heldBy === null) out.push(this.lostNack(page, dead, live.requester, live.req));
          else if (live) rec.queue.unshift({ requester: live.requester, req: live.req, kind: live.kind, at: now });
          rec.active = null;
        } else {
          rec.owner = heir;
          rec.copyset.delete(heir);
          out.push(this.send(heir, { t: 'own', from: this.id, epoch: this.epoch, page, version: rec.version }));
          // The forward went to the dead owner: re-drive it from the heir (a duplicate page for one request is ignored).
          if (live?.phase === 'transferring') out.push(...(live.kind === 'read' ? this.transferForRead(page, rec, live) : this.transferForWrite(page, rec, live)));
        }
      }
      const still = rec.active;
      if (still?.phase === 'invalidating' && still.awaiting.size === 0) out.push(...this.transferForWrite(page, rec, still));
      out.push(...this.startNext(page));
    });
    return out;
  }

  /**
   * The requester of a write transfer died, and it may have written the page (its memory is volatile): the
   * page is lost, unless its sender never sent it. Until the sender answers (onReclaimed) nothing else starts.
   */
  private reclaimUnsent(page: number, rec: PageRecord, r: { owner: NodeId; req: number; requester: NodeId }): ManagerOutput {
    rec.reclaiming = { ...r, unsent: true };
    return this.reclaimMsg(page, rec.reclaiming);
  }

  private reclaimMsg(page: number, r: NonNullable<PageRecord['reclaiming']>): ManagerOutput {
    return this.send(r.owner, { t: 'reclaim', from: this.id, epoch: this.epoch, page, req: r.req, requester: r.requester, ...(r.unsent ? { unsent: true } : {}) });
  }

  /** Holders still asked to drop their copy of a page lost mid-invalidation (see PageRecord.dropping). */
  private finishDropping(rec: PageRecord, a: Active, dead: NodeId, now: number): void {
    const holders = new Set([...a.awaiting].filter((h) => h !== dead));
    if (this.cfg.recoverLoss && holders.size > 0) rec.dropping = { requester: a.requester, req: a.req, holders, since: now };
  }

  /** Re-sends the invalidations of a page lost mid-invalidation until every holder has acknowledged. */
  private redriveDropping(page: number, rec: PageRecord, now: number, every: number): ManagerOutput[] {
    const d = rec.dropping;
    if (d === null || now - d.since < every) return [];
    d.since = now;
    this.counters.redrives++;
    return [...d.holders].map((holder) => this.send(holder, { t: 'invalidate', from: this.id, epoch: this.epoch, page, req: d.req, requester: d.requester, ...this.incOf(holder) }));
  }

  private lose(rec: PageRecord, dead: NodeId, inFlight: { requester: NodeId; req: number } | null): void {
    rec.owner = null;
    rec.copyset.clear();
    rec.lostWith = dead;
    rec.heldBy = null;
    rec.downSince = null;
    rec.reclaimFrom = null;
    rec.reclaiming = null;
    rec.lostInFlight = inFlight && { requester: inFlight.requester, req: inFlight.req };
  }

  /** Like lose, but the down client's page store still has the page: it waits for its reboot. */
  private hold(rec: PageRecord, dead: NodeId, inFlight: { requester: NodeId; req: number; kind?: OpKind } | null, now: number): void {
    rec.owner = null;
    rec.copyset.clear();
    rec.lostWith = null;
    rec.heldBy = dead;
    rec.downSince = now;
    rec.heldFloor = rec.version;
    rec.reclaimFrom = null;
    rec.heldUntouched = false;
    rec.lostInFlight = inFlight && { requester: inFlight.requester, req: inFlight.req, ...(inFlight.kind ? { kind: inFlight.kind } : {}) };
  }

  /**
   * A client (rebooted, or evicted while merely slow) reports the pages its store kept. A page comes back
   * only if the records say this client holds it alone (heldBy) and its copy is not older than the one
   * the records know: then no other client can have written it since (the page was never handed out).
   * Every other recovered copy is stale and dropped. A held page the client did not recover is lost.
   * Except: a copy newer than the held client's never loses to it (the held client gave the page away and its
   * requester wrote on it, the confirm lost): the newest stored copy at or above the floor is the page.
   */
  private restoreFrom(client: NodeId, recovered: readonly { page: number; version: number }[], n: number | undefined, now: number): ManagerOutput[] {
    const out: ManagerOutput[] = [];
    const verdict = (page: number, version: number, keep: boolean): void => {
      out.push(this.send(client, { t: 'restore', from: this.id, epoch: this.epoch, page, version, keep, ...(n !== undefined ? { n } : {}) }));
    };
    const reported = new Map<number, number>();
    for (const r of recovered) if (r.page < this.cfg.pages) reported.set(r.page, r.version);
    this.records.forEach((rec, page) => {
      const version = reported.get(page);
      reported.delete(page);
      if (rec.heldBy !== client) {
        const lif = rec.lostInFlight;
        if (version !== undefined && rec.heldBy !== null && rec.owner === null && lif?.requester === client && version > rec.heldFloor) {
          // The requester of the transfer the holder went down serving, with a copy newer than the holder had when it
          // went down: it installed the page (every older copy in its store predates the holder's turn) and wrote on
          // it. Its copy is the page; the holder's is older (what it sent, or before). Restoring the holder's lost
          // the requester's acknowledged writes (pair-sim partition seed 2554, its confirm lost to the cut).
          if (rec.spare !== null) out.push(this.sendRestore(rec.spare.client, page, rec.spare.version, false));
          Object.assign(rec, { heldBy: null, downSince: null, spare: null, lostInFlight: null, owner: client, version });
          rec.queue = rec.queue.filter((q) => !sameRequest(q, lif.requester, lif.req));
          this.dirty.add(page);
          verdict(page, version, true);
          out.push(...this.startNext(page));
          return;
        }
        // Its store had no newer copy, so it never installed the page or wrote on it: the holder's copy is not older.
        if (lif?.requester === client && lif.gone) delete lif.gone;
        if (version !== undefined && (this.maySpare(rec, version) || (lif?.requester === client && rec.heldBy !== null && rec.owner === null && version >= rec.heldFloor))) {
          // (The requester in flight at the held version: it may have installed what was sent, or kept an old copy; the
          // holder's copy decides, below. Either is the page if the versions agree.)
          // Held for another client that may come back without it: kept, unvouched, until that one reports.
          if (rec.spare === null || rec.spare.version <= version) rec.spare = { client, version };
          return;
        }
        // Still its owner by our records (an evicted client saying hello again, a repeated hello): its copy is the page.
        if (version !== undefined) verdict(page, version, rec.owner === client && version >= rec.version);
        return;
      }
      this.dirty.add(page);
      const spare = rec.spare;
      rec.spare = null;
      if ((version === undefined || version < rec.heldFloor) && spare !== null && this.maySpare(rec, spare.version) && this.clients.has(spare.client)) {
        // Alive, and its store has no current copy: it never stored the page (made heir of a read copy while
        // cut off). The page has not moved since it was held, so the spare's copy is the page.
        if (version !== undefined) verdict(page, version, false);
        Object.assign(rec, { heldBy: null, downSince: null, owner: spare.client, version: spare.version });
        out.push(this.sendRestore(spare.client, page, spare.version, true));
        out.push(...this.startNext(page));
        return;
      }
      if (version !== undefined && version >= rec.heldFloor && spare !== null && spare.version > version && this.clients.has(spare.client)) {
        // Back with a current copy, but another store has a newer one: the holder gave the page away (its requester
        // installed it and wrote; the confirm was lost) before it went down. The newest copy is the page (see
        // rebuild.ts, `newer`): never restore an older copy over a newer one.
        verdict(page, version, false);
        Object.assign(rec, { heldBy: null, downSince: null, reclaimFrom: null, lostInFlight: null, owner: spare.client, version: spare.version });
        out.push(this.sendRestore(spare.client, page, spare.version, true));
        out.push(...this.startNext(page));
        return;
      }
      const gone = rec.lostInFlight?.gone === true ? rec.lostInFlight : null;
      if (version !== undefined && version >= rec.heldFloor && gone !== null) {
        // We went down serving this write transfer, and its requester went down since and has not said hello again:
        // its store may have the page at a newer version (installed, written, the confirm lost). Restoring ours now
        // would lose those writes. The page waits for the requester instead, ours kept unvouched as its spare: a copy
        // of its at our version or above is the page (it installed ours), else ours is (it never got it).
        if (spare !== null) out.push(this.sendRestore(spare.client, page, spare.version, false));
        Object.assign(rec, { heldBy: gone.requester, downSince: now, heldFloor: version, lostInFlight: null, reclaimFrom: null, heldUntouched: false, spare: { client, version } });
        return;
      }
      if (spare !== null) out.push(this.sendRestore(spare.client, page, spare.version, false));
      if (version === undefined || version < rec.heldFloor) {
        // Its store did not keep the page (volatile now, a damaged segment, a write it never received).
        if (version !== undefined) verdict(page, version, false);
        const back = rec.reclaimFrom;
        if (rec.heldUntouched) {
          Object.assign(rec, { heldBy: null, downSince: null, heldUntouched: false, owner: null, version: 0 });
          out.push(...this.startNext(page));
          return;
        }
        if (back) {
          // It never installed the page sent to it: the sender's copy is current. Nothing else moved meanwhile.
          rec.heldBy = null;
          rec.downSince = null;
          rec.reclaimFrom = null;
          rec.owner = back.owner;
          rec.reclaiming = back;
          out.push(this.send(back.owner, { t: 'reclaim', from: this.id, epoch: this.epoch, page, req: back.req, requester: back.requester }));
          return;
        }
        this.lose(rec, client, null);
        out.push(...this.startNext(page));
        return;
      }
      rec.heldBy = null;
      rec.downSince = null;
      rec.reclaimFrom = null;
      rec.owner = client;
      rec.version = version;
      const lif = rec.lostInFlight;
      rec.lostInFlight = null;
      const waiting = lif && rec.queue.findIndex((q) => sameRequest(q, lif.requester, lif.req));
      if (lif && waiting !== null && waiting >= 0) {
        // It went down serving this request: the page may have reached the requester. Have it serve the
        // request again from its recovered copy BEFORE it may use the page (no restore yet): a write it
        // made now could otherwise be lost to the copy already on its way.
        const [q] = rec.queue.splice(waiting, 1);
        const a: Active = { requester: q!.requester, req: q!.req, kind: q!.kind, phase: 'transferring', awaiting: new Set() };
        rec.active = a;
        out.push(...(a.kind === 'read' ? this.transferForRead(page, rec, a) : this.transferForWrite(page, rec, a)));
        return;
      }
      verdict(page, version, true);
      out.push(...this.startNext(page));
    });
    for (const [page, version] of reported) verdict(page, version, false);
    return out;
  }

  /** A verdict on another client's recovered copy (a spare's), naming its latest hello we know. */
  private sendRestore(client: NodeId, page: number, version: number, keep: boolean): ManagerOutput {
    const n = this.clients.get(client)?.hellos;
    return this.send(client, { t: 'restore', from: this.id, epoch: this.epoch, page, version, keep, ...(n !== undefined ? { n } : {}) });
  }

  /**
   * A copy at `version` can stand in for the held client's: the page waits for that client alone (no transfer
   * of it was on the way, no first-touch grant or write transfer whose requester it was), so nothing newer
   * than the floor exists outside the held client's store.
   */
  private maySpare(rec: PageRecord, version: number): boolean {
    return rec.heldBy !== null && rec.owner === null && version >= rec.heldFloor && rec.lostInFlight === null && rec.reclaimFrom === null && !rec.heldUntouched;
  }

  private onReclaimed(msg: MessageOf<'reclaimed'>): ManagerOutput[] {
    const rec = this.record(msg.page);
    const r = rec.reclaiming;
    if (!r || r.owner !== msg.from || r.req !== msg.req || r.requester !== msg.requester) return this.ignore(msg, 'answer to no reclaim in progress');
    rec.reclaiming = null;
    this.dirty.add(msg.page);
    if (msg.ok) rec.version = Math.max(rec.version, msg.version);
    else this.lose(rec, r.requester, null);
    return this.startNext(msg.page);
  }

  /** Faults that waited HELD_WAIT_MS on a page held by a down client fail, naming it. */
  private expireHeld(now: number): ManagerOutput[] {
    const out: ManagerOutput[] = [];
    const wait = this.cfg.heldWaitMs ?? HELD_WAIT_MS;
    this.records.forEach((rec, page) => {
      if (rec.heldBy === null || rec.queue.length === 0) return;
      const holder = rec.heldBy;
      const down = rec.downSince === null ? '' : `, down for ${Math.round(now - rec.downSince)} ms`;
      rec.queue = rec.queue.filter((q) => {
        if (now - (q.at ?? now) < wait) return true;
        // The client fails the op and asks again with a new request if it wants the page. This one is
        // answered: a retransmission of it still on the way must not queue it again (its page would reach
        // a client that no longer waits for it, and the page would wait for a confirm forever).
        if ((rec.lastDone.get(q.requester) ?? -1) < q.req) rec.lastDone.set(q.requester, q.req);
        out.push(this.nack(q.requester, page, q.req, `page ${page} is held by ${holder} (down${down}); waited ${wait} ms: reboot ${holder} to serve it again`));
        return false;
      });
    });
    return out;
  }

  private lostNack(page: number, lostWith: NodeId, requester: NodeId, req: number): ManagerOutput {
    // A nack ends the request as a confirm does: a retry of it that arrives later must not be served.
    const rec = this.record(page);
    if ((rec.lastDone.get(requester) ?? -1) < req) rec.lastDone.set(requester, req);
    return this.nack(requester, page, req, `page ${page} was lost: its only copy was held by ${lostWith}, ${LOST_HOW}`);
  }

  private nack(to: NodeId, page: number, req: number, reason: string): ManagerOutput {
    // Remembered (ended requests only: lastDone is set with it), so a retransmission is refused again.
    const rec = this.records[page];
    if (rec && (rec.lastDone.get(to) ?? -1) >= req) rec.nacked.set(to, { req, reason });
    return this.send(to, { t: 'nack', from: this.id, epoch: this.epoch, page, req, reason });
  }

  // --- helpers ----------------------------------------------------------------------

  private record(page: number): PageRecord {
    const r = this.records[page];
    if (!r) throw new RangeError(`page ${page}`); // unreachable: receive() range-checks pages
    return r;
  }

  /** The incarnation a forward or invalidation is meant for (see the message schema). */
  private incOf(id: NodeId): { inc?: number; n?: number } {
    const c = this.clients.get(id);
    if (!c) return {};
    return c.hellos !== undefined ? { inc: c.incarnation, n: c.hellos } : { inc: c.incarnation };
  }

  /** Request ids only grow per client: a confirm of an older request (a page that survived) must not lower the mark. */
  private markDone(rec: PageRecord, client: NodeId, req: number): void {
    if ((rec.lastDone.get(client) ?? -1) < req) rec.lastDone.set(client, req);
  }

  /** A frame repeated by a lossy link's recovery (or duplicated by the network): nothing to do, nothing wrong. */
  private duplicate(): ManagerOutput[] {
    this.counters.duplicates++;
    return [];
  }

  private send(to: NodeId, msg: Message): ManagerOutput {
    return { type: 'send', to, msg };
  }

  private ignore(msg: Message, reason: string): ManagerOutput[] {
    this.counters.ignored++;
    return [{ type: 'ignored', msg, reason }];
  }
}
