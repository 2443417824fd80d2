// `ivy-cluster serve` transport: token, validation, routing, pushes, static files.
// A tiny stand-in service is enough: this tests the transport, not the cluster.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { CommandSchema, type CommandReply, type ParsedCommand, type ServerPush } from '../../nodes/control/api.js';
import { CONTENT_SECURITY_POLICY, startServer, type CommandService, type RunningServer } from '../../nodes/control/serve.js';
import { WsClusterApi, wsUrlFromLocation } from '../../renderer/src/api/ws.js';

class StandInService implements CommandService {
  received: ParsedCommand[] = [];
  listeners = new Set<(p: ServerPush) => void>();
  reply: (c: ParsedCommand) => Promise<CommandReply> = async (c) => ({ ok: true, value: `did ${c.cmd}` });
  handle(command: ParsedCommand): Promise<CommandReply> {
    this.received.push(command);
    return this.reply(command);
  }
  subscribe(listener: (p: ServerPush) => void): () => void {
    this.listeners.add(listener);
    listener(snapshot(1)); // like the real service: the current picture at once
    return () => this.listeners.delete(listener);
  }
  emit(p: ServerPush): void {
    for (const l of this.listeners) l(p);
  }
}

function snapshot(seq: number): ServerPush {
  return {
    type: 'snapshot',
    snapshot: {
      seq,
      t: 1,
      running: false,
      config: null,
      workload: null,
      nodes: [],
      clients: [],
      records: {},
      pageTables: {},
      histogram: [],
      series: [],
      marks: [],
    },
  };
}

/** A WebSocket client that queues every message so tests can await them in order. */
class Client {
  readonly ws: WebSocket;
  private queue: unknown[] = [];
  private waiters: ((v: unknown) => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number }>;
  constructor(url: string, opts?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, opts);
    this.ws.on('message', (data) => {
      const v: unknown = JSON.parse(String(data));
      const w = this.waiters.shift();
      if (w) w(v);
      else this.queue.push(v);
    });
    this.opened = new Promise((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
    });
    this.closed = new Promise((res) => this.ws.once('close', (code) => res({ code })));
  }
  next(): Promise<unknown> {
    const v = this.queue.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no message within 2 s')), 2000);
      this.waiters.push((x) => {
        clearTimeout(t);
        res(x);
      });
    });
  }
  /** Next message that is a reply (skipping pushes). */
  async reply(): Promise<{ id: unknown; reply: CommandReply }> {
    for (;;) {
      const m = (await this.next()) as Record<string, unknown>;
      if ('reply' in m) return m as { id: unknown; reply: CommandReply };
    }
  }
  send(v: unknown): void {
    this.ws.send(typeof v === 'string' ? v : JSON.stringify(v));
  }
  close(): void {
    this.ws.close();
  }
}

/** Status code of a failed WebSocket handshake. */
function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('connected without being allowed to'));
    });
    ws.on('error', () => {});
  });
}

function httpGet(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let service: StandInService;
let server: RunningServer;
let wsUrl: string;
let base: string;
const clients: Client[] = [];
const connect = async (url = wsUrl, opts?: WebSocket.ClientOptions) => {
  const c = new Client(url, opts);
  clients.push(c);
  await c.opened;
  return c;
};

beforeEach(async () => {
  base = mkdtempSync(join(tmpdir(), 'ivy-serve-'));
  const dir = join(base, 'ui');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Ivy Cluster</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  service = new StandInService();
  server = await startServer({ port: 0, service, staticDir: dir });
  wsUrl = `ws://127.0.0.1:${server.port}/ws?token=${server.token}`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server.close();
  rmSync(base, { recursive: true, force: true });
});

describe('startServer', () => {
  it('binds 127.0.0.1 and prints a URL carrying a fresh 32-byte token', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    const other = await startServer({ port: 0, service: new StandInService(), staticDir: tmpdir() });
    expect(other.token).not.toBe(server.token);
    await other.close();
  });

  it('serves the UI with the Content-Security-Policy', async () => {
    const res = await httpGet(server.port, '/?token=abc');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>Ivy Cluster</title>');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const js = await httpGet(server.port, '/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('never serves files outside the UI folder, and only GET/HEAD', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const res = await httpGet(server.port, path);
      expect([400, 404]).toContain(res.status);
      expect(res.body).not.toContain('secret');
    }
    expect((await httpGet(server.port, '/nope.js')).status).toBe(404);
    expect((await httpGet(server.port, '/', 'POST')).status).toBe(405);
  });
});

