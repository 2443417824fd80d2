// Carries out a fault schedule against a live cluster while the rounds (or the
// sustained workload) run: real SIGKILLs and reboots through the supervisor, one
// event after another, each at its slot. Between a kill and the reboot of the same
// seat it waits for the backup's takeover, and after a reboot for the hand-back and
// a settle time, so the next kill never finds both managers down or the backup
// still re-syncing. It also records the supervisor's failover / hand-back marks.
// A 'client' target (s9) is a live client that owns pages at the kill, read from its
// telemetry; its reboot is timed until the client logs its recovered pages served.
import type { ClusterEvent, Mark } from '../api.js';
import type { Supervisor } from '../supervisor.js';
import type { ManagerSeat } from './definitions.js';
import { describeEvent, type FaultEvent } from './schedule.js';
import { describeRule } from '../nemesis/spec.js';

export interface InjectorOptions {
  /** Pause after a reboot before the next event, so a rebooted seat has re-synced. */
  settleMs: number;
  /** Longest wait for the backup's failover mark before rebooting a killed primary anyway. */
  failoverWaitMs: number;
  /** Longest wait for the hand-back mark after the primary's reboot. */
  handbackWaitMs: number;
  /** Whether a rebooted m0 takes its role back (IVY, as in the seed). Write-update's registry does not: it rejoins as backup. */
  handback?: boolean;
  note: (message: string) => void;
}

export interface KillRecord {
  cycle: number;
  /** The node killed: a manager seat, or the client picked for a 'client' target. */
  node: string;
  /** Pages the node owned at the kill (clients; empty for managers). */
  pages: number[];
  trial: number;
  /** Whether the seat was serving the clients when it died (a failover was due). */
  serving: boolean;
  killNs: number;
  rebootNs: number | null;
  /** Kill -> the supervisor's failover mark (null: none seen). */
  failoverMs: number | null;
  /** Reboot -> the supervisor's hand-back mark (null: none seen or no reboot). */
  handbackMs: number | null;
  /** Client reboot -> its log line "recovered pages served again" (null: none seen, or not a client). */
  pagesServedMs: number | null;
}

export type InjectorDriver = Pick<Supervisor, 'kill' | 'reboot' | 'nodeInfos' | 'telemetryOf' | 'on' | 'off'> & Partial<Pick<Supervisor, 'setNemesis' | 'healAll'>>;

/** One nemesis window of the schedule (s7): when it was applied and healed, and the takeover it caused. */
export interface NemesisRecord {
  applyNs: number;
  healNs: number | null;
  /** What the rules resolved to at the apply. */
  rules: string[];
  /** Apply -> the first failover mark before the heal (null: none). */
  failoverMs: number | null;
  /** Failovers and hand-backs seen from the apply until 5 s after the heal. */
  roleChanges: string[];
}

/** The line a client logs once the manager has ruled on every page it recovered (client-node.ts). */
const SERVED_AGAIN = 'recovered pages served again';

const nowNs = (): number => Number(process.hrtime.bigint());

interface SeenMark {
  kind: Mark['kind'];
  node: string;
  ns: number;
}

export class FaultInjector {
  readonly kills: KillRecord[] = [];
  readonly nemeses: NemesisRecord[] = [];
  private readonly marks: SeenMark[] = [];
  private readonly served: { node: string; ns: number }[] = [];
  private readonly onEvent = (e: ClusterEvent): void => {
    if (e.node && e.message.startsWith(SERVED_AGAIN)) this.served.push({ node: e.node, ns: nowNs() });
  };
  private readonly markWaiters = new Set<() => void>();
  private slot = { trial: -1, round: -1 };
  private readonly slotWaiters = new Set<() => void>();
  private completed = 0;
  private serving: ManagerSeat = 'm0';
  private readonly onMark = (m: Mark): void => {
    // atNs is when the node changed role, on the clock op timings use.
    // Without hand-backs (write-update), m0 taking over from a dead m1 is a failover like any other,
    // though the supervisor names every return of m0 to primary a hand-back.
    const kind = m.kind === 'handback' && this.opts.handback === false ? 'failover' : m.kind;
    this.marks.push({ kind, node: m.node, ns: m.atNs });
    if ((m.kind === 'failover' || m.kind === 'handback') && (m.node === 'm0' || m.node === 'm1')) this.serving = m.node;
    for (const w of this.markWaiters) w();
  };

  constructor(
    private readonly sup: InjectorDriver,
    readonly events: readonly FaultEvent[],
    private readonly opts: InjectorOptions,
    private readonly signal?: AbortSignal,
  ) {
    sup.on('mark', this.onMark);
    sup.on('event', this.onEvent);
  }

