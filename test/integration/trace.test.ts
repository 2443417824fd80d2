// Message tracing on real processes: `up --trace` and a trace switched on and off on a
// running cluster (as the Messages view does). Every receive must match a send of the same
// frame, every clock must respect causality, and `trace --shiviz` must give a log ShiViz
// parses (its clock rules checked by parseShiviz).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TraceRecordSchema, type TraceRecord } from '../../nodes/control/trace/record.js';
import { parseShiviz } from '../unit/shiviz-check.js';
import { freshPorts, sleep, startCluster, workload } from './cluster.js';

const run = promisify(execFile);
const CLI = 'bin/ivy-cluster.js';

const readTrace = (file: string): TraceRecord[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => TraceRecordSchema.parse(JSON.parse(l)));

const geq = (a: Record<string, number>, b: Record<string, number>): boolean => Object.entries(b).every(([k, v]) => (a[k] ?? 0) >= v);

/**
 * The checks every trace must pass; returns how many receives were matched to their send.
 * (Plain comparisons collected into one assertion: thousands of expect() calls would dominate the test.)
 */
function checkTrace(records: TraceRecord[], opts: { allowUnstamped: boolean }): number {
  const problems: string[] = [];
  const fail = (m: string): void => void (problems.length < 20 && problems.push(m));
  const sends = new Map<string, TraceRecord>();
  for (const r of records) {
    if (r.dir !== 'send') continue;
    if (r.frame !== `${r.node}:${r.vc[r.node]}`) fail(`send ${JSON.stringify(r)}: frame is not node:own count`);
    else if (sends.has(r.frame)) fail(`frame ${r.frame} sent twice`);
    else sends.set(r.frame, r);
  }
  let matched = 0;
  const key = (x: TraceRecord): string => JSON.stringify([x.type, x.page, x.req, x.epoch, x.requester, x.view, x.seq]);
  for (const r of records) {
    if (r.dir !== 'recv') continue;
    if (r.frame === undefined) {
      if (!opts.allowUnstamped) fail(`${r.node} received ${r.type} from ${r.peer} without a clock`);
      continue;
    }
    const s = sends.get(r.frame);
    if (!s) {
      fail(`receive of ${r.frame} at ${r.node} has no send`);
      continue;
    }
    // The same frame: from the receive's peer to the receive's node, same type and key fields.
    if (s.node !== r.peer || s.peer !== r.node || key(s) !== key(r)) fail(`${r.frame}: sent ${JSON.stringify(s)}, received ${JSON.stringify(r)}`);
    // Causality: the receive's clock is at least its send's, and strictly after it at the receiver.
    if (!geq(r.vc, s.vc)) fail(`${r.frame}: receive clock ${JSON.stringify(r.vc)} is not ≥ send clock ${JSON.stringify(s.vc)}`);
    if (r.vc[r.node]! <= (s.vc[r.node] ?? 0)) fail(`${r.frame}: receive not after its send at ${r.node}`);
    // One machine, one CLOCK_MONOTONIC: a frame is received after it was sent.
    if (r.t < s.t) fail(`${r.frame}: received at ${r.t} before sent at ${s.t}`);
    matched++;
  }
  // Per node, in file order (batches keep each node's order): own count and time only go up.
  const last = new Map<string, TraceRecord>();
  for (const r of records) {
    const p = last.get(r.node);
    if (p && (r.vc[r.node]! <= p.vc[r.node]! || r.t < p.t)) fail(`${r.node}: clock or time went back from ${JSON.stringify(p)} to ${JSON.stringify(r)}`);
    last.set(r.node, r);
  }
  expect(problems).toEqual([]);
  return matched;
}

async function shivizOf(trace: string): Promise<ReturnType<typeof parseShiviz>> {
  const out = `${trace}.shiviz`;
  const { stdout } = await run(process.execPath, [CLI, 'trace', trace, '--shiviz', out]);
  expect(stdout).toContain('events for ShiViz');
  return parseShiviz(readFileSync(out, 'utf8'));
}

