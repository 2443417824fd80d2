// Who serves: the primary/backup pair as a deterministic state machine around the
// per-epoch ManagerCore. Managers ping each other; a backup that stops hearing the
// primary becomes a candidate with a higher epoch, asks every client for its page
// table, rebuilds the records (rebuild.ts) and serves. The home primary (seat m0)
// that comes back asks the serving manager to hand back, as in the seed.
//
// Epochs fence old primaries: m0 takes odd epochs and m1 even ones, so two managers
// can never claim the same epoch, and every client ignores (and answers with
// epoch_reject) a manager older than the one it follows.
//
// Client leases across a takeover (see leaseMsFor in manager.ts). A client serves hits only under a lease
// from the primary it follows, anchored at its own send time of a heartbeat that primary acknowledged.
// A new primary must not hand out a page, or write a client off, while such a lease from the old primary
// is in force. We chose "the candidate waits the lease out" over "clients report their lease state":
// a report comes only from a client that is running, and a running client is no danger (its report puts
// its copies into the rebuilt records); the danger is the client that does not report, and it cannot
// tell us anything. What bounds its lease instead:
// - A client that reports is tracked by the new records: its old lease is harmless.
// - A client that does not report sent its last heartbeat to the old primary before it could take our
//   takeover (re-sent every heartbeatMs), i.e. at most a message delay after the candidacy began: it
//   follows our epoch from then on, and an acknowledgement of the old epoch is refused. So its lease
//   ends by candidacy start + delay + lease (= clientTimeoutMs / 2).
// - A candidate serves without a known client's report only after clientTimeoutMs from the start of its
//   run of candidacies (candidateTick), which covers that with clientTimeoutMs / 2 to spare for the delay.
// - A client presumed dead (its primary declared it dead, which it does only after its lease ran out, or
//   listed it no more) is waited for max(heartbeatTimeoutMs, lease) instead of heartbeatTimeoutMs: it may
//   have rejoined within the last sync period and be paused now, holding a fresh lease.
// What remains: the argument takes a message delay below clientTimeoutMs / 2 (1 s by default) on one
// machine.
//
// Partitions (issue 11): an old primary cut from the backup but not from its clients must not serve
// alongside a new one. Every manager serves only under authority (quorum.ts): its peer's death, its
// peer's vote as backup, or a quorum of clients. A primary whose authority lapses takes over again with
// a fresh epoch; a candidate serves only once it has authority.
import type { ClientMemory, Message, MessageOf, NodeId } from '../protocol/messages.js';
import { leaseMsFor, ManagerCore } from './manager.js';
import { Authority, SentTimes } from './quorum.js';
import { noteHellos, rebuildRecords, type Report, type ReplicaRecord } from './rebuild.js';
import type { SeatCore } from './protocol.js';
import type { Ignored, RecordView, Send } from './types.js';

export type ManagerRole = 'primary' | 'backup' | 'candidate' | 'rejoining';

export type RoleChange = { type: 'role'; role: ManagerRole; epoch: number; reason: string };
export type RoleOutput = Send | Ignored | RoleChange;

export interface ManagerRoleConfig {
  id: NodeId;
  peer: NodeId | null;
  pages: number;
  /** Epoch parity of this seat: m0 takes odd epochs, m1 even ones. */
  parity: 0 | 1;
  /** The seat that resumes the primary role when it comes back (the seed's m0). */
  home: boolean;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  clientTimeoutMs: number;
  start: 'primary' | 'backup' | 'rejoin';
  /**
   * At a rejoin: the peer's process was not running when we were spawned (both managers were down), so no
   * records survive anywhere and there are none to wait for (the supervisor knows; see recordsGone).
   */
  peerDown?: boolean;
  epoch: number;
  /** Clients known at start (a rebooted manager learns them from the supervisor, then from hellos and syncs). */
  clients: { id: NodeId; endpoint: string; incarnation: number; memory?: ClientMemory }[];
  /** How long faults on a page held by a down recoverable client wait (ManagerConfig.heldWaitMs). */
  heldWaitMs?: number;
  /**
   * MUTANT, never set in production: serve on heartbeat silence alone, with no authority (no quorum, no
   * backup vote, no lapse): a primary cut from its backup keeps serving beside the new one. The partition
   * sweep must catch it.
   */
  unsafeNoQuorum?: boolean;
  /** ManagerConfig.recoverLoss for every epoch's core (a partition loses the frames it cuts). */
  recoverLoss?: boolean;
  /** With recoverLoss: a request stalled at one step this long has the step sent again. */
  redriveMs?: number;
  /** ManagerConfig.minRedriveMs: the floor of the adaptive re-drive interval (absent: a fixed redriveMs). */
  minRedriveMs?: number;
}

interface Candidacy {
  epoch: number;
  startedAt: number;
  /** When the first of a run of candidacies began (an outbid candidate bids again with a new epoch). */
  runSince: number;
  /** Clients that reported to an earlier candidacy of the run: alive, so they get time to report again. */
  reportedBefore: Set<NodeId>;
  lastSent: number;
  reports: Map<NodeId, Report>;
  /** Client messages that arrived before we serve; replayed in order once we do. */
  buffered: Message[];
  /** When each numbered takeover went out: a report's vote counts from the send it answers. */
  takeovers: SentTimes;
  /** Hellos taken during the candidacy: requests a client sent before its hello (buffered, or late) must not be served. */
  hellos: Map<NodeId, { incarnation: number; n: number; seq: number }>;
  /**
   * Requests still pending in reports we refused (their client was written off, and starts over on our
   * evict): never installed, and never will be, since starting over drops them. A write transfer to one
   * of them left its only copy with the sender, which the rebuild takes back (rebuild.ts, `abandoned`).
   */
  abandoned: Map<NodeId, Report['pending']>;
}

const MAX_BUFFERED = 100_000;

