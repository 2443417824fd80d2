// A hand-stepped network of real ISIS cores for the unit tests: frames wait in
// `inflight` until a test delivers them (all, by type, or by filter), so every step
// of the protocol can be looked at on its own.
import { IsisMemberCore, type IsisMemberConfig } from '../../nodes/core/isis/member.js';
import { IsisRegistryCore, type IsisRegistryConfig } from '../../nodes/core/isis/registry.js';
import type { MemberOutput, SeatOutput } from '../../nodes/core/protocol.js';
import { encodeToken, decodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { OpResult } from '../../nodes/core/types.js';
import type { Message, MessageType, NodeId } from '../../nodes/protocol/messages.js';

export interface Frame {
  from: NodeId;
  to: NodeId;
  msg: Message;
}

export const T = { heartbeatMs: 10, retryMs: 20, clientTimeoutMs: 100, heartbeatTimeoutMs: 50, opTimeoutMs: 10_000 };

export class IsisNet {
  readonly members = new Map<NodeId, IsisMemberCore>();
  readonly seats = new Map<NodeId, IsisRegistryCore>();
  inflight: Frame[] = [];
  readonly results: { node: NodeId; result: OpResult }[] = [];
  readonly ignored: { node: NodeId; msg: Message; reason: string }[] = [];
  readonly down = new Set<NodeId>();
  now = 0;
  private opId = 0;

  constructor(readonly seatIds: NodeId[] = ['m0']) {
    for (const id of seatIds) this.seats.set(id, new IsisRegistryCore(this.seatCfg(id, id === 'm0' ? 'primary' : 'backup')));
  }

  seatCfg(id: NodeId, start: 'primary' | 'backup' | 'rejoin', extra: Partial<IsisRegistryConfig> = {}): IsisRegistryConfig {
    const seat = Number(id.slice(1));
    return {
      id,
      peer: this.seatIds.length > 1 ? this.seatIds.find((s) => s !== id)! : null,
      pages: 2,
      parity: seat === 0 ? 1 : 0,
      home: seat === 0,
      heartbeatMs: T.heartbeatMs,
      heartbeatTimeoutMs: T.heartbeatTimeoutMs,
      clientTimeoutMs: T.clientTimeoutMs,
      start,
      epoch: 1,
      clients: [],
      ...extra,
    };
  }

  addMember(id: NodeId, incarnation = 0, extra: Partial<IsisMemberConfig> = {}): IsisMemberCore {
    const m = new IsisMemberCore({
      id,
      endpoint: `inproc://${id}`,
      managers: this.seatIds,
      epoch: 1,
      pages: 2,
      pageSize: TOKEN_SPAN,
      opTimeoutMs: T.opTimeoutMs,
      incarnation,
      heartbeatMs: T.heartbeatMs,
      retryMs: T.retryMs,
      ...extra,
    });
    this.members.set(id, m);
    this.down.delete(id);
    this.route(id, m.start(this.now));
    return m;
  }

  member(id: NodeId): IsisMemberCore {
    return this.members.get(id)!;
  }

  seat(id: NodeId = 'm0'): IsisRegistryCore {
    return this.seats.get(id)!;
  }

  route(from: NodeId, outs: readonly (MemberOutput | SeatOutput)[]): void {
    for (const o of outs) {
      if (o.type === 'send') this.inflight.push({ from, to: o.to, msg: o.msg });
      else if (o.type === 'done') this.results.push({ node: from, result: o.result });
      else if (o.type === 'ignored') this.ignored.push({ node: from, msg: o.msg, reason: o.reason });
    }
  }

  deliver(f: Frame): void {
    if (this.down.has(f.to)) return;
    const m = this.members.get(f.to);
    if (m) this.route(f.to, m.receive(f.msg, this.now));
    const s = this.seats.get(f.to);
    if (s) this.route(f.to, s.receive(f.msg, this.now));
  }

  /** Delivers in-flight frames in order (new ones join the end) until none match `filter`. */
  run(filter: (f: Frame) => boolean = () => true, limit = 100_000): number {
    let n = 0;
    for (;;) {
      const i = this.inflight.findIndex(filter);
      if (i < 0) return n;
      if (++n > limit) throw new Error('still running after the limit');
      this.deliver(this.inflight.splice(i, 1)[0]!);
    }
  }

  /** Frames in flight of one type (optionally to one node). */
  pending(t: MessageType, to?: NodeId): Frame[] {
    return this.inflight.filter((f) => f.msg.t === t && (to === undefined || f.to === to));
  }

  drop(filter: (f: Frame) => boolean): Frame[] {
    const gone = this.inflight.filter(filter);
    this.inflight = this.inflight.filter((f) => !filter(f));
    return gone;
  }

  tick(ms = 0): void {
    this.now += ms;
    for (const [id, m] of this.members) if (!this.down.has(id)) this.route(id, m.tick(this.now));
    for (const [id, s] of this.seats) if (!this.down.has(id)) this.route(id, s.tick(this.now));
  }

  write(id: NodeId, page: number, token: string): number {
    const opId = ++this.opId;
    this.route(id, this.member(id).submit({ id: opId, kind: 'write', page, offset: 0, data: encodeToken(token) }, this.now));
    return opId;
  }

  read(id: NodeId, page: number): OpResult | undefined {
    const opId = ++this.opId;
    this.route(id, this.member(id).submit({ id: opId, kind: 'read', page, offset: 0, length: TOKEN_SPAN }, this.now));
    return this.result(opId);
  }

  result(opId: number): OpResult | undefined {
    return this.results.find((r) => r.result.id === opId)?.result;
  }

  token(id: NodeId, page: number): string | null {
    const b = this.member(id).pageBytes(page);
    return b ? decodeToken(b) : null;
  }

  crash(id: NodeId): void {
    this.down.add(id);
    this.inflight = this.inflight.filter((f) => f.to !== id && f.from !== id);
  }

  /** Starts members and runs until every one of them is in a view with state. */
  static group(ids: NodeId[], seats: NodeId[] = ['m0']): IsisNet {
    const net = new IsisNet(seats);
    for (const id of ids) {
      net.addMember(id);
      net.settle();
    }
    return net;
  }

  /** Delivers and ticks until nothing is in flight and every live member is joined. */
  settle(rounds = 50): void {
    for (let r = 0; r < rounds; r++) {
      this.run(() => true);
      const ready = [...this.members].every(([id, m]) => this.down.has(id) || m.joined);
      if (ready && this.inflight.length === 0 && [...this.seats.values()].every((s) => s.protocolView().change === null)) return;
      this.tick(1);
    }
  }
}

export const readToken = (r: OpResult | undefined): string | null => (r && r.ok && r.data ? decodeToken(r.data) : null);