describe('WebSocket access', () => {
  it('rejects a connection without the token with 401', async () => {
    expect(await handshakeStatus(`ws://127.0.0.1:${server.port}/ws`)).toBe(401);
  });

  it('rejects a wrong token, even one of the right length, with 401', async () => {
    expect(await handshakeStatus(`ws://127.0.0.1:${server.port}/ws?token=nope`)).toBe(401);
    const wrong = server.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    expect(await handshakeStatus(`ws://127.0.0.1:${server.port}/ws?token=${wrong}`)).toBe(401);
  });

  it('rejects other paths and foreign origins', async () => {
    expect(await handshakeStatus(`ws://127.0.0.1:${server.port}/other?token=${server.token}`)).toBe(404);
    expect(await handshakeStatus(wsUrl, { Origin: 'https://evil.example' })).toBe(403);
    const ok = await connect(wsUrl, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
    expect(ok.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('accepts the token and catches the view up with the latest snapshot', async () => {
    service.emit(snapshot(7));
    const c = await connect();
    expect(await c.next()).toEqual(snapshot(7));
  });
});

describe('WebSocket messages', () => {
  it('routes a valid command to the service and answers with its id', async () => {
    const c = await connect();
    c.send({ id: 1, command: { cmd: 'killNode', id: 'c2' } });
    expect(await c.reply()).toEqual({ id: 1, reply: { ok: true, value: 'did killNode' } });
    c.send({ id: 'abc', command: { cmd: 'startCluster', config: { clients: 2 } } });
    expect(await c.reply()).toEqual({ id: 'abc', reply: { ok: true, value: 'did startCluster' } });
    expect(service.received).toEqual([
      { cmd: 'killNode', id: 'c2' },
      CommandSchema.parse({ cmd: 'startCluster', config: { clients: 2 } }),
    ]);
  });

  it('routes Check history and Export history, and refuses malformed history sources before the service', async () => {
    const c = await connect();
    c.send({ id: 1, command: { cmd: 'checkHistory', source: { kind: 'live' } } });
    expect(await c.reply()).toEqual({ id: 1, reply: { ok: true, value: 'did checkHistory' } });
    c.send({ id: 2, command: { cmd: 'exportHistory', source: { kind: 'scenario', id: 's1' } } });
    expect(await c.reply()).toEqual({ id: 2, reply: { ok: true, value: 'did exportHistory' } });
    for (const [id, command] of [
      [3, { cmd: 'checkHistory' }],
      [4, { cmd: 'checkHistory', source: { kind: 'file', path: '/etc/passwd' } }],
      [5, { cmd: 'exportHistory', source: { kind: 'scenario', id: 's1/../../x' } }],
    ] as const) {
      c.send({ id, command });
      const r = (await c.reply()) as { id: number; reply: CommandReply };
      expect(r.id).toBe(id);
      expect(r.reply.ok).toBe(false);
      if (!r.reply.ok) expect(r.reply.error).toMatch(/^invalid command: .*source/);
    }
    expect(service.received).toEqual([
      { cmd: 'checkHistory', source: { kind: 'live' } },
      { cmd: 'exportHistory', source: { kind: 'scenario', id: 's1', protocol: 'ivy' } },
    ]);
  });

  it('routes nemesis commands and refuses bad rules before the service, naming the field', async () => {
    const c = await connect();
    c.send({ id: 1, command: { cmd: 'setNemesis', spec: { presets: ['lossy', 'slow-client'] } } });
    expect((await c.reply()).reply.ok).toBe(true);
    c.send({ id: 2, command: { cmd: 'healAll' } });
    expect((await c.reply()).reply.ok).toBe(true);
    for (const [id, spec, field] of [
      [3, { presets: ['split-brain'] }, /spec\.presets\.0: unknown nemesis preset "split-brain"/],
      [4, { rules: [{ from: ['c0'], to: ['m0'], loss: -0.5 }] }, /spec\.rules\.0\.loss: a probability must be in \[0, 1\]/],
      [5, { rules: [{ from: ['c0'], to: ['m0'], jitterMs: -2 }] }, /spec\.rules\.0\.jitterMs: a delay cannot be negative/],
      [6, { rules: [{ from: ['c0; rm'], to: ['m0'], partition: true }] }, /spec\.rules\.0\.from\.0/],
      [7, 'isolate-primary', /spec/],
    ] as const) {
      c.send({ id, command: { cmd: 'setNemesis', spec } });
      const r = (await c.reply()) as { id: number; reply: CommandReply };
      expect(r.id).toBe(id);
      expect(r.reply.ok).toBe(false);
      if (!r.reply.ok) expect(r.reply.error).toMatch(field);
    }
    expect(service.received).toEqual([CommandSchema.parse({ cmd: 'setNemesis', spec: { presets: ['lossy', 'slow-client'] } }), { cmd: 'healAll' }]);
  });

  it('routes a write-update start and a two-protocol scenario request', async () => {
    const c = await connect();
    c.send({ id: 5, command: { cmd: 'startCluster', config: { protocol: 'isis', clients: 2 } } });
    expect((await c.reply()).reply.ok).toBe(true);
    c.send({ id: 6, command: { cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['ivy', 'isis'] } } });
    expect((await c.reply()).reply.ok).toBe(true);
    expect(service.received).toEqual([
      CommandSchema.parse({ cmd: 'startCluster', config: { protocol: 'isis', clients: 2 } }),
      CommandSchema.parse({ cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['ivy', 'isis'] } }),
    ]);
  });

  it('answers bad JSON with a clear error and keeps the connection', async () => {
    const c = await connect();
    c.send('{"id": 1, "command": ');
    const r = await c.reply();
    expect(r.id).toBeNull();
    expect(r.reply.ok).toBe(false);
    if (!r.reply.ok) expect(r.reply.error).toMatch(/^invalid JSON: /);
    c.send({ id: 2, command: { cmd: 'stopCluster' } });
    expect(await c.reply()).toEqual({ id: 2, reply: { ok: true, value: 'did stopCluster' } });
  });

  it.each([
    ['a bare command', { cmd: 'stopCluster' }, null],
    ['a missing command', { id: 3 }, 3],
    ['an object id', { id: { x: 1 }, command: { cmd: 'stopCluster' } }, null],
    ['null', null, null],
    ['a number', 42, null],
  ])('rejects %s as an invalid request', async (_what, msg, id) => {
    const c = await connect();
    c.send(msg);
    const r = await c.reply();
    expect(r.id).toBe(id);
    expect(r.reply.ok).toBe(false);
    if (!r.reply.ok && id === null) expect(r.reply.error).toMatch(/^invalid request: expected \{"id"/);
    expect(service.received).toHaveLength(0);
  });

  it.each([
    ['an unknown command', { cmd: 'formatDisk' }, /cmd/],
    ['a bad node id', { cmd: 'killNode', id: 'm0; rm -rf /' }, /id: node id must look like m0 or c12/],
    ['an out-of-range config', { cmd: 'startCluster', config: { clients: 0 } }, /config\.clients/],
    ['a bad workload', { cmd: 'setWorkload', workload: { readRatio: 2 } }, /workload\.readRatio/],
    ['an unknown protocol', { cmd: 'startCluster', config: { protocol: 'tmk' } }, /config\.protocol/],
    ['a bad scenario protocol list', { cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['isis', 'isis'] } }, /request\.protocols/],
  ])('rejects %s with an error naming the field', async (_what, command, pattern) => {
    const c = await connect();
    c.send({ id: 9, command });
    const r = await c.reply();
    expect(r.id).toBe(9);
    expect(r.reply.ok).toBe(false);
    if (!r.reply.ok) {
      expect(r.reply.error).toMatch(/^invalid command: /);
      expect(r.reply.error).toMatch(pattern);
    }
    expect(service.received).toHaveLength(0);
  });

  it('rejects binary frames', async () => {
    const c = await connect();
    c.ws.send(Buffer.from([1, 2, 3]));
    const r = await c.reply();
    expect(r.reply).toEqual({ ok: false, error: expect.stringContaining('binary frames are not accepted') });
  });

  it('turns a failing service into an error reply and stays up', async () => {
    const c = await connect();
    service.reply = async () => {
      throw new Error('no cluster is running');
    };
    c.send({ id: 5, command: { cmd: 'addClient' } });
    expect(await c.reply()).toEqual({ id: 5, reply: { ok: false, error: 'no cluster is running' } });
    service.reply = () => {
      throw new Error('sync');
    };
    c.send({ id: 6, command: { cmd: 'addClient' } });
    expect(await c.reply()).toEqual({ id: 6, reply: { ok: false, error: 'sync' } });
  });

  it('closes a connection that sends an oversized message, and keeps serving others', async () => {
    const a = await connect();
    const b = await connect();
    a.send({ id: 1, command: { cmd: 'stopCluster', pad: 'x'.repeat(2 * 1024 * 1024) } });
    expect((await a.closed).code).toBe(1009);
    b.send({ id: 2, command: { cmd: 'stopCluster' } });
    expect(await b.reply()).toEqual({ id: 2, reply: { ok: true, value: 'did stopCluster' } });
  });

  it('pushes every ServerPush to every connected client', async () => {
    const a = await connect();
    const b = await connect();
    await a.next(); // catch-up snapshot
    await b.next();
    const ev: ServerPush = { type: 'event', event: { t: 5, level: 'warn', kind: 'kill', node: 'm0', message: 'm0 killed' } };
    service.emit(ev);
    service.emit(snapshot(2));
    expect(await a.next()).toEqual(ev);
    expect(await a.next()).toEqual(snapshot(2));
    expect(await b.next()).toEqual(ev);
    expect(await b.next()).toEqual(snapshot(2));
  });

  it('close() disconnects clients and stops listening', async () => {
    const c = await connect();
    await server.close();
    expect((await c.closed).code).toBe(1001);
    expect(service.listeners.size).toBe(0);
    await expect(httpGet(server.port, '/')).rejects.toThrow();
  });
});

describe('the renderer WebSocket client against the server', () => {
  const fastWs = { WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket, minBackoffMs: 20, maxBackoffMs: 50, connectWaitMs: 3000 };

  it('derives the socket URL from the page URL and needs the token', () => {
    expect(wsUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:4000', search: '?token=abc' })).toBe('ws://127.0.0.1:4000/ws?token=abc');
    expect(wsUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:4000', search: '' })).toBeNull();
  });

  it('round-trips commands and delivers validated pushes', async () => {
    const api = new WsClusterApi(wsUrl, fastWs);
    const pushes: ServerPush[] = [];
    api.subscribe((p) => pushes.push(p));
    try {
      expect(await api.send({ cmd: 'killNode', id: 'c1' })).toEqual({ ok: true, value: 'did killNode' });
      expect(await api.send({ cmd: 'killNode', id: 'bogus' } as never)).toEqual({
        ok: false,
        error: expect.stringMatching(/^invalid command: id: /),
      });
      expect(api.status.state).toBe('open');
      // A push that breaks the contract is dropped; the next good one arrives.
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const broken = { type: 'snapshot', snapshot: { seq: 'x' } } as unknown as ServerPush;
      service.emit(broken);
      service.emit({ type: 'event', event: { t: 1, level: 'error', kind: 'kill', message: 'boom' } });
      await vi.waitFor(() => expect(pushes.some((p) => p.type === 'event')).toBe(true));
      expect(pushes.filter((p) => p.type === 'snapshot')).toEqual([snapshot(1)]);
      expect(warn).toHaveBeenCalledWith('ivy: ignored an invalid frame from the server:', expect.stringContaining('snapshot.seq'));
      warn.mockRestore();
      // NaN figures (nothing measured) arrive as null in JSON and are restored as NaN.
      service.emit({
        type: 'scenarioResult',
        csv: 'x',
        linearizable: null,
        results: [
          { id: 's1', name: 'baseline', trials: [], highAverageMs: Number.NaN, lowAverageMs: 1, averageMs: 1, p50Ms: 1, p99Ms: 1, failoverMs: [] },
        ],
      });
      await vi.waitFor(() => expect(pushes.some((p) => p.type === 'scenarioResult')).toBe(true));
      const res = pushes.find((p) => p.type === 'scenarioResult');
      expect(res?.type === 'scenarioResult' && Number.isNaN(res.results[0]?.highAverageMs)).toBe(true);
    } finally {
      api.close();
    }
  });

  it('reconnects after the server goes away and comes back', async () => {
    const api = new WsClusterApi(wsUrl, fastWs);
    const states: string[] = [];
    api.onStatus((s) => states.push(s.state));
    try {
      expect(await api.send({ cmd: 'stopCluster' })).toEqual({ ok: true, value: 'did stopCluster' });
      const { port, token } = server;
      await server.close();
      await vi.waitFor(() => expect(api.status.state).not.toBe('open'));
      // A command sent while disconnected waits for the connection…
      const pending = api.send({ cmd: 'addClient' });
      server = await startServer({ port, token, service, staticDir: tmpdir() });
      // …and goes through once it is back.
      expect(await pending).toEqual({ ok: true, value: 'did addClient' });
      expect(states).toContain('closed');
      expect(api.status.state).toBe('open');
    } finally {
      api.close();
    }
  });

  it('fails a command clearly when there is no server', async () => {
    const api = new WsClusterApi(`ws://127.0.0.1:${server.port}/ws?token=wrong`, { ...fastWs, connectWaitMs: 300 });
    try {
      const reply = await api.send({ cmd: 'stopCluster' });
      expect(reply.ok).toBe(false);
      if (!reply.ok) expect(reply.error).toMatch(/not connected to the cluster server/);
    } finally {
      api.close();
    }
  });
});
