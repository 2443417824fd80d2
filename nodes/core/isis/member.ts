// A write-update member (seed 002) as a deterministic state machine: a full replica
// of every page, writes ordered by ISIS (proposed priorities, agreed = max with the
// proposer as tie-break, delivery from the head once stable), reads served locally,
// views installed by the registry with a flush, and state transfer to joiners.
// No I/O: the runtime feeds it frames, operations and clock readings.
import type { Message, MessageOf, NodeId } from '../../protocol/messages.js';
import type { MemberCore, MemberOutput } from '../protocol.js';
import type { OpRequest, OpResult, PageView } from '../types.js';
import type { ClientConfig } from '../client.js';
import { DeliveryQueue, entryKey, prioOf, type DeliveryRule } from './queue.js';
import { ISIS_LIMITS } from '../../protocol/isis-messages.js';
import { comparePrio, proposerNumber, type InstallBody, type IsisMember, type IsisMemberView, type Prio } from './types.js';

export interface IsisMemberConfig extends ClientConfig {
  /** Test hook for the simulator's broken variants; production never sets it. */
  mutant?: { deliverOnProposed?: boolean };
  /** Test hook: told of every delivery (the simulator checks every member's sequence); production never sets it. */
  onDeliver?: (d: { pos: number; sender: NodeId; seq: number; page: number; data: Uint8Array }) => void;
}

/** Sequence numbers of incarnation k start at k * SEQ_PER_INCARNATION. */
const SEQ_PER_INCARNATION = 1_000_000;

/** Our own write being ordered (at most one at a time: program order). */
interface Outgoing {
  op: Extract<OpRequest, { kind: 'write' }>;
  since: number;
  view: number;
  seq: number;
  proposals: Map<NodeId, Prio>;
  decided: Prio | null;
  acks: Set<NodeId>;
  stable: boolean;
  lastSent: number;
  /** The op already returned (timed out, outcome unknown); the message goes on. */
  reported: boolean;
}

interface Waiting {
  op: OpRequest;
  since: number;
}

export class IsisMemberCore implements MemberCore {
  readonly id: NodeId;
  private readonly cfg: IsisMemberConfig;
  private readonly me: number;
  private readonly rule: DeliveryRule;
  private regEpoch: number;
  private registry: NodeId;
  // --- membership
  /** Last committed view (0: none) and its members. */
  private view = 0;
  private members: IsisMember[] = [];
  private prepared = 0;
  private pendingInstall: InstallBody | null = null;
  private lastInstall: InstallBody | null = null;
  /** The highest view ever installed by this incarnation (an eviction does not reset it). */
  private maxInstalled = 0;
  // --- replica
  private hasState = false;
  private pages: Uint8Array[];
  private wpos: number[];
  private pos = 0;
  private stateParts: { pos: number; parts: Map<number, MessageOf<'i_state'>['pages']> } | null = null;
  /** The member that owes us our state (while we have none), and when we last asked it. */
  private donor: NodeId | null = null;
  private lastStateReq = -Infinity;
  /** Priority of our last delivery in this view: a state transfer says where it stands. */
  private lastPrio: Prio | null = null;
  // --- ordering
  private counter = 0;
  private seq: number;
  private readonly queue = new DeliveryQueue();
  private readonly delivered = new Set<string>();
  /** Our own messages of this view that are delivered, with their agreed priority (to answer queries). */
  private readonly doneOwn = new Map<number, Prio>();
  private out: Outgoing | null = null;
  private readonly ops: Waiting[] = [];
  private lastHeartbeat = -Infinity;
  readonly counters: Record<string, number> = { ops: 0, failed: 0, delivered: 0, multicasts: 0, retries: 0, ignored: 0, views: 0, evictions: 0, stateTransfers: 0 };

  constructor(cfg: IsisMemberConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.me = proposerNumber(cfg.id);
    this.rule = cfg.mutant?.deliverOnProposed ? 'proposed' : 'stable';
    this.regEpoch = cfg.epoch;
    this.registry = cfg.managers[0]!;
    this.seq = cfg.incarnation * SEQ_PER_INCARNATION;
    this.pages = [];
    this.wpos = [];
  }

  // --- MemberCore --------------------------------------------------------------------

  start(now: number): MemberOutput[] {
    this.lastHeartbeat = now;
    return this.join();
  }

