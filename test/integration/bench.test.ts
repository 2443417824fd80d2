// `ivy-cluster bench --json` on real processes with a tiny iteration count: the
// DESIGN §6 keys are there and positive. Shape, not speed. Ports 10400–11070 (--s1 from
// base+600); --curve-overhead 10900–11120; --scale 11200–11220 and 12200–12220 (the tests of a file run one
// after another).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'bin', 'ivy-cluster.js');

describe('ivy-cluster bench --json (real processes)', () => {
  it('prints the contract object with positive numbers (and --s1: the seed\'s rounds on both paths)', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'bench', '--json', '--s1', '1', '--base-port', '10400'], {
      env: { ...process.env, IVY_BENCH_ITERATIONS: '40', IVY_BENCH_SECONDS: '1' },
      maxBuffer: 16 << 20,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // exactly one object on stdout; progress goes to stderr
    const r = JSON.parse(lines[0]!) as Record<string, Record<string, number> | number>;

    const positive = (x: unknown): void => {
      expect(typeof x).toBe('number');
      expect(x as number).toBeGreaterThan(0);
    };
    const bare = r.bare as Record<string, number>;
    const ivy = r.ivy as Record<string, number>;
    const ratio = r.ratio as Record<string, number>;
    for (const k of ['read_p50_us', 'write_p50_us']) positive(bare[k]);
    for (const k of ['read_p50_us', 'read_p99_us', 'write_p50_us', 'write_p99_us']) positive(ivy[k]);
    for (const k of ['read_p50', 'write_p50']) positive(ratio[k]);
    positive(r.faults_per_s);
    expect(ratio.read_p50).toBeCloseTo(ivy.read_p50_us! / bare.read_p50_us!, 1);
    expect(ivy.read_p99_us).toBeGreaterThanOrEqual(ivy.read_p50_us!);
    expect(r.linearizable).toBe(true);

    // DESIGN §6 `fair`: the bare path with the protocol path's processes, rotation and hop shapes.
    const fair = r.fair as unknown as Record<'bare' | 'ivy' | 'ratio', Record<string, number>> & { anomalies: number };
    for (const side of ['bare', 'ivy'] as const) for (const k of ['read_p50_us', 'write_p50_us', 'faults_per_s']) positive(fair[side][k]);
    for (const k of ['read_p50', 'write_p50', 'faults_per_s']) positive(fair.ratio[k]);
    expect(fair.ratio.read_p50).toBeCloseTo(fair.ivy.read_p50_us! / fair.bare.read_p50_us!, 1);
    expect(fair.ivy.read_p50_us).toBe(ivy.read_p50_us); // the same protocol samples, two baselines
    expect(fair.anomalies).toBe(0); // every op of the rotation was the fault it was meant to be
    // DESIGN §6 `rss_mib`, and PSS beside it (Linux /proc).
    const rss = r.rss_mib as Record<string, number>;
    const pss = r.pss_mib as Record<string, number>;
    for (const k of ['manager', 'client']) {
      positive(rss[k]);
      positive(pss[k]);
      expect(pss[k]).toBeLessThanOrEqual(rss[k]!);
    }

    // --s1: one trial of 20 rounds of 10 clients per path, every round's ops answered; the protocol's history checked.
    const s1 = r.s1 as unknown as {
      clients: number;
      pages: number;
      trials: number;
      rounds: number;
      bare: Record<string, number>;
      ivy: Record<string, number>;
      ratio: Record<'average' | 'p50', number>;
      per_read_fault_p50: Record<'ivy' | 'bare', number>;
      linearizable: boolean;
      loadavg: number[];
    };
    expect([s1.clients, s1.pages, s1.trials, s1.rounds]).toEqual([10, 3, 1, 20]);
    for (const side of [s1.bare, s1.ivy]) {
      for (const k of ['average_ms', 'high_average_ms', 'low_average_ms', 'p50_ms', 'p99_ms']) positive(side[k]);
      expect(side.failed).toBe(0);
      // Each round's ten ops are faults but for a client that already held every page for its kind (a hit).
      expect(side.faults).toBeGreaterThan(150);
      expect(side.faults).toBeLessThanOrEqual(200);
      expect(side.high_average_ms).toBeGreaterThanOrEqual(side.low_average_ms!);
      expect(side.average_ms).toBeCloseTo((side.high_average_ms! + side.low_average_ms!) / 2, 2);
    }
    expect(s1.ratio.average).toBeCloseTo(s1.ivy.average_ms! / s1.bare.average_ms!, 1);
    expect(s1.per_read_fault_p50.ivy).toBeCloseTo((s1.ivy.average_ms! * 1000) / ivy.read_p50_us!, 0);
    expect(s1.per_read_fault_p50.bare).toBeCloseTo((s1.bare.average_ms! * 1000) / fair.bare.read_p50_us!, 0);
    expect(s1.linearizable).toBe(true);
    expect(s1.loadavg).toHaveLength(1);
  });

  it('--scale --json: a steady rate on the fair bare path and on the protocol, what each served and at what latency', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'bench', '--scale', '6x5x2', '--scale-pairs', '2', '--json', '--base-port', '11200'], { maxBuffer: 16 << 20 });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    type Side = Record<string, number>;
    const r = (JSON.parse(lines[0]!) as { scale: Record<string, unknown> & { runs: { order: string[]; bare: Side; ivy: Side }[] } }).scale;
    expect([r.clients, r.rate, r.seconds, r.pages, r.read_ratio, r.pairs]).toEqual([6, 5, 2, 64, 0.6, 2]);
    // Two runs, the order alternating; the pooled figures are the runs' sums.
    expect(r.runs.map((x) => x.order)).toEqual([
      ['bare', 'ivy'],
      ['ivy', 'bare'],
    ]);
    for (const path of ['bare', 'ivy'] as const) {
      const pooled = r[path] as Side;
      expect(pooled.served).toBe(r.runs[0]![path].served! + r.runs[1]![path].served!);
      expect(pooled.offered).toBeCloseTo(r.runs[0]![path].offered! + r.runs[1]![path].offered!, -1);
    }
    for (const side of r.runs.flatMap((x) => [x.bare, x.ivy])) {
      // ~60 ops offered per run (6 clients x 5 ops/s x ~2 s); an idle machine serves them all, a loaded one most.
      expect(side.offered).toBeGreaterThanOrEqual(55);
      expect(side.offered).toBeLessThanOrEqual(70);
      expect(side.served).toBeGreaterThan(side.offered! / 2);
      expect(side.served_share).toBeCloseTo(side.served! / side.offered!, 2);
      expect(side.failed).toBe(0);
      for (const k of ['read_fault_p50_us', 'write_fault_p50_us', 'ready_ms', 'cpu_share', 'cpu_ms_per_op', 'manager_cpu_share']) expect(side[k]).toBeGreaterThan(0);
    }
    expect((r.ivy as { linearizable: boolean }).linearizable).toBe(true);
  });

  it('--curve-overhead --json: fault latency on curve and on plain links, the ratio and the load average', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'bench', '--curve-overhead', '--json', '--iterations', '20', '--base-port', '10900'], { maxBuffer: 16 << 20 });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = (JSON.parse(lines[0]!) as { curve_overhead: Record<string, unknown> }).curve_overhead;
    const modes = { curve: r.curve as Record<string, number>, plain: r.plain as Record<string, number> };
    for (const f of Object.values(modes)) {
      for (const k of ['read_p50_us', 'read_p99_us', 'write_p50_us', 'write_p99_us']) expect(f[k]).toBeGreaterThan(0);
      expect(f.samples).toBe(20);
    }
    const ratio = r.ratio as Record<string, number>;
    expect(ratio.read_p50).toBeCloseTo(modes.curve.read_p50_us! / modes.plain.read_p50_us!, 1);
    expect(r.blocks).toBe(1);
    expect(r.loadavg_blocks).toHaveLength(1);
    expect(r.loadavg).toHaveLength(3);
    expect(r.anomalies).toBe(0);
    expect(r.linearizable).toBe(true);
  });
});
