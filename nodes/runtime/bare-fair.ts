// The fair bare path of `ivy-cluster bench`: the protocol path minus the protocol.
// The same processes (a manager seat and N clients), the same transport and codec,
// and the same hop shapes, because the bare manager keeps the least state that
// decides them — per page an owner, a copy set and a queue of one request at a time:
//   read:  requester -read_req-> manager -read_fwd-> owner -page_data-> requester -confirm-> manager
//   write: requester -write_req-> manager -invalidate-> k holders -inv_ack-> manager
//          -write_fwd-> owner -page_data-> requester -confirm-> manager
// (first touch and an owner's upgrade: manager -grant-> requester -confirm-> manager).
// What it leaves out is what the protocol adds: epochs and fencing, duplicate and
// retry handling, heartbeats, failure detection, the history log, telemetry. What it
// keeps is the client's memory: in a recoverable or durable mode a client writes each
// page it owns to its segment before passing the page on or acknowledging a write, at
// the same points as the protocol path's clients (client-node.ts apply).
import type { Rng } from '../core/random.js';
import type { Access, Message, MessageOf } from '../protocol/index.js';
import { FairBareConfigSchema, FromFairBareSchema, ToFairBareSchema, type OpRecord, type ToFairBare } from './bare-control.js';
import { bareShell, parseBareConfig } from './bare-shell.js';
import { openPageStore } from './page-store.js';
import { drawOp, drawWorkloadOp } from './op-draw.js';
import { nextDue, workloadStart } from './workload-start.js';

const nowNs = (): number => Number(process.hrtime.bigint());
const EPOCH = 1;

const cfg = parseBareConfig(FairBareConfigSchema);
const { send, toParent, start } = bareShell(cfg, FromFairBareSchema, (msg) => (cfg.role === 'manager' ? manager : client)(msg));

// --- manager: one request per page at a time, as the real manager ---------------------------
interface Req {
  requester: string;
  req: number;
  kind: 'read' | 'write';
}
interface PageRecord {
  owner: string | null;
  copyset: Set<string>;
  active: (Req & { awaiting: number }) | null;
  queue: Req[];
}
const records: PageRecord[] = Array.from({ length: cfg.role === 'manager' ? cfg.pages : 0 }, () => ({ owner: null, copyset: new Set(), active: null, queue: [] }));

function manager(msg: Message): void {
  const rec = 'page' in msg ? records[msg.page] : undefined;
  if (!rec) return;
  if (msg.t === 'read_req' || msg.t === 'write_req') {
    rec.queue.push({ requester: msg.from, req: msg.req, kind: msg.t === 'read_req' ? 'read' : 'write' });
    if (!rec.active) startNext(msg.page, rec);
  } else if (msg.t === 'inv_ack') {
    const a = rec.active;
    if (!a || a.req !== msg.req || a.requester !== msg.requester) return;
    rec.copyset.delete(msg.from);
    if (--a.awaiting === 0) transfer(msg.page, rec, a);
  } else if (msg.t === 'confirm') {
    const a = rec.active;
    if (!a || a.req !== msg.req || a.requester !== msg.from) return;
    if (msg.access === 'write') {
      rec.owner = msg.from;
      rec.copyset.clear();
    } else if (rec.owner === null) rec.owner = msg.from;
    else if (rec.owner !== msg.from) rec.copyset.add(msg.from);
    rec.active = null;
    startNext(msg.page, rec);
  }
}

function startNext(page: number, rec: PageRecord): void {
  const next = rec.queue.shift();
  if (!next) return;
  const a = { ...next, awaiting: 0 };
  rec.active = a;
  if (next.kind === 'write') {
    for (const holder of rec.copyset) {
      if (holder === a.requester || holder === rec.owner) continue;
      a.awaiting++;
      send(holder, { t: 'invalidate', from: cfg.id, epoch: EPOCH, page, req: a.req, requester: a.requester });
    }
    if (a.awaiting > 0) return;
  }
  transfer(page, rec, a);
}

function transfer(page: number, rec: PageRecord, a: Req): void {
  const base = { from: cfg.id, epoch: EPOCH, page, req: a.req };
  if (rec.owner === null) send(a.requester, { t: 'grant', ...base, access: 'write', zero: true });
  else if (rec.owner === a.requester) send(a.requester, { t: 'grant', ...base, access: a.kind, zero: false });
  else send(rec.owner, { t: a.kind === 'read' ? 'read_fwd' : 'write_fwd', ...base, requester: a.requester });
}

// --- client: a page table, one op at a time ---------------------------------------------------
interface Entry {
  access: Access;
  owner: boolean;
  data: Uint8Array | null;
}
const table: Entry[] = Array.from({ length: cfg.role === 'client' ? cfg.pages : 0 }, () => ({ access: 'none', owner: false, data: null }));
const store = cfg.role === 'client' ? openPageStore(cfg.memory, cfg.storeFile ?? null, { pages: cfg.pages, pageSize: cfg.pageSize }).store : null;

/** An owned page into the store, as the protocol client's takeDirty + put + sync: after it changed, before it is acted on. */
function persist(page: number, e: Entry): void {
  if (!store || !e.owner || e.data === null || e.access === 'none') return;
  store.put({ page, access: e.access, owner: true, version: 1, epoch: EPOCH, data: e.data });
  store.sync();
}
const token = new Uint8Array(16).fill(7);
let current: { cmd: number | null; kind: 'read' | 'write'; page: number; req: number; startNs: number } | null = null;
let nextReq = 1;
interface Workload {
  rng: Rng;
  readRatio: number;
  pages: number;
  /** Ops per second (0: back to back), scheduled as the protocol client schedules them (client-node.ts scheduleWorkload). */
  rate: number;
  nextAt: number;
  timer: NodeJS.Timeout | null;
  faults: number;
  hits: number;
  /** Every op's kind, outcome, fault, start and end (monotonic ns), when the driver asked for them (`bench --scale`). */
  log: OpRecord[] | null;
  stopping: boolean;
}
let workload: Workload | null = null;
const nowMs = (): number => performance.now();