describe('message tracing on real processes', () => {
  for (const protocol of ['ivy', 'isis'] as const) {
    it(`up --trace (${protocol}): every receive matches its send, clocks respect causality, ShiViz parses it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ivy-trace-'));
      const trace = join(dir, 'trace.jsonl');
      const port = await freshPorts(3, true);
      const { stdout } = await run(process.execPath, [CLI, 'up', '--protocol', protocol, '--clients', '3', '--backup', '--pages', '4', '--ops', '40', '--trace', trace, '--client-memory', 'volatile', '--base-port', String(port)], {
        timeout: 60_000,
      });
      expect(stdout).toMatch(/trace: .* \(\d+ frames sent and received/);
      const records = readTrace(trace);
      const matched = checkTrace(records, { allowUnstamped: false });
      expect(matched).toBeGreaterThan(100);
      const nodes = new Set(records.map((r) => r.node));
      expect(nodes).toEqual(new Set(['m0', 'm1', 'c0', 'c1', 'c2']));
      const types = new Set(records.map((r) => r.type));
      if (protocol === 'ivy') {
        for (const t of ['read_req', 'write_req', 'confirm', 'mping']) expect(types).toContain(t);
        const req = records.find((r) => r.type === 'read_req' && r.dir === 'send')!;
        expect(req).toMatchObject({ page: expect.any(Number), req: expect.any(Number), epoch: expect.any(Number) });
      } else {
        for (const t of ['i_msg', 'i_propose', 'i_agreed']) expect(types).toContain(t);
        expect(records.find((r) => r.type === 'i_msg')).toMatchObject({ view: expect.any(Number), seq: expect.any(Number), page: expect.any(Number) });
      }
      const execs = await shivizOf(trace);
      expect(execs.get('')).toHaveLength(records.length);
    });
  }

  it('up --trace --nemesis: drops, duplicates and delays noted on the sends where the nemesis decided them; ShiViz still parses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivy-trace-'));
    const trace = join(dir, 'trace.jsonl');
    const port = await freshPorts(3, true);
    const rule = 'c0<>others:loss=0.1:dup=0.2:delay=2';
    await run(process.execPath, [CLI, 'up', '--clients', '3', '--backup', '--pages', '4', '--ops', '40', '--trace', trace, '--nemesis', rule, '--client-memory', 'volatile', '--base-port', String(port)], {
      timeout: 90_000,
    });
    const records = readTrace(trace);
    checkTrace(records, { allowUnstamped: true }); // a duplicate is two receives of one send, both matched
    const recvs = new Map<string, number>();
    for (const r of records) if (r.dir === 'recv' && r.frame !== undefined) recvs.set(r.frame, (recvs.get(r.frame) ?? 0) + 1);
    const sends = records.filter((r) => r.dir === 'send');
    const noted = (fate: string) => sends.filter((r) => r.nemesis === fate);
    // Only c0's links carry the rule, and each note names it in the CLI syntax.
    for (const r of sends.filter((x) => x.nemesis !== undefined)) {
      expect(r.node === 'c0' || r.peer === 'c0', JSON.stringify(r)).toBe(true);
      expect(r.rule).toBe(`${r.node}>${r.peer}:loss=0.1:dup=0.2:delay=2`);
    }
    expect(noted('drop').length).toBeGreaterThan(0);
    expect(noted('dup').length).toBeGreaterThan(0);
    expect(noted('delay').length).toBeGreaterThan(0);
    // A dropped frame never arrives; a frame that arrived twice was one the nemesis duplicated.
    expect(noted('drop').filter((r) => recvs.has(r.frame!))).toEqual([]);
    const twice = [...recvs].filter(([, n]) => n > 1).map(([f]) => f);
    expect(twice.length).toBeGreaterThan(0);
    const dupFrames = new Set(noted('dup').map((r) => r.frame));
    expect(twice.filter((f) => !dupFrames.has(f))).toEqual([]);
    const execs = await shivizOf(trace);
    expect(execs.get('')).toHaveLength(records.length);
  });

  it('tracing switched on and off on a running cluster, across a client reboot: names stay unique, clocks resume', async () => {
    const sup = await startCluster({ clients: 3, pages: 4, backup: false, clientMemory: 'volatile' });
    const records: TraceRecord[] = [];
    sup.on('trace', (rs) => records.push(...rs));
    try {
      workload(sup, 0.5, 3, 100);
      await sleep(300);
      expect(records).toHaveLength(0); // off by default: nothing traced
      sup.setTracing(true);
      await sleep(800);
      await sup.reboot('c1');
      await sleep(800);
      sup.setTracing(false);
      await sleep(300); // the last batches
      const n = records.length;
      await sleep(400);
      expect(records.length).toBe(n); // off again: nothing more
      sup.setTracing(true);
      await sleep(500);
      sup.setWorkload(null);
      await sleep(300);
    } finally {
      await sup.shutdown();
    }
    // Frames sent just before a node's tracing went on arrive unstamped; every stamped one matches.
    // The rebooted client's frames of its dead incarnation's last batch may be missing on the sending side only.
    const killedSends = new Set(records.filter((r) => r.dir === 'recv' && r.peer === 'c1' && r.frame).map((r) => r.frame!));
    const sentByC1 = new Set(records.filter((r) => r.node === 'c1' && r.dir === 'send').map((r) => r.frame!));
    const lost = [...killedSends].filter((f) => !sentByC1.has(f));
    const kept = records.filter((r) => !(r.dir === 'recv' && r.frame !== undefined && lost.includes(r.frame)));
    expect(checkTrace(kept, { allowUnstamped: true })).toBeGreaterThan(50);
    // c1's second incarnation resumed above everything its first could have stamped (checkTrace: names unique,
    // and its own count only goes up through the reboot).
    expect(records.filter((r) => r.node === 'c1').length).toBeGreaterThan(0);
    // And it converts: gaps (the reboot's jump, the lost batch) renumbered to what ShiViz accepts.
    const file = join(mkdtempSync(join(tmpdir(), 'ivy-trace-')), 'toggled.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect((await shivizOf(file)).get('')).toHaveLength(records.length);
  });
});
