// Both protocols through the CLI on real processes, small and quick: `scenario s1
// --protocol ivy,isis` prints both tables and one CSV with the protocol column,
// every history passing its own check; `bench --compare` prints the DESIGN §6 keys
// plus `isis` and `compare`. Shape, not speed (no figures are judged). Ports 13400–14999.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'bin', 'ivy-cluster.js');
const OUT = join(process.cwd(), 'test-results', 'integration-protocols');

describe('both protocols from the CLI (real processes)', () => {
  it('scenario s1 --protocol ivy,isis: both runs, one CSV with the protocol column, each history checked in its model', async () => {
    mkdirSync(OUT, { recursive: true });
    const csv = join(OUT, 'both.csv');
    const args = ['scenario', 's1', '--protocol', 'ivy,isis', '--clients', '3', '--trials', '2', '--rounds', '3', '--base-port', '13400', '--csv', csv];
    const json = await run(process.execPath, [CLI, ...args, '--json'], { maxBuffer: 64 << 20 });
    const out = JSON.parse(json.stdout) as {
      results: { id: string; protocol: string; model: string; consistent: boolean; linearizable: boolean | null; measures: string; trials: unknown[]; averageMs: number }[];
      consistent: boolean;
      linearizable: boolean | null;
      protocols: string[];
    };
    expect(out.protocols).toEqual(['ivy', 'isis']);
    expect(out.consistent).toBe(true);
    expect(out.linearizable).toBe(true);
    expect(out.results.map((r) => `${r.id}/${r.protocol}/${r.model}/${r.measures}`)).toEqual(['s1/ivy/linearizable/faults', 's1/isis/sequential/writes']);
    for (const r of out.results) {
      expect(r.consistent).toBe(true);
      expect(r.trials).toHaveLength(2);
      expect(r.averageMs).toBeGreaterThan(0);
    }
    expect(out.results[1]!.linearizable).toBeNull();

    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['scenario', 'trial', 'highest_ms', 'highest_node', 'lowest_ms', 'lowest_node', 'average_ms', 'protocol']);
    expect(rows.map((r) => `${r.trial}:${r.protocol}`)).toEqual(['1:ivy', '2:ivy', 'average:ivy', '1:isis', '2:isis', 'average:isis']);
    expect(Number(rows[5]!.average_ms)).toBe(out.results[1]!.averageMs);

    // The text output says which check each history got and compares the two.
    const text = await run(process.execPath, [CLI, ...args.map((a) => (a === '13400' ? '13600' : a))], { maxBuffer: 64 << 20 });
    expect(text.stdout).toContain('[Write-update (ISIS total order)]');
    expect(text.stdout).toContain('history: linearizable');
    expect(text.stdout).toContain('history: sequentially consistent');
    expect(text.stdout).toMatch(/protocols side by side/);
    expect(text.stdout).toMatch(/s1: isis \/ ivy average [\d.]+x/);
  });

  it('rejects a bad --protocol with a clear message and exit code', async () => {
    await expect(run(process.execPath, [CLI, 'scenario', 's1', '--protocol', 'ivy,paxos'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('expected ivy or isis in the comma list, got "paxos"'),
    });
  });

  it('bench --compare --json keeps the IVY keys and adds isis and compare', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'bench', '--compare', '--json', '--base-port', '13800'], {
      env: { ...process.env, IVY_BENCH_ITERATIONS: '20', IVY_BENCH_SECONDS: '0.5', IVY_BENCH_CLIENT_STEPS: '2,3', IVY_BENCH_READ_RATIOS: '0,0.9' },
      maxBuffer: 16 << 20,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!) as Record<string, unknown> & {
      isis: Record<string, unknown> & { bare: Record<string, number>; ratio: Record<string, number>; write_by_clients: { clients: number; write_p50_us: number }[] };
      compare: { protocol: string; read_ratio: number; ops_per_s: number; consistent: boolean; read_p50_us: number | null }[];
    };
    for (const k of ['bare', 'ivy', 'ratio', 'faults_per_s']) expect(r).toHaveProperty(k);
    for (const k of ['read_p50_us', 'read_p99_us', 'write_p50_us', 'write_p99_us']) expect(r.isis[k] as number).toBeGreaterThan(0);
    expect(r.isis.bare.multicast2_p50_us).toBeGreaterThan(0);
    expect(r.isis.ratio.write_p50).toBeCloseTo((r.isis.write_p50_us as number) / r.isis.bare.multicast2_p50_us!, 1);
    expect(r.isis.write_by_clients.map((w) => w.clients)).toEqual([2, 3]);
    expect(r.isis.sequential).toBe(true);
    expect(r.compare.map((c) => `${c.read_ratio}/${c.protocol}`)).toEqual(['0/ivy', '0/isis', '0.9/ivy', '0.9/isis']);
    expect(r.compare.every((c) => c.consistent && c.ops_per_s > 0)).toBe(true);
    expect(r.compare[0]!.read_p50_us).toBeNull(); // no reads at ratio 0
    expect(r.consistent).toBe(true);
  });
});