  get joined(): boolean {
    return this.view > 0 && this.hasState && this.members.some((m) => m.id === this.id);
  }

  get currentEpoch(): number {
    return this.regEpoch;
  }

  endpointOf(id: NodeId): string | undefined {
    return this.members.find((m) => m.id === id)?.endpoint ?? this.pendingInstall?.members.find((m) => m.id === id)?.endpoint;
  }

  pageTable(): PageView[] {
    const pendingPage = this.out?.op.page ?? null;
    return Array.from({ length: this.cfg.pages }, (_, page) => ({
      page,
      // A full replica is readable locally; a write always goes to the group, so it is never 'write' access.
      access: this.hasState ? ('read' as const) : ('none' as const),
      owner: false,
      version: this.wpos[page] ?? 0,
      pending: pendingPage === page ? ('write' as const) : null,
    }));
  }

  /** Members of the view installed but not yet committed, if any (the simulator's fault planner reads it). */
  pendingMembers(): NodeId[] | null {
    return this.pendingInstall?.members.map((m) => m.id) ?? null;
  }

  pageBytes(page: number): Uint8Array | null {
    return this.hasState ? (this.pages[page] ?? null) : null;
  }

  protocolView(): IsisMemberView {
    const head = this.queue.head();
    return {
      protocol: 'isis',
      view: this.view,
      preparing: this.prepared > this.view ? this.prepared : null,
      members: this.members.map((m) => m.id),
      pos: this.pos,
      hasState: this.hasState,
      queue: this.queue.list().map((e) => ({
        sender: e.sender,
        seq: e.seq,
        page: e.page,
        proposed: [e.proposed[0], e.proposed[1]],
        agreed: e.agreed ? [e.agreed[0], e.agreed[1]] : null,
        stable: e.stable,
        deliverable: e === head && e.stable && this.hasState,
      })),
    };
  }

  submit(op: OpRequest, now: number): MemberOutput[] {
    const bad = this.validate(op);
    if (bad) return [this.finish({ id: op.id, kind: op.kind, page: op.page, ok: false, fault: false, error: bad })];
    this.ops.push({ op, since: now });
    const out: MemberOutput[] = [];
    this.pump(now, out);
    return out;
  }

  receive(msg: Message, now: number): MemberOutput[] {
    const out: MemberOutput[] = [];
    if (msg.from.startsWith('m')) this.fromRegistry(msg, now, out);
    else this.fromMember(msg, now, out);
    return out;
  }

  tick(now: number): MemberOutput[] {
    const out: MemberOutput[] = [];
    // Ops that waited too long: not yet multicast = certainly not applied (fail); multicast = unknown.
    for (let i = 0; i < this.ops.length; ) {
      const w = this.ops[i]!;
      if (now - w.since < this.cfg.opTimeoutMs) {
        i++;
        continue;
      }
      this.ops.splice(i, 1);
      out.push(this.fail(w.op, false, `timed out after ${this.cfg.opTimeoutMs} ms waiting for ${this.hasState ? 'the group' : 'a view with state'}`));
    }
    const o = this.out;
    if (o && !o.reported && now - o.since >= this.cfg.opTimeoutMs) {
      o.reported = true;
      out.push(this.fail(o.op, true, `timed out after ${this.cfg.opTimeoutMs} ms being ordered; it may still be applied`));
    }
    if (o && this.ordering() && o.view === this.view && now - o.lastSent >= this.cfg.retryMs) {
      o.lastSent = now;
      this.counters.retries!++;
      if (!o.decided) {
        const msg = this.outMsg(o);
        for (const m of this.members) if (!o.proposals.has(m.id)) this.sendTo(m.id, msg, now, out);
      } else if (!o.stable) {
        const msg: Message = { t: 'i_agreed', ...this.head(), view: o.view, seq: o.seq, prio: [o.decided[0], o.decided[1]] };
        for (const m of this.members) if (!o.acks.has(m.id)) this.sendTo(m.id, msg, now, out);
      }
    }
    // Waiting on someone else's message: ask its sender where it stands.
    if (this.ordering()) {
      for (const e of this.queue.values()) {
        if (e.stable || e.sender === this.id || now - e.since < this.cfg.retryMs) continue;
        e.since = now;
        out.push(this.send(e.sender, { t: 'i_query', ...this.head(), view: this.view, seq: e.seq }));
      }
    }
    // A joiner whose state transfer was lost asks the donor again.
    if (this.ordering() && !this.hasState && this.donor && now - this.lastStateReq >= this.cfg.retryMs) {
      this.lastStateReq = now;
      out.push(this.send(this.donor, { t: 'i_state_req', ...this.head(), view: this.view }));
    }
    if (now - this.lastHeartbeat >= this.cfg.heartbeatMs) {
      this.lastHeartbeat = now;
      if (this.view === 0 && this.pendingInstall === null) out.push(...this.join());
      else for (const seat of this.cfg.managers) out.push(this.send(seat, this.heartbeat()));
    }
    return out;
  }

