// Who may serve: the authority a manager needs before it hands out anything, so that a primary cut off
// from its backup (but not from its clients) never serves alongside a new primary (issue 11).
//
// Two managers cannot decide this alone: each would need the other's consent, and a cut link takes
// both consents away. The clients are the tie-breakers. A manager has authority while one of these holds:
//
// - E1, the peer died: the transport saw the connection to it drop (on one machine, its process died).
//   A restarted peer takes over by no quorum for `leaseMs` from its start (see `promisedUntil`), so this
//   lasts `leaseMs` × trust from the drop (frames the dead one sent still arrive: they change nothing).
// - V1, the peer is our backup and said so: it answers our ping as a backup, and promises not to take
//   over for `leaseMs` from the moment it answers. We count the vote from the moment WE sent the ping
//   (our clock), so the vote runs out before the promise does.
// - Q, a quorum of clients vouches for us: a client that hears from a manager promises not to help
//   another manager to authority for `leaseMs` (it echoes our acknowledgement in its next heartbeat, or
//   answers our takeover with a report that says how long its promise to someone else still runs), and
//   we count its vote from our SEND time. The voters are every client id this manager knows (the
//   supervisor's list at spawn, hellos, the primary's syncs); an eviction never removes a voter, so no
//   manager can shrink the voter set to manufacture a majority. The home seat needs a strict majority,
//   the other seat half of them (ties go to m1): any two quorums share a client. Q also needs our own
//   promise to the peer (our votes for it as its backup) to have run out, so the peer's V1 has too.
//
// At every instant at most one manager has authority: each source is a promise the other side respects.
// A primary whose authority lapses stops serving and takes over again with a fresh epoch (its records
// may be stale: the other manager may have served meanwhile); a candidate serves only with authority.
// Clocks are never compared across processes: every vote is counted from the counter's own send time,
// every promise from the promiser's own receive time, and `VOTE_TRUST` leaves slack for timer lateness.
import type { NodeId } from '../protocol/messages.js';

/** Of a vote's `leaseMs`, the counter trusts only this share (timers fire late, clocks drift a little). */
export const VOTE_TRUST = 0.9;
/** Ping and acknowledgement send times kept to match the echoes (a late echo of an older one is dropped). */
const MAX_SENT = 64;

/**
 * Clients a manager needs to vouch for it, of `voters` known. The home seat m0 needs a strict majority,
 * m1 (`tieWinner`) half of them: a quorum of each always shares a client, and an even split goes to m1.
 * Never below one: with no client known, only the peer (V1) or its death (E1) gives authority.
 */
export function quorumSize(voters: number, tieWinner: boolean): number {
  const n = Math.max(0, Math.floor(voters));
  return Math.max(1, tieWinner ? Math.ceil(n / 2) : Math.floor(n / 2) + 1);
}

/** Send times by number, bounded: what an echo is matched against. */
export class SentTimes {
  private readonly at = new Map<number, number>();
  private seq = 0;

  /** Numbers a new probe sent now. */
  next(now: number): number {
    const n = ++this.seq;
    this.record(n, now);
    return n;
  }

  record(n: number, now: number): void {
    this.at.set(n, now);
    if (this.at.size > MAX_SENT) this.at.delete(this.at.keys().next().value!);
  }

  sentAt(n: number): number | undefined {
    return this.at.get(n);
  }
}

interface Vote {
  /** Counts from this instant (a promise to another manager runs until then). */
  from: number;
  until: number;
}

export class Authority {
  private peerVoteUntil = -Infinity;
  private peerLostAt: number | null = null;
  /** Per client, its votes not yet run out (a report's may start later than an echo's). */
  private readonly votes = new Map<NodeId, Vote[]>();
  /** We answered the peer's ping as its backup: no takeover by client quorum before this. */
  private promisedUntil = -Infinity;
  private booted = false;
  /** Our pings to the peer, to anchor its votes. */
  readonly pings = new SentTimes();

  constructor(
    readonly leaseMs: number,
    /** This seat wins an even split of the clients (m1). */
    readonly tieWinner: boolean,
  ) {}

  /** A fresh process may have promised anything in its previous life: it keeps that promise, from its first instant. */
  boot(now: number): void {
    if (this.booted) return;
    this.booted = true;
    this.promisedUntil = now + this.leaseMs;
  }

  /** The peer answered ping `n` as a backup: it will not take over for leaseMs from its receipt. */
  peerVote(n: number): void {
    const sent = this.pings.sentAt(n);
    if (sent !== undefined) this.peerVoteUntil = Math.max(this.peerVoteUntil, sent + this.leaseMs * VOTE_TRUST);
  }

