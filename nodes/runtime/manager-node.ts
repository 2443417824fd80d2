// The manager process: a ManagerCore behind ZeroMQ, with its record cache and client
// list reported to the supervisor.
import { ManagerCore, type ManagerOutput } from '../core/index.js';
import { encode, type Message } from '../protocol/index.js';
import type { ManagerNodeConfig } from './config.js';
import { NodeShell } from './node-shell.js';

export class ManagerNode {
  private readonly core: ManagerCore;
  private readonly shell: NodeShell;

  constructor(private readonly cfg: ManagerNodeConfig) {
    this.core = new ManagerCore({ id: cfg.id, epoch: cfg.epoch, pages: cfg.pages });
    this.shell = new NodeShell(cfg.id, cfg.endpoint, (msg) => this.onMessage(msg));
  }

  async start(): Promise<void> {
    this.shell.installSignalHandlers();
    await this.shell.transport.bind();
    this.shell.onControl(() => {
      /* managers take no workload or op commands */
    });
    this.shell.toSupervisor({ type: 'ready', id: this.cfg.id, pid: process.pid, endpoint: this.cfg.endpoint });
    this.shell.startTelemetry(this.cfg.telemetryMs, () => ({
      type: 'telemetry',
      id: this.cfg.id,
      epoch: this.cfg.epoch,
      rssBytes: process.memoryUsage.rss(),
      dropped: { ...this.shell.dropped, send_dropped: this.shell.transport.stats.sendDropped },
      counters: { ...this.core.counters },
      records: this.core.recordCache(),
      clientList: this.core.clientList(),
    }));
  }

  private onMessage(msg: Message): void {
    this.apply(this.core.receive(msg));
  }

  private apply(outputs: ManagerOutput[]): void {
    for (const o of outputs) {
      if (o.type === 'ignored') {
        this.shell.drop('ignored');
        continue;
      }
      const endpoint = this.core.endpointOf(o.to);
      if (endpoint === undefined) this.shell.drop('unknown_peer');
      else this.shell.transport.send(endpoint, encode(o.msg));
    }
  }
}
