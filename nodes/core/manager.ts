// The IVY central manager as a deterministic state machine. It keeps a record per
// page (owner, copy set, version) and serves one fault per page at a time: a write
// waits for every invalidation to be acknowledged before the page moves, and the
// next request for a page starts only after the requester confirms it installed
// the page. That discipline is what makes every page a linearizable register.
import type { Message, MessageOf, NodeId } from '../protocol/messages.js';
import type { ManagerOutput, OpKind, RecordView } from './types.js';

export interface ManagerConfig {
  id: NodeId;
  epoch: number;
  pages: number;
}

interface Request {
  requester: NodeId;
  req: number;
  kind: OpKind;
}

interface Active extends Request {
  phase: 'invalidating' | 'transferring';
  /** Copy holders whose invalidation acknowledgement we still wait for. */
  awaiting: Set<NodeId>;
}

interface PageRecord {
  owner: NodeId | null;
  /** The only copy died with its client: faults on this page fail instead of returning stale or zero data. */
  lostWith: NodeId | null;
  copyset: Set<NodeId>;
  version: number;
  active: Active | null;
  queue: Request[];
}

export interface ManagerCounters {
  requests: number;
  duplicates: number;
  served: number;
  invalidations: number;
  ignored: number;
}

const sameRequest = (a: Request, requester: NodeId, req: number): boolean => a.requester === requester && a.req === req;

export class ManagerCore {
  readonly id: NodeId;
  private readonly cfg: ManagerConfig;
  private readonly epoch: number;
  private readonly records: PageRecord[];
  /** The client list: every client that said hello, with its endpoint. */
  private readonly clients = new Map<NodeId, { endpoint: string; incarnation: number }>();
  readonly counters: ManagerCounters = { requests: 0, duplicates: 0, served: 0, invalidations: 0, ignored: 0 };

  constructor(cfg: ManagerConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.epoch = cfg.epoch;
    this.records = Array.from({ length: cfg.pages }, () => ({
      owner: null,
      lostWith: null,
      copyset: new Set<NodeId>(),
      version: 0,
      active: null,
      queue: [],
    }));
  }

  endpointOf(id: NodeId): string | undefined {
    return this.clients.get(id)?.endpoint;
  }

  clientList(): { id: NodeId; endpoint: string }[] {
    return [...this.clients].map(([id, c]) => ({ id, endpoint: c.endpoint }));
  }

  receive(msg: Message): ManagerOutput[] {
    if (!msg.from.startsWith('c')) return this.ignore(msg, `${msg.from} is not a client`);
    if (msg.t !== 'hello' && !this.clients.has(msg.from)) return this.ignore(msg, `${msg.from} has not said hello`);
    if ('page' in msg && msg.page >= this.cfg.pages) {
      if (msg.t === 'read_req' || msg.t === 'write_req') {
        return [this.send(msg.from, { t: 'nack', from: this.id, epoch: this.epoch, page: msg.page, req: msg.req, reason: `page ${msg.page} is outside 0..${this.cfg.pages - 1}` })];
      }
      return this.ignore(msg, `page ${msg.page} out of range`);
    }
    switch (msg.t) {
      case 'hello':
        return this.onHello(msg);
      case 'read_req':
      case 'write_req':
        return this.onRequest(msg, msg.t === 'read_req' ? 'read' : 'write');
      case 'inv_ack':
        return this.onInvAck(msg);
      case 'confirm':
        return this.onConfirm(msg);
      default:
        return this.ignore(msg, `a manager does not handle ${msg.t}`);
    }
  }

  recordCache(): RecordView[] {
    return this.records.map((r, page) => ({
      page,
      owner: r.owner,
      lostWith: r.lostWith,
      copyset: [...r.copyset].sort(),
      version: r.version,
      active: r.active && { requester: r.active.requester, req: r.active.req, kind: r.active.kind, phase: r.active.phase },
      queue: r.queue.map((q) => ({ ...q })),
    }));
  }

  // --- handlers -----------------------------------------------------------------

