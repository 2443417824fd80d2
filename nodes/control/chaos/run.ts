// One chaos run on real processes (Jepsen-style): a real cluster under a mixed workload,
// broken from OUTSIDE at seeded moments — `kill -9` and `kill -STOP` … `kill -CONT` on the
// pids the supervisor reports (the pids of `--status FILE`), every role in turn — killed
// nodes rebooted through the supervisor; then every fault healed, every page read from
// every live client, and the merged history checked (linearizable for IVY, sequential
// for ISIS). Safety is judged; liveness (timeouts, failed ops) is only counted.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32, pick } from '../../core/random.js';
import { ClusterConfigSchema, type ClusterConfig } from '../api.js';
import { checkAs } from '../history/check.js';
import { mergeClientLogs, writeHistory } from '../history/merge.js';
import type { HistoryOp } from '../history/schema.js';
import { assertPortsFree, clusterPorts } from '../scenarios/ports.js';
import { Supervisor } from '../supervisor.js';
import { pauseBands, planFaults, planNemesis, type Fault } from './schedule.js';
import { describeRule, describeRuleSpec } from '../nemesis/spec.js';

export interface ChaosOptions {
  protocol: 'ivy' | 'isis';
  seed: number;
  /** Fault window (the workload runs through it), ms. */
  durationMs: number;
  clients: number;
  pages: number;
  /** Ops per second per client. */
  rate: number;
  readRatio: number;
  /** IVY issue 13 (stale reads from a client resumed after eviction): leave client SIGSTOPs out. */
  clientStops: boolean;
  /** Default true; false spares clients from SIGKILL (IVY: their sole page copies would be lost for good). */
  clientKills?: boolean;
  /** Where failing runs keep their history and logs. */
  outDir: string;
  /** At most this many nodes down or paused at once. */
  maxConcurrent?: number;
  /** Also break the network: seeded nemesis windows (presets, partitions, duplication), one at a time. */
  nemesis?: boolean;
  log?: (line: string) => void;
}

export interface FaultDone {
  kind: 'kill' | 'stop';
  node: string;
  role: string;
  atMs: number;
  ms: number;
}

export interface ChaosResult {
  protocol: 'ivy' | 'isis';
  seed: number;
  safe: boolean;
  model: string;
  ops: { total: number; ok: number; fail: number; unknown: number };
  kills: number;
  stops: { short: number; mid: number; long: number };
  skipped: number;
  rebootFailures: number;
  /** Node processes that died without being killed by the driver: a crash on input is a bug. */
  crashes: string[];
  /** Error-level events (a node's stderr, spawn errors): not a verdict by themselves, but worth reading. */
  errors: string[];
  finalReads: { ok: number; failed: number; agree: boolean; detail: string[] };
  replicas: { converged: boolean; divergent: string[] };
  violation: string | null;
  /** IVY: the violation involves a client read after it was resumed from a pause beyond the client timeout. */
  knownIssue13: boolean;
  savedTo: string | null;
  /** Longest time with no op completing ok anywhere (liveness, not judged). */
  stallMs: number;
  elapsedMs: number;
  faults: FaultDone[];
  /** Nemesis windows applied (`nemesis`), as "at ms: spec for hold ms". */
  nemesis: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowNs = (): number => Number(process.hrtime.bigint());

async function freePorts(clients: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const base = 14_000 + 200 * Math.floor(Math.random() * 90);
    try {
      await assertPortsFree('127.0.0.1', clusterPorts(base, clients, true));
      return base;
    } catch (err) {
      if (attempt > 20) throw err;
    }
  }
}