  // --- registry frames ---------------------------------------------------------------

  private fromRegistry(msg: Message, now: number, out: MemberOutput[]): void {
    if (msg.epoch < this.regEpoch) {
      // A deposed registry: ignored, and told the epoch it lost to.
      this.ignore(msg, `stale epoch ${msg.epoch} < ${this.regEpoch}`, out);
      out.push(this.send(msg.from, { t: 'epoch_reject', from: this.id, epoch: this.regEpoch, seen: this.regEpoch }));
      return;
    }
    if (msg.epoch > this.regEpoch || msg.t === 'i_prepare' || msg.t === 'i_install') {
      this.regEpoch = msg.epoch;
      this.registry = msg.from;
    }
    switch (msg.t) {
      case 'i_prepare':
        return this.onPrepare(msg, out);
      case 'i_install':
        return this.onInstall(msg, now, out);
      case 'i_commit':
        if (this.pendingInstall?.view === msg.view) this.commit(now, out);
        else if (msg.view !== this.view) this.ignore(msg, `commit of view ${msg.view} not installed`, out);
        return;
      case 'i_evict':
        // Already out (rejoining), or in that view or a newer one (a late or repeated evict): nothing to do.
        if ((this.view === 0 && !this.pendingInstall) || Math.max(this.view, this.pendingInstall?.view ?? 0) >= msg.view) {
          this.ignore(msg, `evict from view ${msg.view} while in view ${this.view}`, out);
          // A registry behind us that does not know us (we joined on the other side of a partition): our join
          // gives it our endpoint, so its next view change can ask us (we keep our state; the flush says so).
          if (this.view > 0) for (const j of this.join()) if (j.type === 'send' && j.to === msg.from) out.push(j);
          return;
        }
        return this.evict(`evicted by ${msg.from}: ${msg.reason}`, now, out);
      default:
        return this.ignore(msg, `a member does not handle ${msg.t}`, out);
    }
  }

  private onPrepare(msg: MessageOf<'i_prepare'>, out: MemberOutput[]): void {
    if (msg.view < this.prepared || msg.view <= this.view) {
      this.ignore(msg, `prepare for view ${msg.view}, already at ${Math.max(this.prepared, this.view)}`, out);
      // Tell the registry the view to beat.
      out.push(this.send(msg.from, this.heartbeat()));
      return;
    }
    // From now on the old view is frozen: nothing new is multicast, old-view frames are ignored.
    this.prepared = msg.view;
    const queue = this.queue.list().map((e) => ({
      sender: e.sender,
      seq: e.seq,
      page: e.page,
      offset: e.offset,
      data: e.data,
      prio: tuple(prioOf(e)),
      agreed: e.agreed !== null,
    }));
    out.push(
      this.send(msg.from, {
        t: 'i_flush',
        ...this.head(),
        view: msg.view,
        incarnation: this.cfg.incarnation,
        installed: this.view,
        hasState: this.hasState,
        pos: this.pos,
        queue: queue.slice(0, ISIS_LIMITS.maxQueue),
        lastInstall: this.pendingInstall ?? this.lastInstall,
        maxInstalled: this.maxInstalled,
      }),
    );
  }

