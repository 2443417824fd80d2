// The write-update registry (seed 002) as a deterministic state machine, with the
// primary/backup role logic of the manager seats. It is not on the read/write path:
// it admits members, notices deaths (heartbeat silence, or a dropped connection
// reported by the runtime) and runs view changes:
//   prepare (members freeze and flush) -> decide (flush.ts) -> install -> commit.
// The backup seat follows the primary's view by sync; when the primary goes silent
// or its connection drops, it takes a higher epoch and runs a fresh view change,
// which also finishes any change the old primary left half done (lastInstall).
import type { Message, MessageOf, NodeId } from '../../protocol/messages.js';
import type { ManagerRole, ManagerRoleConfig, RoleChange } from '../manager-role.js';
import type { SeatCore, SeatOutput } from '../protocol.js';
import type { RecordView, Send } from '../types.js';
import { checkQuorum, decideViewChange, type FlushReport, type QuorumOptions, type QuorumVerdict } from './flush.js';
import type { InstallBody, IsisMember, IsisRegistryView } from './types.js';

export interface IsisRegistryConfig extends ManagerRoleConfig {
  /** Test hook for the simulator's broken variant; production never sets it. */
  mutant?: { skipFlush?: boolean; noQuorum?: boolean };
}

interface Change {
  view: number;
  members: IsisMember[];
  phase: 'flush' | 'install';
  flushes: Map<NodeId, FlushReport>;
  installed: Set<NodeId>;
  install: InstallBody | null;
  startedAt: number;
  lastSent: number;
}

/** How long a seat waits for a peer it has never heard from before acting alone. */
const STARTUP_GRACE_MS = 1000;
const SYNC_EVERY_MS = 500;
export const VIEWS_PER_EPOCH = 1_000_000;

export class IsisRegistryCore implements SeatCore {
  readonly id: NodeId;
  private readonly cfg: IsisRegistryConfig;
  private role: ManagerRole;
  private epoch: number;
  private seen: number;
  /** The last view this registry committed (or learned from the primary) and its members. */
  private view = 0;
  private members: IsisMember[] = [];
  /** The members of `view` as installed (`members` also holds a takeover's candidates until its view commits). */
  private viewMembers: IsisMember[] = [];
  /**
   * A view change refused for want of a quorum of the view it replaces (a partition, or most members
   * down): the next attempt waits until `holdUntil` and asks `retry` again, with whoever it hears then.
   */
  private holdUntil = -Infinity;
  private retry: IsisMember[] | null = null;
  private refusal: QuorumVerdict | null = null;
  /** Highest view number heard of anywhere: a new view change must beat it. */
  private viewSeen = 0;
  private readonly known = new Map<NodeId, IsisMember>();
  private readonly lastHeard = new Map<NodeId, number>();
  private readonly positions = new Map<NodeId, number>();
  private readonly joins = new Map<NodeId, IsisMember>();
  /** Members to drop at the next view change, by the incarnation that died. */
  private readonly dead = new Map<NodeId, number>();
  private readonly evictedAt = new Map<NodeId, number>();
  /** Per member id, the eviction count of the join that last brought it in. */
  private readonly joinEvictions = new Map<NodeId, number>();
  private change: Change | null = null;
  private started = false;
  private startedAt = 0;
  private lastTick: number | null = null;
  private peerHeard: number | null = null;
  private peerRole: ManagerRole | null = null;
  private lastPing = -Infinity;
  private lastSync = -Infinity;
  private readonly stats: Record<string, number> = { joins: 0, viewChanges: 0, restarts: 0, deaths: 0, evictions: 0, takeovers: 0, ignored: 0, refused: 0 };

  constructor(cfg: IsisRegistryConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.epoch = cfg.epoch;
    this.seen = cfg.epoch;
    for (const c of cfg.clients) this.known.set(c.id, { ...c });
    this.role = cfg.start === 'primary' ? 'primary' : cfg.start === 'backup' ? 'backup' : 'rejoining';
  }

  // --- SeatCore ----------------------------------------------------------------------

