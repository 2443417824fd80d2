// How a manager that takes over rebuilds the exact records from the clients' page
// tables (the ground truth: nothing may depend on a dying manager flushing state).
//
// Per page: the client that reports ownership is the owner; read copies form the
// copy set. A page with no owner but a reported "served" tombstone that matches the
// target's pending request is in flight: the transfer is resumed, not redone. A page
// whose owner died but whose read copies survive passes to a copy holder. A page
// that nobody holds is unowned — unless the replica says someone held it, in which
// case it is lost and faults on it fail clearly.
//
// Recoverable memory (DESIGN §3): a page nobody holds whose last owner (by the replica) keeps its pages
// through a crash is held by that client, not lost: if it reported the page as recovered, at a version
// not older than the replica's, it gets it back (`restore`), unless another client reported a newer copy: the
// newest copy is the page (`newer`); if it did not report, the page waits for it.
// Without a replica, the newest recovered copy comes back, unless a live client passed the page on at a
// newer version. Every other recovered copy is stale and dropped: a page another client has written since
// is never resurrected.
import type { ClientMemory, Message, MessageOf, NodeId } from '../protocol/messages.js';
import { REQS_PER_INCARNATION } from './client.js';
import { emptyRecord, keepsPages, type ClientEntry, type PageRecord } from './manager.js';
import type { ManagerOutput } from './types.js';

export type Report = MessageOf<'report'>;

export interface ReplicaRecord {
  page: number;
  owner: NodeId | null;
  lostWith: NodeId | null;
  heldBy?: NodeId | null;
  copyset: NodeId[];
  version: number;
  /**
   * An unconfirmed first-touch grant (see replicaOf in manager-role.ts): its requester may have written the page.
   * On a held page: the write transfer its holder went down serving, whose requester may have written it.
   */
  granted?: { to: NodeId; req: number } | null;
}

/**
 * The replica's record, with an unconfirmed zero-page grant settled by the reports: its requester still
 * waiting for that request never installed the page (it is untouched); otherwise it may have written it
 * and is its owner as far as the rebuild can tell (lost or held with it, if it holds nothing now).
 */
function settleGrant(was: ReplicaRecord | undefined, reports: ReadonlyMap<NodeId, Report>): ReplicaRecord | undefined {
  const g = was?.granted;
  // (On a held page `granted` names the write transfer its holder went down serving: see `flight` below.)
  if (!was || !g || was.owner !== null || (was.heldBy ?? null) !== null) return was;
  const waiting = reports.get(g.to)?.pending.some((p) => p.page === was.page && p.req === g.req) === true;
  return waiting ? was : { ...was, owner: g.to };
}

export interface Rebuilt {
  records: PageRecord[];
  clients: Map<NodeId, ClientEntry>;
  /** Messages the new primary sends once it serves: `own` to heirs, `resume` to requesters of in-flight pages. */
  outputs: ManagerOutput[];
}

