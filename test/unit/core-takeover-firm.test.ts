// Firm takeovers (docs/CONSISTENCY.md, Partitions): a client adopts a firm takeover whatever it promised the
// primary it follows, so only a candidate whose peer is out of the way (dead, or voting for it as its backup)
// may send one. A candidate with no authority at all sent them too (a `null ?? 'peer-dead'`): each manager's
// takeover then fenced the other's clients, and the two took the cluster from each other in turn.
import { describe, expect, it } from 'vitest';
import { ManagerRoleCore, type RoleOutput } from '../../nodes/core/manager-role.js';
import type { MessageOf } from '../../nodes/protocol/messages.js';

const clients = ['c0', 'c1', 'c2'].map((id, i) => ({ id, endpoint: `tcp://127.0.0.1:${7010 + i}`, incarnation: 1 }));
const backup = (): ManagerRoleCore =>
  new ManagerRoleCore({ id: 'm1', peer: 'm0', pages: 2, parity: 0, home: false, heartbeatMs: 50, heartbeatTimeoutMs: 500, clientTimeoutMs: 2000, start: 'backup', epoch: 1, clients });
const takeovers = (out: RoleOutput[]): MessageOf<'takeover'>[] =>
  out.flatMap((o) => (o.type === 'send' && o.msg.t === 'takeover' ? [o.msg] : []));
const ping: MessageOf<'mping'> = { t: 'mping', from: 'm0', epoch: 1, role: 'primary', n: 1 };

describe('takeover firmness', () => {
  it('a backup that stops hearing the primary (cut off, not dead) sends takeovers that are not firm', () => {
    const m1 = backup();
    m1.tick(0);
    m1.receive(ping, 10);
    let out: RoleOutput[] = [];
    for (let t = 20; t <= 700 && m1.currentRole === 'backup'; t += 10) out = m1.tick(t);
    expect(m1.currentRole).toBe('candidate');
    const sent = takeovers(out);
    expect(sent).toHaveLength(3);
    expect(sent.every((m) => m.firm !== true)).toBe(true);
  });

  it('a backup whose primary died (its connection dropped) sends firm takeovers', () => {
    const m1 = backup();
    m1.tick(0);
    m1.receive(ping, 10);
    const sent = takeovers(m1.peerConnectionLost(20));
    expect(m1.currentRole).toBe('candidate');
    expect(sent).toHaveLength(3);
    expect(sent.every((m) => m.firm === true)).toBe(true);
  });
});