  get currentRole(): ManagerRole {
    return this.role;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get counters(): Record<string, number> {
    return { ...this.stats, epoch: this.epoch, view: this.view, members: this.members.length, blocked: this.refusal ? 1 : 0 };
  }

  endpointOf(id: NodeId): string | undefined {
    return this.change?.members.find((m) => m.id === id)?.endpoint ?? this.members.find((m) => m.id === id)?.endpoint ?? this.known.get(id)?.endpoint;
  }

  clientList(): { id: NodeId; endpoint: string }[] {
    return this.members.map((m) => ({ id: m.id, endpoint: m.endpoint }));
  }

  recordCache(): RecordView[] {
    return [];
  }

  protocolView(): IsisRegistryView {
    const c = this.change;
    return {
      protocol: 'isis',
      view: this.view,
      members: this.members.map((m) => ({ id: m.id, incarnation: m.incarnation, pos: this.positions.get(m.id) ?? null })),
      change: c && {
        view: c.view,
        phase: c.phase,
        members: c.members.map((m) => m.id),
        waitingFor: c.members.filter((m) => (c.phase === 'flush' ? !c.flushes.has(m.id) : !c.installed.has(m.id))).map((m) => m.id),
      },
      blocked: this.refusal && { view: this.refusal.view, have: this.refusal.have, of: this.refusal.of },
    };
  }

  receive(msg: Message, now: number): SeatOutput[] {
    // Members carry the epoch of the registry they follow: a takeover must beat it.
    if (msg.epoch > this.seen) this.seen = msg.epoch;
    if (msg.from.startsWith('m')) return this.fromPeer(msg, now);
    const out: SeatOutput[] = [];
    switch (msg.t) {
      case 'i_join':
        this.onJoin(msg, now, out);
        break;
      case 'i_hb':
        this.onHeartbeat(msg, now, out);
        break;
      case 'i_flush':
        this.onFlush(msg, now, out);
        break;
      case 'i_installed':
        this.onInstalled(msg, now, out);
        break;
      case 'epoch_reject':
        if (msg.seen > this.seen) this.seen = msg.seen;
        if (msg.seen > this.epoch && this.role === 'primary') {
          out.push(...this.toBackup(`${msg.from} follows epoch ${msg.seen}`));
          // The peer serves that epoch, though we may not have heard from it for long (a healed partition):
          // give it a heartbeat timeout to show up before taking over again.
          this.peerHeard = now;
        }
        break;
      default:
        this.ignore(msg, `a registry does not handle ${msg.t}`, out);
    }
    if (this.role === 'primary') this.maybeStartChange(now, out);
    return out;
  }

  memberConnectionLost(id: NodeId, now: number): SeatOutput[] {
    const m = (this.change?.members ?? this.members).find((x) => x.id === id);
    if (!m || this.role !== 'primary') return [];
    this.markDead(m, 'connection lost');
    const out: SeatOutput[] = [];
    this.maybeStartChange(now, out);
    return out;
  }

  peerConnectionLost(now: number): SeatOutput[] {
    if ((this.role === 'backup' && this.peerHeard !== null) || this.role === 'rejoining') return this.takeOver(now, 'connection to the primary registry lost');
    return [];
  }

  tick(now: number): SeatOutput[] {
    const out: SeatOutput[] = [];
    if (!this.started) {
      this.started = true;
      this.startedAt = now;
    }
    // Rebooted with no peer: first hear the members' heartbeats (they carry the epoch to beat), then serve.
    if (this.role === 'rejoining' && this.cfg.peer === null && now - this.startedAt >= this.cfg.heartbeatTimeoutMs) out.push(...this.takeOver(now, 'rebooted with no peer'));
    // A long gap since the last tick means we did not run (SIGSTOP): others' silence is not theirs.
    const gap = this.lastTick === null ? 0 : now - this.lastTick;
    this.lastTick = now;
    if (gap > this.cfg.heartbeatTimeoutMs / 2) {
      for (const [id, t] of this.lastHeard) this.lastHeard.set(id, Math.min(now, t + gap));
      if (this.peerHeard !== null) this.peerHeard = Math.min(now, this.peerHeard + gap);
      if (this.change) this.change.startedAt += gap;
    }
    if (this.cfg.peer !== null && now - this.lastPing >= this.cfg.heartbeatMs) {
      this.lastPing = now;
      out.push(this.send(this.cfg.peer, { t: 'i_ping', ...this.head(), role: this.role, view: Math.max(this.viewSeen, this.view) }));
    }
    const silentFor = now - (this.peerHeard ?? this.startedAt);
    const limit = this.peerHeard === null ? Math.max(STARTUP_GRACE_MS, this.cfg.heartbeatTimeoutMs) : this.cfg.heartbeatTimeoutMs;
    if ((this.role === 'backup' || this.role === 'rejoining') && this.cfg.peer !== null && silentFor > limit) {
      out.push(...this.takeOver(now, `primary registry silent for ${Math.round(silentFor)} ms`));
    }
    if (this.role !== 'primary') return out;
    // Silence: a member not heard from for clientTimeoutMs is dead.
    if (this.cfg.clientTimeoutMs > 0) {
      for (const m of this.change?.members ?? this.members) {
        const heard = this.lastHeard.get(m.id) ?? this.change?.startedAt ?? now;
        if (now - heard > this.cfg.clientTimeoutMs) this.markDead(m, `silent for ${Math.round(now - heard)} ms`);
      }
    }
    const c = this.change;
    if (c && now - c.lastSent >= this.cfg.heartbeatMs * 2) {
      c.lastSent = now;
      for (const m of c.members) {
        if (c.phase === 'flush' && !c.flushes.has(m.id)) out.push(this.send(m.id, this.prepareMsg(c)));
        if (c.phase === 'install' && !c.installed.has(m.id)) out.push(this.send(m.id, this.installMsg(c.install!)));
      }
    }
    this.maybeStartChange(now, out);
    if (this.cfg.peer !== null && now - this.lastSync >= SYNC_EVERY_MS) out.push(this.syncMsg(now));
    return out;
  }

  // --- members -----------------------------------------------------------------------

  private onJoin(msg: MessageOf<'i_join'>, now: number, out: SeatOutput[]): void {
    const prev = this.known.get(msg.from);
    if (prev && msg.incarnation < prev.incarnation) return this.ignore(msg, `join of an earlier incarnation ${msg.incarnation}`, out);
    const m: IsisMember = { id: msg.from, endpoint: msg.endpoint, incarnation: msg.incarnation };
    this.known.set(m.id, m);
    this.lastHeard.set(m.id, now);
    if (this.role !== 'primary') return;
    // Already a member in this incarnation (a repeated join): the view change under way brings it in.
    const inView = (list: IsisMember[]): boolean => list.some((x) => x.id === m.id && x.incarnation === m.incarnation);
    const seenEvictions = this.joinEvictions.get(m.id) ?? -1;
    if (this.joins.get(m.id)?.incarnation === m.incarnation && msg.evictions <= seenEvictions) return;
    if (this.change && inView(this.change.members) && msg.evictions <= seenEvictions) return;
    // A member of our view that joins again after being put out of a view has left it: it comes back
    // through a view change, with a state transfer. (A late copy of the join that brought it in is ignored.)
    if (inView(this.change?.members ?? this.members)) {
      if (msg.evictions <= seenEvictions) return;
      this.markDead(m, 'rejoined');
    }
    this.joinEvictions.set(m.id, msg.evictions);
    this.stats.joins!++;
    this.joins.set(m.id, m);
    // A rebooted member: its earlier incarnation is dead (and would never answer a prepare).
    for (const old of [...(this.change?.members ?? []), ...this.members]) if (old.id === m.id && old.incarnation < m.incarnation) this.markDead(old, 'rebooted');
  }

  private onHeartbeat(msg: MessageOf<'i_hb'>, now: number, out: SeatOutput[]): void {
    this.viewSeen = Math.max(this.viewSeen, msg.view, msg.prepared);
    const members = this.change?.members ?? this.members;
    const m = members.find((x) => x.id === msg.from && x.incarnation === msg.incarnation) ?? this.members.find((x) => x.id === msg.from && x.incarnation === msg.incarnation);
    if (!m) {
      const known = this.known.get(msg.from);
      if (known && msg.incarnation < known.incarnation) return this.ignore(msg, 'heartbeat of an earlier incarnation', out);
      if (!members.some((x) => x.id === msg.from)) this.lastHeard.set(msg.from, now);
      if (this.role !== 'primary' || this.joins.has(msg.from)) return;
      // A member of a view we never saw (we rebooted, or took over with a stale list): take it in with its state.
      // Also one holding a newer install than our view (a change of ours that was restarted or refused without
      // it): that install may need its vote, so it is asked again rather than evicted.
      if (known && (msg.view > this.view || msg.prepared > this.view)) {
        this.joins.set(known.id, { ...known, incarnation: msg.incarnation });
        return;
      }
      // Not a member: it was declared dead while alive (paused). It must start over with a state transfer.
      const last = this.evictedAt.get(msg.from) ?? -Infinity;
      if (now - last >= this.cfg.heartbeatTimeoutMs) {
        this.evictedAt.set(msg.from, now);
        this.stats.evictions!++;
        out.push(this.send(msg.from, { t: 'i_evict', ...this.head(), view: this.view, reason: `not a member of view ${this.view}` }));
      }
      return;
    }
    this.lastHeard.set(m.id, now);
    this.positions.set(m.id, msg.pos);
    // A member that missed the commit of our view (the frame was lost): send it again.
    if (this.role === 'primary' && !this.change && msg.view < this.view && msg.prepared === this.view) {
      out.push(this.send(m.id, { t: 'i_commit', ...this.head(), view: this.view }));
    }
  }

  private markDead(m: IsisMember, why: string): void {
    if (this.dead.has(m.id)) return;
    this.stats.deaths!++;
    this.dead.set(m.id, m.incarnation);
    void why;
  }

  // --- view change -------------------------------------------------------------------

  private maybeStartChange(now: number, out: SeatOutput[]): void {
    if (this.role !== 'primary' || now < this.holdUntil) return;
    const c = this.change;
    const current = c?.members ?? this.members;
    const deaths = current.some((m) => this.dead.get(m.id) === m.incarnation);
    // The change under way needs a higher view: a member prepared a newer one (another registry's).
    const outbid = c !== null && this.viewSeen > c.view;
    // A change under way finishes before joins are taken in; a death restarts it (the dead never answer).
    if (c && !deaths && !outbid) return;
    if (!c && !deaths && this.joins.size === 0 && !this.retry) return;
    // After a refusal: ask again everyone of the refused change we still hear (after a heal, that is everyone).
    for (const m of this.retry ?? []) {
      const heard = now - (this.lastHeard.get(m.id) ?? -Infinity) <= this.cfg.clientTimeoutMs;
      if (heard && !current.some((x) => x.id === m.id) && !this.joins.has(m.id) && this.dead.get(m.id) !== m.incarnation) this.joins.set(m.id, m);
    }
    this.retry = null;
    let members = current.filter((m) => this.dead.get(m.id) !== m.incarnation);
    for (const j of this.joins.values()) members = [...members.filter((m) => m.id !== j.id), j];
    this.joins.clear();
    this.dead.clear();
    if (c) this.stats.restarts!++;
    this.stats.viewChanges!++;
    const view = this.nextView(Math.max(this.viewSeen, this.view, c?.view ?? 0));
    this.viewSeen = view;
    members.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
    const change: Change = { view, members, phase: 'flush', flushes: new Map(), installed: new Set(), install: null, startedAt: now, lastSent: now };
    this.change = change;
    for (const m of members) if (!this.lastHeard.has(m.id)) this.lastHeard.set(m.id, now);
    if (members.length === 0) {
      // Nobody answers: an empty view, only if the view it replaces is empty too (else it is a partition's minority).
      const verdict = checkQuorum([], this.quorumOptions());
      if (!verdict.ok) return this.refuse(verdict, now);
      this.commit(now, out);
      return;
    }
    for (const m of members) out.push(this.send(m.id, this.prepareMsg(change)));
  }

  private onFlush(msg: MessageOf<'i_flush'>, now: number, out: SeatOutput[]): void {
    this.viewSeen = Math.max(this.viewSeen, msg.installed, msg.lastInstall?.view ?? 0);
    const c = this.change;
    if (this.role !== 'primary' || !c || c.phase !== 'flush' || msg.view !== c.view) return this.ignore(msg, `flush for view ${msg.view}`, out);
    const m = c.members.find((x) => x.id === msg.from);
    if (!m || m.incarnation !== msg.incarnation) return this.ignore(msg, `flush from ${msg.from}, not in view ${c.view}`, out);
    this.lastHeard.set(m.id, now);
    this.positions.set(m.id, msg.pos);
    c.flushes.set(m.id, { id: m.id, incarnation: msg.incarnation, installed: msg.installed, hasState: msg.hasState, queue: msg.queue, lastInstall: msg.lastInstall, ...(msg.maxInstalled !== undefined ? { maxInstalled: msg.maxInstalled } : {}) });
    if (c.flushes.size < c.members.length) return;
    // The partition rule (flush.ts): the new view must hold a quorum of every view it may replace.
    const verdict = checkQuorum([...c.flushes.values()], this.quorumOptions());
    if (!verdict.ok) return this.refuse(verdict, now);
    this.refusal = null;
    const d = decideViewChange([...c.flushes.values()], { skipFlush: this.cfg.mutant?.skipFlush === true });
    c.install = { view: c.view, members: c.members, closings: d.closings, donor: d.donor, joiners: d.joiners };
    c.phase = 'install';
    c.lastSent = now;
    for (const mm of c.members) out.push(this.send(mm.id, this.installMsg(c.install)));
  }

  private quorumOptions(): QuorumOptions {
    return { known: { view: this.view, members: this.viewMembers }, everyone: this.cfg.clients.map((c) => ({ id: c.id, incarnation: c.incarnation })), off: this.cfg.mutant?.noQuorum === true };
  }

  /**
   * No quorum: install nothing. The members we reached stay frozen (they prepared this view, so no older
   * one orders anything through them) and we try again after a while with whoever answers then.
   */
  private refuse(verdict: QuorumVerdict, now: number): void {
    const c = this.change;
    this.stats.refused!++;
    this.refusal = verdict;
    this.retry = c ? c.members : [];
    this.change = null;
    this.holdUntil = now + this.cfg.heartbeatTimeoutMs;
  }

  private onInstalled(msg: MessageOf<'i_installed'>, now: number, out: SeatOutput[]): void {
    const c = this.change;
    if (this.role !== 'primary' || !c || c.phase !== 'install' || msg.view !== c.view) {
      if (msg.view !== this.view) this.ignore(msg, `installed view ${msg.view}`, out);
      return;
    }
    if (!c.members.some((m) => m.id === msg.from)) return this.ignore(msg, `${msg.from} is not in view ${c.view}`, out);
    this.lastHeard.set(msg.from, now);
    c.installed.add(msg.from);
    if (c.installed.size === c.members.length) this.commit(now, out);
  }

  private commit(now: number, out: SeatOutput[]): void {
    const c = this.change!;
    this.change = null;
    const removed = this.members.filter((m) => !c.members.some((x) => x.id === m.id && x.incarnation === m.incarnation));
    this.view = c.view;
    this.members = c.members;
    this.viewMembers = c.members;
    this.refusal = null;
    for (const m of c.members) out.push(this.send(m.id, { t: 'i_commit', ...this.head(), view: c.view }));
    // Members left out (declared dead): if one is alive after all, it learns it must start over.
    for (const m of removed) if (!c.members.some((x) => x.id === m.id)) out.push(this.send(m.id, { t: 'i_evict', ...this.head(), view: c.view, reason: `not in view ${c.view}` }));
    if (this.cfg.peer !== null) out.push(this.syncMsg(now));
  }

  private prepareMsg(c: Change): Message {
    return { t: 'i_prepare', ...this.head(), view: c.view, members: c.members };
  }

  private installMsg(b: InstallBody): Message {
    return { t: 'i_install', ...this.head(), ...b };
  }

  // --- the other seat ----------------------------------------------------------------

  private fromPeer(msg: Message, now: number): SeatOutput[] {
    if (msg.from !== this.cfg.peer) return [{ type: 'ignored', msg, reason: `${msg.from} is not our peer` }];
    this.peerHeard = now;
    const out: SeatOutput[] = [];
    switch (msg.t) {
      case 'i_ping':
        this.peerRole = msg.role;
        this.viewSeen = Math.max(this.viewSeen, msg.view);
        if (this.role === 'primary' && msg.role === 'primary' && msg.epoch > this.epoch) out.push(...this.toBackup(`peer serves epoch ${msg.epoch}`));
        else if (this.role === 'rejoining' && msg.role === 'primary') out.push(...this.toBackup(`${msg.from} serves`));
        // Neither seat serves (both restarted, or one stepped down): the home seat takes the role.
        else if (this.role !== 'primary' && this.cfg.home && (msg.role === 'backup' || msg.role === 'rejoining')) out.push(...this.takeOver(now, `${msg.from} does not serve`));
        // A backup ahead of us (it took over and gave up): clients follow its epoch, so take them back with a newer one.
        else if (this.role === 'primary' && msg.role !== 'primary' && msg.epoch > this.epoch) out.push(...this.takeOver(now, `${msg.from} is at epoch ${msg.epoch}`));
        if (this.role === 'primary' && msg.role !== 'primary' && this.peerRole !== null) this.lastSync = Math.min(this.lastSync, now - SYNC_EVERY_MS);
        return out;
      case 'i_sync':
        if (this.role === 'primary' || msg.epoch < this.epoch) return [{ type: 'ignored', msg, reason: `sync from epoch ${msg.epoch} while ${this.role} at ${this.epoch}` }];
        this.view = msg.view;
        this.viewSeen = Math.max(this.viewSeen, msg.view);
        this.members = msg.members;
        this.viewMembers = msg.members;
        for (const m of [...msg.known, ...msg.members]) {
          const k = this.known.get(m.id);
          if (!k || k.incarnation <= m.incarnation) this.known.set(m.id, m);
        }
        if (this.role === 'rejoining') out.push(...this.toBackup(`${msg.from} serves`));
        return out;
      default:
        return [{ type: 'ignored', msg, reason: `a registry does not handle ${msg.t} from a registry` }];
    }
  }

  private syncMsg(now: number): Send {
    this.lastSync = now;
    return this.send(this.cfg.peer!, { t: 'i_sync', ...this.head(), view: this.view, members: this.members, known: [...this.known.values()] });
  }

  /** Become the primary with a newer epoch and run a view change over every member we know of. */
  private takeOver(now: number, reason: string): SeatOutput[] {
    this.epoch = this.nextEpoch(Math.max(this.seen, this.epoch));
    this.seen = this.epoch;
    this.role = 'primary';
    this.stats.takeovers!++;
    const out: SeatOutput[] = [{ type: 'role', role: 'primary', epoch: this.epoch, reason } satisfies RoleChange];
    // Everyone we know of is asked; whoever does not answer within clientTimeoutMs is dropped.
    const candidates = new Map<NodeId, IsisMember>();
    for (const m of this.known.values()) candidates.set(m.id, m);
    for (const m of this.members) candidates.set(m.id, candidates.get(m.id) ?? m);
    this.change = null;
    this.holdUntil = -Infinity;
    this.retry = null;
    this.members = [...candidates.values()];
    for (const m of this.members) this.lastHeard.set(m.id, now);
    this.dead.clear();
    // A view change even with no join or death: it takes the members over and ends any change left half done.
    this.joins.clear();
    const fresh = this.members;
    this.members = [];
    for (const m of fresh) this.joins.set(m.id, m);
    this.maybeStartChange(now, out);
    // The members we took over are the old view's (for telemetry) until the new one commits.
    this.members = fresh;
    return out;
  }

  private toBackup(reason: string): SeatOutput[] {
    this.role = 'backup';
    this.change = null;
    this.retry = null;
    this.holdUntil = -Infinity;
    this.joins.clear();
    this.dead.clear();
    return [{ type: 'role', role: 'backup', epoch: this.epoch, reason }];
  }

  // --- helpers -----------------------------------------------------------------------

  private nextEpoch(above: number): number {
    const e = above + 1;
    return e % 2 === this.cfg.parity ? e : e + 1;
  }

  /**
   * View numbers live in the registry's epoch (epoch * VIEWS_PER_EPOCH + n): epochs are unique per seat
   * and takeover, so two registries (or one before and after a reboot) never issue the same view number,
   * and a newer registry's views are always higher.
   */
  private nextView(above: number): number {
    return Math.max(above + 1, this.epoch * VIEWS_PER_EPOCH + 1);
  }

  private head(): { from: NodeId; epoch: number } {
    return { from: this.id, epoch: this.epoch };
  }

  private send(to: NodeId, msg: Message): Send {
    return { type: 'send', to, msg };
  }

  private ignore(msg: Message, reason: string, out: SeatOutput[]): void {
    this.stats.ignored!++;
    out.push({ type: 'ignored', msg, reason });
  }
}