async function until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) return false;
    await sleep(50);
  }
  return true;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const config: ClusterConfig = ClusterConfigSchema.parse({
    clients: o.clients,
    backup: true,
    pages: o.pages,
    pageSize: 4096,
    protocol: o.protocol,
    basePort: await freePorts(o.clients),
  });
  const runDir = mkdtempSync(join(tmpdir(), `ivy-chaos-${o.protocol}-${o.seed}-`));
  const sup = new Supervisor({ config, runDir, nemesisSeed: o.seed });
  const events: string[] = [];
  const stamp = (): string => ((Date.now() - t0) / 1000).toFixed(3).padStart(7);
  const note = (line: string): void => {
    events.push(`${stamp()} chaos (ns ${nowNs()}): ${line}`);
    log(line);
  };
  const ourKills = new Set<number>();
  const crashes: string[] = [];
  const errors: string[] = [];
  sup.on('event', (e) => {
    if (e.level === 'error') errors.push(`${e.node ?? '-'} ${e.kind}: ${e.message}`);
    events.push(`${stamp()} ${e.level} ${e.node ?? '-'} ${e.kind}: ${e.message}`);
    if (e.kind === 'down' && e.level === 'warn') {
      const pid = Number(/\(pid (\d+)\)/.exec(e.message)?.[1]);
      if (!ourKills.has(pid)) crashes.push(`${e.node ?? '?'}: ${e.message}`);
    }
  });
  sup.on('mark', (m) => events.push(`${stamp()} mark ${m.kind} ${m.node} atNs ${m.atNs}`));

  const plan = planFaults({
    seed: o.seed,
    durationMs: o.durationMs,
    backup: true,
    clientStops: o.clientStops,
    clientKills: o.clientKills ?? true,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    clientTimeoutMs: config.clientTimeoutMs,
  });
  const bands = pauseBands(config);
  const pickRng = mulberry32(o.seed * 31 + 5);
  const nemesisPlan = o.nemesis ? planNemesis({ seed: o.seed, durationMs: o.durationMs, clients: o.clients }) : [];
  const nemesisDone: string[] = [];
  const faulted = new Map<string, 'down' | 'paused'>();
  const pending: Promise<void>[] = [];
  const contTimers = new Map<string, { timer: NodeJS.Timeout; pid: number }>();
  const done: FaultDone[] = [];
  let skipped = 0;
  let rebootFailures = 0;
  const stops = { short: 0, mid: 0, long: 0 };
  const maxConcurrent = o.maxConcurrent ?? 2;

  const info = (id: string) => sup.nodeInfos().find((n) => n.id === id);
  const resolveTarget = (f: Fault): string | null => {
    const live = sup.nodeInfos().filter((n) => n.state === 'up' && n.pid !== null && !faulted.has(n.id));
    if (f.target === 'client') {
      const clients = live.filter((n) => n.role === 'client');
      return clients.length > 0 ? clients[pick(pickRng, clients.length)]!.id : null;
    }
    return live.find((n) => n.role === f.target)?.id ?? null;
  };

  const reboot = async (id: string): Promise<void> => {
    try {
      await sup.reboot(id);
    } catch (err) {
      rebootFailures++;
      note(`reboot of ${id} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const fire = (f: Fault, atMs: number): void => {
    const id = faulted.size >= maxConcurrent ? null : resolveTarget(f);
    const n = id === null ? undefined : info(id);
    if (!id || !n || n.pid === null) {
      skipped++;
      return;
    }
    const pid = n.pid;
    if (f.kind === 'kill') {
      faulted.set(id, 'down');
      ourKills.add(pid);
      note(`kill -9 ${pid} (${id}, ${n.role}); reboot in ${f.downMs} ms`);
      process.kill(pid, 'SIGKILL');
      done.push({ kind: 'kill', node: id, role: n.role, atMs, ms: f.downMs });
      pending.push(
        sleep(f.downMs)
          .then(() => reboot(id))
          .finally(() => faulted.delete(id)),
      );
    } else {
      faulted.set(id, 'paused');
      const band = f.pauseMs < bands[1]![0] ? 'short' : f.pauseMs < bands[2]![0] ? 'mid' : 'long';
      stops[band]++;
      note(`kill -STOP ${pid} (${id}, ${n.role}) for ${f.pauseMs} ms (${band})`);
      process.kill(pid, 'SIGSTOP');
      done.push({ kind: 'stop', node: id, role: n.role, atMs, ms: f.pauseMs });
      pending.push(
        new Promise<void>((resume) => {
          const timer = setTimeout(() => {
            contTimers.delete(id);
            note(`kill -CONT ${pid} (${id})`);
            try {
              process.kill(pid, 'SIGCONT');
            } catch {
              /* gone meanwhile */
            }
            faulted.delete(id);
            resume();
          }, f.pauseMs);
          contTimers.set(id, { timer, pid });
        }),
      );
    }
  };

  let history: HistoryOp[] = [];
  let violation: string | null = null;
  let model = o.protocol === 'ivy' ? 'linearizable' : 'sequential';
  const finalReads = { ok: 0, failed: 0, agree: true, detail: [] as string[] };
  const replicas = { converged: true, divergent: [] as string[] };
  try {
    await sup.start();
    note(`cluster up (${o.protocol}, ${o.clients} clients + primary + backup, ${o.pages} pages); ${plan.length} faults planned`);
    sup.setWorkload({ readRatio: o.readRatio, rate: o.rate, ops: 0, pages: o.pages, seed: o.seed });
    const w0 = Date.now();
    // The network nemesis runs beside the process faults, one window at a time, healed at its end.
    const nemesisLoop = (async () => {
      for (const w of nemesisPlan) {
        await sleep(Math.max(0, w.at - (Date.now() - w0)));
        try {
          const state = sup.setNemesis(w.spec);
          const text = state?.rules.map(describeRule).join('; ') ?? describeRuleSpec(w.spec);
          nemesisDone.push(`${Date.now() - w0} ms: ${text} for ${w.holdMs} ms`);
          note(`nemesis ${text} for ${w.holdMs} ms`);
        } catch (err) {
          note(`nemesis ${describeRuleSpec(w.spec)} not applied: ${err instanceof Error ? err.message : String(err)}`);
        }
        await sleep(w.holdMs);
        sup.healAll();
        note('nemesis healed');
      }
    })();
    for (const f of plan) {
      await sleep(Math.max(0, f.at - (Date.now() - w0)));
      fire(f, Date.now() - w0);
    }
    await sleep(Math.max(0, o.durationMs - (Date.now() - w0)));
    await nemesisLoop;
    sup.healAll();

    // Heal: let every pause run its full length, finish every reboot, bring back anything still down.
    await Promise.allSettled(pending);
    for (const n of sup.nodeInfos()) if (n.state !== 'up' && n.state !== 'starting' && n.state !== 'rebooting') await reboot(n.id);
    sup.setWorkload(null);
    await until(() => sup.nodeInfos().every((n) => n.state === 'up'), 15_000);

    // Quiescence: no op in flight anywhere (IVY: no pending fault; ISIS: identical replicas, empty queues).
    const liveClients = (): string[] => sup.nodeInfos().filter((n) => n.role === 'client' && n.state === 'up').map((n) => n.id);
    if (o.protocol === 'ivy') {
      replicas.converged = await until(() => liveClients().every((id) => sup.telemetryOf(id)?.pageTable?.every((p) => p.pending === null) === true), 15_000);
      if (!replicas.converged) {
        const busy = liveClients().map((id) => `${id}: ${JSON.stringify(sup.telemetryOf(id)?.pageTable?.filter((p) => p.pending !== null).map((p) => [p.page, p.pending, p.access]) ?? 'no telemetry')}`);
        note(`ops still pending after healing: ${busy.join('; ')}`);
        for (const m of sup.nodeInfos().filter((n) => n.role !== 'client')) note(`${m.id} (${m.role}) records: ${JSON.stringify(sup.telemetryOf(m.id)?.records ?? null)}`);
      }
    } else {
      const snap = (id: string): string => {
        const m = sup.telemetryOf(id)?.isisMember;
        const tokens = sup.telemetryOf(id)?.pageTable?.map((p) => p.token);
        return JSON.stringify({ view: m?.view, pos: m?.pos, hasState: m?.hasState, queue: m?.queue.length, tokens });
      };
      replicas.converged = await until(() => liveClients().length > 0 && new Set(liveClients().map(snap)).size === 1 && sup.telemetryOf(liveClients()[0]!)?.isisMember?.hasState === true, 20_000);
      // Members at the same position must hold the same bytes, converged or not.
      const byPos = new Map<number, Map<string, string[]>>();
      for (const id of liveClients()) {
        const t = sup.telemetryOf(id);
        if (!t?.isisMember?.hasState) continue;
        const key = JSON.stringify(t.pageTable?.map((p) => p.token));
        const m = byPos.get(t.isisMember.pos) ?? new Map<string, string[]>();
        m.set(key, [...(m.get(key) ?? []), id]);
        byPos.set(t.isisMember.pos, m);
      }
      for (const [pos, m] of byPos) if (m.size > 1) replicas.divergent.push(`pos ${pos}: ${[...m].map(([k, ids]) => `${ids.join(',')}=${k}`).join(' vs ')}`);
      if (!replicas.converged) note(`replicas not converged: ${liveClients().map((id) => `${id} ${snap(id)}`).join('; ')}`);
    }

    // Read every page from every live client.
    const finalStart = nowNs();
    await Promise.all(
      liveClients().map(async (id) => {
        for (let page = 0; page < o.pages; page++) {
          const r = await sup.op(id, 'read', page, page).catch((err: unknown) => ({ ok: false, error: String(err) }));
          if (!r.ok) note(`final read of page ${page} at ${id} failed: ${r.error ?? ''}`);
        }
      }),
    );
    await sup.shutdown();
    history = mergeClientLogs(sup.historyDir());

    const finals = history.filter((op) => op.op === 'read' && op.start >= finalStart);
    for (let page = 0; page < o.pages; page++) {
      const reads = finals.filter((op) => op.page === page && op.outcome === 'ok');
      // A write still running when the final reads began (a workload op that started before the stop reached
      // its client) may land between them: the history check covers that case; agreement assumes quiet.
      // (An unknown write from before them counts only if it began during them: one from a killed client
      // that surfaces later, as a recoverable page at its reboot, is seen by every final read alike.)
      const racing = history.filter((op) => op.op === 'write' && op.page === page && (op.end ?? op.start) > finalStart);
      if (racing.length > 0) {
        note(`final reads of page ${page} raced ${racing.length} write(s) (e.g. ${racing[0]!.client} ${String(racing[0]!.value)}): agreement not checked, the history check covers them`);
        finalReads.ok += reads.length;
        continue;
      }
      finalReads.ok += reads.length;
      finalReads.failed += finals.filter((op) => op.page === page && op.outcome !== 'ok').length;
      // IVY: every final read returns the one current value. Write-update: reads are local, so members still
      // delivering the last writes may read at different positions; members at the same position must agree.
      const agree =
        o.protocol === 'isis'
          ? reads.every((r) => reads.every((q) => q.pos !== r.pos || (q.value === r.value && q.wpos === r.wpos)))
          : new Set(reads.map((r) => String(r.value))).size <= 1;
      if (!agree) {
        finalReads.agree = false;
        finalReads.detail.push(`page ${page}: ${reads.map((r) => `${r.client}=${r.value}${o.protocol === 'isis' ? `@${r.wpos}/${r.pos}` : ''}`).join(' ')}`);
      }
    }

    const checked = checkAs(history);
    model = checked.model;
    if (!checked.result.ok) {
      const r = checked.result;
      violation = `not ${model}${r.rule ? ` (${r.rule})` : ''} on page ${r.page}: ${r.explanation}\n${r.counterexample.map((op) => '  ' + JSON.stringify(op)).join('\n')}`;
    } else if (!finalReads.agree) violation = `final reads disagree: ${finalReads.detail.join('; ')}`;
    else if (replicas.divergent.length > 0) violation = `divergent replicas: ${replicas.divergent.join('; ')}`;
    else if (crashes.length > 0) violation = `node crashed: ${crashes.join('; ')}`;
  } catch (err) {
    violation = `driver error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
    for (const { timer, pid } of contTimers.values()) {
      clearTimeout(timer);
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await sup.shutdown().catch(() => {});
    try {
      history = mergeClientLogs(sup.historyDir());
    } catch {
      /* nothing written */
    }
  }

  // Issue 13 (IVY): a read in the counterexample by a client after it resumed from a pause beyond the client timeout.
  const longPauses = done.filter((f) => f.kind === 'stop' && f.role === 'client' && f.ms > config.clientTimeoutMs);
  const knownIssue13 = o.protocol === 'ivy' && violation !== null && violation.startsWith('not ') && longPauses.some((f) => violation!.includes(`"client":"${f.node}","op":"read"`));

  const ops = { total: history.length, ok: 0, fail: 0, unknown: 0 };
  for (const op of history) ops[op.outcome]++;
  // Liveness: the longest time no operation completed ok anywhere (from the first completion on).
  const ends = history.filter((op) => op.outcome === 'ok' && op.end !== null).map((op) => op.end!).sort((a, b) => a - b);
  let stallMs = 0;
  for (let i = 1; i < ends.length; i++) stallMs = Math.max(stallMs, (ends[i]! - ends[i - 1]!) / 1e6);
  let savedTo: string | null = null;
  // Safety violations keep everything; liveness anomalies (no quiescence, a reboot that never got ready) too, to look at.
  const anomaly = !replicas.converged || rebootFailures > 0 || errors.length > 0;
  if (violation !== null || anomaly) {
    savedTo = join(o.outDir, `${o.protocol}-seed${o.seed}${violation === null ? '-liveness' : ''}`);
    rmSync(savedTo, { recursive: true, force: true });
    mkdirSync(savedTo, { recursive: true });
    writeHistory(join(savedTo, 'history.jsonl'), history);
    writeFileSync(join(savedTo, 'events.log'), events.join('\n') + '\n');
    writeFileSync(join(savedTo, 'violation.txt'), (violation ?? 'no safety violation; liveness anomaly') + '\n');
    writeFileSync(join(savedTo, 'faults.json'), JSON.stringify({ plan, done, nemesis: nemesisDone }, null, 2) + '\n');
    cpSync(sup.historyDir(), join(savedTo, 'node-logs'), { recursive: true });
  }
  rmSync(runDir, { recursive: true, force: true });
  return {
    protocol: o.protocol,
    seed: o.seed,
    safe: violation === null,
    model,
    ops,
    kills: done.filter((f) => f.kind === 'kill').length,
    stops,
    skipped,
    rebootFailures,
    crashes,
    errors: errors.slice(0, 50),
    finalReads,
    replicas,
    violation,
    knownIssue13,
    savedTo,
    stallMs: Math.round(stallMs),
    elapsedMs: Date.now() - t0,
    faults: done,
    nemesis: nemesisDone,
  };
}

/** The one-line verdict printed per run. */
export function verdictLine(r: ChaosResult): string {
  const what = r.safe ? 'SAFE' : r.violation?.startsWith('driver error') ? 'ERROR (driver: no verdict)' : r.knownIssue13 ? 'VIOLATION (known issue #13)' : 'VIOLATION';
  const stops = r.stops.short + r.stops.mid + r.stops.long;
  return (
    `chaos ${r.protocol} seed ${r.seed}: ${what} (${r.model}) — ops ${r.ops.total} (ok ${r.ops.ok}, fail ${r.ops.fail}, unknown ${r.ops.unknown}), ` +
    `kills ${r.kills}, stops ${stops} (short ${r.stops.short}, mid ${r.stops.mid}, long ${r.stops.long}), skipped ${r.skipped}, ` +
    `${r.nemesis.length ? `nemesis windows ${r.nemesis.length}, ` : ''}` +
    `final reads ${r.finalReads.ok} ok/${r.finalReads.failed} failed${r.finalReads.agree ? ' agree' : ' DISAGREE'}` +
    `${r.replicas.converged ? '' : ', replicas not converged'}${r.rebootFailures ? `, reboot failures ${r.rebootFailures}` : ''}${r.errors.length ? `, node errors ${r.errors.length}` : ''}` +
    `, longest stall ${(r.stallMs / 1000).toFixed(1)} s, ${(r.elapsedMs / 1000).toFixed(1)} s${r.savedTo ? ` → ${r.savedTo}` : ''}`
  );
}