  /** The driver announces that trial/round has started (its ops are out). */
  reach(trial: number, round: number): void {
    if (trial < this.slot.trial || (trial === this.slot.trial && round <= this.slot.round)) return;
    this.slot = { trial, round };
    for (const w of this.slotWaiters) w();
  }

  /** True once every event scheduled in trials up to `trial` has been carried out. */
  settledThrough(trial: number): boolean {
    const next = this.events[this.completed];
    return !next || next.trial > trial;
  }

  get done(): boolean {
    return this.completed >= this.events.length;
  }

  /** Runs the whole schedule; resolves when the last event (and its waits) are done. */
  async run(): Promise<void> {
    for (const e of this.events) {
      await this.untilSlot(e.trial, e.round);
      await this.sleep(e.delayMs);
      this.opts.note(describeEvent(e));
      if (e.action === 'kill') await this.kill(e);
      else if (e.action === 'reboot') await this.reboot(e);
      else if (e.action === 'nemesis') this.applyNemesis(e);
      else this.heal();
      this.completed++;
    }
  }

  /** Stops listening (a takeover after the last event still counts until now) and pairs kills with marks. */
  finish(): KillRecord[] {
    this.sup.off('mark', this.onMark);
    this.sup.off('event', this.onEvent);
    for (const k of this.kills) this.fillMarks(k);
    for (const w of this.nemeses) {
      const until = w.healNs ?? Number.POSITIVE_INFINITY;
      const f = this.marks.find((m) => m.kind === 'failover' && m.ns >= w.applyNs && m.ns <= until);
      w.failoverMs = f ? (f.ns - w.applyNs) / 1e6 : null;
      w.roleChanges = this.marks
        .filter((m) => (m.kind === 'failover' || m.kind === 'handback') && m.ns >= w.applyNs && m.ns <= until + 5e9)
        .map((m) => `${m.kind} to ${m.node} at +${Math.round((m.ns - w.applyNs) / 1e5) / 10} ms${w.healNs !== null && m.ns > w.healNs ? ' (after the heal)' : ''}`);
    }
    return this.kills;
  }