const isRequest = (m: Message): m is MessageOf<'read_req'> | MessageOf<'write_req'> => m.t === 'read_req' || m.t === 'write_req';
/**
 * The primary re-sends every record this often: a backup restarted faster than the heartbeat timeout
 * looks like the same peer (same role, no silence), would get only deltas, and would take over, or
 * hand back, with a replica that misses the pages lost with a crashed client.
 */
const FULL_SYNC_MS = 500;
/** How long a manager waits for a peer it has never heard from before acting alone. */
const STARTUP_GRACE_MS = 1000;

/**
 * A serving record as the backup keeps it. A first-touch grant not yet confirmed (no owner, a transfer
 * under way) is named: its requester may write the zero page the moment it installs it, and should the
 * backup take over without its report (it crashed), the page must be lost with it, not handed out again
 * as a zero page. (Without loss the confirm follows within a message delay; a lost one is re-driven late.)
 */
function replicaOf(r: RecordView): ReplicaRecord {
  // On a held page, `granted` names the write transfer its holder went down serving (no grant can be under way on
  // a held page): its requester may have installed the page and written, so the rebuild must hear it first.
  const granted =
    r.owner === null && r.active?.phase === 'transferring' ? { to: r.active.requester, req: r.active.req } : r.heldBy && r.inFlight ? { to: r.inFlight.requester, req: r.inFlight.req } : null;
  return { page: r.page, owner: r.owner, lostWith: r.lostWith, heldBy: r.heldBy ?? null, copyset: r.copyset, version: r.version, ...(granted ? { granted } : {}) };
}

export class ManagerRoleCore implements SeatCore {
  readonly id: NodeId;
  private readonly cfg: ManagerRoleConfig;
  private role: ManagerRole;
  private epoch: number;
  /** Highest epoch seen anywhere: a candidate must beat it. */
  private seen: number;
  private core: ManagerCore | null = null;
  private replica: ReplicaRecord[] | null = null;
  /** The epoch whose serving primary made the replica's records, and whether that primary was us (our own records then). */
  private replicaOf = 0;
  private replicaOwn = false;
  /** `n`: the client's latest hello of that incarnation we took (see stampEvicts). */
  private readonly known = new Map<NodeId, { endpoint: string; incarnation: number; memory?: ClientMemory; n?: number }>();
  /**
   * Known clients a takeover waits for only a heartbeat timeout, not clientTimeoutMs (it still asks them):
   * the primary (we, or the peer whose syncs stopped listing them) declared them dead, or they stayed
   * silent through a whole candidacy. A hello or report clears it.
   */
  private readonly presumedDead = new Set<NodeId>();
  /** Since when the primary's syncs have not listed a known client. */
  private readonly unlistedSince = new Map<NodeId, number>();
  private candidacy: Candidacy | null = null;
  private rejoinSince: number | null = null;
  /**
   * A rejoining manager has the serving peer's records: it takes the role back only then. Page tables
   * show who holds what, but only the records know which pages were lost with a crashed client.
   */
  private rejoinSynced = false;
  /**
   * No manager's records survive to wait for: the peer was down when we (re)started, or its process died
   * since (its connection dropped). A rebooted home seat without records gives up on its peer only then.
   */
  private recordsGone: boolean;
  private lastPing = -Infinity;
  private lastTick: number | null = null;
  private peerHeard: number | null = null;
  private peerRole: ManagerRole | null = null;
  /** The backup needs every record after it (re)joins, deltas after that. */
  private peerNeedsFull = true;
  private lastFullSync = -Infinity;
  private started = false;
  private startedAt = 0;
  /** Who may serve (quorum.ts); null with no peer to be split from, no client timeout (leases off), or the mutant. */
  private readonly authority: Authority | null;
  /** The serving core has had authority at this epoch: losing it then means the peer may serve meanwhile. */
  private hadAuthority = false;
  /** Client frames held by a primary that has not yet had authority (the cluster's first), replayed once it has. */
  private held: Message[] = [];
  /** When we sent each client its lease acknowledgements: the votes its heartbeats echo count from then. */
  private readonly acks = new Map<NodeId, SentTimes>();
  /**
   * The serving primary's latest client list (its syncs, or our own when we stop serving), plus clients
   * that said hello since; null until we have one. A client off it was written off (a takeover it was cut
   * off from, an eviction): it may still run with its old page table, which must not go into a rebuild.
   */
  private listed: Set<NodeId> | null = null;
  /** The epoch of the primary whose list `listed` is. */
  private listedOf = 0;

  constructor(cfg: ManagerRoleConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.epoch = cfg.epoch;
    this.seen = cfg.epoch;
    for (const c of cfg.clients) this.known.set(c.id, { endpoint: c.endpoint, incarnation: c.incarnation, ...(c.memory ? { memory: c.memory } : {}) });
    this.role = cfg.start === 'primary' ? 'primary' : cfg.start === 'backup' ? 'backup' : 'rejoining';
    this.recordsGone = cfg.peerDown === true;
    if (this.role === 'primary') this.core = this.newCore(cfg.epoch);
    const quorum = cfg.peer !== null && cfg.clientTimeoutMs > 0 && cfg.unsafeNoQuorum !== true;
    this.authority = quorum ? new Authority(leaseMsFor(cfg.clientTimeoutMs), !cfg.home) : null;
  }