  private onInstall(msg: MessageOf<'i_install'>, now: number, out: MemberOutput[]): void {
    if (msg.view < this.prepared || msg.view <= this.view) {
      if (msg.view === this.view || msg.view === this.pendingInstall?.view) out.push(this.send(msg.from, { t: 'i_installed', ...this.head(), view: msg.view }));
      else this.ignore(msg, `install of view ${msg.view}, already at ${Math.max(this.prepared, this.view)}`, out);
      return;
    }
    if (!msg.members.some((m) => m.id === this.id && m.incarnation === this.cfg.incarnation)) {
      this.evict(`view ${msg.view} does not list us`, now, out);
      return;
    }
    const body: InstallBody = { view: msg.view, members: msg.members, closings: msg.closings, donor: msg.donor, joiners: msg.joiners };
    this.prepared = msg.view;
    this.pendingInstall = body;
    this.lastInstall = body;
    this.maxInstalled = Math.max(this.maxInstalled, msg.view);
    out.push(this.send(msg.from, { t: 'i_installed', ...this.head(), view: msg.view }));
  }

  /** Every member installed the pending view: close the old one at the common cut and start the new one. */
  private commit(now: number, out: MemberOutput[]): void {
    const inst = this.pendingInstall!;
    this.pendingInstall = null;
    const joiner = inst.joiners.includes(this.id);
    const o = this.out;
    if (joiner) {
      if (this.hasState || o) this.dropState(now, out, 'state replaced by a state transfer');
    } else if (this.hasState) {
      for (const c of inst.closings) {
        if (c.view < this.view) continue;
        for (const d of c.decisions) {
          if (c.view === this.view && this.delivered.has(entryKey(d.sender, d.seq))) continue;
          this.counter = Math.max(this.counter, d.prio[0]);
          this.apply(d.sender, d.seq, d.page, d.offset, d.data, d.prio, now, out);
        }
      }
    }
    // Our write, if the closing did not deliver it, was dropped: it goes out again in the new view.
    if (this.out && !this.out.reported) this.ops.unshift({ op: this.out.op, since: this.out.since });
    this.out = null;
    this.queue.clear();
    this.delivered.clear();
    this.doneOwn.clear();
    this.view = inst.view;
    this.members = inst.members;
    this.counters.views!++;
    if (inst.donor === null && joiner) {
      // Nobody holds the state (every member with state died): the group starts over from zero pages.
      this.resetPages();
      this.hasState = true;
    }
    this.lastPrio = null;
    this.donor = this.hasState ? null : inst.donor;
    this.lastStateReq = now;
    if (inst.donor === this.id && this.hasState) {
      for (const j of inst.joiners) for (const chunk of this.stateChunks()) out.push(this.send(j, chunk));
    }
    this.pump(now, out);
  }

  private evict(reason: string, now: number, out: MemberOutput[]): void {
    this.counters.evictions!++;
    this.dropState(now, out, reason);
    for (const w of this.ops.splice(0)) out.push(this.fail(w.op, false, reason));
    this.view = 0;
    this.members = [];
    this.pendingInstall = null;
    this.lastInstall = null;
    this.queue.clear();
    this.delivered.clear();
    this.doneOwn.clear();
    out.push(...this.join());
  }

  /** Forget the replica (it will come back by state transfer); our write in flight ends unknown or failed. */
  private dropState(now: number, out: MemberOutput[], reason: string): void {
    const o = this.out;
    if (o && !o.reported) out.push(this.fail(o.op, o.decided !== null, reason));
    this.out = null;
    this.hasState = false;
    this.stateParts = null;
    this.pages = [];
    this.wpos = [];
    this.pos = 0;
    void now;
  }

  // --- member frames -----------------------------------------------------------------

  private fromMember(msg: Message, now: number, out: MemberOutput[]): void {
    if (!('view' in msg) || msg.t === 'i_hb' || msg.t === 'i_flush' || msg.t === 'i_installed') {
      this.ignore(msg, `a member does not handle ${msg.t} from a member`, out);
      return;
    }
    // A frame of the view we installed but have not seen committed: someone committed it, so every member installed it.
    if (this.pendingInstall && msg.view === this.pendingInstall.view && this.prepared === msg.view) this.commit(now, out);
    if (msg.view !== this.view || !this.ordering()) {
      this.ignore(msg, `frame of view ${msg.view}; ${this.ordering() ? `in view ${this.view}` : `view ${this.view} is frozen`}`, out);
      return;
    }
    if (!this.members.some((m) => m.id === msg.from)) {
      this.ignore(msg, `${msg.from} is not in view ${this.view}`, out);
      return;
    }
    if (this.onOrdering(msg, now, out)) return;
    switch (msg.t) {
      case 'i_query':
        return this.onQuery(msg, now, out);
      case 'i_state':
        return this.onState(msg, now, out);
      case 'i_state_req':
        if (this.hasState) for (const chunk of this.stateChunks()) out.push(this.send(msg.from, chunk));
        return;
      default:
        return this.ignore(msg, `a member does not handle ${msg.t}`, out);
    }
  }

