// The IVY client as a deterministic state machine (Li & Hudak's central-manager
// algorithm). It owns a page table; read and write hits are served locally, faults
// go to the manager, and page copies travel owner -> requester. No I/O here: the
// runtime feeds it decoded messages, operations and clock readings, and carries
// out the returned outputs in order.
import type { Access, ClientMemory, Message, MessageOf, NodeId } from '../protocol/messages.js';
import type { MemberCore } from './protocol.js';
import type { ClientOutput, OpKind, OpRequest, OpResult, PageView } from './types.js';
import { PageMap } from './page-map.js';
import { RttEstimator } from './rto.js';

export interface ClientConfig {
  id: NodeId;
  endpoint: string;
  /** Every manager seat (primary first); hello goes to all so a backup knows the client list. */
  managers: NodeId[];
  epoch: number;
  pages: number;
  pageSize: number;
  /** An operation that waits longer than this for its fault fails (never hangs). */
  opTimeoutMs: number;
  /** Restart count of this client id; requests of different incarnations never share a number. */
  incarnation: number;
  /** How often to tell the manager we are alive. */
  heartbeatMs: number;
  /**
   * An unanswered fault is sent again (same request number) after at most this long: the upper bound of
   * the adaptive retransmission timeout (rto.ts), and its value before any round trip was measured.
   */
  retryMs: number;
  /**
   * The lower bound of the adaptive retransmission timeout: a fault is sent again after srtt + 4 rttvar of
   * the faults answered at the first send (Karn), doubled per retry, within [minRetryMs, retryMs]. Absent:
   * a fixed retryMs, as before.
   */
  minRetryMs?: number;
  /** Where pages are kept (default volatile): recoverable and durable clients persist what they own (takeDirty). */
  memory?: ClientMemory;
  /** Pages this client's store kept from an earlier incarnation: unusable until the manager's `restore`. */
  recovered?: readonly RecoveredEntry[];
  /**
   * MUTANT, never set in production: serve hits without a lease (the behaviour before client leases),
   * so a client paused past its eviction serves stale copies. The simulators must catch it.
   */
  unsafeNoLease?: boolean;
  /**
   * Recover lost and duplicated frames (issue 11's lossy nemesis): re-send hello until listed, answer a
   * repeated forward from the copy served, confirm again on a repeated answer, take a repeated invalidation
   * as done. Off by default until the takeover paths are proven under loss (see ManagerConfig.recoverLoss).
   */
  recoverLoss?: boolean;
  /**
   * The managers' leader lease (quorum.ts; the supervisor passes leaseMsFor(clientTimeoutMs)). A client
   * that heard from a manager promises, for this long, not to help another manager to authority; its
   * heartbeats then vote for the manager it follows. 0 or absent: this client never votes.
   */
  voteMs?: number;
}

/** A page as the store keeps it: what an owner needs to serve it again. */
export interface RecoveredEntry {
  page: number;
  access: 'read' | 'write';
  version: number;
  data: Uint8Array;
}

/** What the shell must make recoverable before it acts on the outputs: a page's owner copy, or its erasure. */
export type StoreChange = { page: number; keep: RecoveredEntry } | { page: number; keep: null };

/** Of a lease the manager grants, the client trusts only this share: slack for timers and scheduling. */
const LEASE_TRUST = 0.9;
/** Heartbeat send times kept to match acknowledgements (a late ack for an older one is simply dropped). */
const MAX_HB_SENT = 32;
/** Forwards held for the lease at most (the manager runs one transfer per page at a time: a few per page is plenty). */
const MAX_DEFERRED = 1024;

/** Request numbers of incarnation k start at k * REQS_PER_INCARNATION, so a stale answer can't match a new request. */
export const REQS_PER_INCARNATION = 1_000_000;
/** What takeDirty() returns when nothing changed: shared, never written to. */
const NO_CHANGES: readonly StoreChange[] = Object.freeze([]);

interface Entry {
  access: Access;
  /** Owner: holds the authoritative copy the manager forwards requests to. */
  owner: boolean;
  version: number;
  data: Uint8Array | null;
  /**
   * Recovered from the page store (after a crash or an eviction) and not yet vouched for: held with access
   * 'none' until the manager restores it (or forwards a request to it, or says it is stale).
   */
  stashed: Access | null;
}

interface Waiting {
  op: OpRequest;
  since: number;
  /** True once the op had to wait for the manager (so it is not a cache hit). */
  faulted: boolean;
}

interface Pending {
  req: number;
  kind: OpKind;
  sentAt: number;
  /** Times the request went out (Karn: only an answer to a request sent once is a round-trip sample). */
  sends: number;
  /** Retransmissions since the last (re)start of this request's timer: the backoff exponent. */
  tries: number;
  /** A page sent before the last takeover, held until the new manager vouches for it with `resume`. */
  stashed: MessageOf<'page_data'> | null;
  /** The new manager said the pre-takeover page for this request is genuine. */
  resumed: boolean;
}

type Served = { to: NodeId; req: number; kind: OpKind };

// A type alias (not an interface) so it is assignable to MemberCore's Record<string, number>.
export type ClientCounters = {
  ops: number;
  hits: number;
  faults: number;
  failed: number;
  ignored: number;
  evictions: number;
  takeovers: number;
  /** Ops that found the lease run out and waited for the manager to renew it (or to evict us). */
  revalidations: number;
  /** Faults and hellos sent again for want of an answer (a lost frame, or a slow manager): 0 on a healthy run. */
  retransmits: number;
  /** Answers sent again because a repeated frame asked (page, confirm): 0 on a healthy run without duplicates. */
  repeats: number;
};

const covers = (have: Access, need: OpKind): boolean =>
  have === 'write' || (have === 'read' && need === 'read');

