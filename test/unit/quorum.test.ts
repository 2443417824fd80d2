// The authority rule of nodes/core/quorum.ts: quorum sizes (ties to m1), and each source of authority
// counted from the counter's own send time and bounded by the promise behind it.
import { describe, expect, it } from 'vitest';
import { Authority, quorumSize, VOTE_TRUST } from '../../nodes/core/quorum.js';

describe('quorumSize', () => {
  it('gives m0 a strict majority and m1 half, so any two quorums of the two seats share a client', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => quorumSize(n, false))).toEqual([1, 2, 2, 3, 3, 6]);
    expect([1, 2, 3, 4, 5, 10].map((n) => quorumSize(n, true))).toEqual([1, 1, 2, 2, 3, 5]);
    for (let n = 1; n <= 64; n++) expect(quorumSize(n, false) + quorumSize(n, true)).toBeGreaterThan(n);
    // With no client known only the peer gives authority.
    expect(quorumSize(0, true)).toBe(1);
  });
});

describe('Authority', () => {
  const L = 1000;

  it('a fresh process counts no client quorum for a lease (its previous life may have promised the peer)', () => {
    const a = new Authority(L, true);
    a.boot(0);
    a.clientVote('c0', 0, 100);
    a.clientVote('c1', 0, 100);
    expect(a.source(500, 3)).toBeNull();
    a.clientVote('c0', 1000, 1000);
    a.clientVote('c1', 1000, 1000);
    expect(a.source(1000, 3)).toBe('quorum');
    // Counted from our send time, trusted 90 %: gone by then.
    expect(a.source(1000 + L * VOTE_TRUST, 3)).toBeNull();
  });

  it('a vote whose promise to the other manager still runs counts only after it', () => {
    const a = new Authority(L, false);
    a.boot(-5000);
    a.clientVote('c0', 400, 0);
    a.clientVote('c1', 0, 0);
    expect(a.source(100, 3)).toBeNull();
    expect(a.source(400, 3)).toBe('quorum');
    expect(a.until(400, 3)).toBe(L * VOTE_TRUST);
  });

  it('the backup vote counts from our ping, and voting for the peer blocks our own quorum for a lease', () => {
    const a = new Authority(L, true);
    a.boot(-5000);
    const n = a.pings.next(0);
    a.peerVote(n);
    expect(a.source(899, 5)).toBe('peer-vote');
    expect(a.source(901, 5)).toBeNull();
    a.votedForPeer(1000);
    for (const c of ['c0', 'c1', 'c2']) a.clientVote(c, 1000, 1500);
    expect(a.source(1500, 5)).toBeNull();
    expect(a.source(2000, 5)).toBe('quorum');
  });

  it('the peer’s death gives authority for 90 % of a lease, and voids what we promised it', () => {
    const a = new Authority(L, false);
    a.boot(0);
    a.votedForPeer(100);
    a.peerLost(200);
    expect(a.source(200 + L * VOTE_TRUST - 1, 4)).toBe('peer-dead');
    expect(a.source(200 + L * VOTE_TRUST, 4)).toBeNull();
    for (const c of ['c0', 'c1', 'c2']) a.clientVote(c, 1200, 1200);
    expect(a.source(1200, 4)).toBe('quorum');
  });

  it('an unknown echo (no ping of ours) counts nothing', () => {
    const a = new Authority(L, true);
    a.boot(-5000);
    a.peerVote(42);
    expect(a.source(0, 0)).toBeNull();
  });
});

describe('Authority vote counting (allocation-free) matches the plain version it replaced', () => {
  const L = 1000;
  // The vote bookkeeping as first written (arrays filtered, sliced and sorted at every call): per client its
  // latest four votes, run-out ones dropped whenever votes are counted; of those in force, each client's latest end.
  class Plain {
    readonly votes = new Map<string, { from: number; until: number }[]>();
    vote(id: string, from: number, sentAt: number): void {
      const until = sentAt + L * VOTE_TRUST;
      if (until <= from) return;
      const list = this.votes.get(id) ?? [];
      list.push({ from, until });
      this.votes.set(id, list.slice(-4));
    }
    valid(now: number): number[] {
      const out: number[] = [];
      for (const [id, list] of this.votes) {
        const live = list.filter((v) => v.until > now);
        if (live.length === 0) {
          this.votes.delete(id);
          continue;
        }
        if (live.length !== list.length) this.votes.set(id, live);
        const inForce = live.filter((v) => v.from <= now);
        if (inForce.length > 0) out.push(Math.max(...inForce.map((v) => v.until)));
      }
      return out.sort((a, b) => b - a);
    }
  }

  it('agrees on source, until, voterCount and inForce over random vote sequences', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 300; run++) {
      const tie = run % 2 === 0;
      const a = new Authority(L, tie);
      a.boot(-10 * L);
      const plain = new Plain();
      const clients = 1 + rnd(12);
      let now = 0;
      for (let step = 0; step < 80; step++) {
        now += rnd(150);
        const id = `c${rnd(clients)}`;
        const sent = now - rnd(300);
        // Some votes start later (a report's promise to the other manager still runs).
        const from = now + (rnd(4) === 0 ? rnd(400) : 0);
        a.clientVote(id, from, sent);
        plain.vote(id, from, sent);
        const ref = plain.valid(now);
        const k = quorumSize(clients, tie);
        expect(a.voterCount(now)).toBe(ref.length);
        expect(a.source(now, clients)).toBe(ref.length >= k ? 'quorum' : null);
        expect(a.until(now, clients)).toBe(ref.length >= k ? Math.max(now, ref[k - 1]!) : now);
        expect(a.inForce(id, now)).toBe((plain.votes.get(id) ?? []).some((v) => v.from <= now && now < v.until));
      }
    }
  });
});
