// The bare-transport benchmark node: the same ZeroMQ Transport and the same codec
// (msgpack + zod validation of every frame) as a real node, with trivial handlers
// and no state machine. A requester, a manager, an owner and copy holders, each its
// own process, replay the message pattern of an IVY fault:
//   read:  requester -read_req-> manager -read_fwd-> owner -page_data-> requester -confirm-> manager
//   write: requester -write_req-> manager -invalidate-> k copies -inv_ack-> manager
//          -write_fwd-> owner -page_data-> requester -confirm-> manager
// The manager keeps no records: a write request for page k invalidates the first k
// copy holders (the page number names the copy count), so the driver picks k per op.
// Write-update's baseline, two bare multicast rounds with ISIS's own frames:
//   mc-sender -i_msg-> k members -i_propose-> mc-sender -i_agreed-> k members -i_ack-> mc-sender
// (no queue, no priorities: what an ISIS write costs on these sockets beyond the wire).
import type { Message, MessageOf } from '../protocol/index.js';
import { BareConfigSchema, FromBareSchema, ToBareSchema } from './bare-control.js';
import { bareShell, parseBareConfig } from './bare-shell.js';

const nowNs = (): number => Number(process.hrtime.bigint());
const EPOCH = 1;

const cfg = parseBareConfig(BareConfigSchema);
const page = new Uint8Array(cfg.pageSize);
const { send, toParent, start } = bareShell(cfg, FromBareSchema, (msg) => handlers[cfg.role](msg));

// --- manager: forwards, and for writes collects every acknowledgement first ---------------
const awaiting = new Map<number, { requester: string; left: number; page: number }>();

function manager(msg: Message): void {
  const head = { from: cfg.id, epoch: EPOCH };
  if (msg.t === 'read_req') {
    send(cfg.owner, { t: 'read_fwd', ...head, page: msg.page, req: msg.req, requester: msg.from });
  } else if (msg.t === 'write_req') {
    const copies = cfg.copies.slice(0, msg.page);
    if (copies.length === 0) {
      send(cfg.owner, { t: 'write_fwd', ...head, page: msg.page, req: msg.req, requester: msg.from });
      return;
    }
    awaiting.set(msg.req, { requester: msg.from, left: copies.length, page: msg.page });
    for (const c of copies) send(c, { t: 'invalidate', ...head, page: msg.page, req: msg.req, requester: msg.from });
  } else if (msg.t === 'inv_ack') {
    const a = awaiting.get(msg.req);
    if (!a || --a.left > 0) return;
    awaiting.delete(msg.req);
    send(cfg.owner, { t: 'write_fwd', ...head, page: a.page, req: msg.req, requester: a.requester });
  }
  // confirm: the real manager would start the page's next request here; nothing to do.
}

// --- owner and copy holders -------------------------------------------------------------------
function owner(msg: Message): void {
  if (msg.t !== 'read_fwd' && msg.t !== 'write_fwd') return;
  const access = msg.t === 'read_fwd' ? 'read' : 'write';
  // A copy of the page, as a real owner sends.
  send(msg.requester, { t: 'page_data', from: cfg.id, epoch: EPOCH, page: msg.page, req: msg.req, access, version: 1, data: page.slice() });
}

function copy(msg: Message): void {
  if (msg.t === 'invalidate') send(cfg.manager, { t: 'inv_ack', from: cfg.id, epoch: EPOCH, page: msg.page, req: msg.req, requester: msg.requester });
}

// --- requester: one op at a time, timed like a real client's -------------------------------------
let current: { id: number; req: number; startNs: number } | null = null;
let nextReq = 1;

function requester(msg: Message): void {
  if (msg.t !== 'page_data' || !current || msg.req !== current.req) return;
  const endNs = nowNs();
  const done = current;
  current = null;
  const confirm: MessageOf<'confirm'> = { t: 'confirm', from: cfg.id, epoch: EPOCH, page: msg.page, req: msg.req, access: msg.access, version: msg.version };
  send(cfg.manager, confirm);
  toParent({ type: 'done', id: done.id, startNs: done.startNs, endNs });
}

// --- write-update baseline: two multicast rounds ------------------------------------------------
let round: { id: number; seq: number; startNs: number; phase: 1 | 2; left: number; members: string[] } | null = null;
let nextSeq = 1;
const MC_VIEW = 1;

function mcMember(msg: Message): void {
  const head = { from: cfg.id, epoch: EPOCH, view: MC_VIEW };
  if (msg.t === 'i_msg') send(msg.from, { t: 'i_propose', ...head, seq: msg.seq, prio: [msg.seq, Number(cfg.id.slice(1))] });
  else if (msg.t === 'i_agreed') send(msg.from, { t: 'i_ack', ...head, seq: msg.seq });
}

function mcSender(msg: Message): void {
  const r = round;
  if (!r || !('seq' in msg) || msg.seq !== r.seq) return;
  if (!((r.phase === 1 && msg.t === 'i_propose') || (r.phase === 2 && msg.t === 'i_ack'))) return;
  if (--r.left > 0) return;
  if (r.phase === 1) {
    r.phase = 2;
    r.left = r.members.length;
    for (const m of r.members) send(m, { t: 'i_agreed', from: cfg.id, epoch: EPOCH, view: MC_VIEW, seq: r.seq, prio: [r.seq, 0] });
    return;
  }
  round = null;
  toParent({ type: 'done', id: r.id, startNs: r.startNs, endNs: nowNs() });
}

function startMulticast(id: number, copies: number): void {
  const members = cfg.copies.slice(0, copies);
  const seq = nextSeq++;
  const startNs = nowNs();
  if (members.length === 0) {
    toParent({ type: 'done', id, startNs, endNs: nowNs() });
    return;
  }
  round = { id, seq, startNs, phase: 1, left: members.length, members };
  // A write's worth of data, as an ISIS write carries its token.
  for (const m of members) send(m, { t: 'i_msg', from: cfg.id, epoch: EPOCH, view: MC_VIEW, seq, page: 0, offset: 0, data: page.subarray(0, 32).slice() });
}

const handlers = { manager, owner, copy, requester, 'mc-sender': mcSender, 'mc-member': mcMember } as const;

process.on('message', (raw: unknown) => {
  const parsed = ToBareSchema.safeParse(raw);
  if (!parsed.success) return;
  const op = parsed.data;
  if (cfg.role === 'mc-sender' && op.kind === 'multicast') return startMulticast(op.id, op.copies);
  if (cfg.role !== 'requester' || op.kind === 'multicast') return;
  const req = nextReq++;
  current = { id: op.id, req, startNs: nowNs() };
  const t = op.kind === 'read' ? 'read_req' : 'write_req';
  send(cfg.manager, { t, from: cfg.id, epoch: EPOCH, page: op.kind === 'read' ? 0 : op.copies, req });
});

start();
