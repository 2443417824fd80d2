// Authenticated links (DESIGN §3): a local process without the cluster's keys sends
// well-formed frames at a live manager and client, and none of them ever arrives —
// whether it speaks no CURVE at all, has a keypair of its own, or knows the servers'
// public key but not the cluster's client key. The refused handshakes are counted in
// the nodes' drop counters; the cluster keeps serving, a killed and rebooted node gets
// the same keys and reconnects, and the history stays linearizable. A control at the
// end sends frames of the same kinds over keyed links, to show they would have been seen.
import { execFile, fork } from 'node:child_process';
import { promisify } from 'node:util';
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { defaultNodeEntry, type Supervisor } from '../../nodes/control/supervisor.js';
import { encode, type Message } from '../../nodes/protocol/index.js';
import { generateKeyPair } from '../../nodes/runtime/link-keys.js';
import { assertPortsFree } from '../../nodes/control/scenarios/ports.js';
import { clusterPush, finishAndCheck, freshPorts, sleep, startCluster, until, workload } from './cluster.js';

/** Frames a node would act on or count if they arrived; built with the protocol's own encoder. */
function forged(target: 'm0' | 'c0'): Buffer[] {
  const frames: Message[] = [];
  for (let i = 0; i < 20; i++) {
    if (target === 'm0') {
      frames.push({ t: 'read_req', from: 'c1', epoch: 1, page: 1, req: 1_000_000 + i }); // a request: counted
      frames.push({ t: 'read_req', from: 'c1', epoch: 0, page: 0, req: 2_000_000 + i }); // stale epoch: dropped
    } else {
      frames.push({ t: 'invalidate', from: 'm0', epoch: 0, page: 0, req: 3_000_000 + i, requester: 'c1' }); // stale epoch: dropped
      frames.push({ t: 'page_data', from: 'c1', epoch: 1, page: 0, req: 4_000_000 + i, access: 'write', version: 99, data: new Uint8Array(4096) }); // unasked: ignored
    }
  }
  return frames.map((m) => encode(m));
}

type Attacker = 'no keys' | 'own keypair' | 'server key, unknown client key';

/** A DEALER, as a node's own links are (a PUSH would be refused by the node's ROUTER for its socket type alone). */
function attackerPush(sup: Supervisor, who: Attacker): zmq.Dealer {
  const own = generateKeyPair();
  const ownServer = generateKeyPair();
  const serverKey = sup.linkKeys!.server.publicKey;
  const opts =
    who === 'no keys'
      ? {}
      : who === 'own keypair'
        ? { curveServerKey: ownServer.publicKey, curvePublicKey: own.publicKey, curveSecretKey: own.secretKey }
        : { curveServerKey: serverKey, curvePublicKey: own.publicKey, curveSecretKey: own.secretKey };
  // sendTimeout 0: a send with no admitted connection to queue on fails at once instead of waiting for one.
  return new zmq.Dealer({ linger: 0, sendTimeout: 0, sendHighWaterMark: 100_000, ...opts });
}

const refused = (d: Record<string, number>): number => Object.entries(d).reduce((a, [k, v]) => a + (k.startsWith('handshake_') ? v : 0), 0);
/** Every drop a frame that arrived would cause (send_dropped is the node's own sends). */
const frameDrops = (d: Record<string, number>): number => Object.entries(d).reduce((a, [k, v]) => a + (k.startsWith('handshake_') || k === 'send_dropped' ? 0 : v), 0);