  get currentRole(): ManagerRole {
    return this.role;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get counters(): Record<string, number> {
    return { ...(this.core?.counters ?? {}), epoch: this.epoch };
  }

  endpointOf(id: NodeId): string | undefined {
    return this.core?.endpointOf(id) ?? this.known.get(id)?.endpoint;
  }

  clientList(): { id: NodeId; endpoint: string }[] {
    return this.core ? this.core.clientList() : [...this.known].map(([id, c]) => ({ id, endpoint: c.endpoint }));
  }

  /** The primary's live records, or the backup's replica of them. */
  recordCache(): RecordView[] {
    if (this.core) return this.core.recordCache();
    return (this.replica ?? []).map((r) => ({ ...r, heldBy: r.heldBy ?? null, downSince: null, active: null, queue: [] }));
  }

  receive(msg: Message, now: number): RoleOutput[] {
    this.authority?.boot(now);
    return this.stampLeases(this.stampEvicts(this.receiveFrame(msg, now)), now);
  }

  private receiveFrame(msg: Message, now: number): RoleOutput[] {
    if (msg.epoch > this.seen) this.seen = msg.epoch;
    if (msg.from.startsWith('m')) return this.fromPeer(msg, now);
    // A late hello of an earlier incarnation must not overwrite what a later one said.
    if (msg.t === 'hello' && msg.incarnation >= (this.known.get(msg.from)?.incarnation ?? 0)) {
      this.learn(msg.from, msg, msg.n);
      this.alive(msg.from);
      // A hello starts a client over: from now on its page table is its own again.
      this.listed?.add(msg.from);
    }
    // A report says which hello its client is at: evicts we send it from now on name at least that one, so
    // the client can tell them from evicts that answer what it sent before a later hello.
    if (msg.t === 'report' && msg.n !== undefined && msg.incarnation === this.known.get(msg.from)?.incarnation) this.learn(msg.from, msg, msg.n);
    if (msg.t === 'epoch_reject') return this.onEpochReject(msg, now);
    if (this.role === 'primary') {
      this.countHeartbeatVote(msg, now);
      const gate = this.authorityGate(now);
      if (gate === 'lapsed') return [...this.lapse(now), ...this.candidateReceive(msg, now)];
      if (gate === 'waiting') return this.holdForAuthority(msg, now);
      if (gate !== null) return [...gate, ...this.receiveFrame(msg, now)];
    }
    switch (this.role) {
      case 'primary':
        if (msg.t === 'report') {
          // A repeat of a report we rebuilt from (a takeover was re-sent while the first answer was on its way).
          if (this.core!.endpointOf(msg.from) !== undefined) return [{ type: 'ignored', msg, reason: 'repeated report' }];
          // Sent before a hello we have taken since (links need not be FIFO): that hello already answered it.
          const latest = this.known.get(msg.from);
          if (msg.n !== undefined && latest?.incarnation === msg.incarnation && latest.n !== undefined && msg.n < latest.n) {
            return [{ type: 'ignored', msg, reason: `report sent before hello #${latest.n}` }];
          }
          // A client that adopted our epoch after we started serving: what it held was written off or passed on.
          return [this.send(msg.from, { t: 'evict', from: this.id, epoch: this.epoch, reason: 'reported after the takeover completed' })];
        }
        return this.core!.receive(msg, now);
      case 'candidate':
        return this.candidateReceive(msg, now);
      default:
        if (msg.t === 'hb' && this.strandedHere(msg)) {
          return [this.send(msg.from, { t: 'evict', from: this.id, epoch: this.epoch, reason: `written off by ${this.cfg.peer ?? 'the primary'} at epoch ${this.listedOf}; say hello again` })];
        }
        // Not serving: a hello is remembered above, everything else waits for a primary's retry path.
        return msg.t === 'hello' ? [] : [{ type: 'ignored', msg, reason: `${this.role} does not serve` }];
    }
  }

  /**
   * The transport saw the connection to the peer drop: on one machine, its process
   * died. Act on it now instead of waiting out the heartbeat timeout (silence still
   * covers a peer that is paused or cut off without losing its connection).
   */
  peerConnectionLost(now: number): RoleOutput[] {
    this.authority?.boot(now);
    this.authority?.peerLost(now);
    this.recordsGone = true;
    if (this.role === 'backup' && this.peerHeard !== null) return this.becomeCandidate(now, 'connection to the primary lost');
    if (this.role === 'rejoining') return this.becomeCandidate(now, 'connection to the serving manager lost');
    if (this.role === 'primary' && this.seen > this.epoch) return this.becomeCandidate(now, 'the peer died after starting a newer epoch');
    return [];
  }

  tick(now: number): RoleOutput[] {
    this.authority?.boot(now);
    return this.stampLeases(this.stampEvicts(this.tickRole(now)), now);
  }

  private tickRole(now: number): RoleOutput[] {
    const out: RoleOutput[] = [];
    if (!this.started) {
      this.started = true;
      this.startedAt = now;
      if (this.role === 'rejoining') this.rejoinSince = now;
      if (this.role === 'rejoining' && this.cfg.peer === null) out.push(...this.becomeCandidate(now, 'rebooted with no peer'));
    }
    // A long gap since our last tick means we did not run (SIGSTOP, a starved machine): what the peer and
    // the clients sent meanwhile still waits in our queue. Our own silence must not count as theirs, or a
    // backup resumed from SIGSTOP would take over from a live primary before reading its pings.
    const gap = this.lastTick === null ? 0 : now - this.lastTick;
    this.lastTick = now;
    if (gap > this.cfg.heartbeatTimeoutMs / 2) {
      if (this.peerHeard !== null) this.peerHeard = Math.min(now, this.peerHeard + gap);
      if (this.rejoinSince !== null) this.rejoinSince += gap;
      if (this.candidacy) {
        this.candidacy.startedAt += gap;
        this.candidacy.runSince += gap;
      }
    }
    if (this.cfg.peer !== null && now - this.lastPing >= this.cfg.heartbeatMs) {
      this.lastPing = now;
      const head = { from: this.id, epoch: this.epoch };
      // Numbered: a backup's answer echoes the number as its vote for us (quorum.ts).
      const n = this.authority ? { n: this.authority.pings.next(now) } : {};
      out.push(this.send(this.cfg.peer, this.role === 'rejoining' ? { t: 'handback_req', ...head, ...n } : { t: 'mping', ...head, role: this.role, ...n }));
    }
    // Until the peer has answered once, allow it the start-up grace: processes start slowly on a loaded machine.
    const silentFor = now - (this.peerHeard ?? this.startedAt);
    // A peer collecting reports (candidate) gets twice the timeout: on links that stall near the timeout, a backup
    // outbidding every candidacy of the home seat (which then asks for the role back) would keep anyone from serving.
    const timeout = this.peerRole === 'candidate' ? 2 * this.cfg.heartbeatTimeoutMs : this.cfg.heartbeatTimeoutMs;
    const peerSilent = silentFor > (this.peerHeard === null ? Math.max(STARTUP_GRACE_MS, this.cfg.heartbeatTimeoutMs) : timeout);
    if (this.role === 'backup' && peerSilent) out.push(...this.becomeCandidate(now, `primary silent for ${Math.round(silentFor)} ms`));
    // A serving peer answers a handback request at once; a rejoining manager waits only the usual timeout.
    const peerGone = this.peerHeard === null || now - this.peerHeard > this.cfg.heartbeatTimeoutMs;
    // ... unless it has no records at all (rebooted, the peer's not yet arrived) and the peer may still hold
    // them: silence is no proof of death (a slow link, a pause, a partition). Serving from the clients' reports
    // alone would hand out a page lost with a crashed client that has since restarted (its report no longer
    // mentions the page) as a zero page. It keeps asking (handback_req) until the records come, or the peer's
    // process dies (its connection drops: the records died with it), or it was down when we started.
    const mayGiveUp = this.replica !== null || this.recordsGone;
    if (this.role === 'rejoining' && mayGiveUp && this.rejoinSince !== null && now - this.rejoinSince > this.cfg.heartbeatTimeoutMs && peerGone) {
      out.push(...this.becomeCandidate(now, 'no serving manager answered'));
    }
    if (this.role === 'candidate') out.push(...this.candidateTick(now));
    // The peer started a newer epoch (a takeover we never saw through) and went quiet: clients that took
    // its takeover follow a manager that is gone and ignore us. Take them back.
    if (this.role === 'primary' && this.seen > this.epoch && this.cfg.peer !== null && peerGone) out.push(...this.becomeCandidate(now, 'the peer went quiet after starting a newer epoch'));
    if (this.role === 'primary') {
      const gate = this.authorityGate(now);
      if (gate === 'lapsed') return [...out, ...this.lapse(now)];
      if (gate === 'waiting') return out;
      if (gate !== null) out.push(...gate);
      const evictions = this.core!.tick(now);
      // Clients our core declared dead: the next takeover need not wait for their reports.
      for (const o of evictions) if (o.type === 'send' && o.msg.t === 'evict') this.presumedDead.add(o.to);
      out.push(...evictions);
      if (this.cfg.peer !== null && this.peerRole === 'backup') out.push(...this.syncPeer(now));
    }
    return out;
  }

  // --- manager <-> manager --------------------------------------------------------------

  private fromPeer(msg: Message, now: number): RoleOutput[] {
    if (msg.from !== this.cfg.peer) return [{ type: 'ignored', msg, reason: `${msg.from} is not our peer` }];
    // A peer heard again after a silence restarted (or woke up): it needs every record, not deltas.
    if (this.peerHeard === null || now - this.peerHeard > this.cfg.heartbeatTimeoutMs) this.peerNeedsFull = true;
    this.peerHeard = now;
    const out: RoleOutput[] = [];
    switch (msg.t) {
      case 'mping':
      case 'mpong': {
        if (msg.role === 'backup' && this.peerRole !== 'backup') this.peerNeedsFull = true;
        this.peerRole = msg.role;
        if (msg.t === 'mping') out.push(this.send(msg.from, { t: 'mpong', from: this.id, epoch: this.epoch, role: this.role, ...this.voteForPeer(msg, now) }));
        // The peer, as our backup, vouches for us (not one ahead of us: then we take over again, below).
        if (msg.t === 'mpong' && msg.role === 'backup' && msg.n !== undefined && msg.epoch <= this.epoch) this.authority?.peerVote(msg.n);
        // Two primaries: the older epoch steps down (a paused primary that woke up).
        if (this.role === 'primary' && msg.role === 'primary' && msg.epoch > this.epoch) out.push(...this.stepDown(now, `peer serves epoch ${msg.epoch}`));
        // A candidate without authority hears the serving primary: a partition healed, or the timeout was false.
        // Yield (the home seat asks for the role back, as after a reboot). The clients that answered us (a
        // minority: the others kept their promises to the primary) follow a manager that does not serve: the
        // primary takes them back (it hears us as a backup ahead of it), or we tell them to start over (below).
        else if (this.role === 'candidate' && msg.role === 'primary' && this.authority && !this.mayServe(now)) {
          const left = this.candidacy?.reports.size ?? 0;
          out.push(...this.stepDown(now, `${msg.from} serves epoch ${msg.epoch}; ${left === 0 ? 'no client' : `only ${left} of ${this.known.size} clients`} left it`));
        }
        // Both of us run for primary, neither with authority (a client each, the rest down or promised to the
        // other): no takeover is firm, so the clients stay split between us for good. The other seat steps
        // back and votes for the home seat, whose takeovers are then firm.
        else if (this.role === 'candidate' && !this.cfg.home && msg.role === 'candidate' && this.authority && !this.mayServe(now)) {
          out.push(...this.toBackup(`${msg.from} runs for primary too, at epoch ${msg.epoch}; the home seat goes first`));
        }
        // A backup ahead of us started a takeover and gave it up (a late handback_req reached it as a
        // candidate, or it restarted at the highest epoch): clients that took its takeover now ignore
        // us and talk to a backup that does not serve. Take them back with a fresh epoch (a candidate
        // too: clients that reported to us before moving on are not asked again).
        else if ((this.role === 'primary' || this.role === 'candidate') && msg.role === 'backup' && msg.epoch > this.epoch) {
          out.push(...this.becomeCandidate(now, `backup ${msg.from} is at epoch ${msg.epoch}`));
        }
        return out;
      }
      case 'sync':
        // A backup that has served (or run for) a newer epoch takes no client list from a deposed primary (one
        // paused and woken up): it is stale, emptied by that primary's own timeouts. (The primary re-takes with
        // a fresh epoch when it hears a backup ahead of it, so syncs resume.) Its records, too, if ours are
        // newer (applySync's rule: we served since). But a backup that only ran for its epoch (a candidacy
        // that yielded to this very primary, above) has no newer records: this primary's are the newest
        // anyone made. Dropping them left a takeover with records from before a page was first written and
        // then lost with a crashed client, handed out again as a zero page (pair-sim recordless-rejoin seed 26).
        if (this.role === 'backup' && msg.epoch < this.epoch) {
          if (this.olderThanReplica(msg)) return [{ type: 'ignored', msg, reason: `stale epoch ${msg.epoch} < ${this.epoch}` }];
          this.applyRecords(msg);
          return [];
        }
        if (this.role === 'backup') this.applySync(msg, now);
        else if (this.role === 'rejoining' && msg.full) {
          this.applySync(msg, now);
          this.rejoinSynced = true;
        } else if (this.role === 'candidate' && msg.full && this.replica === null) {
          // A rejoining home seat that gave up on a slow peer ("no serving manager answered") runs with no
          // records at all: the peer's, arriving before we serve, name pages lost with crashed clients that
          // no report mentions any more (a restarted client reports nothing). Without them the rebuild
          // would hand such a page out again as a zero page (pair-sim lossy seed 1106). Only the records: its
          // client list would write off clients that are reporting to us (loaded seed 36).
          this.applyRecords(msg);
        }
        return [];
      case 'handback_req':
        this.peerRole = 'rejoining';
        // Our records go first (same link, so they arrive first): without them the home seat would
        // rebuild a page lost with a crashed client as a fresh zero page.
        out.push(this.fullSync());
        if (this.role === 'primary' || this.role === 'candidate') out.push(...this.toBackup(`handing back to ${msg.from}`));
        // As its backup now, we vote for the home seat at once (quorum.ts): it serves without waiting for a ping.
        out.push(this.send(msg.from, { t: 'handback_ok', from: this.id, epoch: this.seen, ...this.voteForPeer(msg, now) }));
        return out;
      case 'handback_ok':
        if (this.role !== 'rejoining') return [];
        if (msg.n !== undefined) this.authority?.peerVote(msg.n);
        // Overtook the records on a reordering link: the next handback_req gets both again.
        if (!this.rejoinSynced) return [{ type: 'ignored', msg, reason: 'handback before the records arrived' }];
        return this.becomeCandidate(now, `${msg.from} handed back at epoch ${msg.epoch}`);
      default:
        return [{ type: 'ignored', msg, reason: `a manager does not handle ${msg.t} from a manager` }];
    }
  }

  private syncPeer(now: number): RoleOutput[] {
    const core = this.core!;
    if (now - this.lastFullSync >= FULL_SYNC_MS) this.peerNeedsFull = true;
    const dirty = core.takeDirty();
    if (dirty.length === 0 && !this.peerNeedsFull) return [];
    const all = core.recordCache();
    const pages = this.peerNeedsFull ? all.map((r) => r.page) : dirty;
    const full = this.peerNeedsFull;
    this.peerNeedsFull = false;
    if (full) this.lastFullSync = now;
    const records = pages.map((p) => replicaOf(all[p]!));
    return [this.send(this.cfg.peer!, { t: 'sync', from: this.id, epoch: this.epoch, full, records, clients: core.clientEntries(), of: this.epoch })];
  }

  /** Every record we have (live or replica) and the client list, for a peer about to take over from us. */
  private fullSync(): Send {
    const records = this.core ? this.core.recordCache().map(replicaOf) : (this.replica ?? []);
    const clients = this.core
      ? this.core.clientEntries()
      : [...this.known]
          .filter(([id]) => !this.presumedDead.has(id))
          .map(([id, c]) => ({ id, endpoint: c.endpoint, incarnation: c.incarnation, ...(c.memory ? { memory: c.memory } : {}) }));
    return this.send(this.cfg.peer!, { t: 'sync', from: this.id, epoch: this.epoch, full: true, records, clients, of: this.core ? this.epoch : this.replicaOf });
  }

  private applySync(msg: MessageOf<'sync'>, now: number): void {
    // A peer that has not served since we did (a candidate cut off from us: a partition) hands back a replica
    // older than our own records of that time: ours say what we gave out, wrote off or hold for a down client.
    if (!this.olderThanReplica(msg)) this.applyRecords(msg);
    this.applyClients(msg, now);
  }

  /** The sync's records come from a primary older than the one that made our replica (or from no later one than us). */
  private olderThanReplica(msg: MessageOf<'sync'>): boolean {
    return msg.of !== undefined && this.replica !== null && (msg.of < this.replicaOf || (msg.of === this.replicaOf && this.replicaOwn));
  }

  private applyRecords(msg: MessageOf<'sync'>): void {
    this.replicaOf = Math.max(this.replicaOf, msg.of ?? msg.epoch);
    this.replicaOwn = false;
    if (msg.full || !this.replica) this.replica = Array.from({ length: this.cfg.pages }, (_, page) => ({ page, owner: null, lostWith: null, heldBy: null, copyset: [], version: 0 }));
    for (const r of msg.records) if (r.page < this.cfg.pages) this.replica[r.page] = r;
  }

  private applyClients(msg: MessageOf<'sync'>, now: number): void {
    // A serving primary's client list is the truth about who is alive (it drops a client silent for
    // clientTimeoutMs); a peer that was not serving (handing back as backup or candidate) only passes on
    // whom it knows of.
    const authoritative = this.role === 'backup' || this.peerRole === 'primary';
    for (const c of msg.clients) {
      this.learn(c.id, c);
      if (authoritative) this.alive(c.id);
    }
    if (!authoritative) return;
    // One it no longer lists was declared dead, or has not joined yet (or joined after a sync still in
    // flight). Don't wait for it at a takeover once it has stayed off the list for a whole client
    // timeout, or at once when the serving primary hands back (its list is exact then); else every
    // takeover would wait clientTimeoutMs for the reports of long-dead clients.
    const listed = new Set(msg.clients.map((c) => c.id));
    this.listed = new Set(listed);
    this.listedOf = msg.epoch;
    const exact = this.role === 'rejoining';
    for (const id of this.known.keys()) {
      if (listed.has(id)) continue;
      const since = this.unlistedSince.get(id) ?? now;
      this.unlistedSince.set(id, since);
      if (exact || now - since >= this.cfg.clientTimeoutMs) this.presumedDead.add(id);
    }
  }

  /**
   * A backup hears a heartbeat from a client that follows the epoch it ran for (its candidacy yielded, or
   * it handed back) while a primary at a newer epoch serves without that client: the primary wrote it off
   * (rebuilt without its report). Nobody else will talk to it: told to start over, its hello reaches the
   * primary, which lists it again. (A client the primary lists is its to take back: left alone.)
   */
  private strandedHere(msg: MessageOf<'hb'>): boolean {
    if (this.role !== 'backup' || msg.epoch !== this.epoch || this.listed === null || this.listedOf <= this.epoch) return false;
    return this.peerRole === 'primary' && !this.listed.has(msg.from) && this.known.has(msg.from);
  }

  private alive(id: NodeId): void {
    this.presumedDead.delete(id);
    this.unlistedSince.delete(id);
  }

  // --- taking over ----------------------------------------------------------------------

  private becomeCandidate(now: number, reason: string): RoleOutput[] {
    const run = this.role === 'candidate' ? this.candidacy : null;
    const epoch = this.nextEpoch(Math.max(this.seen, this.epoch));
    this.seen = epoch;
    this.epoch = epoch;
    this.role = 'candidate';
    // A primary re-taking its clients: its own records are the freshest replica (which pages were lost).
    if (this.core) this.snapshotCore();
    this.core = null;
    this.rejoinSince = null;
    this.candidacy = {
      epoch,
      startedAt: now,
      runSince: run?.runSince ?? now,
      reportedBefore: new Set(run ? [...run.reportedBefore, ...run.reports.keys()] : []),
      lastSent: now,
      reports: new Map(),
      buffered: [],
      takeovers: new SentTimes(),
      hellos: new Map(),
      abandoned: new Map(run?.abandoned ?? []),
    };
    this.hadAuthority = false;
    this.held = [];
    const out: RoleOutput[] = [{ type: 'role', role: 'candidate', epoch, reason }];
    const round = this.candidacy.takeovers.next(now);
    for (const id of this.known.keys()) out.push(this.takeoverTo(id, round, now));
    // With no clients (none alive, as far as we know) there is nothing to collect.
    if (this.allReported(now) && this.mayServe(now)) out.push(...this.serve(now));
    return out;
  }

  /**
   * A takeover of numbered round `n`: the report that answers it names the round, and the client's vote counts
   * from its send. Firm when the peer is out of the way (dead, or our backup): clients adopt it whatever they
   * promised the peer; else a client promised to the peer waits its promise out (quorum.ts).
   */
  private takeoverTo(id: NodeId, n: number, now: number): Send {
    // Without the authority check (no peer, no client leases) every takeover is firm. With it, only a
    // candidate whose peer died or votes for it: a manager with no authority at all (null) must not pull
    // clients away from a primary they promised, or each takeover fences the other and they duel.
    const source = this.authority ? this.authority.source(now, this.known.size) : 'peer-dead';
    const firm = source === 'peer-dead' || source === 'peer-vote' ? { firm: true } : {};
    return this.send(id, { t: 'takeover', from: this.id, epoch: this.candidacy!.epoch, n, ...firm });
  }

  private candidateReceive(msg: Message, now: number): RoleOutput[] {
    const c = this.candidacy!;
    if (msg.t === 'report') {
      if (msg.epoch !== c.epoch) return [{ type: 'ignored', msg, reason: `report for epoch ${msg.epoch}` }];
      // Written off by the last primary (cut off from its takeover, or evicted): its table is stale. It
      // starts over (its hello puts it back on the list), and reports afresh to the takeover we send it then.
      if (this.listed !== null && !this.listed.has(msg.from)) {
        const k = this.known.get(msg.from);
        if (msg.pending.length > 0 && (k === undefined || k.incarnation === msg.incarnation)) c.abandoned.set(msg.from, msg.pending);
        return [this.send(msg.from, { t: 'evict', from: this.id, epoch: this.epoch, reason: 'written off by the primary before this takeover; say hello again' })];
      }
      c.reports.set(msg.from, msg);
      this.learn(msg.from, msg);
      this.alive(msg.from);
      this.countReportVote(msg, now);
      return this.allReported(now) && this.mayServe(now) ? this.serve(now) : [];
    }
    if (msg.t === 'hello') {
      if (msg.n !== undefined && msg.seq !== undefined) c.hellos.set(msg.from, { incarnation: msg.incarnation, n: msg.n, seq: msg.seq });
      return [this.takeoverTo(msg.from, c.takeovers.next(now), now)];
    }
    // A client re-sends its open requests with every report (we ask again while we lack authority): once each is enough.
    if (isRequest(msg) && c.buffered.some((b) => isRequest(b) && b.t === msg.t && b.from === msg.from && b.page === msg.page && b.req === msg.req)) return [];
    if (c.buffered.length < MAX_BUFFERED) c.buffered.push(msg);
    return [];
  }

  private candidateTick(now: number): RoleOutput[] {
    const c = this.candidacy!;
    // A client that stays silent this long is taken for dead: what it alone held is lost. Counted from the
    // start of a run of candidacies, so that being outbid again and again (two managers that keep timing
    // each other out on a slow machine) cannot put serving off forever, but only once every client that
    // reported in the run has reported again: a live client is never taken for dead for want of time.
    const again = [...c.reportedBefore].every((id) => c.reports.has(id) || !this.known.has(id));
    const ready = this.allReported(now) || now - c.startedAt >= this.cfg.clientTimeoutMs || (again && now - c.runSince >= this.cfg.clientTimeoutMs);
    // Ready, but serving takes authority too (quorum.ts): until then the clients are asked on.
    const authority = this.mayServe(now);
    if (ready && authority) return this.serve(now);
    if (now - c.lastSent < this.cfg.heartbeatMs) return [];
    c.lastSent = now;
    // Without authority, a client whose vote is not in force is asked again: a fresh report is a fresh vote.
    const ask = [...this.known.keys()].filter((id) => !c.reports.has(id) || (!authority && this.authority?.inForce(id, now) === false));
    if (ask.length === 0) return [];
    const round = c.takeovers.next(now);
    return ask.map((id) => this.takeoverTo(id, round, now));
  }

  /**
   * Every known client reported, except those presumed dead: they are asked too, and get a heartbeat
   * timeout to answer (a presumption can be wrong: a client following another epoch is silent to us).
   */
  private allReported(now: number): boolean {
    const c = this.candidacy!;
    // Not before a lease the old primary may have granted the presumed-dead client has run out (see the top).
    const lease = this.cfg.clientTimeoutMs > 0 ? leaseMsFor(this.cfg.clientTimeoutMs) : 0;
    const graceOver = now - c.startedAt >= Math.max(this.cfg.heartbeatTimeoutMs, lease);
    for (const id of this.known.keys()) if (!c.reports.has(id) && !(graceOver && this.presumedDead.has(id))) return false;
    return true;
  }

  private serve(now: number): RoleOutput[] {
    const c = this.candidacy!;
    this.candidacy = null;
    this.hadAuthority = true;
    const by = this.authority ? `; authority: ${this.authority.source(now, this.known.size)}` : '';
    const rebuilt = rebuildRecords({ id: this.id, epoch: c.epoch, pages: this.cfg.pages }, c.reports, this.replica, now, (id) => this.known.get(id)?.memory, c.abandoned, this.replicaOwn);
    noteHellos(rebuilt.clients, c.hellos);
    this.core = this.newCore(c.epoch, rebuilt);
    this.role = 'primary';
    this.peerNeedsFull = true;
    const missing = [...this.known.keys()].filter((id) => !c.reports.has(id));
    const silent = missing.filter((id) => !this.presumedDead.has(id));
    const dead = missing.filter((id) => this.presumedDead.has(id));
    // Taken for dead (the new core does not list them): the next takeover need not wait for them again.
    for (const id of silent) this.presumedDead.add(id);
    const why = `${silent.length ? `; silent: ${silent.join(', ')}` : ''}${dead.length ? `; presumed dead: ${dead.join(', ')}` : ''}`;
    const out: RoleOutput[] = [
      { type: 'role', role: 'primary', epoch: c.epoch, reason: `rebuilt from ${c.reports.size} page tables${why}${by}` },
      ...rebuilt.outputs,
    ];
    const members = this.core.clientList();
    for (const m of members) out.push(this.send(m.id, { t: 'members', from: this.id, epoch: c.epoch, members }));
    for (const msg of c.buffered) out.push(...this.core.receive(msg, now));
    return out;
  }

  private onEpochReject(msg: MessageOf<'epoch_reject'>, now: number): RoleOutput[] {
    if (msg.seen <= this.epoch) return [];
    // Outbid by the home seat (odd epochs are m0's): the other seat yields instead of bidding again, or
    // two candidates could keep outbidding each other. It takes over again if the home seat goes quiet.
    if (this.role === 'candidate' && !this.cfg.home && msg.seen % 2 !== this.cfg.parity) return this.toBackup(`${msg.from} follows epoch ${msg.seen}`);
    if (this.role === 'candidate') return this.becomeCandidate(now, `${msg.from} follows epoch ${msg.seen}`);
    if (this.role === 'primary') return this.stepDown(now, `${msg.from} follows epoch ${msg.seen}`);
    return [];
  }

  /** A newer primary exists: the home seat asks for the role back, the other becomes its backup. */
  private stepDown(now: number, reason: string): RoleOutput[] {
    if (!this.cfg.home) return this.toBackup(reason);
    // Our records stand in for the peer's until its full sync arrives: should we have to take over
    // alone (the peer falls silent), they still know which pages were lost with a crashed client.
    if (this.core) this.snapshotCore();
    this.core = null;
    this.candidacy = null;
    this.held = [];
    this.role = 'rejoining';
    this.rejoinSince = now;
    this.rejoinSynced = false;
    this.lastPing = -Infinity;
    return [{ type: 'role', role: 'rejoining', epoch: this.epoch, reason }];
  }

  private toBackup(reason: string): RoleOutput[] {
    if (this.core) this.snapshotCore();
    this.core = null;
    this.candidacy = null;
    this.held = [];
    this.role = 'backup';
    return [{ type: 'role', role: 'backup', epoch: this.epoch, reason }];
  }

  // --- authority (quorum.ts) ------------------------------------------------------------

  private mayServe(now: number): boolean {
    return this.authority === null || this.authority.source(now, this.known.size) !== null;
  }

  /**
   * For a primary, before it acts: null (serve on), 'lapsed' (it had authority and lost it: the peer may
   * serve meanwhile, so it must take over again), 'waiting' (the cluster's first primary, before its first
   * authority), or the frames it held until its first authority, to act on now.
   */
  private authorityGate(now: number): 'lapsed' | 'waiting' | RoleOutput[] | null {
    if (this.mayServe(now)) {
      if (this.hadAuthority) return null;
      this.hadAuthority = true;
      const held = this.held;
      this.held = [];
      return held.flatMap((m) => this.core!.receive(m, now));
    }
    return this.hadAuthority ? 'lapsed' : 'waiting';
  }

  private lapse(now: number): RoleOutput[] {
    const voters = this.known.size;
    const votes = this.authority?.voterCount(now) ?? 0;
    return this.becomeCandidate(now, `lost its authority: no backup vote, ${votes} of ${voters} clients vouch for it`);
  }

  /** Before its first authority a primary lists clients and answers heartbeats (their votes give it authority); the rest waits. */
  private holdForAuthority(msg: Message, now: number): RoleOutput[] {
    if (msg.t === 'hello' || msg.t === 'hb') return this.core!.receive(msg, now);
    if (this.held.length < MAX_BUFFERED) this.held.push(msg);
    return [];
  }

  /**
   * A heartbeat that echoes our acknowledgement `v`, at our epoch: the client's vote, counted from when we
   * sent that, once its promise to the peer (`w`) runs out, or at once if the peer's process died (quorum.ts).
   */
  private countHeartbeatVote(msg: Message, now: number): void {
    if (!this.authority || msg.t !== 'hb' || msg.v === undefined || msg.epoch !== this.epoch) return;
    const sent = this.acks.get(msg.from)?.sentAt(msg.v);
    const from = this.authority.peerDiedLately(now) ? now : now + (msg.w ?? 0);
    if (sent !== undefined) this.authority.clientVote(msg.from, from, sent);
  }

  /** A report to our takeover `tn`: a vote from when its promises to others run out, counted from when we sent that takeover. */
  private countReportVote(msg: MessageOf<'report'>, now: number): void {
    const sent = msg.tn === undefined ? undefined : this.candidacy?.takeovers.sentAt(msg.tn);
    if (!this.authority || msg.wait === undefined || sent === undefined) return;
    this.authority.clientVote(msg.from, now + msg.wait, sent);
  }

  /** A backup answers its peer's numbered ping with the number: its vote, and its promise not to take over for a while. */
  private voteForPeer(ping: MessageOf<'mping'> | MessageOf<'handback_req'>, now: number): { n?: number } {
    if (!this.authority || this.role !== 'backup' || ping.n === undefined) return {};
    this.authority.votedForPeer(now);
    return { n: ping.n };
  }

  /**
   * Lease acknowledgements we send: their send time is kept (the echo is a vote from then), and the lease
   * they grant ends with our authority, so no client serves a hit on our word after we may have lost it.
   */
  private stampLeases(out: RoleOutput[], now: number): RoleOutput[] {
    if (!this.authority) return out;
    for (const o of out) {
      if (o.type !== 'send' || o.msg.t !== 'hb_ack') continue;
      const sent = this.acks.get(o.to) ?? new SentTimes();
      this.acks.set(o.to, sent);
      sent.record(o.msg.n, now);
      const left = Math.max(0, Math.floor(this.authority.until(now, this.known.size) - now));
      if (left < o.msg.ms) o.msg = { ...o.msg, ms: left };
    }
    return out;
  }

  // --- helpers --------------------------------------------------------------------------

  /** Keeps the serving core's records as our replica, and its clients as known, before we stop serving. */
  private snapshotCore(): void {
    const core = this.core!;
    this.replica = core.recordCache().map(replicaOf);
    this.replicaOf = this.epoch;
    this.replicaOwn = true;
    this.listed = new Set(core.clientEntries().map((c) => c.id));
    this.listedOf = this.epoch;
    for (const c of core.clientEntries()) {
      this.learn(c.id, c);
      this.alive(c.id);
    }
  }

  /** Records what a hello, report or client list says of a client; the hello count only grows within an incarnation. */
  private learn(id: NodeId, c: { endpoint: string; incarnation: number; memory?: ClientMemory | undefined }, n?: number): void {
    const old = this.known.get(id);
    const was = old?.incarnation === c.incarnation ? old.n : undefined;
    const best = n === undefined ? was : Math.max(n, was ?? 0);
    this.known.set(id, { endpoint: c.endpoint, incarnation: c.incarnation, memory: c.memory ?? old?.memory, ...(best !== undefined ? { n: best } : {}) });
  }

  /**
   * Every evict names the client's latest hello we had taken (incarnation and count), so the client can
   * tell an evict that answers a message it sent before its newest hello (links need not be FIFO) from a
   * current one. Obeying a stale one would wipe a request we may already be serving.
   */
  private stampEvicts(out: RoleOutput[]): RoleOutput[] {
    for (const o of out) {
      if (o.type !== 'send' || o.msg.t !== 'evict' || o.msg.inc !== undefined) continue;
      const k = this.known.get(o.to);
      if (k) o.msg = { ...o.msg, inc: k.incarnation, ...(k.n !== undefined ? { n: k.n } : {}) };
    }
    return out;
  }

  private newCore(epoch: number, restored?: ReturnType<typeof rebuildRecords>): ManagerCore {
    return new ManagerCore(
      {
        id: this.id,
        epoch,
        pages: this.cfg.pages,
        clientTimeoutMs: this.cfg.clientTimeoutMs,
        ...(this.cfg.heldWaitMs !== undefined ? { heldWaitMs: this.cfg.heldWaitMs } : {}),
        ...(this.cfg.recoverLoss ? { recoverLoss: true } : {}),
        ...(this.cfg.redriveMs !== undefined ? { redriveMs: this.cfg.redriveMs } : {}),
        ...(this.cfg.minRedriveMs !== undefined ? { minRedriveMs: this.cfg.minRedriveMs } : {}),
      },
      restored,
    );
  }

  private nextEpoch(above: number): number {
    const e = above + 1;
    return e % 2 === this.cfg.parity ? e : e + 1;
  }

  private send(to: NodeId, msg: Message): Send {
    return { type: 'send', to, msg };
  }
}
