// A seeded simulator of the write-update protocol: the REAL IsisMemberCore and
// IsisRegistryCore (both seats) on a virtual network with random delays (so
// reordering), frame drops and duplicates, member crashes (SIGKILL: memory lost, its
// last sends lost), restarts, pauses, late joins, and kills and restarts of either
// registry seat, and network partitions (cut at the senders, then healed). Oracles, every seed:
// - every member's delivered sequence is a prefix of ONE common sequence (checked at
//   every delivery), and the live members end identical (same pos, same bytes);
// - no op hangs (every op of a live member completes);
// - the history is sequentially consistent: the writes' claimed positions are the
//   common sequence, every read returns the last write at or before its wpos, with
//   none between wpos and pos, and every client's ops are in order of position.
import { IsisMemberCore, type IsisMemberConfig } from '../../nodes/core/isis/member.js';
import { IsisRegistryCore, type IsisRegistryConfig } from '../../nodes/core/isis/registry.js';
import type { MemberOutput, SeatOutput } from '../../nodes/core/protocol.js';
import { mulberry32, pick, type Rng } from '../../nodes/core/random.js';
import { decodeToken, encodeToken, TOKEN_SPAN } from '../../nodes/core/token.js';
import type { OpRequest, OpResult } from '../../nodes/core/types.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';
import { checkSequential } from '../../nodes/control/history/sequential.js';
import type { Message, NodeId } from '../../nodes/protocol/messages.js';
import { EventQueue } from './simulator.js';

/** A history op as DESIGN §6 writes it for write-update runs. */
export type IsisHistoryOp = HistoryOp & { pos?: number; wpos?: number };

export type IsisMutant = 'deliver-on-proposed' | 'skip-flush' | 'no-quorum';

export interface IsisSimOptions {
  members: number;
  /** Members that start late (join a running group). */
  lateJoiners: number;
  backup: boolean;
  pages: number;
  opsPerMember: number;
  readRatio: number;
  /** Network delay range per frame, ms. */
  minDelayMs: number;
  maxDelayMs: number;
  dropProb: number;
  dupProb: number;
  /** Faults drawn at random in [2, faultWindowMs] ms. */
  faults: number;
  faultWindowMs: number;
  thinkMs: number;
  mutant?: IsisMutant;
  /** A network partition (cut at the senders, as the nemesis does: frames on the wire still arrive), then healed. */
  partition?: IsisPartition;
}

/**
 * Partition presets. The seats: `seats` cuts m0 ⇄ m1, `isolate-m0` cuts m0 from everyone, `m0-mute` drops
 * m0's frames to m1 only (one way: m1 thinks m0 dead, m0 still hears m1), `members-mute` drops the members'
 * frames to m0 (m0 thinks them all dead, they still hear it). The members: `split-half` puts half of them
 * with each seat (full cut between the sides), `split-minority` / `split-majority` give m0 the smaller /
 * larger part.
 */
export const ISIS_PARTITIONS = ['seats', 'isolate-m0', 'm0-mute', 'members-mute', 'split-half', 'split-minority', 'split-majority'] as const;
export type IsisPartitionPreset = (typeof ISIS_PARTITIONS)[number];
export interface IsisPartition {
  preset: IsisPartitionPreset;
  atMs: number;
  lengthMs: number;
}

export interface IsisSimResult {
  ok: boolean;
  seed: number;
  options: IsisSimOptions;
  problems: string[];
  history: IsisHistoryOp[];
  faults: string[];
  stats: {
    messages: number;
    dropped: number;
    delivered: number;
    views: number;
    stateTransfers: number;
    unknown: number;
    failed: number;
    endMs: number;
    /** Frames lost to the partition; view changes refused for want of a quorum; takeovers; writes delivered while cut. */
    partitioned: number;
    refused: number;
    takeovers: number;
    cutWrites: number;
    /** Kills the crash planner skipped because they would take a view's quorum away. */
    skippedKills: number;
  };
}

