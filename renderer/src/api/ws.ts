// ClusterApi over the WebSocket of `ivy-cluster serve`. The page is served at
// http://127.0.0.1:PORT/?token=T and talks to ws://127.0.0.1:PORT/ws?token=T.
// Requests are `{ id, command }`, replies `{ id, reply }`; every other frame is a
// ServerPush. Every incoming frame is validated; the socket reconnects with backoff.
import type { ClusterApi, Command, CommandReply, ServerPush } from '../../../nodes/control/api.js';
import type { ConnectionStatus, StatusSource } from './connection.js';
import { parseServerMessage } from './wire.js';

interface Pending {
  resolve: (reply: CommandReply) => void;
}

interface Queued {
  command: Command;
  resolve: (reply: CommandReply) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** How the server's snapshot pushes begin (JSON.stringify of `{ type: 'snapshot', … }`). */
const SNAPSHOT_PREFIX = '{"type":"snapshot"';

export interface WsApiOptions {
  /** For tests: a WebSocket constructor. */
  WebSocketImpl?: typeof WebSocket;
  /** How long a command waits for a connection before failing. */
  connectWaitMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Derives the WebSocket URL from the page location; null when the token is missing. */
export function wsUrlFromLocation(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string | null {
  const token = new URLSearchParams(loc.search).get('token');
  if (!token) return null;
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/ws?token=${encodeURIComponent(token)}`;
}

export class WsClusterApi implements ClusterApi, StatusSource {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Queued[] = [];
  private readonly listeners = new Set<(push: ServerPush) => void>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private backoff: number;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  /** The newest snapshot not parsed yet (see onmessage). */
  private latestSnapshot: string | null = null;
  private everOpened = false;
  status: ConnectionStatus = { state: 'connecting', message: 'connecting…' };
  private readonly WS: typeof WebSocket;
  private readonly connectWaitMs: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;

  constructor(
    private readonly url: string,
    opts: WsApiOptions = {},
  ) {
    this.WS = opts.WebSocketImpl ?? WebSocket;
    this.connectWaitMs = opts.connectWaitMs ?? 10_000;
    this.minBackoff = opts.minBackoffMs ?? 250;
    this.maxBackoff = opts.maxBackoffMs ?? 5_000;
    this.backoff = this.minBackoff;
    this.open();
  }

  send(command: Command): Promise<CommandReply> {
    return new Promise((resolve) => {
      if (this.disposed) {
        resolve({ ok: false, error: 'connection closed' });
        return;
      }
      if (this.ws && this.ws.readyState === this.WS.OPEN) {
        this.transmit(command, resolve);
        return;
      }
      const timer = setTimeout(() => {
        this.queue = this.queue.filter((q) => q.timer !== timer);
        resolve({ ok: false, error: `not connected to the cluster server (${this.status.message})` });
      }, this.connectWaitMs);
      this.queue.push({ command, resolve, timer });
    });
  }

  subscribe(listener: (push: ServerPush) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The browser has no save dialog: download the file and report its name. */
  async saveCsv(csv: string, suggestedName: string): Promise<string | null> {
    return download(csv, 'text/csv;charset=utf-8', suggestedName);
  }

  async saveHistory(jsonl: string, suggestedName: string): Promise<string | null> {
    return download(jsonl, 'application/x-ndjson;charset=utf-8', suggestedName);
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  close(): void {
    this.disposed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ws?.close(1000, 'closed by the page');
    this.failAll('connection closed');
  }

  // --- internals -----------------------------------------------------------------

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  private transmit(command: Command, resolve: (reply: CommandReply) => void): void {
    const id = this.nextId++;
    this.pending.set(id, { resolve });
    try {
      this.ws?.send(JSON.stringify({ id, command }));
    } catch (err) {
      this.pending.delete(id);
      resolve({ ok: false, error: `could not send: ${(err as Error).message}` });
    }
  }

  private open(): void {
    if (this.disposed) return;
    this.setStatus({
      state: 'connecting',
      message: this.everOpened ? 'reconnecting…' : 'connecting…',
    });
    let ws: WebSocket;
    try {
      ws = new this.WS(this.url);
    } catch (err) {
      this.setStatus({ state: 'closed', message: `cannot connect: ${(err as Error).message}` });
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.everOpened = true;
      this.backoff = this.minBackoff;
      this.setStatus({ state: 'open', message: 'connected' });
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) {
        clearTimeout(q.timer);
        this.transmit(q.command, q.resolve);
      }
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') {
        console.warn('ivy: ignored a binary frame from the server');
        return;
      }
      // Snapshots replace each other: when the page falls behind, only the latest is parsed and
      // validated (the expensive part), so a slow moment never turns into a backlog of old ones.
      if (ev.data.startsWith(SNAPSHOT_PREFIX)) {
        const first = this.latestSnapshot === null;
        this.latestSnapshot = ev.data;
        if (first)
          setTimeout(() => {
            const text = this.latestSnapshot;
            this.latestSnapshot = null;
            if (text !== null) this.handle(text);
          }, 0);
        return;
      }
      this.handle(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failAll('connection to the cluster server lost; the command may or may not have run');
      if (this.disposed) return;
      const why = this.everOpened
        ? `connection lost (code ${ev.code}); retrying`
        : 'cannot reach the cluster server (is `ivy-cluster serve` running, and is the token in the URL current?); retrying';
      this.setStatus({ state: 'closed', message: why });
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and carries the handling.
    };
  }

  /** One message from the server: a reply to a command, or a push for the listeners. */
  private handle(text: string): void {
    const msg = parseServerMessage(text);
    if (msg.kind === 'invalid') {
      console.warn('ivy: ignored an invalid frame from the server:', msg.error);
      return;
    }
    if (msg.kind === 'reply') {
      if (typeof msg.id !== 'number') {
        // A reply to something the server could not read at all: nothing waits for it.
        if (!msg.reply.ok) console.warn('ivy: server error:', msg.reply.error);
        return;
      }
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg.reply);
      }
      return;
    }
    for (const l of this.listeners) {
      try {
        l(msg.push);
      } catch (err) {
        console.error('ivy: push listener failed', err);
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.disposed || this.reconnectTimer) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.maxBackoff, this.backoff * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }

  private failAll(error: string): void {
    for (const p of this.pending.values()) p.resolve({ ok: false, error });
    this.pending.clear();
    if (this.disposed) {
      for (const q of this.queue) {
        clearTimeout(q.timer);
        q.resolve({ ok: false, error });
      }
      this.queue = [];
    }
  }
}

function download(text: string, type: string, suggestedName: string): string {
  const blob = new Blob([text], { type });
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = suggestedName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return suggestedName;
}
