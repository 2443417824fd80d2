// Bad input against running nodes: random bytes, truncated and oversize frames,
// well-formed msgpack of the wrong shape, unknown types, stale epochs and bad page
// numbers. Nothing may crash a node; everything is dropped and counted, and the
// cluster keeps serving correctly afterwards. The frames go over links with the
// cluster's own keys (clusterPush), as a buggy or compromised peer would send them:
// this tests the validator behind the authentication; curve.test.ts tests the
// authentication (a process without the keys never gets a frame through).
import { encode as msgpack } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { encode, type Message } from '../../nodes/protocol/index.js';
import { mulberry32 } from '../../nodes/core/random.js';
import { clusterPush, finishAndCheck, pidOf, sleep, startCluster, until, workload } from './cluster.js';

const packr = { pack: (v: unknown): Buffer => Buffer.from(msgpack(v)) };

function garbage(seed: number): Buffer[] {
  const rng = mulberry32(seed);
  const frames: Buffer[] = [];
  // Only their truncations are sent: a complete frame would be a (forged) valid message.
  const valid: Message[] = [
    { t: 'read_req', from: 'c0', epoch: 1, page: 0, req: 1 },
    { t: 'write_req', from: 'c1', epoch: 1, page: 1, req: 99 },
    { t: 'confirm', from: 'c0', epoch: 1, page: 0, req: 5, access: 'write', version: 3 },
    { t: 'page_data', from: 'c1', epoch: 1, page: 0, req: 7, access: 'write', version: 1, data: new Uint8Array(4096) },
  ];
  for (let i = 0; i < 300; i++) frames.push(Buffer.from(Array.from({ length: 1 + Math.floor(rng() * 200) }, () => Math.floor(rng() * 256))));
  for (const m of valid) {
    const b = encode(m);
    for (let cut = 1; cut < b.length; cut += 3) frames.push(b.subarray(0, cut)); // truncated
    frames.push(Buffer.concat([b.subarray(0, 3), Buffer.from([0xc1]), b.subarray(3)])); // a never-used msgpack byte
  }
  frames.push(Buffer.alloc(3 << 20, 7)); // oversize
  frames.push(packr.pack({ t: 'read_req', from: 'c0', epoch: 1, page: 'zero', req: 1 })); // wrong type
  frames.push(packr.pack({ t: 'teleport', from: 'c0', epoch: 1 })); // unknown type
  frames.push(packr.pack({ t: 'read_req', from: 'c0', epoch: 1, page: 60_000, req: 2 })); // bad page (in schema range, not in cluster)
  frames.push(packr.pack({ t: 'read_req', from: 'c0', epoch: 1, page: -1, req: 2 })); // negative page
  frames.push(packr.pack({ t: 'invalidate', from: 'm0', epoch: 0, page: 0, req: 1, requester: 'c1' })); // stale epoch
  frames.push(packr.pack({ t: 'read_req', from: 'x9', epoch: 1, page: 0, req: 1 })); // not a node id
  frames.push(packr.pack({ t: 'page_data', from: 'c1', epoch: 1, page: 0, req: 1, access: 'root', version: 1, data: new Uint8Array(8) })); // bad enum
  frames.push(packr.pack(null), packr.pack([1, 2, 3]), packr.pack('hello'), Buffer.alloc(0));
  return frames;
}

describe('bad input', () => {
  it('random and malformed frames never crash a manager or a client; they are dropped and counted', async () => {
    const sup = await startCluster({ clients: 3, pages: 4 });
    workload(sup, 0.5, 11, 200);
    const pids = { m0: pidOf(sup, 'm0'), c0: pidOf(sup, 'c0') };
    const endpoints = Object.fromEntries(sup.nodeInfos().map((n) => [n.id, n.endpoint]));
    for (const target of ['m0', 'c0'] as const) {
      const push = clusterPush(sup, endpoints[target]!);
      for (const frame of garbage(target === 'm0' ? 1 : 2)) await push.send(frame);
      await sleep(300);
      push.close();
    }
    await until(() => (sup.nodeInfos().find((n) => n.id === 'm0')?.dropped ?? 0) > 300, 'the manager to count dropped frames');
    await until(() => (sup.nodeInfos().find((n) => n.id === 'c0')?.dropped ?? 0) > 300, 'the client to count dropped frames');
    for (const id of ['m0', 'c0'] as const) {
      const n = sup.nodeInfos().find((x) => x.id === id)!;
      expect(n.state, `${id} still up`).toBe('up');
      expect(n.pid, `${id} is the same process`).toBe(pids[id]);
    }
    const dropped = sup.telemetryOf('m0')!.dropped;
    expect(dropped.undecodable ?? 0).toBeGreaterThan(0);
    expect(dropped.invalid ?? 0).toBeGreaterThan(0);
    expect(dropped.oversize ?? 0).toBe(1);
    // The frames came over authenticated links: none of them was refused at the handshake.
    expect(Object.keys(dropped).filter((k) => k.startsWith('handshake_')), 'no refused handshake').toEqual([]);
    await sleep(500);
    const history = await finishAndCheck(sup);
    expect(history.filter((o) => o.outcome === 'ok').length).toBeGreaterThan(100);
  });
});
