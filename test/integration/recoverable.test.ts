// Recoverable client memory with real processes (issue 10): page-owning clients SIGKILLed and rebooted
// under a 10-client workload, alone and together with the primary manager. Nothing acknowledged is lost
// (history and final reads linearizable, every final read succeeds), and once a rebooted client's
// recovered pages have been ruled on, no operation fails. RECOVERABLE_CYCLES=20 for the long run.
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeClientLogs } from '../../nodes/control/history/merge.js';
import { checkHistory } from '../../nodes/control/history/linearizability.js';
import { mulberry32, pick } from '../../nodes/core/random.js';
import type { Supervisor } from '../../nodes/control/supervisor.js';
import { sleep, startCluster, until, workload } from './cluster.js';

const CYCLES = Number(process.env.RECOVERABLE_CYCLES ?? 3);
const nowNs = (): number => Number(process.hrtime.bigint());
/** RECOVERABLE_MEMORY=volatile shows what this test catches: pages lost with the client, final reads failing. */
const MEMORY = process.env.RECOVERABLE_MEMORY === 'volatile' ? 'volatile' : process.env.RECOVERABLE_MEMORY === 'durable' ? 'durable' : 'recoverable';

/** A live client that owns at least one page (by its own last telemetry), chosen with the seeded generator. */
function pageOwner(sup: Supervisor, rng: () => number): string | null {
  const owners = sup
    .nodeInfos()
    .filter((n) => n.role === 'client' && n.state === 'up')
    .map((n) => n.id)
    .filter((id) => (sup.telemetryOf(id)?.pageTable ?? []).some((p) => p.owner && p.access !== 'none'));
  return owners.length ? owners[pick(rng, owners.length)]! : null;
}

interface Cycle {
  client: string;
  withPrimary: boolean;
  recoveredMs: number;
  killNs: number;
  /** Monotonic ns when the rebooted client's recovered pages had all been ruled on. */
  doneNs: number;
}

async function runCycles(cycles: number, primaryEvery: number, seed: number): Promise<{ cycles: Cycle[]; failedAfter: number; history: ReturnType<typeof mergeClientLogs>; runDir: string }> {
  const sup = await startCluster({ clients: 10, backup: true, pages: 8, clientTimeoutMs: 1000, opTimeoutMs: 4000, clientMemory: MEMORY });
  const rng = mulberry32(seed);
  const done: Cycle[] = [];
  try {
    workload(sup, 0.4, seed, 60);
    await sleep(1000);
    for (let i = 0; i < cycles; i++) {
      await until(() => pageOwner(sup, rng) !== null, 'a client that owns a page', 10_000);
      const victim = pageOwner(sup, rng)!;
      const withPrimary = primaryEvery > 0 && i % primaryEvery === primaryEvery - 1;
      const primary = withPrimary ? sup.nodeInfos().find((n) => n.role === 'primary' && n.state === 'up')?.id : undefined;
      const killNs = nowNs();
      await Promise.all([sup.kill(victim), ...(primary ? [sup.kill(primary)] : [])]);
      await sleep(100 + pick(rng, 400));
      const t0 = performance.now();
      await sup.reboot(victim);
      if (primary) await sup.reboot(primary);
      // Recovered = its telemetry shows no page still waiting for the manager's verdict.
      await until(() => {
        const t = sup.telemetryOf(victim);
        return !!t?.pageTable && t.pageTable.length > 0 && t.pageTable.every((p) => !p.recovered);
      }, `${victim}'s recovered pages ruled on`, 20_000);
      done.push({ client: victim, withPrimary, killNs, recoveredMs: Math.round(performance.now() - t0), doneNs: nowNs() });
      await sleep(600 + pick(rng, 600));
    }
    sup.setWorkload(null);
    await sleep(500);
    // Final reads: every page, through a live client; with recoverable memory none may fail.
    const reader = sup.nodeInfos().find((n) => n.role === 'client' && n.state === 'up')!;
    for (let page = 0; page < sup.config.pages; page++) {
      const r = await sup.op(reader.id, 'read', page, page);
      expect(r.ok, `final read of page ${page}: ${r.ok ? '' : r.error}`).toBe(true);
    }
  } finally {
    await sup.shutdown();
  }
  const history = mergeClientLogs(sup.historyDir());
  // Failed operations that started after a reboot had completed and before the next kill.
  const failedAfter = history.filter((o) => o.outcome === 'fail' && done.some((c, i) => o.start > c.doneNs && o.start < (done[i + 1]?.killNs ?? Infinity))).length;
  return { cycles: done, failedAfter, history, runDir: sup.runDir };
}

describe('recoverable client memory (real processes)', () => {
  it(`${CYCLES} kill -9 / reboot cycles of page-owning clients under a 10-client workload, every second one with the primary killed at the same moment`, async () => {
    const { cycles, failedAfter, history, runDir } = await runCycles(CYCLES, 2, 11);
    const check = checkHistory(history);
    const failed = history.filter((o) => o.outcome === 'fail');
    writeFileSync(join(process.cwd(), 'test-results', `recoverable-${CYCLES}.json`), JSON.stringify({ cycles, failed: failed.length, failedAfter, ops: history.length }, null, 1));
    console.log(
      `recoverable: ${cycles.length} cycles (${cycles.filter((c) => c.withPrimary).length} with the primary), recovery ${cycles.map((c) => `${c.client}${c.withPrimary ? '+m' : ''} ${c.recoveredMs} ms`).join(', ')}; ${history.length} ops, ${failed.length} failed in all (while a client or manager was down), ${failedAfter} after a recovery had completed; segments: ${readdirSync(join(runDir, 'pages')).join(' ')}`,
    );
    expect(check.ok, check.ok ? '' : `${check.explanation}`).toBe(true);
    expect(cycles).toHaveLength(CYCLES);
    expect(failedAfter).toBe(0);
  });
});

describe('a damaged page segment (real processes)', () => {
  it('a truncated segment is detected at reboot, reported, moved aside; the client starts volatile and nothing stale is served', async () => {
    const sup = await startCluster({ clients: 4, backup: false, pages: 4, clientTimeoutMs: 1000, opTimeoutMs: 4000, clientMemory: 'recoverable' });
    const events: string[] = [];
    sup.on('event', (e) => events.push(`${e.level} ${e.node ?? ''} ${e.message}`));
    try {
      // c1 writes every page, so it alone owns them.
      for (let page = 0; page < 4; page++) expect((await sup.op('c1', 'write', page, page)).ok).toBe(true);
      await sup.kill('c1');
      truncateSync(sup.storeFile('c1'), 1000);
      await sup.reboot('c1');
      await until(() => events.some((e) => /c1 .*wrong-size|c1 .*expected \d+ \(truncated or extended\)/.test(e)), 'the damaged segment reported', 10_000);
      expect(events.find((e) => /truncated or extended/.test(e))).toMatch(/^warn c1 .*c1\.seg: 1000 bytes, expected \d+ \(truncated or extended\); every page starts volatile/);
      expect(events.some((e) => /unusable segment moved to .*c1\.seg\.bad-\d+/.test(e))).toBe(true);
      // Its pages are gone (no other copy), and say so; never a zero or garbage page.
      for (let page = 0; page < 4; page++) {
        const r = await sup.op('c2', 'read', page, page);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toMatch(/page \d was lost: its only copy was held by c1/);
      }
    } finally {
      await sup.shutdown();
    }
    const check = checkHistory(mergeClientLogs(sup.historyDir()));
    expect(check.ok).toBe(true);
  });
});
