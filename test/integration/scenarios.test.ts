// s1–s6 and s9 on real processes, briefly: the CLI end to end (tables as JSON, timing CSV,
// combined history that `ivy-cluster check` accepts), and sustained mode through
// the runner API. Ports 9000–10199 (scenario k of a run: 9000 + 200k) and 10200+.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../nodes/control/api.js';
import { resolveScenarios } from '../../nodes/control/scenarios/definitions.js';
import { runScenarios } from '../../nodes/control/scenarios/runner.js';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'bin', 'ivy-cluster.js');

interface CliJson {
  results: ScenarioResult[];
  linearizable: boolean;
}

describe('ivy-cluster scenario (real processes)', () => {
  it('runs s1–s6 and s9 with 4 clients and 2 trials: tables, CSV, linearizable combined history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivy-scenarios-test-'));
    const csvFile = join(dir, 'timing.csv');
    const historyFile = join(dir, 'history.jsonl');
    const args = ['scenario', 's1,s2,s3,s4,s5,s6,s9', '--clients', '4', '--trials', '2', '--rounds', '4', '--op-timeout', '5000', '--base-port', '9000', '--seed', '7'];
    const { stdout } = await run(process.execPath, [CLI, ...args, '--csv', csvFile, '--history', historyFile, '--json'], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout) as CliJson;

    expect(out.linearizable).toBe(true);
    expect(out.results.map((r) => r.id)).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's9']);
    for (const r of out.results) {
      expect(r.linearizable, r.id).toBe(true);
      expect(r.trials.map((t) => t.trial), r.id).toEqual([1, 2]);
      for (const t of r.trials) {
        expect(t.highestMs, `${r.id} trial ${t.trial}`).toBeGreaterThan(0);
        expect(t.highestMs).toBeGreaterThanOrEqual(t.lowestMs);
        expect(t.highestNode).toMatch(/^c[0-3]$/);
      }
      expect(r.averageMs).toBeCloseTo((r.highAverageMs + r.lowAverageMs) / 2, 2);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    }
    // Faults as scheduled: a kill of the serving primary is followed by a takeover and a first fault served.
    const byId = new Map(out.results.map((r) => [r.id, r]));
    expect(byId.get('s1')!.schedule).toEqual([]);
    expect(byId.get('s3')!.schedule).toHaveLength(1);
    expect(byId.get('s4')!.schedule).toHaveLength(2);
    expect(byId.get('s5')!.schedule).toHaveLength(4);
    expect(byId.get('s6')!.schedule!.filter((l) => l.includes('SIGKILL m1'))).toHaveLength(1);
    const s9 = byId.get('s9')!;
    expect(s9.schedule!.filter((l) => l.includes('SIGKILL a client'))).toHaveLength(2);
    expect(s9.clientRecoveryMs).toHaveLength(s9.clientKills!.length);
    for (const id of ['s3', 's4', 's5']) {
      const r = byId.get(id)!;
      const primaryKills = r.schedule!.filter((l) => l.includes('SIGKILL m0')).length;
      expect(r.failoverMs, id).toHaveLength(primaryKills);
      expect(r.recoveryMs!.every((ms) => ms > 0), id).toBe(true);
    }

    const rows = parse(readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['scenario', 'trial', 'highest_ms', 'highest_node', 'lowest_ms', 'lowest_node', 'average_ms', 'protocol']);
    expect(rows).toHaveLength(7 * 3);
    for (const r of out.results) {
      const mine = rows.filter((row) => row.scenario === r.id);
      expect(mine.map((row) => row.trial)).toEqual(['1', '2', 'average']);
      expect(Number(mine[0]!.highest_ms)).toBe(r.trials[0]!.highestMs);
      expect(Number(mine[2]!.average_ms)).toBe(r.averageMs);
    }

    const check = await run(process.execPath, [CLI, 'check', historyFile]);
    expect(check.stdout).toMatch(/^linearizable: \d+ operations on 21 pages/);
  });

  it('runs a scenario in sustained mode: histograms, throughput, failover under load', async () => {
    const notes: string[] = [];
    const outcome = await runScenarios({
      scenarios: resolveScenarios(['s4']),
      clients: 4,
      pages: 3,
      trials: 1,
      seed: 3,
      basePort: 10_200,
      opTimeoutMs: 2000,
      mode: { kind: 'sustained', durationS: 3, rate: 200, readRatio: 0.5 },
      onNote: (_, m) => notes.push(m),
    });
    const [run4] = outcome.runs;
    const s = run4!.sustained!;
    expect(outcome.linearizable).toBe(true);
    expect(s.faults).toBeGreaterThan(50);
    expect(s.faultsPerS).toBeGreaterThan(0);
    expect(s.read.count + s.write.count).toBe(s.faults);
    expect(s.read.p99Us).toBeGreaterThanOrEqual(s.read.p50Us);
    expect(notes.filter((n) => /SIGKILL m0|reboot m0/.test(n))).toHaveLength(2);
    expect(run4!.result.failoverMs).toHaveLength(1);
  });
});