  private onHello(msg: MessageOf<'hello'>): ManagerOutput[] {
    const known = this.clients.get(msg.from);
    this.clients.set(msg.from, { endpoint: msg.endpoint, incarnation: msg.incarnation });
    const members = this.clientList();
    // A newcomer needs everyone; everyone else needs only to learn of the newcomer.
    const out: ManagerOutput[] = [this.send(msg.from, { t: 'members', from: this.id, epoch: this.epoch, members })];
    // A new incarnation restarted with an empty page table: whatever the old one held is gone.
    if (known && known.incarnation !== msg.incarnation) out.push(...this.forget(msg.from));
    if (known?.endpoint !== msg.endpoint) {
      const news = [{ id: msg.from, endpoint: msg.endpoint }];
      for (const id of this.clients.keys()) {
        if (id !== msg.from) out.push(this.send(id, { t: 'members', from: this.id, epoch: this.epoch, members: news }));
      }
    }
    return out;
  }

  private onRequest(msg: MessageOf<'read_req'> | MessageOf<'write_req'>, kind: OpKind): ManagerOutput[] {
    const rec = this.record(msg.page);
    if (rec.lostWith !== null) return [this.lostNack(msg.page, rec.lostWith, msg.from, msg.req)];
    const dup = (rec.active && sameRequest(rec.active, msg.from, msg.req)) || rec.queue.some((q) => sameRequest(q, msg.from, msg.req));
    if (dup) {
      this.counters.duplicates++;
      return [];
    }
    this.counters.requests++;
    rec.queue.push({ requester: msg.from, req: msg.req, kind });
    return rec.active ? [] : this.startNext(msg.page);
  }

  private onInvAck(msg: MessageOf<'inv_ack'>): ManagerOutput[] {
    const rec = this.record(msg.page);
    const a = rec.active;
    if (!a || !sameRequest(a, msg.requester, msg.req) || a.phase !== 'invalidating' || !a.awaiting.has(msg.from)) {
      return this.ignore(msg, 'acknowledgement for no invalidation in progress');
    }
    a.awaiting.delete(msg.from);
    rec.copyset.delete(msg.from);
    return a.awaiting.size === 0 ? this.transferForWrite(msg.page, rec, a) : [];
  }

