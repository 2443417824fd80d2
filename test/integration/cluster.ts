// A real cluster for tests: real processes, real ZeroMQ sockets, real signals.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as zmq from 'zeromq';
import { ClusterConfigSchema, type ClusterConfigInput } from '../../nodes/control/api.js';
import { mergeClientLogs } from '../../nodes/control/history/merge.js';
import { checkHistory } from '../../nodes/control/history/linearizability.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';
import { assertPortsFree, clusterPorts } from '../../nodes/control/scenarios/ports.js';
import { Supervisor } from '../../nodes/control/supervisor.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A free range of ports for one cluster: random, so concurrent test runs on one
 * machine (or a slow-to-release socket) never collide, and checked before use.
 */
export async function freshPorts(clients = 128, backup = true): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    // Below 32768: the kernel's ephemeral ports (used by every outgoing connection) start there.
    const base = 14_000 + 200 * Math.floor(Math.random() * 90);
    try {
      await assertPortsFree('127.0.0.1', clusterPorts(base, clients, backup));
      return base;
    } catch (err) {
      if (attempt > 20) throw err;
    }
  }
}

export async function startCluster(config: ClusterConfigInput): Promise<Supervisor> {
  const sup = new Supervisor({
    config: ClusterConfigSchema.parse({ basePort: await freshPorts(config.clients, config.backup), ...config }),
    runDir: mkdtempSync(join(tmpdir(), 'ivy-test-')),
  });
  await sup.start();
  return sup;
}

/**
 * A DEALER socket connected to `endpoint` (a node's ROUTER) with the cluster's own link keys (the supervisor
 * hands them to its owner in-process): frames sent on it reach the node's validator as a peer's would. It sets
 * no routing id, so the node delivers its frames but does not take it for a peer to reply to. For tests of
 * what a node does with bad frames; what it does with bad keys is curve.test.ts's.
 */
export function clusterPush(sup: Supervisor, endpoint: string): zmq.Dealer {
  const keys = sup.linkKeys;
  const curve = keys ? { curveServerKey: keys.server.publicKey, curvePublicKey: keys.client.publicKey, curveSecretKey: keys.client.secretKey } : {};
  const push = new zmq.Dealer({ linger: 0, sendHighWaterMark: 100_000, ...curve });
  push.connect(endpoint);
  return push;
}

export function workload(sup: Supervisor, readRatio = 0.6, seed = 1, rate = 300): void {
  sup.setWorkload({ readRatio, rate, ops: 0, pages: sup.config.pages, seed });
}

/** Polls until `pred` holds (or fails the test with `what`). */
export async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Stops the workload, reads every page once through a live client (so a lost
 * acknowledged write would show as a stale final read), shuts down, and checks the
 * whole history for linearizability. Returns the history for further assertions.
 */
export async function finishAndCheck(sup: Supervisor, opts: { finalReads?: boolean } = {}): Promise<HistoryOp[]> {
  sup.setWorkload(null);
  await sleep(300);
  if (opts.finalReads !== false) {
    const reader = sup.nodeInfos().find((n) => n.role === 'client' && n.state === 'up');
    expect(reader, 'a live client for the final reads').toBeDefined();
    for (let page = 0; page < sup.config.pages; page++) {
      const r = await sup.op(reader!.id, 'read', page, page);
      // A page lost with a crashed client fails clearly; anything else must succeed.
      if (!r.ok) expect(r.error).toMatch(/lost|timed out/);
    }
  }
  await sup.shutdown();
  const history = mergeClientLogs(sup.historyDir());
  const result = checkHistory(history);
  if (!result.ok) {
    throw new Error(`not linearizable on page ${result.page}: ${result.explanation}\n${result.counterexample.map((o) => JSON.stringify(o)).join('\n')}`);
  }
  // No operation hangs: every op a live client started has an outcome (unknown only for clients that died).
  return history;
}

export function pidOf(sup: Supervisor, id: string): number {
  const pid = sup.nodeInfos().find((n) => n.id === id)?.pid;
  if (!pid) throw new Error(`${id} has no pid`);
  return pid;
}

export function stateOf(sup: Supervisor, id: string): string | undefined {
  return sup.nodeInfos().find((n) => n.id === id)?.state;
}

export function roleOf(sup: Supervisor, id: string): string | undefined {
  return sup.nodeInfos().find((n) => n.id === id)?.role;
}