export class ClientCore implements MemberCore {
  readonly id: NodeId;
  private readonly cfg: ClientConfig;
  private epoch: number;
  private manager: NodeId;
  private readonly table: Entry[];
  /** Ops per page, in arrival order, waiting behind a fault. */
  private readonly waiting: PageMap<Waiting[]>;
  /** At most one outstanding fault per page. */
  private readonly pending: PageMap<Pending>;
  private seq = 0;
  /** Last forward served per page: reported at a takeover so an in-flight transfer is resumed, not lost. */
  private readonly served = new Map<number, Served>();
  /** The copy given away by the last write forward per page, until the page comes back: a `reclaim` reinstates it. */
  private readonly given: PageMap<{ to: NodeId; req: number; access: Access; version: number; data: Uint8Array }>;
  /**
   * Per page and requester, the last request we served a forward for, and our version then. Links may lose
   * and duplicate frames: a repeated forward for it is answered from the same copy (the manager re-sends a
   * forward when the page_data was lost), an older one is void. Kept across epochs: a request is served
   * once, whichever manager asks (see forwardRepeat).
   */
  private readonly forwarded = new Map<number, Map<NodeId, { req: number; version: number }>>();
  /**
   * Per page and requester, the last request whose invalidation we carried out, and the manager's epoch.
   * A repeat of the same epoch (the manager re-sends while our inv_ack is lost, or the network duplicated
   * it) is acknowledged again but must not drop a copy we fetched since: within an epoch the manager
   * serves nothing else on the page until that request is confirmed. A new manager may have served
   * other requests first, so its invalidation is carried out afresh.
   */
  private readonly invalidated = new Map<number, Map<NodeId, { req: number; epoch: number }>>();
  /** The last confirm per page: a repeated grant or page_data for that request means the confirm was lost. */
  private readonly confirmed = new Map<number, MessageOf<'confirm'>>();
  /** When our latest hello went out: re-sent (same number) until a welcome lists us. */
  private helloAt = -Infinity;
  /** Listed by a manager at least once: heartbeats before that would reach a manager that does not know us. */
  private everListed = false;
  /** Per page, the last request the manager reclaimed ("requester:req"): a forward for it arriving later is void. */
  private readonly voided = new Map<number, string>();
  private lastHeartbeat = -Infinity;
  private readonly peers = new Map<NodeId, string>();
  /** Pages whose owner copy changed (or must be erased) since the last takeDirty(). */
  private readonly dirty: PageMap<true>;
  private readonly erased: PageMap<true>;
  /**
   * Client lease (Gray & Cheriton): hits are served only before this instant of our own clock. Set by
   * `hb_ack` to the SEND time of the acknowledged heartbeat plus the granted lease, so no clock of
   * another process is ever compared with ours; the manager evicts only well after it runs out.
   */
  private leaseUntil = -Infinity;
  private hbSeq = 0;
  /** Send time of each recent heartbeat, by its number. */
  private readonly hbSent = new Map<number, number>();
  /** When the last heartbeat sent to revalidate an expired lease went out. */
  private revalidatedAt = -Infinity;
  /**
   * Lease requests sent again since the lease last came back (the backoff exponent of the adaptive interval).
   * On a slow link an acknowledgement can arrive with its lease already run out (it counts from our send):
   * asking again sooner gives the next one a better chance to land inside a quiet spell of the link.
   */
  private revalidateTries = 0;
  /** Listed by the manager since our last hello (then we ask for a lease at once). */
  private listedSinceHello = false;
  /**
   * Evicted, and not yet listed again: ops wait. A request sent now could be wiped by a second, stale
   * evict (the answer to a message we sent before the first one arrived), leaving the manager waiting
   * for a confirm that never comes; once the welcome to our new hello is in, every such evict is behind us.
   */
  private rejoining = false;
  /**
   * Hellos this incarnation has sent. Links need not be FIFO: evicts answering messages we sent before
   * our latest hello can arrive after its welcome, and obeying one would wipe a request the manager is
   * already serving (it waits for our confirm for good). An evict names the hello it answers; older ones are ignored.
   */
  private hellos = 0;
  /** Ops waiting for the lease to be renewed (or for the rejoin), in arrival order. */
  private parked: Waiting[] = [];
  /**
   * Forwards that came while our lease had run out, in arrival order. We may have been evicted meanwhile
   * (paused past the timeout, with the forward and then the evict waiting in our inbox): a forward served
   * then would hand our copy to a requester the manager gave up on, and the page it holds for us is gone.
   * Served once the manager renews the lease; dropped when it evicts us.
   */
  private deferred: (MessageOf<'read_fwd'> | MessageOf<'write_fwd'>)[] = [];
  /**
   * Our promises (quorum.ts): per manager, until when (our clock) we help no OTHER manager to authority.
   * '*': a fresh process keeps whatever its previous incarnation may have promised, to anyone.
   */
  private readonly promises = new Map<NodeId | '*', number>();
  /** The last hb_ack from the manager we follow, at its epoch: our next heartbeat echoes it as a vote. */
  private lastAck: number | null = null;
  /** Round trips of faults answered at their first send: the retry interval follows them (rto.ts). */
  private readonly rtt: RttEstimator;
  readonly counters: ClientCounters = { ops: 0, hits: 0, faults: 0, failed: 0, ignored: 0, evictions: 0, takeovers: 0, revalidations: 0, retransmits: 0, repeats: 0 };

  constructor(cfg: ClientConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.epoch = cfg.epoch;
    this.manager = cfg.managers[0]!;
    this.seq = cfg.incarnation * REQS_PER_INCARNATION;
    this.rtt = new RttEstimator({ minMs: Math.min(cfg.minRetryMs ?? cfg.retryMs, cfg.retryMs), maxMs: cfg.retryMs });
    // Page-indexed, not Maps: these change on every fault (page-map.ts says why that matters).
    this.waiting = new PageMap(cfg.pages);
    this.pending = new PageMap(cfg.pages);
    this.given = new PageMap(cfg.pages);
    this.dirty = new PageMap(cfg.pages);
    this.erased = new PageMap(cfg.pages);
    this.table = Array.from({ length: cfg.pages }, (): Entry => ({ access: 'none', owner: false, version: 0, data: null, stashed: null }));
    for (const r of cfg.recovered ?? []) {
      const e = this.table[r.page];
      if (e && r.data.byteLength === cfg.pageSize) Object.assign(e, { version: r.version, data: new Uint8Array(r.data), stashed: r.access });
    }
  }

  private get keeps(): boolean {
    return this.cfg.memory === 'recoverable' || this.cfg.memory === 'durable';
  }

