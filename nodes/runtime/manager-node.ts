// The manager process: the primary/backup role machine (and, while serving, the
// per-epoch ManagerCore) behind ZeroMQ. Role changes are reported to the supervisor
// the moment they happen; records and the client list go out with telemetry.
import { PROTOCOLS, type SeatCore, type SeatOutput } from '../core/index.js';
import type { Message } from '../protocol/index.js';
import type { ManagerNodeConfig } from './config.js';
import { ROLE_REASON_MAX } from './control.js';
import type { LinkKeys } from './link-keys.js';
import { NodeShell } from './node-shell.js';

export class ManagerNode {
  private readonly core: SeatCore;
  /** Member endpoints whose connection we watch (ISIS: a dropped connection = a dead member). */
  private readonly watched = new Set<string>();
  private readonly shell: NodeShell;

  constructor(
    private readonly cfg: ManagerNodeConfig,
    keys: LinkKeys | null = null,
  ) {
    const seat = Number(cfg.id.slice(1));
    this.core = PROTOCOLS[cfg.protocol].seat({
      id: cfg.id,
      peer: cfg.peer?.id ?? null,
      pages: cfg.pages,
      parity: seat === 0 ? 1 : 0,
      home: seat === 0,
      heartbeatMs: cfg.heartbeatMs,
      heartbeatTimeoutMs: cfg.heartbeatTimeoutMs,
      clientTimeoutMs: cfg.clientTimeoutMs,
      start: cfg.start,
      ...(cfg.peerDown ? { peerDown: true } : {}),
      epoch: cfg.epoch,
      clients: cfg.clients,
      recoverLoss: cfg.recoverLoss,
      ...(cfg.redriveMs !== undefined ? { redriveMs: cfg.redriveMs } : {}),
      ...(cfg.minRedriveMs !== undefined ? { minRedriveMs: cfg.minRedriveMs } : {}),
    });
    this.shell = new NodeShell(cfg.id, cfg.endpoint, (msg) => this.onMessage(msg), cfg.trace, keys, cfg.nemesis);
  }

  async start(): Promise<void> {
    this.shell.installSignalHandlers();
    await this.shell.transport.bind();
    if (this.cfg.peer) this.shell.transport.watch(this.cfg.peer.endpoint, () => this.apply(this.core.peerConnectionLost(performance.now())));
    this.shell.onControl(() => {
      /* managers take no workload or op commands */
    });
    this.shell.toSupervisor({ type: 'ready', id: this.cfg.id, pid: process.pid, endpoint: this.cfg.endpoint });
    this.announceRole('started');
    // Heartbeats and timeouts are decided by the core; the shell only supplies the clock.
    setInterval(() => {
      const now = performance.now();
      this.apply(this.core.tick(now));
      this.shell.telemetryTick(now);
    }, Math.max(1, Math.min(Math.floor(this.cfg.heartbeatMs / 2), this.cfg.telemetryMs)));
    this.shell.startTelemetry(this.cfg.telemetryMs, () => ({
      type: 'telemetry',
      id: this.cfg.id,
      epoch: this.core.currentEpoch,
      role: this.core.currentRole,
      rssBytes: process.memoryUsage.rss(),
      dropped: { ...this.shell.dropped, send_dropped: this.shell.transport.stats.sendDropped },
      counters: this.core.counters,
      records: this.core.recordCache(),
      clientList: this.core.clientList(),
      ...(this.core.protocolView ? { isisRegistry: this.core.protocolView() } : {}),
    }), () => this.telemetryKey());
  }

  /** Heartbeats arrive all the time, so the key is the reported state itself (without the memory reading). */
  private telemetryKey(): string {
    const c = this.core;
    return JSON.stringify([c.currentRole, c.currentEpoch, c.counters, c.recordCache(), c.clientList(), c.protocolView?.(), this.shell.dropped, this.shell.transport.stats.sendDropped]);
  }

  private onMessage(msg: Message): void {
    this.apply(this.core.receive(msg, performance.now()));
  }

  private announceRole(reason: string): void {
    const atNs = Number(process.hrtime.bigint());
    // The control schema takes reasons of up to 500 characters; a takeover's names every silent client, which at
    // 128 clients is longer, and the supervisor dropped the whole report (it never learnt of the new primary).
    const fit = reason.length <= ROLE_REASON_MAX ? reason : `${reason.slice(0, ROLE_REASON_MAX - 1)}…`;
    this.shell.toSupervisor({ type: 'role', id: this.cfg.id, role: this.core.currentRole, epoch: this.core.currentEpoch, reason: fit, atNs });
  }

  private apply(outputs: SeatOutput[]): void {
    for (const o of outputs) {
      if (o.type === 'ignored') {
        this.shell.ignored(o.msg, o.reason);
      } else if (o.type === 'role') {
        this.announceRole(o.reason);
      } else {
        const endpoint = o.to === this.cfg.peer?.id ? this.cfg.peer.endpoint : this.core.endpointOf(o.to);
        if (endpoint === undefined) this.shell.drop('unknown_peer');
        else this.shell.send(o.to, endpoint, o.msg);
      }
    }
    this.watchMembers();
  }

  /** Fast crash detection: the kernel closes a killed member's sockets, and ZeroMQ tells us at once. */
  private watchMembers(): void {
    const lost = this.core.memberConnectionLost?.bind(this.core);
    if (!lost) return;
    for (const m of this.core.clientList()) {
      if (this.watched.has(m.endpoint)) continue;
      this.watched.add(m.endpoint);
      this.shell.transport.watch(m.endpoint, () => {
        const id = this.core.clientList().find((c) => c.endpoint === m.endpoint)?.id;
        if (id) this.apply(lost(id, performance.now()));
      });
    }
  }
}