  private onMsg(msg: { from: NodeId; seq: number; page: number; offset: number; data: Uint8Array }, now: number, out: MemberOutput[]): void {
    if (msg.page >= this.cfg.pages || msg.offset + msg.data.byteLength > this.cfg.pageSize) {
      this.ignore({ t: 'i_msg', ...this.head(), view: this.view, ...msg }, `write outside the pages`, out);
      return;
    }
    if (this.delivered.has(entryKey(msg.from, msg.seq))) return; // a late duplicate: its sender has our proposal
    let e = this.queue.get(msg.from, msg.seq);
    if (!e) {
      this.counter++;
      e = { sender: msg.from, seq: msg.seq, page: msg.page, offset: msg.offset, data: new Uint8Array(msg.data), proposed: [this.counter, this.me], agreed: null, stable: false, since: now };
      this.queue.add(e);
    }
    // Idempotent: a repeated message gets the same proposal again.
    this.sendTo(msg.from, { t: 'i_propose', ...this.head(), view: this.view, seq: msg.seq, prio: tuple(e.proposed) }, now, out);
  }

  private onPropose(msg: { from: NodeId; seq: number; prio: readonly [number, number] }, now: number, out: MemberOutput[]): void {
    const o = this.out;
    if (!o || o.seq !== msg.seq || o.view !== this.view) return;
    if (o.decided) return; // a duplicate after the decision
    o.proposals.set(msg.from, msg.prio);
    if (!this.members.every((m) => o.proposals.has(m.id))) return;
    let best: Prio = [0, 0];
    for (const p of o.proposals.values()) if (comparePrio(p, best) > 0) best = p;
    o.decided = best;
    o.lastSent = now;
    const agreed: Message = { t: 'i_agreed', ...this.head(), view: this.view, seq: o.seq, prio: tuple(best) };
    for (const m of this.members) this.sendTo(m.id, agreed, now, out);
  }

  private onAgreed(sender: NodeId, seq: number, prio: readonly [number, number], now: number, out: MemberOutput[]): void {
    const e = this.queue.get(sender, seq);
    if (!e) {
      // Already delivered: the sender lost our ack. Never received: cannot be (it needed our proposal).
      if (this.delivered.has(entryKey(sender, seq))) this.sendTo(sender, { t: 'i_ack', ...this.head(), view: this.view, seq }, now, out);
      return;
    }
    if (!e.agreed) {
      e.agreed = [prio[0], prio[1]];
      e.since = now;
      this.counter = Math.max(this.counter, prio[0]);
    }
    this.sendTo(sender, { t: 'i_ack', ...this.head(), view: this.view, seq }, now, out);
    this.deliver(now, out);
  }

  private onAck(msg: { from: NodeId; seq: number }, now: number, out: MemberOutput[]): void {
    const o = this.out;
    if (!o || o.seq !== msg.seq || !o.decided) return;
    o.acks.add(msg.from);
    if (o.stable || !this.members.every((m) => o.acks.has(m.id))) return;
    o.stable = true;
    const stable: Message = { t: 'i_stable', ...this.head(), view: this.view, seq: o.seq };
    for (const m of this.members) this.sendTo(m.id, stable, now, out);
  }

  private onStable(sender: NodeId, seq: number, now: number, out: MemberOutput[]): void {
    const e = this.queue.get(sender, seq);
    if (!e || !e.agreed) return;
    e.stable = true;
    this.deliver(now, out);
  }

  private onQuery(msg: MessageOf<'i_query'>, now: number, out: MemberOutput[]): void {
    const o = this.out;
    let prio: Prio | null = null;
    let stable = false;
    if (o && o.seq === msg.seq && o.decided) {
      prio = o.decided;
      stable = o.stable;
    } else if (this.doneOwn.has(msg.seq)) {
      prio = this.doneOwn.get(msg.seq)!;
      stable = true;
    }
    if (!prio) return; // not decided yet: our own retries bring it along
    out.push(this.send(msg.from, { t: 'i_agreed', ...this.head(), view: this.view, seq: msg.seq, prio: tuple(prio) }));
    if (stable) out.push(this.send(msg.from, { t: 'i_stable', ...this.head(), view: this.view, seq: msg.seq }));
    void now;
  }

