// The engine on real processes over ZeroMQ: a mixed workload checked for
// linearizability, the CLI contract (status file, kill -9 from outside, check), and
// Kill / Reboot of a client at the same endpoint.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { finishAndCheck, freshPorts, pidOf, sleep, startCluster, stateOf, until, workload } from './cluster.js';

const run = promisify(execFile);
const CLI = 'bin/ivy-cluster.js';

describe('engine on real processes', () => {
  it('1 manager + 10 clients run a mixed workload and the history is linearizable', async () => {
    const sup = await startCluster({ clients: 10, pages: 8 });
    expect(sup.nodeInfos().filter((n) => n.state === 'up')).toHaveLength(11);
    workload(sup, 0.6, 7, 0);
    await sleep(3000);
    // Loss recovery is on (recoverLoss), but a healthy run never needs it: no fault or hello sent again for
    // want of an answer, no answer repeated, no step re-driven by the manager (telemetry counters).
    sup.setWorkload(null);
    await sleep(700);
    const counters = sup.nodeInfos().map((n) => ({ id: n.id, c: sup.telemetryOf(n.id)?.counters ?? {} }));
    expect(counters.filter((x) => x.id.startsWith('c') && !('retransmits' in x.c && 'repeats' in x.c))).toEqual([]);
    expect(counters.find((x) => x.id === 'm0')?.c).toHaveProperty('redrives');
    const resent = counters.filter((x) => (x.c.retransmits ?? 0) + (x.c.repeats ?? 0) + (x.c.redrives ?? 0) > 0);
    expect(resent).toEqual([]);
    const history = await finishAndCheck(sup);
    expect(history.length).toBeGreaterThan(1000);
    expect(history.filter((o) => o.outcome !== 'ok')).toEqual([]);
    expect(new Set(history.map((o) => o.client)).size).toBe(10);
    // Faults and hits both happen, and every write token is unique.
    expect(history.some((o) => o.fault)).toBe(true);
    expect(history.some((o) => !o.fault)).toBe(true);
    const tokens = history.filter((o) => o.op === 'write').map((o) => o.value);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('a new workload starts at once although the one it replaces still waits for its next op', async () => {
    // At 0.2 ops/s a client's next op waits up to 5 s. That wait used to hold off the workload that replaced it
    // for good: when it ran out it saw its workload gone and issued nothing, and nothing else did.
    const sup = await startCluster({ clients: 2, pages: 4 });
    const ops = (id: string): number => sup.telemetryOf(id)?.counters.ops ?? 0;
    workload(sup, 0.6, 3, 0.2);
    await sleep(300);
    const before = { c0: ops('c0'), c1: ops('c1') };
    workload(sup, 0.6, 4, 0);
    await until(() => ops('c0') > before.c0 + 20 && ops('c1') > before.c1 + 20, 'both clients running the new workload back to back', 5000);
    const history = await finishAndCheck(sup, { finalReads: false });
    expect(history.filter((o) => o.outcome !== 'ok')).toEqual([]);
  });

  it('`up` keeps the status file current, notices kill -9 from outside, and `check` accepts the history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivy-cli-'));
    const status = join(dir, 's.json');
    const history = join(dir, 'h.jsonl');
    const child = spawn(
      process.execPath,
      [CLI, 'up', '--clients', '4', '--pages', '4', '--read-ratio', '0.6', '--rate', '200', '--duration', '6', '--history', history, '--status', status, '--base-port', String(await freshPorts(4, false))],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    type Status = { nodes: { id: string; role: string; pid: number | null; endpoint: string; state: string; epoch: number }[] };
    const read = (): Status | null => (existsSync(status) ? (JSON.parse(readFileSync(status, 'utf8')) as Status) : null);
    await until(() => read()?.nodes.filter((n) => n.state === 'up').length === 5, 'all 5 nodes up in the status file');
    const c1 = read()!.nodes.find((n) => n.id === 'c1')!;
    expect(c1).toMatchObject({ role: 'client', state: 'up', endpoint: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/) });
    expect(read()!.nodes.find((n) => n.id === 'm0')).toMatchObject({ role: 'primary', epoch: 1 });
    // Started as a user starts it (plain `node`, no flags), every node runs from the start-up snapshot the
    // build made, so this history is the snapshot's nodes' (the Supervisor tests run nodes from node.js).
    if (process.platform === 'linux' && existsSync('out/nodes/node.blob')) {
      for (const n of read()!.nodes) expect(readFileSync(`/proc/${n.pid}/cmdline`, 'utf8').split('\0'), n.id).toContain('--snapshot-blob');
    }
    process.kill(c1.pid!, 'SIGKILL');
    await until(() => read()?.nodes.find((n) => n.id === 'c1')?.state === 'down', 'c1 shown as down');
    expect(read()!.nodes.find((n) => n.id === 'c1')!.pid).toBeNull();
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/cluster ready in \d+ ms/);
    expect(stdout).toMatch(/read faults: +\d+ +p50 [\d.]+ (µs|ms) +p99/);
    expect(read()!.nodes.every((n) => n.state !== 'up')).toBe(true);
    const check = await run(process.execPath, [CLI, 'check', history]);
    expect(check.stdout).toMatch(/^linearizable: \d+ operations on 4 pages/);
  });

  it('Kill then Reboot brings a client back at the same endpoint while the cluster keeps serving', async () => {
    const sup = await startCluster({ clients: 4, pages: 4 });
    workload(sup, 0.5, 3);
    await sleep(500);
    const before = sup.nodeInfos().find((n) => n.id === 'c2')!;
    await sup.kill('c2');
    expect(stateOf(sup, 'c2')).toBe('down');
    expect(sup.nodeInfos().find((n) => n.id === 'c2')!.lastExit).toEqual({ code: null, signal: 'SIGKILL' });
    await sleep(300);
    await sup.reboot('c2');
    const after = sup.nodeInfos().find((n) => n.id === 'c2')!;
    expect(after).toMatchObject({ state: 'up', endpoint: before.endpoint, restarts: 1 });
    expect(after.pid).not.toBe(before.pid);
    await sleep(1000);
    const history = await finishAndCheck(sup);
    // The rebooted incarnation worked too, with tokens that never repeat an earlier incarnation's.
    const c2writes = history.filter((o) => o.client === 'c2' && o.op === 'write').map((o) => o.value);
    expect(new Set(c2writes).size).toBe(c2writes.length);
    expect(history.filter((o) => o.client === 'c2' && o.start > 0).length).toBeGreaterThan(0);
  });

  it('a node killed from outside with kill -9 is shown as down and Reboot restarts it', async () => {
    const sup = await startCluster({ clients: 2, pages: 2 });
    process.kill(pidOf(sup, 'c0'), 'SIGKILL');
    await until(() => stateOf(sup, 'c0') === 'down', 'c0 down');
    await sup.reboot('c0');
    expect(stateOf(sup, 'c0')).toBe('up');
    await finishAndCheck(sup);
  });

  it('rejects bad flags with a clear message', async () => {
    const bad = await run(process.execPath, [CLI, 'up', '--clients', 'many']).catch((e: { stderr: string; code: number }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(/--clients.*expected a whole number from 1 to 128, got "many"/);
    const missing = await run(process.execPath, [CLI, 'check', '/nonexistent/h.jsonl']).catch((e: { code: number }) => e);
    expect(missing).toMatchObject({ code: 2 });
  });
});