function submit(kind: 'read' | 'write', page: number, cmd: number | null): void {
  const startNs = nowNs();
  const e = table[page];
  if (!e) return void finish(cmd, kind, page, false, false, startNs);
  if (e.access === 'write' || (kind === 'read' && e.access === 'read')) {
    if (kind === 'write' && e.data !== null) {
      e.data.set(token);
      persist(page, e);
    }
    return void finish(cmd, kind, page, true, false, startNs);
  }
  current = { cmd, kind, page, req: nextReq++, startNs };
  send(cfg.manager, { t: kind === 'read' ? 'read_req' : 'write_req', from: cfg.id, epoch: EPOCH, page, req: current.req });
}

function finish(cmd: number | null, kind: 'read' | 'write', page: number, ok: boolean, fault: boolean, startNs: number): void {
  const endNs = nowNs();
  if (cmd !== null) toParent({ type: 'done', id: cmd, kind, page, ok, fault, startNs, endNs });
  else if (workload) {
    if (fault) workload.faults++;
    else workload.hits++;
    workload.log?.push([kind, ok, fault, startNs, endNs]);
    if (workload.stopping) report();
    else scheduleWorkload(workload);
  }
}

/** The next op when it is due: at once (on the next turn, as the real client: the socket loop stays responsive), or at the rate. */
function scheduleWorkload(w: Workload): void {
  if (w.rate === 0) return void setImmediate(nextWorkloadOp);
  const wait = Math.max(0, w.nextAt - nowMs());
  w.timer = setTimeout(() => {
    w.timer = null;
    w.nextAt = nextDue(w.nextAt, w.rate, nowMs());
    nextWorkloadOp();
  }, wait);
}

/** Counts ops started inside the window, like the protocol path's history (so the one in flight at the stop counts). */
function report(): void {
  if (!workload) return;
  if (workload.timer) clearTimeout(workload.timer);
  toParent({ type: 'count', id: cfg.id, faults: workload.faults, hits: workload.hits, ...(workload.log ? { ops: workload.log } : {}) });
  workload = null;
}

function nextWorkloadOp(): void {
  const w = workload;
  if (!w || current) return;
  const { kind, page } = drawWorkloadOp(w.rng, w.readRatio, Math.min(w.pages, cfg.pages));
  submit(kind, page, null);
}

function client(msg: Message): void {
  const e = 'page' in msg ? table[msg.page] : undefined;
  if (!e) return;
  if (msg.t === 'read_fwd' || msg.t === 'write_fwd') {
    if (e.data === null || e.access === 'none') return;
    const access = msg.t === 'read_fwd' ? 'read' : 'write';
    const data = e.data.slice();
    if (access === 'read') {
      Object.assign(e, { access: 'read', owner: true });
      persist(msg.page, e);
    } else Object.assign(e, { access: 'none', owner: false, data: null }); // the store keeps its copy, as the protocol's
    send(msg.requester, { t: 'page_data', from: cfg.id, epoch: EPOCH, page: msg.page, req: msg.req, access, version: 1, data });
  } else if (msg.t === 'invalidate') {
    Object.assign(e, { access: 'none', data: null });
    send(cfg.manager, { t: 'inv_ack', from: cfg.id, epoch: EPOCH, page: msg.page, req: msg.req, requester: msg.requester });
  } else if (msg.t === 'grant' || msg.t === 'page_data') {
    const c = current;
    if (!c || c.req !== msg.req || c.page !== msg.page) return;
    if (msg.t === 'grant') {
      if (msg.zero) e.data = new Uint8Array(cfg.pageSize);
      else if (e.data === null) return;
      e.owner = e.owner || msg.access === 'write' || msg.zero;
    } else {
      e.data = new Uint8Array(msg.data);
      e.owner = msg.access === 'write';
    }
    e.access = msg.access;
    if (c.kind === 'write') e.data.set(token);
    persist(msg.page, e);
    current = null;
    const confirm: MessageOf<'confirm'> = { t: 'confirm', from: cfg.id, epoch: EPOCH, page: msg.page, req: msg.req, access: e.access, version: 1 };
    send(cfg.manager, confirm);
    finish(c.cmd, c.kind, c.page, true, true, c.startNs);
  }
}

function onControl(m: ToFairBare): void {
  if (m.type === 'op') {
    const { kind, page } = drawOp(m.kind, m.page, m.seed, table.map((e) => e.access), cfg.pages);
    submit(kind, page, m.id);
  } else if (m.spec) {
    // The protocol client's op stream and first due time (workload-start.ts), so both paths run the same ops.
    const { rng, phaseMs } = workloadStart(m.spec.seed, cfg.id, 0, m.spec.rate);
    const w: Workload = { rng, readRatio: m.spec.readRatio, pages: m.spec.pages, rate: m.spec.rate, nextAt: nowMs() + phaseMs, timer: null, faults: 0, hits: 0, log: m.spec.record ? [] : null, stopping: false };
    workload = w;
    if (w.rate === 0) nextWorkloadOp();
    else scheduleWorkload(w);
  } else if (workload) {
    workload.stopping = true;
    if (!current) report();
  }
}

process.on('message', (raw: unknown) => {
  const parsed = ToFairBareSchema.safeParse(raw);
  if (parsed.success && cfg.role === 'client') onControl(parsed.data);
});

start();