const TIMING = { heartbeatMs: 4, retryMs: 6, clientTimeoutMs: 40, heartbeatTimeoutMs: 25, opTimeoutMs: 3_600_000 };
const TICK_MS = 1;
/** A node's frames sent this recently are lost with it when it is SIGKILLed (still in its socket buffers). */
const LOSS_WINDOW_MS = 0.3;
const SETTLE_MS = 400;
const HARD_STOP_MS = 20_000;

export function isisOptionsForSeed(seed: number): IsisSimOptions {
  const r = mulberry32(Math.imul(seed, 0x2c1b3c6d) ^ 0x15150);
  const lossy = pick(r, 3) === 0;
  return {
    members: 2 + pick(r, 5),
    lateJoiners: pick(r, 3),
    backup: pick(r, 2) === 0,
    pages: 1 + pick(r, 3),
    opsPerMember: 8 + pick(r, 20),
    readRatio: 0.2 + 0.6 * r(),
    minDelayMs: 0.01,
    maxDelayMs: 0.1 + r() * 2,
    dropProb: lossy ? r() * 0.08 : 0,
    dupProb: pick(r, 3) === 0 ? r() * 0.05 : 0,
    faults: pick(r, 5),
    faultWindowMs: 40 + pick(r, 120),
    thinkMs: r() < 0.5 ? 0 : r() * 2,
  };
}

type Ev =
  /** `inc`: the target's incarnation when sent, or -1 if it was down then (ZeroMQ queues it for the next one). */
  | { kind: 'deliver'; to: NodeId; msg: Message; inc: number; from: NodeId; sentAt: number; fromInc: number }
  | { kind: 'tick' }
  | { kind: 'op'; id: NodeId; inc: number }
  | { kind: 'fault'; run: () => void };

interface Node {
  id: NodeId;
  inc: number;
  up: boolean;
  pausedUntil: number;
  /** The view a paused member was in: it holds the state for sure only once it commits a newer one. */
  suspectView: number;
  member: IsisMemberCore | null;
  seat: IsisRegistryCore | null;
  /** Frames that reached a paused node: handled when it resumes. */
  held: Ev[];
}

interface Worker {
  issued: number;
  current: { op: OpRequest; rec: IsisHistoryOp; token: string | null } | null;
  started: boolean;
}