  private applyNemesis(e: FaultEvent): void {
    if (!e.nemesis || !this.sup.setNemesis) return;
    try {
      const applyNs = nowNs();
      const state = this.sup.setNemesis(e.nemesis);
      const rules = state?.rules.map(describeRule) ?? [];
      this.nemeses.push({ applyNs, healNs: null, rules, failoverMs: null, roleChanges: [] });
      this.opts.note(`nemesis on: ${rules.join('; ')}`);
    } catch (err) {
      this.opts.note(`nemesis not applied: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private heal(): void {
    this.sup.healAll?.();
    const w = this.nemeses.at(-1);
    if (w && w.healNs === null) w.healNs = nowNs();
    this.opts.note('nemesis healed');
  }

  private live(node: string): boolean {
    return this.sup.nodeInfos().some((n) => n.id === node && n.pid !== null);
  }

  /** Pages a client owns now, by its latest telemetry. */
  private ownedBy(id: string): number[] {
    return (this.sup.telemetryOf(id)?.pageTable ?? []).filter((p) => p.owner).map((p) => p.page);
  }

  /** A 'client' target: a live, up client that owns pages, the event's seeded choice among them (by id order). */
  private pickClient(e: FaultEvent): string | null {
    const up = this.sup
      .nodeInfos()
      .filter((n) => n.role === 'client' && n.state === 'up' && n.pid !== null)
      .map((n) => n.id);
    const owners = up.filter((id) => this.ownedBy(id).length > 0);
    if (owners.length === 0) return null;
    return owners[Math.min(owners.length - 1, Math.floor((e.choice ?? 0) * owners.length))]!;
  }

  private target(e: FaultEvent): string | null {
    return e.node === 'client' ? this.pickClient(e) : e.node;
  }

  private async kill(e: FaultEvent): Promise<void> {
    let node = this.target(e);
    // Under the rounds ownership moves every few ms and telemetry is a 200 ms snapshot: an instant
    // may show no owner at all. Look again for a while before giving the kill up.
    for (let tries = 0; node === null && tries < 40; tries++) {
      await this.sleep(50);
      node = this.target(e);
    }
    if (node === null) {
      this.opts.note('no live client owns a page; kill skipped');
      return;
    }
    if (!this.live(node)) {
      this.opts.note(`${node} is not running; kill skipped`);
      return;
    }
    const serving = node === this.serving;
    const pages = e.node === 'client' ? this.ownedBy(node) : [];
    if (e.node === 'client') this.opts.note(`killing ${node}, owner of ${pages.length} page(s): ${pages.join(', ')}`);
    const killNs = nowNs();
    this.kills.push({ cycle: e.cycle, node, pages, trial: e.trial, serving, killNs, rebootNs: null, failoverMs: null, handbackMs: null, pagesServedMs: null });
    await this.sup.kill(node);
  }

  private async reboot(e: FaultEvent): Promise<void> {
    const k = this.kills.findLast((x) => x.cycle === e.cycle);
    if (e.node === 'client') {
      if (k) await this.rebootClient(k);
      else this.opts.note('no client was killed in this cycle; reboot skipped');
      return;
    }
    let tookOver = false;
    if (k?.serving) {
      // Rebooting before the backup took over would test a different race than the scenario's.
      tookOver = (await this.waitMark('failover', k.killNs, this.opts.failoverWaitMs)) !== null;
      if (!tookOver) this.opts.note(`no failover ${this.opts.failoverWaitMs} ms after killing ${e.node}; rebooting it anyway`);
    }
    const rebootNs = nowNs();
    if (k) k.rebootNs = rebootNs;
    try {
      await this.sup.reboot(e.node);
    } catch (err) {
      this.opts.note(`reboot of ${e.node} failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (tookOver && e.node === 'm0' && this.opts.handback !== false) {
      const back = await this.waitMark('handback', rebootNs, this.opts.handbackWaitMs);
      if (back === null) this.opts.note(`no hand-back ${this.opts.handbackWaitMs} ms after rebooting m0`);
    }
    await this.sleep(this.opts.settleMs);
  }

  private async rebootClient(k: KillRecord): Promise<void> {
    k.rebootNs = nowNs();
    try {
      await this.sup.reboot(k.node);
    } catch (err) {
      this.opts.note(`reboot of ${k.node} failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    await this.sleep(this.opts.settleMs);
  }

  /** Pairs each kill with the first failover after it (before the next kill) and each reboot with the first hand-back. */
  private fillMarks(k: KillRecord): void {
    const nextKill = this.kills.find((x) => x.killNs > k.killNs)?.killNs ?? Number.POSITIVE_INFINITY;
    if (k.serving) {
      const f = this.marks.find((m) => m.kind === 'failover' && m.ns >= k.killNs && m.ns < nextKill);
      k.failoverMs = f ? (f.ns - k.killNs) / 1e6 : null;
    }
    if (k.rebootNs !== null) {
      const from = k.rebootNs;
      if (k.node === 'm0' || k.node === 'm1') {
        const h = this.marks.find((m) => m.kind === 'handback' && m.ns >= from && m.ns < nextKill);
        k.handbackMs = h ? (h.ns - from) / 1e6 : null;
      } else {
        const s = this.served.find((x) => x.node === k.node && x.ns >= from && x.ns < nextKill);
        k.pagesServedMs = s ? (s.ns - from) / 1e6 : null;
      }
    }
  }

  private waitMark(kind: Mark['kind'], afterNs: number, timeoutMs: number): Promise<number | null> {
    const found = (): number | null => this.marks.find((m) => m.kind === kind && m.ns >= afterNs)?.ns ?? null;
    return this.waitFor(this.markWaiters, found, timeoutMs);
  }

  private untilSlot(trial: number, round: number): Promise<unknown> {
    const reached = (): true | null => (this.slot.trial > trial || (this.slot.trial === trial && this.slot.round >= round) ? true : null);
    return this.waitFor(this.slotWaiters, reached, Number.POSITIVE_INFINITY);
  }

  /** Resolves with check()'s first non-null answer, re-checked whenever `waiters` fire; null on timeout. */
  private waitFor<T>(waiters: Set<() => void>, check: () => T | null, timeoutMs: number): Promise<T | null> {
    const now = check();
    if (now !== null) return Promise.resolve(now);
    if (this.signal?.aborted) return Promise.reject(this.signal.reason instanceof Error ? this.signal.reason : new Error('cancelled'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (v: T | null): void => {
        waiters.delete(poke);
        this.signal?.removeEventListener('abort', aborted);
        clearTimeout(timer);
        resolve(v);
      };
      const poke = (): void => {
        const v = check();
        if (v !== null) finish(v);
      };
      const aborted = (): void => {
        waiters.delete(poke);
        clearTimeout(timer);
        reject(this.signal?.reason instanceof Error ? this.signal.reason : new Error('cancelled'));
      };
      waiters.add(poke);
      this.signal?.addEventListener('abort', aborted, { once: true });
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(null), timeoutMs);
    });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
