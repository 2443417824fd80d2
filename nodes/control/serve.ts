// Browser mode: `ivy-cluster serve` serves the built renderer over HTTP and the
// ClusterApi over a WebSocket at /ws, for headless machines and end-to-end tests.
//
// Security: binds 127.0.0.1 by default; the WebSocket needs the per-run token (32
// random bytes, hex) in its query string and, when a browser sends an Origin, that
// origin must be this server; every incoming message is validated with zod and
// answered, bad input with a clear error; nothing a client sends can crash the server.
// Wire format: client -> server `{ id, command }`; server -> client `{ id, reply }`
// for every request and a bare ServerPush (`{ type, … }`) for everything pushed.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import { CommandSchema, type CommandReply, type ParsedCommand, type ServerPush } from './api.js';

/** The one Content-Security-Policy of the UI, for HTTP headers here and in Electron. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The part of the engine's ClusterService the transports need. */
export interface CommandService {
  handle(command: ParsedCommand): Promise<CommandReply>;
  subscribe(listener: (push: ServerPush) => void): () => void;
}

/**
 * Remembers what a view that connects late needs to catch up: the latest snapshot,
 * recent events and the state of the last scenario run (progress or results).
 */
export class PushCache {
  private snapshot: ServerPush | null = null;
  private scenario: ServerPush | null = null;
  private events: ServerPush[] = [];

  constructor(private readonly maxEvents = 200) {}

  record(push: ServerPush): void {
    switch (push.type) {
      case 'snapshot':
        this.snapshot = push;
        break;
      case 'event':
        this.events.push(push);
        if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
        break;
      case 'scenarioProgress':
      case 'scenarioResult':
        this.scenario = push;
        break;
    }
  }

  /** Pushes to replay to a new subscriber, oldest first. */
  replay(): ServerPush[] {
    const out: ServerPush[] = [...this.events];
    if (this.scenario) out.push(this.scenario);
    if (this.snapshot) out.push(this.snapshot);
    return out;
  }
}

