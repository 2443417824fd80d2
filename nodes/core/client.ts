// The IVY client as a deterministic state machine (Li & Hudak's central-manager
// algorithm). It owns a page table; read and write hits are served locally, faults
// go to the manager, and page copies travel owner -> requester. No I/O here: the
// runtime feeds it decoded messages, operations and clock readings, and carries
// out the returned outputs in order.
import type { Access, Message, MessageOf, NodeId } from '../protocol/messages.js';
import type { MemberCore } from './protocol.js';
import type { ClientOutput, OpKind, OpRequest, OpResult, PageView } from './types.js';

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
  /** An unanswered fault is sent again (same request number) after this long. */
  retryMs: number;
}

/** Request numbers of incarnation k start at k * REQS_PER_INCARNATION, so a stale answer can't match a new request. */
export const REQS_PER_INCARNATION = 1_000_000;

interface Entry {
  access: Access;
  /** Owner: holds the authoritative copy the manager forwards requests to. */
  owner: boolean;
  version: number;
  data: Uint8Array | null;
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
  private readonly waiting = new Map<number, Waiting[]>();
  /** At most one outstanding fault per page. */
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  /** Last forward served per page: reported at a takeover so an in-flight transfer is resumed, not lost. */
  private readonly served = new Map<number, Served>();
  private lastHeartbeat = -Infinity;
  private readonly peers = new Map<NodeId, string>();
  readonly counters: ClientCounters = { ops: 0, hits: 0, faults: 0, failed: 0, ignored: 0, evictions: 0, takeovers: 0 };

  constructor(cfg: ClientConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.epoch = cfg.epoch;
    this.manager = cfg.managers[0]!;
    this.seq = cfg.incarnation * REQS_PER_INCARNATION;
    this.table = Array.from({ length: cfg.pages }, () => ({ access: 'none', owner: false, version: 0, data: null }));
  }