  private onConfirm(msg: MessageOf<'confirm'>): ManagerOutput[] {
    const rec = this.record(msg.page);
    const a = rec.active;
    if (rec.lostWith !== null && msg.access !== 'none' && !a) {
      // The page was declared lost while its data was still on the way to this requester: it survived.
      rec.lostWith = null;
      rec.owner = msg.from;
      rec.copyset.clear();
      rec.version = msg.version;
      return [this.send(msg.from, { t: 'own', from: this.id, epoch: this.epoch, page: msg.page, version: msg.version })];
    }
    if (!a || !sameRequest(a, msg.from, msg.req) || a.phase !== 'transferring') {
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
    this.counters.served++;
    return this.startNext(msg.page);
  }

  // --- the per-page queue ---------------------------------------------------------

  private startNext(page: number): ManagerOutput[] {
    const rec = this.record(page);
    if (rec.lostWith !== null) {
      const lostWith = rec.lostWith;
      const waiting = rec.queue.splice(0);
      return waiting.map((q) => this.lostNack(page, lostWith, q.requester, q.req));
    }
    const next = rec.queue.shift();
    if (!next) return [];
    const a: Active = { ...next, phase: 'transferring', awaiting: new Set() };
    rec.active = a;
    if (next.kind === 'read') return this.transferForRead(page, rec, a);
    for (const holder of rec.copyset) {
      if (holder !== a.requester && holder !== rec.owner) a.awaiting.add(holder);
    }
    if (a.awaiting.size === 0) return this.transferForWrite(page, rec, a);
    a.phase = 'invalidating';
    this.counters.invalidations += a.awaiting.size;
    return [...a.awaiting].map((holder) =>
      this.send(holder, { t: 'invalidate', from: this.id, epoch: this.epoch, page, req: a.req, requester: a.requester }),
    );
  }

  private transferForRead(page: number, rec: PageRecord, a: Active): ManagerOutput[] {
    const base = { from: this.id, epoch: this.epoch, page, req: a.req };
    // First touch: the requester becomes the owner of a zero page, with write access since no one else has a copy.
    if (rec.owner === null) return [this.send(a.requester, { t: 'grant', ...base, access: 'write', zero: true })];
    if (rec.owner === a.requester) return [this.send(a.requester, { t: 'grant', ...base, access: 'read', zero: false })];
    return [this.send(rec.owner, { t: 'read_fwd', ...base, requester: a.requester })];
  }

  private transferForWrite(page: number, rec: PageRecord, a: Active): ManagerOutput[] {
    a.phase = 'transferring';
    const base = { from: this.id, epoch: this.epoch, page, req: a.req };
    if (rec.owner === null) return [this.send(a.requester, { t: 'grant', ...base, access: 'write', zero: true })];
    if (rec.owner === a.requester) return [this.send(a.requester, { t: 'grant', ...base, access: 'write', zero: false })];
    return [this.send(rec.owner, { t: 'write_fwd', ...base, requester: a.requester })];
  }

  // --- a client that restarted (or died) --------------------------------------------------

  /**
   * Drops everything `dead` held or asked for. Pages it alone held are lost; pages with a
   * surviving read copy pass to that copy's holder. A fault stuck on the dead client is
   * re-driven or failed, so no queue waits forever.
   */
  private forget(dead: NodeId): ManagerOutput[] {
    const out: ManagerOutput[] = [];
    this.records.forEach((rec, page) => {
      rec.copyset.delete(dead);
      rec.queue = rec.queue.filter((q) => q.requester !== dead);
      const a = rec.active;
      if (a?.requester === dead) {
        // A write on its way to the dead requester may already have emptied the old owner.
        if (a.kind === 'write' && a.phase === 'transferring' && rec.owner !== dead) this.lose(rec, dead);
        rec.active = null;
      }
      if (rec.owner === dead) {
        const heir = [...rec.copyset].sort()[0];
        if (heir === undefined) {
          this.lose(rec, dead);
        } else {
          rec.owner = heir;
          rec.copyset.delete(heir);
          out.push(this.send(heir, { t: 'own', from: this.id, epoch: this.epoch, page, version: rec.version }));
        }
      }
      const still = rec.active;
      if (still) {
        still.awaiting.delete(dead);
        if (rec.lostWith !== null) {
          // Data may still be on its way from the dead owner: a late confirm recovers the page (onConfirm).
          rec.active = null;
          out.push(this.lostNack(page, rec.lostWith, still.requester, still.req));
        } else if (still.phase === 'invalidating' && still.awaiting.size === 0) {
          out.push(...this.transferForWrite(page, rec, still));
        } else if (still.phase === 'transferring' && rec.owner !== null && rec.owner !== dead) {
          // Re-drive the transfer from the (possibly new) owner; a duplicate page for the same request is ignored.
          out.push(...(still.kind === 'read' ? this.transferForRead(page, rec, still) : this.transferForWrite(page, rec, still)));
        }
      }
      if (!rec.active) out.push(...this.startNext(page));
    });
    return out;
  }

  private lose(rec: PageRecord, dead: NodeId): void {
    rec.owner = null;
    rec.copyset.clear();
    rec.lostWith = dead;
  }

  private lostNack(page: number, lostWith: NodeId, requester: NodeId, req: number): ManagerOutput {
    return this.send(requester, {
      t: 'nack',
      from: this.id,
      epoch: this.epoch,
      page,
      req,
      reason: `page ${page} was lost: its only copy was held by ${lostWith}, which crashed`,
    });
  }

  // --- helpers ----------------------------------------------------------------------

  private record(page: number): PageRecord {
    const r = this.records[page];
    if (!r) throw new RangeError(`page ${page}`); // unreachable: receive() range-checks pages
    return r;
  }

  private send(to: NodeId, msg: Message): ManagerOutput {
    return { type: 'send', to, msg };
  }

  private ignore(msg: Message, reason: string): ManagerOutput[] {
    this.counters.ignored++;
    return [{ type: 'ignored', msg, reason }];
  }
}