  /** We answered the peer's ping as its backup. */
  votedForPeer(now: number): void {
    this.promisedUntil = Math.max(this.promisedUntil, now + this.leaseMs);
  }

  /** The peer's process died: what we promised it died with it (a new incarnation anchors nothing on our old votes). */
  peerLost(now: number): void {
    this.peerLostAt = now;
    this.promisedUntil = Math.min(this.promisedUntil, now);
  }

  /**
   * The peer's process died within the last leaseMs: a client's promise to it is void. The dead one counts
   * nothing, and its new incarnation counts no quorum before leaseMs from its start; a client promises that
   * one only by reporting to it, at a higher epoch, after which it follows it and echoes us no more.
   */
  peerDiedLately(now: number): boolean {
    return this.peerLostAt !== null && now < this.peerLostAt + this.leaseMs;
  }

  /** A client's vote, counted over [from, sentAt + leaseMs × trust) where sentAt is when we sent what it answers. */
  clientVote(id: NodeId, from: number, sentAt: number): void {
    const until = sentAt + this.leaseMs * VOTE_TRUST;
    if (until <= from) return;
    const list = this.votes.get(id);
    if (list === undefined) {
      this.votes.set(id, [{ from, until }]);
      return;
    }
    // The latest four, trimmed in place: a heartbeat's vote arrives per client several times a second.
    list.push({ from, until });
    if (list.length > 4) list.splice(0, list.length - 4);
  }

  /** Why we may serve now, or null. */
  source(now: number, voters: number): 'peer-dead' | 'peer-vote' | 'quorum' | null {
    if (this.peerLostAt !== null && now < this.peerLostAt + this.leaseMs * VOTE_TRUST) return 'peer-dead';
    if (now < this.peerVoteUntil) return 'peer-vote';
    if (now >= this.promisedUntil && this.validVotes(now) >= quorumSize(voters, this.tieWinner)) return 'quorum';
    return null;
  }

  /** Until when (our clock) the authority we have now lasts at least: client leases we grant end by then. */
  until(now: number, voters: number): number {
    let end = now;
    if (this.peerLostAt !== null) end = Math.max(end, this.peerLostAt + this.leaseMs * VOTE_TRUST);
    end = Math.max(end, this.peerVoteUntil);
    const k = quorumSize(voters, this.tieWinner);
    if (now < this.promisedUntil) return end;
    const n = this.validVotes(now);
    // The k-th latest end among the clients' votes in force: sorted in place in the reused scratch array.
    if (n >= k) end = Math.max(end, kthLargest(this.scratch, n, k));
    return end;
  }

  /** Does this client's vote count now? */
  inForce(id: NodeId, now: number): boolean {
    const list = this.votes.get(id);
    if (list === undefined) return false;
    for (const v of list) if (v.from <= now && now < v.until) return true;
    return false;
  }

  /** Clients whose vote counts now (for the role's reason text). */
  voterCount(now: number): number {
    return this.validVotes(now);
  }

  /**
   * For each client with a vote in force now, when its latest such vote runs out: written to `scratch`,
   * the count returned. Votes already run out are dropped on the way. Allocation-free: the primary asks at
   * every lease it grants (every client's heartbeat), which made this a steady source of garbage at 64 clients.
   */
  private validVotes(now: number): number {
    let n = 0;
    // values(), not entries(): no [id, list] pair per client. A client whose votes all ran out keeps an
    // empty list (the voters are the clients this manager knows, a bounded set).
    for (const list of this.votes.values()) {
      let live = 0;
      let latest = -Infinity;
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!;
        if (v.until <= now) continue;
        list[live++] = v;
        if (v.from <= now && v.until > latest) latest = v.until;
      }
      list.length = live;
      if (latest > -Infinity) {
        if (n === this.scratch.length) this.grow();
        this.scratch[n++] = latest;
      }
    }
    return n;
  }

  /** validVotes' output, reused (numeric, so it sorts natively without a comparator). */
  private scratch = new Float64Array(64);

  private grow(): void {
    const bigger = new Float64Array(this.scratch.length * 2);
    bigger.set(this.scratch);
    this.scratch = bigger;
  }
}

/** The k-th largest (1-based) of the first n values of `xs`, which it reorders. */
function kthLargest(xs: Float64Array, n: number, k: number): number {
  const head = xs.subarray(0, n).sort(); // ascending
  return head[n - k]!;
}