  private onState(msg: MessageOf<'i_state'>, now: number, out: MemberOutput[]): void {
    if (this.hasState) return; // a duplicate, or an answer to a repeated request
    // Parts of one snapshot only (a repeated request may be answered from a later position).
    if (this.stateParts?.pos !== msg.pos) this.stateParts = { pos: msg.pos, parts: new Map() };
    const parts = this.stateParts.parts;
    parts.set(msg.part, msg.pages);
    if (parts.size < msg.parts) return;
    this.resetPages();
    // What the donor had delivered of this view is in the state: those messages leave our queue.
    // (A message the donor delivered was stable, so we hold it agreed, at or below its last priority.)
    if (msg.last) {
      for (const e of [...this.queue.values()]) {
        if (e.agreed && comparePrio(e.agreed, msg.last) <= 0) {
          this.queue.delete(e.sender, e.seq);
          this.delivered.add(entryKey(e.sender, e.seq));
        }
      }
      this.lastPrio = msg.last;
    }
    for (const chunk of parts.values()) {
      for (const p of chunk) {
        if (p.page >= this.cfg.pages || p.data.byteLength !== this.cfg.pageSize) continue;
        this.pages[p.page] = new Uint8Array(p.data);
        this.wpos[p.page] = p.wpos;
      }
    }
    this.pos = msg.pos;
    this.hasState = true;
    this.stateParts = null;
    this.donor = null;
    this.counters.stateTransfers!++;
    this.deliver(now, out);
    this.pump(now, out);
  }

  // --- delivery and operations ---------------------------------------------------------

  private deliver(now: number, out: MemberOutput[]): void {
    if (!this.hasState) return; // a joiner proposes and acks, but delivers only once its state is in
    for (let e = this.queue.popDeliverable(this.rule); e; e = this.queue.popDeliverable(this.rule)) {
      this.apply(e.sender, e.seq, e.page, e.offset, e.data, prioOf(e), now, out);
    }
    this.pump(now, out);
  }

  /** Applies one message of the total order to the replica. */
  private apply(sender: NodeId, seq: number, page: number, offset: number, data: Uint8Array, prio: Prio, now: number, out: MemberOutput[]): void {
    if (page < this.cfg.pages && offset + data.byteLength <= this.cfg.pageSize) this.pages[page]!.set(data, offset);
    this.pos++;
    this.wpos[page] = this.pos;
    this.delivered.add(entryKey(sender, seq));
    this.lastPrio = prio;
    this.counters.delivered!++;
    this.cfg.onDeliver?.({ pos: this.pos, sender, seq, page, data });
    if (sender !== this.id) return;
    this.doneOwn.set(seq, prio);
    const o = this.out;
    if (o && o.seq === seq) {
      this.out = null;
      if (!o.reported) out.push(this.finish({ id: o.op.id, kind: 'write', page: o.op.page, ok: true, fault: true, version: this.pos, pos: this.pos }));
    }
    void now;
  }

  /** Serves queued ops in program order: reads locally, one write at a time through the group. */
  private pump(now: number, out: MemberOutput[]): void {
    while (this.ops.length > 0 && this.hasState && this.view > 0 && !this.out) {
      const w = this.ops[0]!;
      if (w.op.kind === 'read') {
        this.ops.shift();
        const data = this.pages[w.op.page]!.slice(w.op.offset, w.op.offset + w.op.length);
        const waited = now > w.since;
        out.push(this.finish({ id: w.op.id, kind: 'read', page: w.op.page, ok: true, fault: waited, version: this.wpos[w.op.page]!, data, pos: this.pos, wpos: this.wpos[w.op.page]! }));
        continue;
      }
      if (!this.ordering()) return; // frozen for a view change: the write waits for the new view
      this.ops.shift();
      const o: Outgoing = { op: w.op, since: w.since, view: this.view, seq: ++this.seq, proposals: new Map(), decided: null, acks: new Set(), stable: false, lastSent: now, reported: false };
      this.out = o;
      this.counters.multicasts!++;
      const msg = this.outMsg(o);
      for (const m of this.members) this.sendTo(m.id, msg, now, out);
    }
  }