  /** Announce ourselves to every manager so each can list us and tell peers our address. */
  start(): ClientOutput[] {
    return this.cfg.managers.map((to) => ({
      type: 'send' as const,
      to,
      msg: { t: 'hello' as const, from: this.id, epoch: this.epoch, endpoint: this.cfg.endpoint, incarnation: this.cfg.incarnation },
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
    const queue = this.waiting.get(op.page);
    if (queue) {
      // Queued behind an open fault (possibly one whose op timed out): it waits for the manager, so it is no cache hit.
      queue.push({ op, since: now, faulted: true });
      return [];
    }
    const out: ClientOutput[] = [];
    this.runOrFault({ op, since: now, faulted: false }, now, out);
    return out;
  }

  receive(msg: Message, now: number): ClientOutput[] {
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
    switch (msg.t) {
      case 'members':
        for (const m of msg.members) this.peers.set(m.id, m.endpoint);
        return [];
      case 'read_fwd':
        return this.onForward(msg, 'read');
      case 'write_fwd':
        return this.onForward(msg, 'write');
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
      default:
        return this.ignore(msg, `a client does not handle ${msg.t}`);
    }
  }

  /** Fails ops that waited longer than the timeout; the fault itself stays open so a late answer is still confirmed. */
  tick(now: number): ClientOutput[] {
    const out: ClientOutput[] = [];
    for (const [page, queue] of this.waiting) {
      const keep = queue.filter((w) => {
        if (now - w.since < this.cfg.opTimeoutMs) return true;
        out.push(this.fail(w, `timed out after ${this.cfg.opTimeoutMs} ms waiting for the manager`));
        return false;
      });
      if (keep.length === 0 && !this.pending.has(page)) this.waiting.delete(page);
      else this.waiting.set(page, keep);
    }
    for (const [page, p] of this.pending) {
      if (now - p.sentAt < this.cfg.retryMs) continue;
      // Same request number: the manager deduplicates, so a retry can never be served twice.
      p.sentAt = now;
      out.push(this.requestMsg(page, p));
    }
    if (now - this.lastHeartbeat >= this.cfg.heartbeatMs) {
      this.lastHeartbeat = now;
      out.push(this.toManager({ t: 'hb', from: this.id, epoch: this.epoch }));
    }
    return out;
  }

  pageTable(): PageView[] {
    return this.table.map((e, page) => ({
      page,
      access: e.access,
      owner: e.owner,
      version: e.version,
      pending: this.pending.get(page)?.kind ?? null,
    }));
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

  /** Serves `w` locally if access allows, else opens a fault and parks it. */
  private runOrFault(w: Waiting, now: number, out: ClientOutput[]): void {
    const entry = this.entry(w.op.page);
    if (covers(entry.access, w.op.kind) && !this.pending.has(w.op.page)) {
      out.push(this.execute(w, entry));
      return;
    }
    w.faulted = true;
    const queue = this.waiting.get(w.op.page) ?? [];
    queue.push(w);
    this.waiting.set(w.op.page, queue);
    if (!this.pending.has(w.op.page)) out.push(this.openFault(w.op.page, w.op.kind, now));
  }

  private openFault(page: number, kind: OpKind, now: number): ClientOutput {
    const p: Pending = { req: ++this.seq, kind, sentAt: now, stashed: null, resumed: false };
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
      queue.shift();
      out.push(this.execute(w, entry));
    }
    this.waiting.delete(page);
  }

  // --- messages ---------------------------------------------------------------

  private onForward(msg: MessageOf<'read_fwd'> | MessageOf<'write_fwd'>, kind: OpKind): ClientOutput[] {
    const entry = this.entry(msg.page);
    // A copy holder may be forwarded to before its `own` arrives (the old owner died): the forward itself makes it owner.
    if (entry.data === null || entry.access === 'none') return this.ignore(msg, `asked to forward page ${msg.page} it does not hold`);
    const data = entry.data.slice();
    this.served.set(msg.page, { to: msg.requester, req: msg.req, kind });
    if (kind === 'read') {
      entry.access = 'read';
      entry.owner = true;
    } else {
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
    if (!repeat) this.counters.takeovers++;
    if (msg.epoch > this.epoch) this.adoptEpoch(msg.epoch, msg.from);
    this.manager = msg.from;
    const out: ClientOutput[] = [this.toManager(this.report())];
    for (const [page, p] of this.pending) {
      p.sentAt = now;
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
    for (const p of this.pending.values()) p.resumed = false;
  }

  private report(): MessageOf<'report'> {
    const pages: MessageOf<'report'>['pages'] = [];
    this.table.forEach((e, page) => {
      const served = this.served.get(page) ?? null;
      if (e.access !== 'none' || served) pages.push({ page, access: e.access, owner: e.owner, version: e.version, served });
    });
    const pending = [...this.pending].map(([page, p]) => ({ page, req: p.req, kind: p.kind }));
    return { t: 'report', from: this.id, epoch: this.epoch, endpoint: this.cfg.endpoint, incarnation: this.cfg.incarnation, pages, pending };
  }

  /** The manager declared us dead and gave away or wrote off what we held: start over empty. */
  private onEvict(msg: MessageOf<'evict'>, now: number): ClientOutput[] {
    this.counters.evictions++;
    for (const e of this.table) Object.assign(e, { access: 'none', owner: false, data: null });
    this.served.clear();
    this.pending.clear();
    const out: ClientOutput[] = [];
    for (const queue of this.waiting.values()) for (const w of queue) out.push(this.fail(w, `evicted by ${msg.from}: ${msg.reason}`));
    this.waiting.clear();
    this.lastHeartbeat = now;
    out.push(...this.start());
    return out;
  }

  private onOwn(msg: MessageOf<'own'>): ClientOutput[] {
    const entry = this.entry(msg.page);
    if (entry.access === 'none' || entry.version !== msg.version) return this.ignore(msg, `told to own page ${msg.page} v${msg.version} it does not hold`);
    entry.owner = true;
    return [];
  }

  private onInvalidate(msg: MessageOf<'invalidate'>): ClientOutput[] {
    const entry = this.entry(msg.page);
    if (entry.owner) return this.ignore(msg, `owner of page ${msg.page} asked to invalidate`);
    entry.access = 'none';
    entry.data = null;
    return [
      this.toManager({ t: 'inv_ack', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, requester: msg.requester }),
    ];
  }

  private onGrant(msg: MessageOf<'grant'>, now: number): ClientOutput[] {
    const p = this.pending.get(msg.page);
    if (!p || p.req !== msg.req) return this.ignore(msg, `grant for request ${msg.req} not outstanding`);
    const entry = this.entry(msg.page);
    if (msg.zero) {
      entry.data = new Uint8Array(this.cfg.pageSize);
      entry.version = 0;
    } else if (entry.data === null) {
      return this.ignore(msg, `upgrade of page ${msg.page} granted but no copy is held`);
    }
    entry.access = msg.access;
    entry.owner = entry.owner || msg.access === 'write' || msg.zero;
    return this.resolve(msg.page, p, entry, now);
  }

  private onPageData(msg: MessageOf<'page_data'>, now: number): ClientOutput[] {
    const p = this.pending.get(msg.page);
    if (!p || p.req !== msg.req) return this.ignore(msg, `page data for request ${msg.req} not outstanding`);
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
    return this.resolve(msg.page, p, entry, now);
  }

  private onNack(msg: MessageOf<'nack'>): ClientOutput[] {
    const p = this.pending.get(msg.page);
    if (!p || p.req !== msg.req) return this.ignore(msg, `nack for request ${msg.req} not outstanding`);
    this.pending.delete(msg.page);
    const out = (this.waiting.get(msg.page) ?? []).map((w) => this.fail(w, `manager refused: ${msg.reason}`));
    this.waiting.delete(msg.page);
    return out;
  }

  /** The fault is served: confirm to the manager (which is holding the page's queue for us), then run waiters. */
  private resolve(page: number, p: Pending, entry: Entry, now: number): ClientOutput[] {
    this.pending.delete(page);
    const out: ClientOutput[] = [
      this.toManager({ t: 'confirm', from: this.id, epoch: this.epoch, page, req: p.req, access: entry.access, version: entry.version }),
    ];
    this.drain(page, now, out);
    return out;
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