export function runIsisSeed(seed: number, overrides: Partial<IsisSimOptions> = {}): IsisSimResult {
  const o: IsisSimOptions = { ...isisOptionsForSeed(seed), ...overrides };
  const net = mulberry32(seed ^ 0x6e6574);
  const work = mulberry32(seed ^ 0x776b6c);
  const plan = mulberry32(seed ^ 0x706c6e);
  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < 20) problems.push(p);
  };
  const faultLog: string[] = [];
  const history: IsisHistoryOp[] = [];
  const queue = new EventQueue<Ev>();
  let now = 0;
  const stats = { messages: 0, dropped: 0, delivered: 0, views: 0, stateTransfers: 0, unknown: 0, failed: 0, endMs: 0, partitioned: 0, refused: 0, takeovers: 0, cutWrites: 0, skippedKills: 0 };
  /** The partition in force: does a frame from `from` to `to` get lost? */
  let cut: ((from: NodeId, to: NodeId) => boolean) | null = null;

  // --- the one common sequence every delivery is checked against
  const order: { key: string; page: number; token: string | null }[] = [];
  const posOfKey = new Map<string, number>();
  const onDeliver = (node: NodeId) => (d: { pos: number; sender: NodeId; seq: number; page: number; data: Uint8Array }): void => {
    stats.delivered++;
    if (cut && d.sender === node) stats.cutWrites++;
    const key = `${d.sender}#${d.seq}`;
    const entry = { key, page: d.page, token: decodeToken(d.data) };
    if (d.pos - 1 < order.length) {
      const have = order[d.pos - 1]!;
      if (have.key !== key) problem(`order: ${node} delivered ${key} (${entry.token}) at pos ${d.pos}, where another member delivered ${have.key} (${have.token}) at t=${now.toFixed(3)} ms`);
    } else if (d.pos - 1 === order.length) {
      const prev = posOfKey.get(key);
      if (prev !== undefined) problem(`order: ${node} delivered ${key} again at pos ${d.pos} (first at ${prev})`);
      order.push(entry);
      posOfKey.set(key, d.pos);
    } else {
      problem(`order: ${node} delivered pos ${d.pos} but the common sequence has only ${order.length}`);
    }
  };

  const memberIds: NodeId[] = Array.from({ length: o.members + o.lateJoiners }, (_, i) => `c${i}`);
  const seatIds: NodeId[] = o.backup ? ['m0', 'm1'] : ['m0'];
  const nodes = new Map<NodeId, Node>();
  const workers = new Map<NodeId, Worker>();
  const knownClients = (): { id: NodeId; endpoint: string; incarnation: number }[] =>
    [...nodes.values()].filter((n) => n.id.startsWith('c') && n.inc >= 0).map((n) => ({ id: n.id, endpoint: `inproc://${n.id}`, incarnation: n.inc }));

  const makeSeat = (id: NodeId, start: 'primary' | 'backup' | 'rejoin'): IsisRegistryCore => {
    const seat = Number(id.slice(1));
    const cfg: IsisRegistryConfig = {
      id,
      peer: o.backup ? (id === 'm0' ? 'm1' : 'm0') : null,
      pages: o.pages,
      parity: seat === 0 ? 1 : 0,
      home: seat === 0,
      heartbeatMs: TIMING.heartbeatMs,
      heartbeatTimeoutMs: TIMING.heartbeatTimeoutMs,
      clientTimeoutMs: TIMING.clientTimeoutMs,
      start,
      // As the supervisor does: a restarted seat starts from the highest epoch any seat has reached.
      epoch: Math.max(1, ...[...nodes.values()].map((n) => n.seat?.currentEpoch ?? 1)),
      // As the supervisor does: the seat starts with the list of clients it spawned (the late joiners come later).
      clients: start === 'rejoin' ? knownClients() : memberIds.slice(0, o.members).map((c) => ({ id: c, endpoint: `inproc://${c}`, incarnation: 0 })),
      ...(o.mutant === 'skip-flush' ? { mutant: { skipFlush: true } } : o.mutant === 'no-quorum' ? { mutant: { noQuorum: true } } : {}),
    };
    return new IsisRegistryCore(cfg);
  };
  const makeMember = (id: NodeId, inc: number): IsisMemberCore => {
    const cfg: IsisMemberConfig = {
      id,
      endpoint: `inproc://${id}`,
      managers: seatIds,
      epoch: 1,
      pages: o.pages,
      pageSize: TOKEN_SPAN,
      opTimeoutMs: TIMING.opTimeoutMs,
      incarnation: inc,
      heartbeatMs: TIMING.heartbeatMs,
      retryMs: TIMING.retryMs,
      onDeliver: onDeliver(id),
      ...(o.mutant === 'deliver-on-proposed' ? { mutant: { deliverOnProposed: true } } : {}),
    };
    return new IsisMemberCore(cfg);
  };

  const trace = process.env.ISIS_TRACE !== undefined;
  const route = (from: Node, outs: readonly (MemberOutput | SeatOutput)[]): void => {
    for (const out of outs) {
      if (out.type === 'done') onDone(from, out.result);
      if (out.type === 'role' && trace) console.log(`${now.toFixed(2)} ${from.id} role ${out.role} epoch ${out.epoch}: ${out.reason}`);
      if (out.type !== 'send') continue;
      if (trace && ['i_install', 'i_commit', 'i_flush', 'i_evict'].includes(out.msg.t)) console.log(`${now.toFixed(2)} ${from.id}->${out.to} ${out.msg.t} ${JSON.stringify(out.msg, (k, v) => (k === 'data' || k === 'endpoint' || k === 'queue' || k === 'closings' ? undefined : v))}${cut?.(from.id, out.to) ? ' CUT' : ''}`);
      stats.messages++;
      if (cut?.(from.id, out.to)) {
        stats.partitioned++;
        continue;
      }
      if (net() < o.dropProb) {
        stats.dropped++;
        continue;
      }
      const copies = net() < o.dupProb ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const at = now + o.minDelayMs + net() * (o.maxDelayMs - o.minDelayMs);
        const to = nodes.get(out.to);
        queue.push(at, { kind: 'deliver', to: out.to, msg: out.msg, inc: to?.up ? to.inc : -1, from: from.id, sentAt: now, fromInc: from.inc });
      }
    }
  };

  // --- workload
  const scheduleOp = (n: Node, w: Worker): void => {
    if (w.issued >= o.opsPerMember || !n.up) return;
    queue.push(now + 0.001 + (o.thinkMs > 0 ? work() * o.thinkMs : 0), { kind: 'op', id: n.id, inc: n.inc });
  };
  let tokenSeq = 0;
  const issue = (n: Node): void => {
    const w = workers.get(n.id)!;
    if (w.current || !n.member || w.issued >= o.opsPerMember) return;
    w.issued++;
    const page = pick(work, o.pages);
    const read = work() < o.readRatio;
    const token = read ? null : `${n.id}:${++tokenSeq}`;
    const op: OpRequest = token === null ? { id: w.issued, kind: 'read', page, offset: 0, length: TOKEN_SPAN } : { id: w.issued, kind: 'write', page, offset: 0, data: encodeToken(token) };
    const rec: IsisHistoryOp = { client: n.id, op: op.kind, page, value: token, start: Math.round(now * 1e6), end: null, outcome: 'unknown', fault: !read };
    w.current = { op, rec, token };
    route(n, n.member.submit(op, now));
  };
  const onDone = (n: Node, r: OpResult): void => {
    const w = workers.get(n.id)!;
    const cur = w.current;
    if (!cur || cur.op.id !== r.id) {
      problem(`workload: ${n.id} completed op ${r.id} that was not outstanding`);
      return;
    }
    const rec = cur.rec;
    rec.end = Math.max(rec.start, Math.round(now * 1e6));
    rec.fault = r.fault;
    if (r.ok) {
      rec.outcome = 'ok';
      rec.value = r.kind === 'write' ? cur.token : decodeToken(r.data ?? new Uint8Array(0));
      if (r.pos !== undefined) rec.pos = r.pos;
      if (r.wpos !== undefined) rec.wpos = r.wpos;
    } else if (r.unknown) {
      rec.end = null;
      stats.unknown++;
    } else {
      rec.outcome = 'fail';
      stats.failed++;
    }
    history.push(rec);
    w.current = null;
    scheduleOp(n, w);
  };

  // --- nodes, faults
  const startMember = (id: NodeId, inc: number): void => {
    const n: Node = { id, inc, up: true, pausedUntil: 0, suspectView: -1, member: makeMember(id, inc), seat: null, held: [] };
    nodes.set(id, n);
    workers.set(id, workers.get(id) ?? { issued: 0, current: null, started: false });
    const w = workers.get(id)!;
    w.started = false;
    route(n, n.member!.start(now));
  };
  const startSeat = (id: NodeId, start: 'primary' | 'backup' | 'rejoin', inc: number): void => {
    nodes.set(id, { id, inc, up: true, pausedUntil: 0, suspectView: -1, member: null, seat: makeSeat(id, start), held: [] });
  };
  const crashedAt = new Map<string, number>();
  const crash = (id: NodeId): void => {
    const n = nodes.get(id);
    if (!n || !n.up) return;
    n.up = false;
    crashedAt.set(`${id}/${n.inc}`, now);
    n.held = [];
    faultLog.push(`${now.toFixed(2)}ms kill ${id}`);
    const w = workers.get(id);
    if (w?.current) {
      history.push(w.current.rec); // in flight when it died: unknown
      if (w.current.op.kind === 'write') stats.unknown++;
      w.current = null;
    }
  };
  const liveMembers = (): Node[] => [...nodes.values()].filter((n) => n.member && n.up);
  /**
   * Members that hold the group's state and are running: a crash or pause leaves at least one of them. A
   * member paused past the timeout may have been dropped without knowing it yet: it counts again only once
   * it has committed a newer view.
   */
  const holders = (): Node[] => liveMembers().filter((n) => n.pausedUntil <= now && n.member!.joined && n.member!.protocolView().view > n.suspectView);
  /**
   * The price of the partition rule (a new view needs a quorum of the one it replaces, flush.ts): with most
   * of a view's members killed at once (a restarted member lost its promises, it does not count), the group
   * blocks for good. The crash sweep never kills a member whose death would take that quorum away: of the
   * newest committed view, and of the view a registry is changing to. (Pauses are fine: a resumed member counts.)
   */
  const quorumWithout = (gone: Node): boolean => {
    let newest = 0;
    let lists: NodeId[][] = [[]];
    for (const x of liveMembers()) {
      const v = x.member!.protocolView();
      if (v.view > newest) [newest, lists] = [v.view, [v.members]];
    }
    for (const x of liveMembers()) {
      const pending = x.member!.pendingMembers();
      if (pending) lists.push(pending);
    }
    for (const id of seatIds) {
      const seat = nodes.get(id);
      const change = seat?.up ? seat.seat!.protocolView().change : null;
      if (change) lists.push(change.members);
    }
    const alive = (id: NodeId): boolean => {
      const x = nodes.get(id);
      return id !== gone.id && !!x && x.up && !!x.member && (x.member.protocolView().view > 0 || x.member.pendingMembers() !== null);
    };
    return lists.every((ids) => {
      if (ids.length === 0) return true;
      const have = ids.filter(alive).length;
      const lowest = [...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))[0]!;
      return 2 * have > ids.length || (2 * have === ids.length && alive(lowest));
    });
  };

  for (const id of seatIds) startSeat(id, id === 'm0' ? 'primary' : 'backup', 0);
  for (let i = 0; i < o.members; i++) startMember(memberIds[i]!, 0);
  for (let i = o.members; i < memberIds.length; i++) {
    const id = memberIds[i]!;
    queue.push(5 + plan() * o.faultWindowMs, { kind: 'fault', run: () => (faultLog.push(`${now.toFixed(2)}ms join ${id}`), startMember(id, 0)) });
  }
  for (let f = 0; f < o.faults; f++) {
    const at = 2 + plan() * o.faultWindowMs;
    const kind = pick(plan, 4);
    const target = pick(plan, 100);
    const later = 5 + plan() * 60;
    const restartProb = plan();
    queue.push(at, {
      kind: 'fault',
      run: () => {
        if (kind <= 1) {
          // SIGKILL a member (never the last one alive: its state would be gone with it), maybe restart it.
          const live = liveMembers();
          const n = live[target % Math.max(1, live.length)];
          // Some other running member must hold the state, or the group's memory dies with this one.
          if (!n || !holders().some((x) => x !== n)) return;
          if (o.mutant !== 'no-quorum' && !quorumWithout(n)) {
            stats.skippedKills++;
            faultLog.push(`${now.toFixed(2)}ms kill ${n.id} skipped: it would take the view's quorum away`);
            return;
          }
          crash(n.id);
          if (kind === 0 || restartProb < 0.7) {
            queue.push(now + later, { kind: 'fault', run: () => (faultLog.push(`${now.toFixed(2)}ms restart ${n.id}`), startMember(n.id, n.inc + 1)) });
          }
        } else if (kind === 2) {
          const live = liveMembers();
          const n = live[target % Math.max(1, live.length)];
          if (!n || !holders().some((x) => x !== n)) return;
          n.pausedUntil = now + later;
          n.suspectView = n.member!.protocolView().view;
          faultLog.push(`${now.toFixed(2)}ms pause ${n.id} for ${later.toFixed(1)}ms`);
          queue.push(n.pausedUntil, { kind: 'fault', run: () => resume(n) });
        } else {
          // Kill a registry seat; with a backup, never both at once. It restarts after a while.
          const seats = seatIds.map((id) => nodes.get(id)!).filter((n) => n.up);
          if (seats.length < seatIds.length) return;
          const n = seats[target % seats.length]!;
          crash(n.id);
          queue.push(now + later, { kind: 'fault', run: () => (faultLog.push(`${now.toFixed(2)}ms restart ${n.id}`), startSeat(n.id, 'rejoin', n.inc + 1)) });
        }
      },
    });
  }
  if (o.partition) {
    const p = o.partition;
    queue.push(p.atMs, {
      kind: 'fault',
      run: () => {
        // The members split by a seeded shuffle, so the lowest-numbered one (the tie-breaker) lands on either side.
        const ids = [...memberIds];
        for (let i = ids.length - 1; i > 0; i--) {
          const j = pick(plan, i + 1);
          [ids[i], ids[j]] = [ids[j]!, ids[i]!];
        }
        const half = Math.floor(ids.length / 2);
        const withM0 = new Set<NodeId>(p.preset === 'split-half' ? ids.slice(0, Math.ceil(ids.length / 2)) : p.preset === 'split-minority' ? ids.slice(0, Math.max(0, half - (ids.length % 2 === 0 ? 1 : 0))) : p.preset === 'split-majority' ? ids.slice(0, half + 1) : []);
        const side = (id: NodeId): 0 | 1 => (id === 'm0' || withM0.has(id) ? 0 : 1);
        cut = {
          seats: (a: NodeId, b: NodeId) => (a === 'm0' && b === 'm1') || (a === 'm1' && b === 'm0'),
          'isolate-m0': (a: NodeId, b: NodeId) => a === 'm0' || b === 'm0',
          'm0-mute': (a: NodeId, b: NodeId) => a === 'm0' && b === 'm1',
          'members-mute': (a: NodeId, b: NodeId) => a.startsWith('c') && b === 'm0',
          'split-half': (a: NodeId, b: NodeId) => side(a) !== side(b),
          'split-minority': (a: NodeId, b: NodeId) => side(a) !== side(b),
          'split-majority': (a: NodeId, b: NodeId) => side(a) !== side(b),
        }[p.preset];
        faultLog.push(`${now.toFixed(2)}ms partition ${p.preset}${withM0.size > 0 || p.preset.startsWith('split') ? ` (m0 with ${[...withM0].sort().join(',') || 'nobody'})` : ''}`);
        queue.push(now + p.lengthMs, { kind: 'fault', run: () => ((cut = null), faultLog.push(`${now.toFixed(2)}ms heal`)) });
      },
    });
  }
  const resume = (n: Node): void => {
    if (!n.up) return;
    faultLog.push(`${now.toFixed(2)}ms resume ${n.id}`);
    const held = n.held;
    n.held = [];
    for (const ev of held) handle(ev);
  };

  const handle = (ev: Ev): void => {
    if (ev.kind === 'deliver') {
      const n = nodes.get(ev.to);
      if (!n || !n.up || (ev.inc !== -1 && n.inc !== ev.inc)) return;
      if (n.pausedUntil > now) {
        n.held.push(ev);
        return;
      }
      const outs = n.member ? n.member.receive(ev.msg, now) : n.seat!.receive(ev.msg, now);
      route(n, outs);
      const w = workers.get(n.id);
      if (n.member && w && !w.started && n.member.joined) {
        w.started = true;
        scheduleOp(n, w);
      }
    }
  };

  queue.push(TICK_MS, { kind: 'tick' });
  let quietSince: number | null = null;
  while (queue.size > 0) {
    const { at, ev } = queue.pop()!;
    now = at;
    if (now > HARD_STOP_MS) {
      problem(`hang: still running at ${HARD_STOP_MS} ms of virtual time`);
      break;
    }
    if (ev.kind === 'deliver') {
      // SIGKILL loses what the sender had not yet flushed to the wire; older frames still arrive.
      const died = crashedAt.get(`${ev.from}/${ev.fromInc}`);
      if (died !== undefined && ev.sentAt >= died - LOSS_WINDOW_MS) continue;
      handle(ev);
    } else if (ev.kind === 'op') {
      const n = nodes.get(ev.id);
      if (n && n.up && n.inc === ev.inc) {
        if (n.pausedUntil > now) queue.push(n.pausedUntil + 0.001, ev);
        else issue(n);
      }
    } else if (ev.kind === 'fault') {
      ev.run();
    } else {
      for (const n of nodes.values()) {
        if (!n.up || n.pausedUntil > now) continue;
        route(n, n.member ? n.member.tick(now) : n.seat!.tick(now));
      }
      // Done when every live member finished its ops, no fault is pending, and the group has settled.
      const busy = [...nodes.values()].some((n) => n.member && n.up && (workers.get(n.id)!.current !== null || workers.get(n.id)!.issued < o.opsPerMember));
      const faultsPending = now < o.faultWindowMs + 80 || cut !== null;
      if (!busy && !faultsPending) quietSince ??= now;
      else quietSince = null;
      if (quietSince !== null && now - quietSince >= SETTLE_MS) break;
      queue.push(now + TICK_MS, { kind: 'tick' });
    }
  }
  stats.endMs = now;
  if (process.env.ISIS_DEBUG) {
    for (const n of nodes.values()) console.log(n.id, n.up, JSON.stringify(n.member ? { ...n.member.protocolView(), queue: n.member.protocolView().queue.length } : n.seat!.protocolView()), JSON.stringify(n.member?.counters ?? n.seat!.counters));
  }

  // --- oracles at the end
  const live = liveMembers();
  for (const n of live) {
    const w = workers.get(n.id)!;
    if (w.current) problem(`hang: ${n.id} op ${w.current.op.id} (${w.current.op.kind} page ${w.current.op.page}) never completed`);
    else if (w.issued < o.opsPerMember) problem(`hang: ${n.id} ${w.started ? 'stopped' : 'never joined'} after ${w.issued}/${o.opsPerMember} ops`);
  }
  const views = live.map((n) => n.member!.protocolView());
  for (const id of seatIds) {
    const c = nodes.get(id)!.seat!.counters;
    stats.refused += c.refused ?? 0;
    stats.takeovers += c.takeovers ?? 0;
  }
  for (const n of live) {
    stats.views = Math.max(stats.views, n.member!.counters.views ?? 0);
    stats.stateTransfers += n.member!.counters.stateTransfers ?? 0;
  }
  if (problems.length === 0 && live.length > 0) {
    const v0 = views[0]!;
    live.forEach((n, i) => {
      const v = views[i]!;
      if (!v.hasState || v.pos !== v0.pos || v.view !== v0.view) problem(`converge: ${n.id} at view ${v.view} pos ${v.pos} state ${v.hasState}, ${live[0]!.id} at view ${v0.view} pos ${v0.pos}`);
      for (let p = 0; p < o.pages; p++) {
        const a = n.member!.pageBytes(p);
        const b = live[0]!.member!.pageBytes(p);
        if (!a || !b || Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) problem(`converge: ${n.id} page ${p} differs from ${live[0]!.id}'s`);
      }
    });
  }
  for (const p of checkOrderHistory(history, order)) problem(`sequential: ${p}`);
  // And the project's sequential-consistency checker (ivy-cluster check --model sequential) on the same history.
  const sc = checkSequential(history);
  if (!sc.ok) problem(`sequential: checkSequential (${sc.rule ?? 'rule'}): ${sc.explanation}\n${sc.counterexample.map((op) => `    ${JSON.stringify(op)}`).join('\n')}`);
  return { ok: problems.length === 0, seed, options: o, problems, history, faults: faultLog, stats };
}

