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