  /**
   * Owner copies to persist (or erase) before any output of the calls since the last take is acted on:
   * a write is acknowledged, and a page confirmed or passed on, only once the store has it.
   */
  takeDirty(): readonly StoreChange[] {
    // Asked after every frame, op and tick, and mostly nothing changed: no array then.
    if (this.dirty.size === 0 && this.erased.size === 0) return NO_CHANGES;
    if (!this.keeps) {
      this.dirty.clear();
      this.erased.clear();
      return NO_CHANGES;
    }
    const out: StoreChange[] = [];
    for (let i = 0; i < this.erased.size; i++) out.push({ page: this.erased.keyAt(i), keep: null });
    for (let i = 0; i < this.dirty.size; i++) {
      const page = this.dirty.keyAt(i);
      const e = this.table[page]!;
      if (e.owner && e.data && e.access !== 'none') out.push({ page, keep: { page, access: e.access, version: e.version, data: e.data } });
    }
    this.dirty.clear();
    this.erased.clear();
    return out;
  }

  private recoveredList(): { page: number; version: number }[] {
    const out: { page: number; version: number }[] = [];
    this.table.forEach((e, page) => {
      if (e.stashed !== null) out.push({ page, version: e.version });
    });
    return out;
  }

  /** Announce ourselves to every manager so each can list us and tell peers our address. */
  start(now = 0): ClientOutput[] {
    if (!this.promises.has('*') && this.voting) this.promises.set('*', now + this.cfg.voteMs!);
    // From `now`, not 0: a process whose first tick comes a retry interval after its clock started (a slow
    // start) would otherwise say its hello again before any answer could have come.
    return this.hello(++this.hellos, now);
  }

  private hello(n: number, now: number): ClientOutput[] {
    this.helloAt = now;
    return this.cfg.managers.map((to) => ({
      type: 'send' as const,
      to,
      msg: {
        t: 'hello' as const,
        from: this.id,
        epoch: this.epoch,
        endpoint: this.cfg.endpoint,
        incarnation: this.cfg.incarnation,
        n,
        seq: this.seq,
        ...(this.cfg.memory ? { memory: this.cfg.memory } : {}),
        ...(this.keeps ? { recovered: this.recoveredList() } : {}),
      },
    }));
  }

  /** Endpoint of a peer client, learned from the manager's member list. */
  endpointOf(id: NodeId): string | undefined {
    return this.peers.get(id);
  }

  /** Listed by the manager: every peer can reach us, so ops can be served. */
  get joined(): boolean {
    return this.peers.has(this.id);
  }

