// Write-update (ISIS total order) on real processes: a registry in the manager seat
// and 10 clients over ZeroMQ, under a mixed workload, with real SIGKILLs of clients
// and registries and a client reboot (state transfer). Every history is checked for
// sequential consistency against the positions it claims, and every live replica
// must end identical.
import { describe, expect, it } from 'vitest';
import { mergeClientLogs } from '../../nodes/control/history/merge.js';
import { checkSequential } from '../../nodes/control/history/sequential.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';
import type { Supervisor } from '../../nodes/control/supervisor.js';
import { roleOf, sleep, startCluster, stateOf, until, workload } from './cluster.js';

/**
 * Sequential consistency of a write-update history, from the claims it carries: ok writes have distinct
 * positions; a read returns the write at its wpos (same page, same token; a write whose writer died may
 * have no recorded position, then the token must be one of its unknown writes to that page) and no
 * recorded write to its page lies in (wpos, pos]; each client's ops go in order of (pos, write before read).
 */
function checkIsis(ops: HistoryOp[]): string[] {
  const problems: string[] = [];
  const atPos = new Map<number, HistoryOp>();
  for (const op of ops) {
    if (op.op !== 'write' || op.outcome !== 'ok') continue;
    if (op.pos === undefined) problems.push(`ok write ${op.value} has no pos`);
    else if (atPos.has(op.pos)) problems.push(`writes ${atPos.get(op.pos)!.value} and ${op.value} both claim pos ${op.pos}`);
    else atPos.set(op.pos, op);
  }
  const unknownWrites = new Map(ops.filter((o) => o.op === 'write' && o.outcome === 'unknown').map((o) => [o.value, o]));
  const writesByPage = new Map<number, number[]>();
  for (const [pos, w] of atPos) writesByPage.set(w.page, [...(writesByPage.get(w.page) ?? []), pos]);
  for (const op of ops) {
    if (op.op !== 'read' || op.outcome !== 'ok') continue;
    if (op.pos === undefined || op.wpos === undefined) {
      problems.push(`ok read by ${op.client} has no pos/wpos`);
      continue;
    }
    if (op.wpos > op.pos) problems.push(`read by ${op.client} has wpos ${op.wpos} > pos ${op.pos}`);
    if (op.wpos === 0 && op.value !== null) problems.push(`read by ${op.client} returned ${op.value} at wpos 0`);
    if (op.wpos > 0) {
      const w = atPos.get(op.wpos);
      if (w && (w.page !== op.page || w.value !== op.value)) problems.push(`read by ${op.client} of page ${op.page} returned ${op.value}, pos ${op.wpos} wrote ${w.value} to page ${w.page}`);
      if (!w) {
        const u = op.value === null ? undefined : unknownWrites.get(op.value);
        if (!u || u.page !== op.page) problems.push(`read by ${op.client} of page ${op.page} returned ${op.value} at wpos ${op.wpos}, which no write of that page claims`);
      }
    }
    const { pos, wpos } = op;
    const between = (writesByPage.get(op.page) ?? []).find((p) => p > wpos && p <= pos);
    if (between !== undefined) problems.push(`read by ${op.client} of page ${op.page} at pos ${op.pos} returned the write at ${op.wpos}, but pos ${between} wrote the page`);
  }
  const byClient = new Map<string, HistoryOp[]>();
  for (const op of [...ops].sort((a, b) => a.start - b.start)) byClient.set(op.client, [...(byClient.get(op.client) ?? []), op]);
  for (const [client, list] of byClient) {
    let last: [number, number] = [0, 1];
    for (const op of list) {
      if (op.outcome !== 'ok' || op.pos === undefined) continue;
      const k: [number, number] = [op.pos, op.op === 'write' ? 0 : 1];
      if (k[0] < last[0] || (k[0] === last[0] && k[1] < last[1])) problems.push(`${client}: ${op.op} at pos ${op.pos} after an op at pos ${last[0]}`);
      last = k;
    }
  }
  return problems.slice(0, 10);
}