describe('authenticated links (CurveZMQ)', () => {
  it('frames from a process without the cluster keys never reach a manager or a client; refusals are counted', async () => {
    const sup = await startCluster({ clients: 3, pages: 4 });
    const warnings: string[] = [];
    sup.on('event', (e) => {
      if (e.level === 'warn' && e.node !== undefined) warnings.push(`${e.node}: ${e.message}`);
    });
    expect(sup.links).toBe('curve');
    const keys = sup.linkKeys!;
    expect(keys.server.publicKey).not.toBe(keys.client.publicKey);
    const endpoints = Object.fromEntries(sup.nodeInfos().map((n) => [n.id, n.endpoint]));
    workload(sup, 0.5, 21, 200);
    await sleep(1000);
    // Quiet, so that the counters a forged frame would move stand still unless one arrives.
    sup.setWorkload(null);
    await sleep(800);
    const tele = (id: string) => sup.telemetryOf(id)!;
    const before = {
      m0Requests: tele('m0').counters.requests! + tele('m0').counters.duplicates!,
      c0Ignored: tele('c0').counters.ignored!,
      m0Drops: frameDrops(tele('m0').dropped),
      c0Drops: frameDrops(tele('c0').dropped),
      m0Refused: refused(tele('m0').dropped),
      c0Refused: refused(tele('c0').dropped),
    };
    expect(before.m0Refused + before.c0Refused, 'no refusal among the cluster itself').toBe(0);

    const refusedBy: Record<string, Record<Attacker, number>> = {};
    for (const target of ['m0', 'c0'] as const) {
      refusedBy[target] = {} as Record<Attacker, number>;
      for (const who of ['no keys', 'own keypair', 'server key, unknown client key'] as const) {
        const at = refused(tele(target).dropped);
        const push = attackerPush(sup, who);
        push.connect(endpoints[target]!);
        // Queued locally until a handshake succeeds, which it never does (or refused at once once libzmq has
        // dropped the refused connection): nothing leaves this process either way.
        for (const frame of forged(target)) await push.send(frame).catch(() => undefined);
        await until(() => refused(tele(target).dropped) > at, `${target} to count a refused handshake from a process with ${who}`);
        await sleep(300);
        push.close();
        refusedBy[target][who] = refused(tele(target).dropped) - at;
      }
    }
    await sleep(600); // two telemetry periods: anything that did arrive would show by now
    const after = tele('m0');
    const afterC = tele('c0');
    expect(after.counters.requests! + after.counters.duplicates!, 'm0 saw no forged request').toBe(before.m0Requests);
    expect(afterC.counters.ignored!, 'c0 saw no forged frame').toBe(before.c0Ignored);
    expect(frameDrops(after.dropped), 'm0 dropped no forged frame: none arrived').toBe(before.m0Drops);
    expect(frameDrops(afterC.dropped), 'c0 dropped no forged frame: none arrived').toBe(before.c0Drops);
    // Which check refused whom: without CURVE or with the wrong server key the handshake fails as a protocol
    // error; with the right server key the ZAP handler refuses the unknown client key.
    for (const id of ['m0', 'c0'] as const) {
      const d = sup.telemetryOf(id)!.dropped;
      expect(d.handshake_protocol ?? 0, `${id}: protocol refusals`).toBeGreaterThan(0);
      expect(d.handshake_auth ?? 0, `${id}: ZAP refusals`).toBeGreaterThan(0);
      expect(refusedBy[id]!['server key, unknown client key'], `${id}: the unknown client key was refused`).toBeGreaterThan(0);
      // The UI's Dropped column is the sum of these counters, and the event log says it once in a while.
      expect(sup.nodeInfos().find((n) => n.id === id)!.dropped).toBeGreaterThanOrEqual(refused(d));
      expect(warnings.some((w) => w.startsWith(`${id}: refused a connection without the cluster's keys`)), `${id} logged a refusal`).toBe(true);
    }

    // A rebooted node gets the same cluster keys and handshakes with peers that kept theirs.
    const m0RefusedBeforeReboot = refused(tele('m0').dropped);
    await sup.kill('c1');
    await sup.reboot('c1');
    const r = await sup.op('c1', 'write', 2, 7);
    expect(r.ok, `a write on the rebooted c1: ${r.error ?? ''}`).toBe(true);
    expect(refused(tele('m0').dropped), 'the rebooted c1 was not refused').toBe(m0RefusedBeforeReboot);

    // Control: frames of the same kinds over keyed links do arrive (harmless ones: a stale epoch), so the counters above would have moved had the forged frames got through.
    for (const target of ['m0', 'c0'] as const) {
      const push = clusterPush(sup, endpoints[target]!);
      const harmless: Message =
        target === 'm0'
          ? { t: 'read_req', from: 'c1', epoch: 0, page: 0, req: 5_000_000 }
          : { t: 'invalidate', from: 'm0', epoch: 0, page: 0, req: 5_000_001, requester: 'c1' };
      await push.send(encode(harmless));
      await until(() => frameDrops(tele(target).dropped) > (target === 'm0' ? before.m0Drops : before.c0Drops), `${target} to drop the keyed control frame`);
      push.close();
    }

    // The cluster still serves, and its history is linearizable.
    workload(sup, 0.5, 22, 200);
    await sleep(1000);
    const history = await finishAndCheck(sup);
    expect(history.filter((o) => o.outcome === 'ok').length).toBeGreaterThan(100);
  });

  it('a node binds nothing without the keys: started by hand it exits with a clear message; a bad key message is ignored', async () => {
    const port = await freshPorts(1, false);
    const endpoint = `tcp://127.0.0.1:${port}`;
    const config = JSON.stringify({ role: 'manager', id: 'm0', endpoint, pages: 4, pageSize: 4096, peer: null, start: 'primary' });
    // No IPC pipe (started from a shell): no keys can come, so it stops before binding.
    const byHand = await promisify(execFile)(process.execPath, [defaultNodeEntry(), config]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(byHand.code).toBe(1);
    expect(byHand.stderr).toMatch(/take their keys from the supervisor over the IPC pipe/);
    // A parent that answers the request with malformed keys: the node keeps waiting, bound to nothing.
    const child = fork(defaultNodeEntry(), [config], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    try {
      const asked = await new Promise<unknown>((resolve) => child.once('message', resolve));
      expect(asked).toEqual({ type: 'linkKeys' });
      const keys = generateKeyPair();
      child.send({ type: 'linkKeys', keys: { server: keys, client: keys } }); // one pair for both roles: invalid
      child.send({ type: 'linkKeys', keys: { server: keys, client: { publicKey: keys.publicKey, secretKey: generateKeyPair().secretKey } } }); // a secret of another pair
      await sleep(1500);
      expect(child.exitCode, 'still waiting for valid keys').toBeNull();
      await assertPortsFree('127.0.0.1', [port]); // nothing bound
    } finally {
      child.kill('SIGKILL');
    }
  });
});
