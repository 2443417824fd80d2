// `ivy-cluster bench --client-memory volatile,recoverable,durable --json` on real processes
// at a tiny size: every mode's write hit and fault figures, the ratios against volatile,
// and a real kill -9 / reboot of a client owning 64 pages whose bytes must all come back
// (checked against the history, not timed). Shape and correctness, not speed. Ports 10900–11020.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ClientMemoryReport } from '../../nodes/control/bench/client-memory.js';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'bin', 'ivy-cluster.js');
const MODES = ['volatile', 'recoverable', 'durable'] as const;

describe('ivy-cluster bench --client-memory volatile,recoverable,durable (real processes)', () => {
  it('reports each mode, ratios to volatile, and recovery that restored all 64 pages', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'bench', '--json', '--client-memory', MODES.join(','), '--base-port', '10900'], {
      env: { ...process.env, IVY_BENCH_ITERATIONS: '10' },
      maxBuffer: 16 << 20,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // one object on stdout; progress goes to stderr
    const r = JSON.parse(lines[0]!) as { client_memory: ClientMemoryReport; linearizable: boolean; consistent: boolean; protocols: string[] };
    const cm = r.client_memory;
    expect(cm.modes).toEqual([...MODES]);
    expect(cm.baseline).toBe('volatile');
    expect(cm.page_size).toBe(4096);
    expect(cm.anomalies).toBe(0); // every timed op was the fault or hit the cycle meant
    for (const m of MODES) {
      const f = cm[m]!;
      expect(f.samples, m).toBe(20); // 10 iterations x 2 clients
      for (const k of ['write_hit_p50_us', 'write_hit_p99_us', 'write_fault_p50_us', 'write_fault_p99_us'] as const) expect(f[k], `${m} ${k}`).toBeGreaterThan(0);
      expect(f.write_hit_p99_us).toBeGreaterThanOrEqual(f.write_hit_p50_us);
      expect(f.write_fault_p99_us).toBeGreaterThanOrEqual(f.write_fault_p50_us);
      const q = cm.ratio[m]!;
      expect(q.write_fault_p50).toBeCloseTo(f.write_fault_p50_us / cm.volatile!.write_fault_p50_us, 1);
      expect(q.write_hit_p50).toBeCloseTo(f.write_hit_p50_us / cm.volatile!.write_hit_p50_us, 1);
    }
    expect(cm.ratio.volatile).toEqual({ write_hit_p50: 1, write_hit_p99: 1, write_fault_p50: 1, write_fault_p99: 1 });

    // Recovery: volatile keeps nothing and is not asked; the other two bring back every page, byte for byte.
    expect(cm.recovery_ms.volatile).toBeNull();
    expect(cm.recovery.volatile).toBeUndefined();
    for (const m of ['recoverable', 'durable'] as const) {
      const rec = cm.recovery[m]!;
      expect(rec, m).toMatchObject({ pages: 64, page_size: 4096, restored: 64, failed: 0 });
      expect(rec.all_pages_ms, m).toBeGreaterThan(0);
      expect(rec.first_page_ms!).toBeLessThanOrEqual(rec.all_pages_ms!);
      expect(cm.recovery_ms[m]).toBe(rec.all_pages_ms);
    }
    // Every mode's history, the kill and the reboot included, is linearizable.
    expect(cm.linearizable).toBe(true);
    expect(r.linearizable).toBe(true);
    expect(r.consistent).toBe(true);
  });
});