/**
 * Sequential consistency against the common sequence: writes sit at their pos, reads after the write at
 * their pos and return the last write to their page at or before it (its wpos), and each client's ops
 * are in order of (pos, write before read).
 */
export function checkOrderHistory(history: readonly IsisHistoryOp[], order: readonly { page: number; token: string | null }[]): string[] {
  const out: string[] = [];
  const byToken = new Map<string, number>();
  order.forEach((e, i) => e.token !== null && byToken.set(e.token, i + 1));
  const perClient = new Map<string, IsisHistoryOp[]>();
  for (const op of history) {
    const list = perClient.get(op.client) ?? [];
    list.push(op);
    perClient.set(op.client, list);
    if (op.op === 'write') {
      const at = op.value === null ? undefined : byToken.get(op.value);
      if (op.outcome === 'fail' && at !== undefined) out.push(`failed write ${op.value} was delivered at pos ${at}`);
      if (op.outcome === 'ok') {
        if (op.pos === undefined) out.push(`ok write ${op.value} has no pos`);
        else if (at !== op.pos) out.push(`write ${op.value} claims pos ${op.pos}, delivered at ${at ?? 'never'}`);
      }
      continue;
    }
    if (op.outcome !== 'ok') continue;
    if (op.pos === undefined || op.wpos === undefined) {
      out.push(`ok read by ${op.client} has no pos/wpos`);
      continue;
    }
    if (op.wpos > op.pos || op.pos > order.length) out.push(`read by ${op.client} claims wpos ${op.wpos} pos ${op.pos} (sequence length ${order.length})`);
    const w = op.wpos > 0 ? order[op.wpos - 1] : undefined;
    if (op.wpos > 0 && (!w || w.page !== op.page || w.token !== op.value)) out.push(`read by ${op.client} of page ${op.page} returned ${op.value} but pos ${op.wpos} holds ${w?.token ?? 'nothing'} on page ${w?.page}`);
    if (op.wpos === 0 && op.value !== null) out.push(`read by ${op.client} of page ${op.page} returned ${op.value} with wpos 0`);
    for (let q = op.wpos + 1; q <= Math.min(op.pos, order.length); q++) {
      if (order[q - 1]!.page === op.page) {
        out.push(`read by ${op.client} of page ${op.page} at pos ${op.pos} returned the write at ${op.wpos}, but pos ${q} wrote the page (${order[q - 1]!.token})`);
        break;
      }
    }
  }
  // Program order: (pos, write=0/read=1) never goes down within a client (ok ops, in issue order).
  for (const [client, ops] of perClient) {
    let last: [number, number] = [0, 0];
    for (const op of ops) {
      if (op.outcome !== 'ok' || op.pos === undefined) continue;
      const k: [number, number] = [op.pos, op.op === 'write' ? 0 : 1];
      if (k[0] < last[0] || (k[0] === last[0] && k[1] < last[1]) || (op.op === 'write' && k[0] === last[0])) {
        out.push(`${client}: ${op.op} at pos ${op.pos} after an op at pos ${last[0]} (program order)`);
      }
      last = k;
    }
  }
  return out.slice(0, 10);
}

export function isisReport(r: IsisSimResult): string {
  const o = r.options;
  const cfg = `members=${o.members}+${o.lateJoiners} backup=${o.backup} pages=${o.pages} ops=${o.opsPerMember} read=${o.readRatio.toFixed(2)} delay=${o.minDelayMs}..${o.maxDelayMs.toFixed(2)}ms drop=${o.dropProb.toFixed(3)} dup=${o.dupProb.toFixed(3)} faults=${o.faults}${o.mutant ? ` mutant=${o.mutant}` : ''}`;
  return [`ISIS seed ${r.seed} FAILED (${cfg})`, ...r.problems.map((p) => `  - ${p}`), `  faults: ${r.faults.join(', ') || 'none'}`, `  replay: ISIS_SEED=${r.seed} npx vitest run --project sim test/sim/isis-sim.test.ts`].join('\n');
}

export type { Rng };