/** Validates one command and routes it; never throws, always answers. */
export async function dispatchCommand(service: CommandService, raw: unknown): Promise<CommandReply> {
  const parsed = CommandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: `invalid command: ${formatZodError(parsed.error)}` };
  try {
    const reply = await service.handle(parsed.data);
    if (!reply || typeof reply !== 'object' || typeof (reply as { ok?: unknown }).ok !== 'boolean') {
      return { ok: false, error: 'internal error: the service gave no reply' };
    }
    return reply;
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export function formatZodError(err: z.ZodError): string {
  return err.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

const EnvelopeSchema = z.object({
  id: z.union([z.number().int().safe(), z.string().min(1).max(64)]),
  command: z.unknown(),
});

export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  service: CommandService;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** For tests; normally random per run. */
  token?: string;
  /** Largest accepted WebSocket message. */
  maxPayloadBytes?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  /** http://127.0.0.1:PORT/?token=T — open this in a browser. */
  url: string;
  token: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Snapshots are replaceable: a client this far behind skips them until it drains. */
const SNAPSHOT_BACKLOG_BYTES = 4 * 1024 * 1024;
/** A client this far behind is disconnected (it reconnects and catches up). */
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;
const MAX_IN_FLIGHT = 64;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(32).toString('hex');
  const tokenBuf = Buffer.from(token, 'utf8');
  const staticRoot = resolve(opts.staticDir);
  const log = opts.log ?? (() => {});
  const service = opts.service;
  const cache = new PushCache();
  let port = 0;

  const tokenMatches = (candidate: string | null): boolean => {
    if (!candidate) return false;
    const c = Buffer.from(candidate, 'utf8');
    return c.length === tokenBuf.length && timingSafeEqual(c, tokenBuf);
  };

  const allowedOrigins = (): Set<string> => {
    const hosts = new Set(['127.0.0.1', 'localhost', '[::1]', host.includes(':') ? `[${host}]` : host]);
    return new Set([...hosts].map((h) => `http://${h}:${port}`));
  };

  // --- static files -------------------------------------------------------------------

  const serveStatic = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'Bad Request');
    }
    if (pathname.includes('\0')) return send(400, 'Bad Request');
    if (pathname === '/ws') return send(426, 'Upgrade Required: this is the WebSocket endpoint');
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = resolve(staticRoot, `.${pathname}`);
    if (file !== staticRoot && !file.startsWith(staticRoot + sep)) return send(404, 'Not Found');
    let stat;
    try {
      stat = await fsp.stat(file);
    } catch {
      if (pathname === '/index.html') {
        return send(503, `The UI is not built (no ${join(staticRoot, 'index.html')}): run \`npm run build\` first.`);
      }
      return send(404, 'Not Found');
    }
    if (!stat.isFile()) return send(404, 'Not Found');
    const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': String(stat.size),
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const server = createServer((req, res) => {
    serveStatic(req, res).catch((err: unknown) => {
      log(`http error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    });
  });
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  // --- WebSocket --------------------------------------------------------------------------

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 1024 * 1024 });

  const rejectUpgrade = (socket: Duplex, status: number, text: string, body: string) => {
    socket.on('error', () => {});
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return rejectUpgrade(socket, 400, 'Bad Request', 'bad request URL');
    }
    if (url.pathname !== '/ws') return rejectUpgrade(socket, 404, 'Not Found', 'no WebSocket here; use /ws');
    if (!tokenMatches(url.searchParams.get('token'))) {
      log(`rejected a WebSocket without a valid token from ${(socket as Socket).remoteAddress ?? '?'}`);
      return rejectUpgrade(socket, 401, 'Unauthorized', 'a valid ?token= is required');
    }
    const origin = req.headers.origin;
    if (origin && !allowedOrigins().has(origin)) {
      return rejectUpgrade(socket, 403, 'Forbidden', `origin ${origin} not allowed`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const sendJson = (ws: WebSocket, value: unknown) => {
    if (ws.readyState !== ws.OPEN) return;
    try {
      ws.send(JSON.stringify(value));
    } catch (err) {
      log(`send failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  wss.on('connection', (ws: WebSocket) => {
    let inFlight = 0;
    ws.on('error', (err) => log(`websocket error: ${err.message}`));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        sendJson(ws, { id: null, reply: { ok: false, error: 'binary frames are not accepted; send JSON text' } });
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(rawToString(data));
      } catch (err) {
        sendJson(ws, { id: null, reply: { ok: false, error: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` } });
        return;
      }
      const env = EnvelopeSchema.safeParse(value);
      if (!env.success) {
        const id = isRecord(value) && (typeof value.id === 'number' || typeof value.id === 'string') ? value.id : null;
        sendJson(ws, {
          id,
          reply: {
            ok: false,
            error: `invalid request: expected {"id": number | string, "command": {"cmd": …}} (${formatZodError(env.error)})`,
          },
        });
        return;
      }
      const { id, command } = env.data;
      if (inFlight >= MAX_IN_FLIGHT) {
        sendJson(ws, { id, reply: { ok: false, error: `too many requests in flight (max ${MAX_IN_FLIGHT})` } });
        return;
      }
      inFlight++;
      void dispatchCommand(service, command).then((reply) => {
        inFlight--;
        sendJson(ws, { id, reply });
      });
    });
    // Catch up: latest snapshot, recent events, last scenario state.
    for (const push of cache.replay()) sendJson(ws, push);
  });

  const unsubscribe = service.subscribe((push: ServerPush) => {
    try {
      cache.record(push);
      if (wss.clients.size === 0) return;
      const text = JSON.stringify(push);
      for (const ws of wss.clients) {
        if (ws.readyState !== ws.OPEN) continue;
        if (ws.bufferedAmount > MAX_BACKLOG_BYTES) {
          ws.terminate();
          continue;
        }
        if (push.type === 'snapshot' && ws.bufferedAmount > SNAPSHOT_BACKLOG_BYTES) continue;
        ws.send(text);
      }
    } catch (err) {
      log(`push failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(opts.port, host, () => {
        server.off('error', rejectListen);
        resolveListen();
      });
    });
  } catch (err) {
    unsubscribe();
    wss.close();
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  server.on('error', (err) => log(`http server error: ${err.message}`));
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/?token=${token}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unsubscribe();
      // Polite close first; whoever has not answered within half a second is cut off.
      const open = [...wss.clients];
      await Promise.race([
        Promise.all(
          open.map((ws) => {
            if (ws.readyState === ws.CLOSED) return Promise.resolve();
            return new Promise<void>((r) => {
              ws.once('close', () => r());
              ws.close(1001, 'server shutting down');
            });
          }),
        ),
        new Promise<void>((r) => setTimeout(r, 500).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    })();
    return closing;
  };

  return { url, token, port, host, close };
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