  private outMsg(o: Outgoing): MessageOf<'i_msg'> {
    return { t: 'i_msg', ...this.head(), view: o.view, seq: o.seq, page: o.op.page, offset: o.op.offset, data: o.op.data };
  }

  /** In a committed view that is not frozen by a prepare. */
  private ordering(): boolean {
    return this.view > 0 && this.prepared <= this.view;
  }

  // --- helpers -----------------------------------------------------------------------

  private join(): MemberOutput[] {
    const evictions = this.counters.evictions ?? 0;
    return this.cfg.managers.map((to) => this.send(to, { t: 'i_join', from: this.id, epoch: this.regEpoch, endpoint: this.cfg.endpoint, incarnation: this.cfg.incarnation, evictions }));
  }

  private heartbeat(): MessageOf<'i_hb'> {
    return { t: 'i_hb', ...this.head(), incarnation: this.cfg.incarnation, view: this.view, prepared: this.prepared, pos: this.pos };
  }

  private stateChunks(): MessageOf<'i_state'>[] {
    const perChunk = Math.max(1, Math.floor(ISIS_LIMITS.stateChunkBytes / this.cfg.pageSize));
    const chunks: MessageOf<'i_state'>['pages'][] = [];
    for (let p = 0; p < this.cfg.pages; p += perChunk) {
      chunks.push(this.pages.slice(p, p + perChunk).map((data, i) => ({ page: p + i, wpos: this.wpos[p + i]!, data: data.slice() })));
    }
    const last = this.lastPrio ? tuple(this.lastPrio) : null;
    return chunks.map((pages, part) => ({ t: 'i_state', ...this.head(), view: this.view, pos: this.pos, last, part, parts: chunks.length, pages }));
  }

  private resetPages(): void {
    this.pages = Array.from({ length: this.cfg.pages }, () => new Uint8Array(this.cfg.pageSize));
    this.wpos = Array.from({ length: this.cfg.pages }, () => 0);
    this.pos = 0;
  }

  private validate(op: OpRequest): string | null {
    const { pages, pageSize } = this.cfg;
    if (!Number.isInteger(op.page) || op.page < 0 || op.page >= pages) return `page ${op.page} is outside 0..${pages - 1}`;
    const len = op.kind === 'read' ? op.length : op.data.byteLength;
    if (!Number.isInteger(op.offset) || op.offset < 0 || !Number.isInteger(len) || len < 0 || op.offset + len > pageSize) {
      return `bytes ${op.offset}..${op.offset + len} do not fit in a ${pageSize}-byte page`;
    }
    return null;
  }

  private head(): { from: NodeId; epoch: number } {
    return { from: this.id, epoch: this.regEpoch };
  }

  /** Frames to ourselves are handled at once, not sent through the network. */
  private sendTo(to: NodeId, msg: Message, now: number, out: MemberOutput[]): void {
    if (to !== this.id) {
      out.push(this.send(to, msg));
      return;
    }
    this.onOrdering(msg, now, out);
  }

  /** The ordering frames, from the network or from ourselves; false for any other frame. */
  private onOrdering(msg: Message, now: number, out: MemberOutput[]): boolean {
    switch (msg.t) {
      case 'i_msg':
        this.onMsg(msg, now, out);
        return true;
      case 'i_propose':
        this.onPropose(msg, now, out);
        return true;
      case 'i_agreed':
        this.onAgreed(msg.from, msg.seq, msg.prio, now, out);
        return true;
      case 'i_ack':
        this.onAck(msg, now, out);
        return true;
      case 'i_stable':
        this.onStable(msg.from, msg.seq, now, out);
        return true;
      default:
        return false;
    }
  }

  private send(to: NodeId, msg: Message): MemberOutput {
    return { type: 'send', to, msg };
  }

  private finish(result: OpResult): MemberOutput {
    this.counters.ops!++;
    if (!result.ok) this.counters.failed!++;
    return { type: 'done', result };
  }

  private fail(op: OpRequest, unknown: boolean, error: string): MemberOutput {
    return this.finish({ id: op.id, kind: op.kind, page: op.page, ok: false, fault: true, error, ...(unknown ? { unknown: true as const } : {}) });
  }

  private ignore(msg: Message, reason: string, out: MemberOutput[]): void {
    this.counters.ignored!++;
    out.push({ type: 'ignored', msg, reason });
  }
}

const tuple = (p: Prio): [number, number] => [p[0], p[1]];