  get currentManager(): NodeId {
    return this.manager;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  submit(op: OpRequest, now: number): ClientOutput[] {
    const bad = this.validate(op);
    if (bad) return [this.finish({ id: op.id, kind: op.kind, page: op.page, ok: false, fault: false, error: bad })];
    const out: ClientOutput[] = [];
    this.admit({ op, since: now, faulted: false }, now, out);
    return out;
  }

  /**
   * May this client serve a hit right now? Only under a lease from the manager it follows that runs out
   * before that manager may evict it. `now` must be read after the op was invoked: then the copy was
   * current at that instant, inside the op, however long the process pauses before it answers.
   */
  leaseValid(now: number): boolean {
    return this.cfg.unsafeNoLease === true || now < this.leaseUntil;
  }

  receive(msg: Message, now: number): ClientOutput[] {
    const wasRejoining = this.rejoining;
    const out = this.dispatch(msg, now);
    // Parked ops go on as soon as the lease is renewed or we are listed again (the handlers only set state).
    const renewed = msg.t === 'hb_ack' && this.leaseValid(now);
    if (renewed && this.deferred.length > 0) {
      const deferred = this.deferred;
      this.deferred = [];
      for (const fwd of deferred) out.push(...this.dispatch(fwd, now));
    }
    if (this.parked.length > 0 && !this.rejoining && (renewed || wasRejoining)) this.runParked(now, out);
    return out;
  }

  private dispatch(msg: Message, now: number): ClientOutput[] {
    if (msg.from.startsWith('m')) {
      if (msg.t === 'takeover') return this.onTakeover(msg, now);
      if (msg.epoch < this.epoch) {
        // Fencing: a deposed manager is ignored, and told the epoch it lost to.
        this.counters.ignored++;
        return [
          { type: 'ignored', msg, reason: `stale epoch ${msg.epoch} < ${this.epoch}` },
          { type: 'send', to: msg.from, msg: { t: 'epoch_reject', from: this.id, epoch: this.epoch, seen: this.epoch } },
        ];
      }
      if (msg.epoch > this.epoch) this.adoptEpoch(msg.epoch, msg.from);
    }
    if ('page' in msg && msg.page >= this.cfg.pages) return this.ignore(msg, `page ${msg.page} out of range`);
    if ('inc' in msg && msg.inc !== undefined && msg.inc !== this.cfg.incarnation) return this.ignore(msg, `${msg.t} meant for incarnation ${msg.inc} of ${this.id}`);
    switch (msg.t) {
      case 'members': {
        for (const m of msg.members) this.peers.set(m.id, m.endpoint);
        if (this.listedSinceHello || !msg.members.some((m) => m.id === this.id)) return [];
        // The welcome to an earlier hello: the manager has yet to take our latest one, which starts us over there.
        if (msg.n !== undefined && msg.n < this.hellos) return this.ignore(msg, `welcome to hello #${msg.n}, not our latest #${this.hellos}`);
        // Listed: ask for a lease at once, so it is there by the time the first fault is served.
        this.listedSinceHello = true;
        this.everListed = true;
        this.rejoining = false;
        return [this.heartbeat(now)];
      }
      case 'hb_ack':
        return this.onHbAck(msg, now);
      case 'read_fwd':
      case 'write_fwd':
        return this.forwardOrDefer(msg, now);
      case 'invalidate':
        return this.onInvalidate(msg);
      case 'grant':
        return this.onGrant(msg, now);
      case 'page_data':
        return this.onPageData(msg, now);
      case 'nack':
        return this.onNack(msg);
      case 'own':
        return this.onOwn(msg);
      case 'resume':
        return this.onResume(msg, now);
      case 'evict':
        return this.onEvict(msg, now);
      case 'restore':
        return this.onRestore(msg);
      case 'reclaim':
        return this.onReclaim(msg);
      default:
        return this.ignore(msg, `a client does not handle ${msg.t}`);
    }
  }

  /** Fails ops that waited longer than the timeout; the fault itself stays open so a late answer is still confirmed. */
  tick(now: number): ClientOutput[] {
    const out: ClientOutput[] = [];
    // A tick comes several times a second while ops are in flight: queues are copied only when one of theirs timed out.
    if (this.parked.some((w) => this.expired(w, now))) {
      this.parked = this.parked.filter((w) => {
        if (!this.expired(w, now)) return true;
        out.push(this.fail(w, `timed out after ${this.cfg.opTimeoutMs} ms waiting for the manager to renew the lease`));
        return false;
      });
    }
    // A lost or late acknowledgement: ask again.
    const waitsForLease = this.parked.length > 0 || this.deferred.length > 0;
    if (waitsForLease && !this.rejoining && !this.leaseValid(now) && now - this.revalidatedAt >= this.rtt.backoff(this.revalidateTries)) {
      this.revalidateTries++;
      out.push(this.revalidate(now));
    }
    this.waiting.forEach((queue, page) => {
      let keep = queue;
      if (queue.some((w) => this.expired(w, now))) {
        keep = queue.filter((w) => {
          if (!this.expired(w, now)) return true;
          out.push(this.fail(w, `timed out after ${this.cfg.opTimeoutMs} ms waiting for the manager`));
          return false;
        });
      }
      if (keep.length === 0 && !this.pending.has(page)) this.waiting.delete(page);
      else if (keep !== queue) this.waiting.set(page, keep);
    });
    for (let i = 0; i < this.pending.size; i++) {
      const page = this.pending.keyAt(i);
      const p = this.pending.valueAt(i);
      if (now - p.sentAt < this.rtt.backoff(p.tries)) continue;
      // Same request number: the manager deduplicates, so a retry can never be served twice.
      p.sentAt = now;
      p.sends++;
      p.tries++;
      this.counters.retransmits++;
      out.push(this.requestMsg(page, p));
    }
    // A lost hello or welcome: say it again (the same hello: the manager takes a repeat as one). As often as
    // a heartbeat: the manager listed us at its hello and counts our silence from there, and we send it no
    // heartbeat before we know we are listed, so two lost tries a retry interval apart could get us evicted.
    const lossy = this.cfg.recoverLoss === true;
    if (lossy && !this.listedSinceHello && now - this.helloAt >= Math.min(this.cfg.retryMs, this.cfg.heartbeatMs)) {
      this.counters.retransmits++;
      out.push(...this.hello(this.hellos, now));
    }
    if ((this.everListed || !lossy) && now - this.lastHeartbeat >= this.cfg.heartbeatMs) out.push(this.heartbeat(now));
    return out;
  }

  private expired(w: Waiting, now: number): boolean {
    return now - w.since >= this.cfg.opTimeoutMs;
  }

  /** The earliest instant a pending fault is due to go again (its adaptive timeout), or null with none pending. */
  nextRetryAt(): number | null {
    let due: number | null = null;
    for (let i = 0; i < this.pending.size; i++) {
      const p = this.pending.valueAt(i);
      const at = p.sentAt + this.rtt.backoff(p.tries);
      if (due === null || at < due) due = at;
    }
    return due;
  }

  /** A fresh row per page (callers may add to them). */
  pageTable(): PageView[] {
    return this.table.map((e, page) => {
      const row: PageView = { page, access: e.access, owner: e.owner, version: e.version, pending: this.pending.get(page)?.kind ?? null };
      if (e.stashed !== null) row.recovered = true;
      return row;
    });
  }

  /** The bytes this client holds for a page (null when it holds no copy). */
  pageBytes(page: number): Uint8Array | null {
    return this.table[page]?.data ?? null;
  }

  // --- operations -----------------------------------------------------------

  private validate(op: OpRequest): string | null {
    const { pages, pageSize } = this.cfg;
    if (!Number.isInteger(op.page) || op.page < 0 || op.page >= pages) return `page ${op.page} is outside 0..${pages - 1}`;
    const len = op.kind === 'read' ? op.length : op.data.byteLength;
    if (!Number.isInteger(op.offset) || op.offset < 0 || !Number.isInteger(len) || len < 0 || op.offset + len > pageSize) {
      return `bytes ${op.offset}..${op.offset + len} do not fit in a ${pageSize}-byte page`;
    }
    return null;
  }

  /** Routes a new (or unparked) op: behind its page's open fault, behind parked ops of its page, or on. */
  private admit(w: Waiting, now: number, out: ClientOutput[]): void {
    const queue = this.waiting.get(w.op.page);
    if (queue) {
      // Queued behind an open fault (possibly one whose op timed out): it waits for the manager, so it is no cache hit.
      w.faulted = true;
      queue.push(w);
      return;
    }
    if (this.rejoining || this.parked.some((p) => p.op.page === w.op.page)) {
      this.park(w);
      return;
    }
    this.runOrFault(w, now, out);
  }

  private park(w: Waiting): void {
    w.faulted = true;
    this.parked.push(w);
  }

  /** The lease came back (or we start over after an eviction): every parked op goes on, in order. */
  private runParked(now: number, out: ClientOutput[]): void {
    const parked = this.parked;
    this.parked = [];
    for (const w of parked) this.admit(w, now, out);
  }

  /** Serves `w` locally if access and lease allow, else opens a fault (or revalidates the lease) and parks it. */
  private runOrFault(w: Waiting, now: number, out: ClientOutput[]): void {
    const entry = this.entry(w.op.page);
    if (covers(entry.access, w.op.kind) && !this.pending.has(w.op.page)) {
      if (this.leaseValid(now)) {
        out.push(this.execute(w, entry));
        return;
      }
      // The lease ran out (we may have been paused past our eviction): ask the manager before serving.
      this.awaitLease([w], now, out);
      return;
    }
    w.faulted = true;
    const queue = this.waiting.get(w.op.page) ?? [];
    queue.push(w);
    this.waiting.set(w.op.page, queue);
    if (!this.pending.has(w.op.page)) out.push(this.openFault(w.op.page, w.op.kind, now));
  }

  private openFault(page: number, kind: OpKind, now: number): ClientOutput {
    const p: Pending = { req: ++this.seq, kind, sentAt: now, sends: 1, tries: 0, stashed: null, resumed: false };
    this.pending.set(page, p);
    this.counters.faults++;
    return this.requestMsg(page, p);
  }

  private requestMsg(page: number, p: Pending): ClientOutput {
    const t = p.kind === 'read' ? 'read_req' : 'write_req';
    return this.toManager({ t, from: this.id, epoch: this.epoch, page, req: p.req });
  }

  private execute(w: Waiting, entry: Entry): ClientOutput {
    const { op } = w;
    const data = entry.data ?? (entry.data = new Uint8Array(this.cfg.pageSize));
    if (!w.faulted) this.counters.hits++;
    if (op.kind === 'write') {
      data.set(op.data, op.offset);
      entry.version++;
      this.dirty.set(op.page, true);
      return this.finish({ id: op.id, kind: 'write', page: op.page, ok: true, fault: w.faulted, version: entry.version });
    }
    const bytes = data.slice(op.offset, op.offset + op.length);
    return this.finish({ id: op.id, kind: 'read', page: op.page, ok: true, fault: w.faulted, version: entry.version, data: bytes });
  }

  /** After a fault resolves, serve queued ops in order until one needs more access. */
  private drain(page: number, now: number, out: ClientOutput[]): void {
    const queue = this.waiting.get(page);
    if (!queue) return;
    const entry = this.entry(page);
    while (queue.length > 0) {
      const w = queue[0]!;
      if (!covers(entry.access, w.op.kind)) {
        out.push(this.openFault(page, w.op.kind, now));
        return;
      }
      if (!this.leaseValid(now)) {
        // A page may arrive after we were evicted (sent before): ops that came after it was sent must not read it.
        this.waiting.delete(page);
        this.awaitLease(queue, now, out);
        return;
      }
      queue.shift();
      out.push(this.execute(w, entry));
    }
    this.waiting.delete(page);
  }

  // --- the lease ----------------------------------------------------------------

  /** A heartbeat that asks for a lease: numbered, its send time kept to anchor the lease the ack grants. */
  private heartbeat(now: number): ClientOutput {
    this.lastHeartbeat = now;
    const n = ++this.hbSeq;
    this.hbSent.set(n, now);
    if (this.hbSent.size > MAX_HB_SENT) this.hbSent.delete(this.hbSent.keys().next().value!);
    // A vote for the manager we follow, saying how long a promise to the other one still stands in its way.
    // None while a fresh process keeps its previous life's promises (to either manager: '*').
    const wait = this.foreignWait(this.manager, now);
    const fresh = (this.promises.get('*') ?? -Infinity) > now;
    const vote = this.voting && this.lastAck !== null && !fresh ? { v: this.lastAck, ...(wait > 0 ? { w: wait } : {}) } : {};
    return this.toManager({ t: 'hb', from: this.id, epoch: this.epoch, n, ...vote });
  }

  /** Parks ops until the manager renews the lease (or evicts us); the first to park asks for it. */
  private awaitLease(ws: Waiting[], now: number, out: ClientOutput[]): void {
    const ask = this.parked.length === 0;
    for (const w of ws) this.park(w);
    this.counters.revalidations += ws.length;
    if (ask) {
      this.revalidateTries = 0;
      out.push(this.revalidate(now));
    }
  }

  private revalidate(now: number): ClientOutput {
    this.revalidatedAt = now;
    return this.heartbeat(now);
  }

  private onHbAck(msg: MessageOf<'hb_ack'>, now: number): ClientOutput[] {
    // Only the manager we follow can vouch for us (an older epoch was refused above, a newer one adopted).
    const sent = this.hbSent.get(msg.n);
    if (sent === undefined || msg.from !== this.manager) return [];
    this.leaseUntil = Math.max(this.leaseUntil, sent + msg.ms * LEASE_TRUST);
    // It counts our vote from when it sent this: we promise from receiving it.
    if (this.voting) {
      const first = this.lastAck === null;
      this.promise(msg.from, now);
      this.lastAck = msg.n;
      // The first acknowledgement of a new primary: vote at once (its authority may rest on short-lived report votes).
      if (first && this.foreignWait(msg.from, now) === 0) return [this.heartbeat(now)];
    }
    return [];
  }

  // --- votes for the managers' authority (quorum.ts) -------------------------------------------

  private get voting(): boolean {
    return (this.cfg.voteMs ?? 0) > 0;
  }

  private promise(manager: NodeId, now: number): void {
    this.promises.set(manager, Math.max(this.promises.get(manager) ?? -Infinity, now + this.cfg.voteMs!));
  }

  /** How long (ms) our promises to managers other than `to` still run: our vote for `to` counts only after. */
  private foreignWait(to: NodeId, now: number): number {
    let wait = 0;
    for (const [m, until] of this.promises) if (m !== to) wait = Math.max(wait, until - now);
    return Math.ceil(wait);
  }

  // --- messages ---------------------------------------------------------------

  /** Serves a forward under a valid lease; without one, asks the manager first (see `deferred`). */
  private forwardOrDefer(msg: MessageOf<'read_fwd'> | MessageOf<'write_fwd'>, now: number): ClientOutput[] {
    if (this.leaseValid(now)) return this.onForward(msg, msg.t === 'read_fwd' ? 'read' : 'write');
    if (this.deferred.length >= MAX_DEFERRED) return this.ignore(msg, `${this.deferred.length} forwards already wait for the lease`);
    const ask = this.deferred.length === 0 && this.parked.length === 0;
    this.deferred.push(msg);
    return ask ? [this.revalidate(now)] : [];
  }

  private onForward(msg: MessageOf<'read_fwd'> | MessageOf<'write_fwd'>, kind: OpKind): ClientOutput[] {
    const entry = this.entry(msg.page);
    // A recovered page the manager has us serve again (we went down serving this request): the forward vouches for it,
    // if the manager sent it knowing our latest hello. An earlier one is void: that hello is judged afresh (restore, or a new forward).
    if (entry.stashed !== null && msg.n !== undefined && msg.n < this.hellos) return this.ignore(msg, `forward answering hello #${msg.n}, not our latest #${this.hellos}`);
    if (entry.stashed !== null && entry.data !== null) {
      entry.access = entry.stashed;
      entry.owner = true;
      entry.stashed = null;
    }
    // The manager took back a transfer we served (its requester crashed without the page) and already forwards
    // the next request: the `reclaim` it sent first was overtaken. Nothing else makes us owner of a page we gave away.
    // A forward for a request the manager took back (see onReclaim) comes from before the reclaim: void.
    const voided = this.voided.get(msg.page); // almost always none: no key string per forward then
    if (voided !== undefined && voided === `${msg.requester}:${msg.req}`) return this.ignore(msg, `forward of page ${msg.page} for a reclaimed request`);
    const again = this.forwardRepeat(msg, kind, entry);
    if (again !== null) return again;
    // A copy holder may be forwarded to before its `own` arrives (the old owner died): the forward itself makes it owner.
    if (entry.data === null || entry.access === 'none') return this.ignore(msg, `asked to forward page ${msg.page} it does not hold`);
    const data = entry.data.slice();
    this.noteServed(msg.page, msg.requester, msg.req, kind);
    this.noteForwarded(msg.page, msg.requester, msg.req, entry.version);
    if (kind === 'read') {
      entry.access = 'read';
      entry.owner = true;
      this.dirty.set(msg.page, true);
    } else {
      // The store keeps its copy: should we crash before the requester confirms, the manager has us serve it
      // again; once the requester owns the page, the manager calls that copy stale.
      this.given.set(msg.page, { to: msg.requester, req: msg.req, access: entry.access, version: entry.version, data });
      entry.access = 'none';
      entry.owner = false;
      entry.data = null;
    }
    const to = msg.requester;
    return [
      {
        type: 'send',
        to,
        msg: { t: 'page_data', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, access: kind, version: entry.version, data },
      },
    ];
  }

  // The records of what was served are updated in place: one per page (and requester) lives for the whole run,
  // where a new object per forward outlived a young collection and then left garbage for a major one.
  private noteServed(page: number, to: NodeId, req: number, kind: OpKind): void {
    const last = this.served.get(page);
    if (last === undefined) this.served.set(page, { to, req, kind });
    else {
      last.to = to;
      last.req = req;
      last.kind = kind;
    }
  }

  private noteForwarded(page: number, requester: NodeId, req: number, version: number): void {
    let byRequester = this.forwarded.get(page);
    if (byRequester === undefined) this.forwarded.set(page, (byRequester = new Map()));
    const prior = byRequester.get(requester);
    if (prior === undefined) byRequester.set(requester, { req, version });
    else {
      prior.req = req;
      prior.version = version;
    }
  }

  /**
   * A forward for a request we served already (or an older one of that requester): a repeat, from the same
   * manager or from a new one that rebuilt the transfer as in flight from our report. Request numbers are
   * never reused, so it never starts a new transfer: serving it afresh would hand away the copy we hold NOW
   * (the page may have come back to us since), leaving the manager's owner empty-handed. Answered only with
   * the copy that request got: a write's copy we gave, while the page has not come back (its page_data was
   * lost); a read's copy, while we still own it unchanged. Otherwise dropped (null: not a repeat).
   */
  private forwardRepeat(msg: MessageOf<'read_fwd'> | MessageOf<'write_fwd'>, kind: OpKind, entry: Entry): ClientOutput[] | null {
    const prior = this.cfg.recoverLoss ? this.forwarded.get(msg.page)?.get(msg.requester) : undefined;
    if (prior === undefined || msg.req > prior.req) return null;
    if (msg.req < prior.req) return [];
    const g = this.given.get(msg.page);
    const resend = (version: number, data: Uint8Array): ClientOutput[] => {
      this.counters.repeats++;
      return [{ type: 'send', to: msg.requester, msg: { t: 'page_data', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, access: kind, version, data: data.slice() } }];
    };
    if (kind === 'write') return g && g.to === msg.requester && g.req === msg.req && entry.access === 'none' && entry.data === null ? resend(g.version, g.data) : [];
    // A late duplicate may find the page moved on: written since, or owned elsewhere with us holding a copy.
    const same = entry.owner && entry.access !== 'none' && entry.data !== null && entry.version === prior.version;
    return same ? resend(entry.version, entry.data!) : [];
  }

  private onResume(msg: MessageOf<'resume'>, now: number): ClientOutput[] {
    const p = this.pending.get(msg.page);
    if (!p || p.req !== msg.req) return this.ignore(msg, `resume of request ${msg.req} not outstanding`);
    p.resumed = true;
    return p.stashed ? this.install(p.stashed, p, now) : [];
  }

  /** A new primary asks for our page table; from now on only its epoch counts. */
  private onTakeover(msg: MessageOf<'takeover'>, now: number): ClientOutput[] {
    const repeat = msg.epoch === this.epoch && msg.from === this.manager;
    if (msg.epoch < this.epoch || (msg.epoch === this.epoch && !repeat)) {
      return [{ type: 'send', to: msg.from, msg: { t: 'epoch_reject', from: this.id, epoch: this.epoch, seen: this.epoch } }];
    }
    // Promised to the manager we follow (it may serve on our vote): a takeover that cannot show the old
    // primary is out of the way waits until the promise runs out. Adopting it would fence a primary that
    // still serves its other clients, and two managers bidding for the clients would take turns forever.
    const wait = this.voting && !repeat && msg.firm !== true ? this.foreignWait(msg.from, now) : 0;
    if (wait > 0) return this.ignore(msg, `promised to another manager for ${wait} ms more`);
    if (!repeat) this.counters.takeovers++;
    if (msg.epoch > this.epoch) this.adoptEpoch(msg.epoch, msg.from);
    this.manager = msg.from;
    const out: ClientOutput[] = [this.toManager(this.report(msg, now))];
    for (const [page, p] of this.pending) {
      // To a new manager: its timer starts afresh, but its answer is no round-trip sample (two sends).
      p.sentAt = now;
      p.sends++;
      p.tries = 0;
      out.push(this.requestMsg(page, p));
    }
    return out;
  }

  /**
   * A newer manager: only it can vouch for a page sent before its takeover. A `resume` from an earlier
   * takeover no longer counts (that manager may be gone, and the new one may have written the page off).
   */
  private adoptEpoch(epoch: number, manager: NodeId): void {
    this.epoch = epoch;
    this.manager = manager;
    this.lastAck = null;
    for (const p of this.pending.values()) p.resumed = false;
  }

  /** Our page table for a takeover; also our vote for its candidate, counted once our promises to others run out. */
  private report(takeover: MessageOf<'takeover'>, now: number): MessageOf<'report'> {
    let vote = {};
    if (this.voting) {
      vote = { wait: this.foreignWait(takeover.from, now), ...(takeover.n !== undefined ? { tn: takeover.n } : {}) };
      this.promise(takeover.from, now);
    }
    const pages: MessageOf<'report'>['pages'] = [];
    this.table.forEach((e, page) => {
      const last = this.served.get(page);
      // A copy: the record is updated in place by the next forward, and the report may still be on its way.
      const served = last ? { to: last.to, req: last.req, kind: last.kind } : null;
      if (e.access !== 'none' || served) pages.push({ page, access: e.access, owner: e.owner, version: e.version, served });
    });
    const pending = [...this.pending].map(([page, p]) => ({ page, req: p.req, kind: p.kind }));
    return {
      t: 'report',
      from: this.id,
      epoch: this.epoch,
      endpoint: this.cfg.endpoint,
      incarnation: this.cfg.incarnation,
      pages,
      pending,
      n: this.hellos,
      ...(this.cfg.memory ? { memory: this.cfg.memory } : {}),
      ...(this.keeps ? { recovered: this.recoveredList() } : {}),
      ...vote,
    };
  }

  /**
   * The manager takes back a write transfer we served (or were about to serve: its forward may still be on
   * the way) whose requester crashed without the page. Until it hears back it starts nothing else on the page.
   */
  private onReclaim(msg: MessageOf<'reclaim'>): ClientOutput[] {
    const g = this.given.get(msg.page);
    const entry = this.entry(msg.page);
    this.voided.set(msg.page, `${msg.requester}:${msg.req}`);
    if (msg.unsent) return [this.reclaimedIfUnsent(msg, entry)];
    if (g && g.to === msg.requester && g.req === msg.req && entry.access === 'none' && entry.data === null) {
      this.given.delete(msg.page);
      Object.assign(entry, { data: g.data, version: g.version, access: g.access, owner: true, stashed: null });
      this.dirty.set(msg.page, true);
    }
    const ok = entry.owner && entry.access !== 'none';
    return [this.toManager({ t: 'reclaimed', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, requester: msg.requester, ok, version: entry.version })];
  }

  /**
   * A reclaim of a transfer whose requester died and may have written the page: we keep the page only if we
   * never sent it (the forward was lost on the way; it is void now). Sent, it is gone with the requester.
   */
  private reclaimedIfUnsent(msg: MessageOf<'reclaim'>, entry: Entry): ClientOutput {
    const sent = (this.forwarded.get(msg.page)?.get(msg.requester)?.req ?? -1) >= msg.req;
    const ok = !sent && entry.owner && entry.access !== 'none';
    return this.toManager({ t: 'reclaimed', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, requester: msg.requester, ok, version: entry.version });
  }

  /** The manager's verdict on a recovered page; a repeat (or one for a page no longer stashed) changes nothing. */
  private onRestore(msg: MessageOf<'restore'>): ClientOutput[] {
    if (msg.n !== undefined && msg.n < this.hellos) return this.ignore(msg, `verdict on hello #${msg.n}, not our latest #${this.hellos}`);
    const entry = this.entry(msg.page);
    if (entry.stashed === null || entry.version !== msg.version) return this.ignore(msg, `restore of page ${msg.page} v${msg.version}, not recovered here`);
    if (msg.keep) {
      entry.access = entry.stashed;
      entry.owner = true;
      this.dirty.set(msg.page, true);
    } else {
      entry.data = null;
      entry.access = 'none';
      entry.owner = false;
      this.erased.set(msg.page, true);
    }
    entry.stashed = null;
    return [];
  }

  /** The manager declared us dead and gave away or wrote off what we held: start over empty. */
  private onEvict(msg: MessageOf<'evict'>, now: number): ClientOutput[] {
    // (An evict meant for another incarnation was dropped in dispatch.)
    if (msg.n !== undefined && msg.n < this.hellos) return this.ignore(msg, `evict sent before our hello #${this.hellos} was taken: stale`);
    this.counters.evictions++;
    this.table.forEach((e, page) => {
      const g = this.given.get(page);
      // A recoverable client keeps what it owned, unusable until the manager vouches for it (as after a reboot).
      if (this.keeps && e.data !== null && (e.owner || e.stashed !== null)) Object.assign(e, { stashed: e.stashed ?? e.access, access: 'none', owner: false });
      // So is the copy it last gave away in a write transfer (we never learn of the requester's confirm): its store
      // still has it (see onForward), and a reboot would recover it. Once the page moved on, the floor makes it stale. Dropping it here lost the page when the cut dropped the transfer and the sender
      // was written off (pair-sim partition seeds 570, 1294): an evict must not lose what a SIGKILL keeps. It is
      // older than the requester's copy if that one installed it and wrote: the manager never restores it over a
      // newer stored copy (manager.ts restoreFrom, rebuild.ts `newer`; seed 2554 broke without that).
      else if (this.keeps && e.data === null && g) Object.assign(e, { data: g.data, version: g.version, stashed: g.access, access: 'none', owner: false });
      else Object.assign(e, { access: 'none', owner: false, data: null, stashed: null });
    });
    this.served.clear();
    this.given.clear();
    this.forwarded.clear();
    this.confirmed.clear();
    this.pending.clear();
    this.deferred = [];
    const out: ClientOutput[] = [];
    for (const queue of this.waiting.values()) for (const w of queue) out.push(this.fail(w, `evicted by ${msg.from}: ${msg.reason}`));
    this.waiting.clear();
    this.listedSinceHello = false;
    this.rejoining = true;
    this.leaseUntil = -Infinity;
    this.hbSent.clear();
    this.lastHeartbeat = now;
    out.push(...this.start(now));
    // Ops parked for the lease stay parked: once we are listed again they become faults on an empty table.
    return out;
  }

  private onOwn(msg: MessageOf<'own'>): ClientOutput[] {
    const entry = this.entry(msg.page);
    if (entry.access === 'none' || entry.version !== msg.version) return this.ignore(msg, `told to own page ${msg.page} v${msg.version} it does not hold`);
    entry.owner = true;
    this.dirty.set(msg.page, true);
    return [];
  }

  private onInvalidate(msg: MessageOf<'invalidate'>): ClientOutput[] {
    const entry = this.entry(msg.page);
    let byRequester = this.invalidated.get(msg.page);
    if (byRequester === undefined) this.invalidated.set(msg.page, (byRequester = new Map()));
    const done = byRequester.get(msg.requester);
    const ack = this.toManager({ t: 'inv_ack', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, requester: msg.requester });
    // Carried out already (we may own the page since): acknowledged again, nothing dropped.
    if (this.cfg.recoverLoss && done !== undefined && done.epoch === msg.epoch && msg.req <= done.req) return [ack];
    if (entry.owner) return this.ignore(msg, `owner of page ${msg.page} asked to invalidate`);
    // In place, as the forward records are (noteServed).
    if (done === undefined) byRequester.set(msg.requester, { req: msg.req, epoch: msg.epoch });
    else {
      done.req = msg.req;
      done.epoch = msg.epoch;
    }
    entry.access = 'none';
    entry.data = null;
    entry.stashed = null;
    return [
      this.toManager({ t: 'inv_ack', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, requester: msg.requester }),
    ];
  }

  private onGrant(msg: MessageOf<'grant'>, now: number): ClientOutput[] {
    const p = this.pending.get(msg.page);
    if (!p || p.req !== msg.req) return this.confirmAgain(msg) ?? this.settled(msg) ?? this.ignore(msg, `grant for request ${msg.req} not outstanding`);
    const entry = this.entry(msg.page);
    if (msg.zero) {
      entry.data = new Uint8Array(this.cfg.pageSize);
      entry.version = 0;
    } else if (entry.data === null) {
      return this.ignore(msg, `upgrade of page ${msg.page} granted but no copy is held`);
    }
    // A grant on a recovered page: the manager restored it to us (its restore may still be on the way).
    const restored = entry.stashed !== null && !msg.zero;
    entry.stashed = null;
    this.given.delete(msg.page);
    entry.access = msg.access;
    entry.owner = entry.owner || msg.access === 'write' || msg.zero || restored;
    this.dirty.set(msg.page, true);
    return this.resolve(msg.page, p, entry, now);
  }

  private onPageData(msg: MessageOf<'page_data'>, now: number): ClientOutput[] {
    const p = this.pending.get(msg.page);
    if (!p || p.req !== msg.req) return this.confirmAgain(msg) ?? this.settled(msg) ?? this.ignore(msg, `page data for request ${msg.req} not outstanding`);
    if (msg.data.byteLength !== this.cfg.pageSize) return this.ignore(msg, `page data of ${msg.data.byteLength} bytes`);
    if (msg.epoch < this.epoch && !p.resumed) {
      // Sent before the takeover: genuine only if the new manager learned of it from the sender's report.
      p.stashed = msg;
      return [];
    }
    return this.install(msg, p, now);
  }

  private install(msg: MessageOf<'page_data'>, p: Pending, now: number): ClientOutput[] {
    const entry = this.entry(msg.page);
    entry.data = new Uint8Array(msg.data);
    entry.version = msg.version;
    entry.access = msg.access;
    entry.owner = msg.access === 'write';
    entry.stashed = null;
    this.given.delete(msg.page);
    if (entry.owner) this.dirty.set(msg.page, true);
    return this.resolve(msg.page, p, entry, now);
  }

  private onNack(msg: MessageOf<'nack'>): ClientOutput[] {
    const p = this.pending.get(msg.page);
    // Refused after we installed its page (the owner died with our confirm lost): the confirm again is what lets the manager recover the page from us.
    if (!p || p.req !== msg.req) return this.confirmAgain(msg) ?? this.ignore(msg, `nack for request ${msg.req} not outstanding`);
    this.pending.delete(msg.page);
    const out = (this.waiting.get(msg.page) ?? []).map((w) => this.fail(w, `manager refused: ${msg.reason}`));
    this.waiting.delete(msg.page);
    return out;
  }

  /** The fault is served: confirm to the manager (which is holding the page's queue for us), then run waiters. */
  private resolve(page: number, p: Pending, entry: Entry, now: number): ClientOutput[] {
    this.pending.delete(page);
    // Karn's rule: only a request sent once, answered within its epoch, measures the round trip.
    if (p.sends === 1 && !p.resumed) this.rtt.sample(now - p.sentAt);
    const confirm: MessageOf<'confirm'> = { t: 'confirm', from: this.id, epoch: this.epoch, page, req: p.req, access: entry.access, version: entry.version };
    this.confirmed.set(page, confirm);
    const out: ClientOutput[] = [this.toManager(confirm)];
    this.drain(page, now, out);
    return out;
  }

  /**
   * A grant or page for the request we confirmed last on this page: the manager re-drives it because our
   * confirm was lost (or the network duplicated the answer). The same confirm again; the manager ignores
   * it unless it still waits for it.
   */
  private confirmAgain(msg: MessageOf<'grant'> | MessageOf<'page_data'> | MessageOf<'nack'>): ClientOutput[] | null {
    const c = this.confirmed.get(msg.page);
    if (!this.cfg.recoverLoss || c?.req !== msg.req) return null;
    this.counters.repeats++;
    return [this.toManager({ ...c, epoch: this.epoch })];
  }

  /** A repeated answer to a request of ours that has ended since (a re-sent or duplicated frame): dropped quietly. */
  private settled(msg: MessageOf<'grant'> | MessageOf<'page_data'>): ClientOutput[] | null {
    if (!this.cfg.recoverLoss) return null;
    const ours = msg.req >= this.cfg.incarnation * REQS_PER_INCARNATION && msg.req <= this.seq;
    const ended = !this.pending.has(msg.page) || this.pending.get(msg.page)!.req > msg.req;
    return ours && ended && this.confirmed.has(msg.page) ? [] : null;
  }

  // --- helpers ----------------------------------------------------------------

  private entry(page: number): Entry {
    const e = this.table[page];
    if (!e) throw new RangeError(`page ${page}`); // unreachable: pages are range-checked at every entry point
    return e;
  }

  private finish(result: OpResult): ClientOutput {
    this.counters.ops++;
    if (!result.ok) this.counters.failed++;
    return { type: 'done', result };
  }

  private fail(w: Waiting, error: string): ClientOutput {
    return this.finish({ id: w.op.id, kind: w.op.kind, page: w.op.page, ok: false, fault: w.faulted, error });
  }

  private toManager(msg: Message): ClientOutput {
    return { type: 'send', to: this.manager, msg };
  }

  private ignore(msg: Message, reason: string): ClientOutput[] {
    this.counters.ignored++;
    return [{ type: 'ignored', msg, reason }];
  }
}