export function rebuildRecords(
  self: { id: NodeId; epoch: number; pages: number },
  reports: ReadonlyMap<NodeId, Report>,
  replica: readonly ReplicaRecord[] | null,
  now: number,
  /** The memory mode of a client that did not report (from its hello or the primary's syncs). */
  memoryOf: (id: NodeId) => ClientMemory | undefined = () => undefined,
  /** Requests their written-off clients still waited for when they last reported, and dropped since (manager-role.ts). */
  abandoned: ReadonlyMap<NodeId, Report['pending']> = new Map(),
  /**
   * The replica is this manager's own records as it stopped serving (a primary re-taking its clients), not a
   * peer's sync that may lag: a page it held for a down client has not moved since.
   */
  exact = false,
): Rebuilt {
  const records = Array.from({ length: self.pages }, emptyRecord);
  const outputs: ManagerOutput[] = [];
  const send = (to: NodeId, msg: Message): void => {
    outputs.push({ type: 'send', to, msg });
  };
  const gaveUp = (client: NodeId, req: number, kind: 'read' | 'write'): boolean => abandoned.get(client)?.some((p) => p.req === req && p.kind === kind) === true;
  const pendingOf = (client: NodeId, page: number) => reports.get(client)?.pending.find((p) => p.page === page);
  const verdict = (to: NodeId, page: number, version: number, keep: boolean): void => {
    const n = reports.get(to)?.n;
    send(to, { t: 'restore', from: self.id, epoch: self.epoch, page, version, keep, ...(n !== undefined ? { n } : {}) });
  };

  for (let page = 0; page < self.pages; page++) {
    const rec = records[page]!;
    const rows = [...reports.values()]
      .map((r) => ({ id: r.from, row: r.pages.find((p) => p.page === page) }))
      .filter((x): x is { id: NodeId; row: Report['pages'][number] } => x.row !== undefined);
    const holders = rows.filter((x) => x.row.access !== 'none');
    const owners = holders.filter((x) => x.row.owner).sort((a, b) => b.row.version - a.row.version);
    // A served tombstone is live only if its target still waits for exactly that request.
    const sender = rows.find(({ row: { served: s } }) => s !== null && pendingOf(s.to, page)?.req === s.req && pendingOf(s.to, page)?.kind === s.kind);
    const inFlight = sender?.row.served ?? null;

    const recovered = [...reports.values()]
      .map((r) => ({ id: r.from, version: r.recovered?.find((x) => x.page === page)?.version }))
      .filter((x): x is { id: NodeId; version: number } => x.version !== undefined)
      .sort((a, b) => b.version - a.version || (a.id < b.id ? -1 : 1));
    let restored: NodeId | null = null;

    const owner = owners[0];
    if (owner) {
      rec.owner = owner.id;
      rec.version = owner.row.version;
      for (const h of holders) if (h.id !== owner.id) rec.copyset.add(h.id);
    } else if (sender && inFlight?.kind === 'write') {
      // As in the live record, the sender stays owner until the writer confirms. A replica made now must
      // still say someone had the page: should the writer die with it in transit, the page is lost, not
      // (as with no owner) handed out again as a zero page after a handback or the next takeover.
      rec.owner = sender.id;
      rec.version = sender.row.version;
      for (const h of holders) rec.copyset.add(h.id);
    } else if (holders.length > 0) {
      const [heir, ...rest] = [...holders].sort((a, b) => (a.id < b.id ? -1 : 1));
      rec.owner = heir!.id;
      rec.version = heir!.row.version;
      for (const h of rest) rec.copyset.add(h.id);
      send(heir!.id, { t: 'own', from: self.id, epoch: self.epoch, page, version: heir!.row.version });
    } else {
      const was = settleGrant(replica?.find((r) => r.page === page), reports);
      // Nobody holds it, but a client once passed it on: the page existed and died with whoever had it.
      // That holds without a replica too (a manager rebooted, or rejoining with no answer from its peer),
      // where the page would otherwise be handed out again as a zero page.
      const passed = rows.find((x) => x.row.served !== null);
      // (A page held for a client is named with it: a tombstone older than the replica is no evidence of who had it last.)
      const known = was?.lostWith ?? was?.owner ?? was?.heldBy ?? null;
      const claimant = was ? (was.heldBy ?? (was.lostWith === null ? was.owner : null)) : null;
      const back = claimant !== null ? recovered.find((x) => x.id === claimant) : undefined;
      const newest = recovered[0];
      // Single writer: a version names one content, and versions only grow along the page's history (a write adds
      // one, a transfer carries the version on). So of two recovered copies the newer is the later state, and
      // restoring the older over it would lose the writes between (acknowledged once stored). A copy newer than
      // the claimant's means the claimant gave the page away (a write transfer whose confirm was lost) and its
      // requester wrote on it: that copy is the page (pair-sim partition seed 2554). The claimant wins a tie (the
      // same content).
      const newer = back ? recovered.find((x) => x.id !== claimant && x.version > back.version) : undefined;
      // The write transfer the held claimant went down serving (replicaOf), whose requester has not reported: it may
      // have installed the page and written, its confirm lost, so its store may have a newer copy than the claimant's.
      // As in restoreFrom (`gone`): the page waits for it, the claimant's copy kept as its spare (pair-sim
      // sender-crash-takeover). A volatile one kept nothing, and its writes may be gone with it: lost with it.
      const flight = was && claimant !== null && was.heldBy === claimant && was.granted && !reports.has(was.granted.to) ? was.granted : null;
      // The page was held for a client that is alive after all (it reported) and whose store has no current copy:
      // made heir of a read copy while cut off, it never stored it. The page has not moved since it was held
      // (exact records), and the claimant, whose store keeps every write it acknowledged, wrote nothing past
      // that version: another client's stored copy at that version (the owner before it, written off by the
      // same cut) is the page. Only a live report that it has nothing writes a held page off (pair-sim
      // partition seed 906), never a takeover alone.
      // Until it reports, such a copy is kept unvouched for it (PageRecord.spare).
      // A copy newer than the records (from any replica) is kept the same way, never dropped: should the claimant
      // come back with an older copy, the newer one is the page (as above); dropping it lost its writes.
      const spareCopy =
        claimant !== null && (back === undefined || back.version < was!.version)
          ? recovered.find(
              (x) => x.id !== claimant && (x.version > was!.version || (exact && was!.heldBy === claimant && x.version === was!.version)) && rows.every((r) => r.row.version <= x.version),
            )
          : undefined;
      const spare = spareCopy && reports.has(claimant!) && keepsPages(reports.get(claimant!)!.memory ?? memoryOf(claimant!)) ? spareCopy : undefined;
      // A write transfer whose requester crashed (it did not report, or reported as a later incarnation):
      // the sender's row carries the version it sent, so the requester's recovered copy is current exactly
      // when it is not older; otherwise the sender takes back the copy it gave away.
      const orphan = rows
        .filter(({ id, row }) => {
          const sv = row.served;
          if (sv === null || sv.kind !== 'write' || row.access !== 'none') return false;
          // The replica is as new as the tombstone (same version) and names another holder: the page moved on
          // after this transfer (that tombstone died with a rebooted client), so the replica decides.
          if (was && (row.version < was.version || (row.version === was.version && was.owner !== id && (was.heldBy ?? was.owner) !== sv.to))) return false;
          // A requester written off while still waiting for this very request never installed the page
          // (starting over dropped the request): the sender's copy is current, whatever its memory.
          if (gaveUp(sv.to, sv.req, sv.kind)) return true;
          // Only a recoverable requester's store can tell whether it installed the page; a volatile one may
          // have acknowledged writes on it before it died, so its page stays lost (below).
          const target = reports.get(sv.to);
          if (!keepsPages(target?.memory ?? memoryOf(sv.to))) return false;
          return !target || target.incarnation > Math.floor(sv.req / REQS_PER_INCARNATION);
        })
        .sort((a, b) => b.row.version - a.row.version)[0];
      const orphanTo = orphan?.row.served?.to ?? null;
      const orphanCopy = orphanTo !== null ? recovered.find((x) => x.id === orphanTo) : undefined;
      if (orphan && orphanTo !== null) {
        const sv = orphan.row.served!;
        if (gaveUp(orphanTo, sv.req, sv.kind) && !orphanCopy) {
          // Cut off (a partition) and written off while its page was on the way: the sender takes its copy back.
          rec.owner = orphan.id;
          rec.version = orphan.row.version;
          rec.reclaiming = { owner: orphan.id, req: sv.req, requester: orphanTo };
          send(orphan.id, { t: 'reclaim', from: self.id, epoch: self.epoch, page, req: sv.req, requester: orphanTo });
        } else if (orphanCopy && orphanCopy.version >= orphan.row.version) {
          restored = orphanTo;
          rec.owner = orphanTo;
          rec.version = orphanCopy.version;
        } else if (!reports.has(orphanTo) && keepsPages(memoryOf(orphanTo))) {
          rec.heldBy = orphanTo;
          rec.downSince = now;
          rec.version = orphan.row.version;
          rec.heldFloor = orphan.row.version;
          rec.reclaimFrom = { owner: orphan.id, req: sv.req, requester: orphanTo };
        } else if (reports.has(orphanTo)) {
          rec.owner = orphan.id;
          rec.version = orphan.row.version;
          rec.reclaiming = { owner: orphan.id, req: sv.req, requester: orphanTo };
          send(orphan.id, { t: 'reclaim', from: self.id, epoch: self.epoch, page, req: sv.req, requester: orphanTo });
        } else {
          rec.lostWith = orphanTo;
          rec.version = orphan.row.version;
        }
      } else if (claimant !== null && back && back.version >= was!.version && flight !== null && !newer) {
        rec.version = back.version;
        if (keepsPages(memoryOf(flight.to))) {
          Object.assign(rec, { heldBy: flight.to, downSince: now, heldFloor: back.version, spare: { client: claimant, version: back.version } });
        } else {
          rec.lostWith = flight.to;
        }
      } else if (claimant !== null && back && back.version >= was!.version) {
        const winner = newer ?? back;
        restored = winner.id;
        rec.owner = winner.id;
        rec.version = winner.version;
      } else if (claimant !== null && !reports.has(claimant) && (was!.heldBy === claimant || keepsPages(memoryOf(claimant)))) {
        rec.heldBy = claimant;
        rec.downSince = now;
        rec.version = was!.version;
        // Its store may also keep an older copy, from a turn as owner before the one the replica records
        // (read copies are not stored): on its reboot, only a copy not older than the replica's comes back.
        rec.heldFloor = was!.version;
        if (spareCopy) rec.spare = { client: spareCopy.id, version: spareCopy.version };
        if (flight !== null && keepsPages(memoryOf(flight.to))) rec.lostInFlight = { requester: flight.to, req: flight.req, kind: 'write', gone: true };
        else if (flight !== null) Object.assign(rec, { heldBy: null, downSince: null, spare: null, lostWith: flight.to });
      } else if (spare) {
        restored = spare.id;
        rec.owner = spare.id;
        rec.version = spare.version;
      } else if (newest && (was ? newest.version > Math.max(was.version, ...rows.map((x) => x.row.version)) : !passed || newest.version >= passed.row.version)) {
        // Newer than anything the replica or a live client knows of: the page moved to this client after the
        // last sync (the replica lags by up to a sync period) and it crashed with it. A copy no newer is
        // ambiguous (it may be one kept from an earlier turn) and is not restored.
        restored = newest.id;
        rec.owner = newest.id;
        rec.version = newest.version;
      } else if (known !== null) {
        rec.lostWith = known;
        rec.version = was!.version;
      } else if (passed) {
        rec.lostWith = passed.row.served!.to;
        rec.version = passed.row.version;
      }
    }
    for (const r of recovered) if (r.id !== rec.spare?.client) verdict(r.id, page, r.version, r.id === restored);
    if (inFlight && (inFlight.kind === 'write' || rec.owner !== null)) {
      rec.active = { requester: inFlight.to, req: inFlight.req, kind: inFlight.kind, phase: 'transferring', awaiting: new Set() };
      send(inFlight.to, { t: 'resume', from: self.id, epoch: self.epoch, page, req: inFlight.req });
    }
  }

  const clients = new Map<NodeId, ClientEntry>();
  // A report names the client's latest hello: that hello, arriving late (links need not be FIFO), is then no
  // start-over (manager.ts onHello) that would write off what the client asked since.
  for (const r of reports.values()) {
    clients.set(r.from, { endpoint: r.endpoint, incarnation: r.incarnation, ...(r.n !== undefined ? { hellos: r.n } : {}), lastHeard: now, ...(r.memory ? { memory: r.memory } : {}) });
  }
  return { records, clients, outputs };
}

/**
 * Hellos a candidate took from clients that started over during its candidacy (evicted as written off): what
 * each asked before its hello is void (seqFloor). Its report may name a later hello than the one taken (that
 * one is still on its way, links need not be FIFO): the later count stands, or that hello would look like a
 * start-over when it arrives and write off the requests the client made since.
 */
export function noteHellos(clients: Map<NodeId, ClientEntry>, hellos: ReadonlyMap<NodeId, { incarnation: number; n: number; seq: number }>): void {
  for (const [id, h] of hellos) {
    const e = clients.get(id);
    if (e?.incarnation === h.incarnation) Object.assign(e, { hellos: Math.max(h.n, e.hellos ?? 0), seqFloor: Math.max(e.seqFloor ?? 0, h.seq) });
  }
}