/** Stops the workload, waits for every live client to reach the same position, compares replicas, checks the history. */
async function finishIsis(sup: Supervisor): Promise<HistoryOp[]> {
  sup.setWorkload(null);
  const live = (): string[] => sup.nodeInfos().filter((n) => n.role === 'client' && n.state === 'up').map((n) => n.id);
  const snapshot = (id: string): string => {
    const t = sup.telemetryOf(id);
    return JSON.stringify({ pos: t?.isisMember?.pos, view: t?.isisMember?.view, pages: t?.pageTable?.map((p) => p.token) });
  };
  await until(() => new Set(live().map(snapshot)).size === 1 && sup.telemetryOf(live()[0]!)?.isisMember?.hasState === true, 'every live replica to be identical', 15_000);
  await sup.shutdown();
  const history = mergeClientLogs(sup.historyDir());
  const problems = checkIsis(history);
  expect(problems, 'sequential consistency (claimed positions)').toEqual([]);
  const sc = checkSequential(history);
  if (!sc.ok) throw new Error(`not sequentially consistent (${sc.rule}): ${sc.explanation}\n${sc.counterexample.map((o) => JSON.stringify(o)).join('\n')}`);
  // No op hangs: every op of a client that stayed alive has an outcome.
  return history;
}

const writesOk = (h: HistoryOp[]): number => h.filter((o) => o.op === 'write' && o.outcome === 'ok').length;

describe('write-update (ISIS) on real processes', () => {
  it('1 registry + 10 clients: mixed workload, a client SIGKILLed mid-write and rebooted, the registry SIGKILLed under load', async () => {
    const sup = await startCluster({ clients: 10, pages: 4, protocol: 'isis' });
    workload(sup, 0.6, 3, 150);
    await sleep(800);
    // SIGKILL a client while its workload has writes in flight: the group goes on without it.
    await sup.kill('c3');
    await until(() => sup.telemetryOf('m0')?.isisRegistry?.members.every((m) => m.id !== 'c3') === true, 'the view without c3', 5000);
    const before = sup.telemetryOf('c0')?.isisMember?.pos ?? 0;
    await sleep(500);
    expect(sup.telemetryOf('c0')?.isisMember?.pos ?? 0, 'writes go on after the crash').toBeGreaterThan(before);
    // Reboot: it rejoins with a state transfer.
    await sup.reboot('c3');
    await until(() => stateOf(sup, 'c3') === 'up' && sup.telemetryOf('c3')?.isisMember?.hasState === true, 'c3 to rejoin with state', 10_000);
    await sleep(500);
    // The registry dies: reads and writes go on (it is not on their path).
    await sup.kill('m0');
    const atKill = sup.telemetryOf('c1')?.isisMember?.pos ?? 0;
    await sleep(800);
    expect(sup.telemetryOf('c1')?.isisMember?.pos ?? 0, 'writes go on without the registry').toBeGreaterThan(atKill);
    const history = await finishIsis(sup);
    expect(writesOk(history)).toBeGreaterThan(100);
    expect(history.some((o) => o.client === 'c3' && o.op === 'read' && o.outcome === 'ok' && o.start > 0)).toBe(true);
  });

  it('with a backup registry: SIGKILL of the primary registry under load, the backup takes over and runs the next view change', async () => {
    const sup = await startCluster({ clients: 6, pages: 3, backup: true, protocol: 'isis' });
    workload(sup, 0.5, 7, 150);
    await sleep(600);
    await sup.kill('m0');
    await until(() => roleOf(sup, 'm1') === 'primary', 'm1 to take over', 5000);
    await sleep(300);
    // A member crash now needs the new registry's view change.
    await sup.kill('c2');
    await until(() => {
      const v = sup.telemetryOf('m1')?.isisRegistry;
      return v !== undefined && v.change === null && v.members.length === 5 && v.members.every((m) => m.id !== 'c2');
    }, 'the backup registry to install the view without c2', 8000);
    const pos = sup.telemetryOf('c0')?.isisMember?.pos ?? 0;
    await sleep(500);
    expect(sup.telemetryOf('c0')?.isisMember?.pos ?? 0, 'writes go on under the new registry').toBeGreaterThan(pos);
    await sup.reboot('m0');
    await until(() => stateOf(sup, 'm0') === 'up', 'm0 back', 5000);
    await sleep(300);
    const history = await finishIsis(sup);
    expect(writesOk(history)).toBeGreaterThan(50);
  });
});
