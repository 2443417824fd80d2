// The Electron main-process glue under plain Node: fake ipcMain / dialog / fs and a
// tiny stand-in service. Tests routing and validation of the glue, not the cluster.
import { describe, expect, it } from 'vitest';
import { CommandSchema, type CommandReply, type ParsedCommand, type ServerPush } from '../../nodes/control/api.js';
import { CHANNELS } from '../../electron/channels.js';
import {
  registerIpc,
  safeCsvName,
  safeHistoryName,
  type DialogLike,
  type FsLike,
  type IpcEventLike,
  type IpcMainLike,
  type SaveDialogOptionsLike,
  type ServiceLike,
  type WebContentsLike,
} from '../../electron/ipc.js';

type Handler = (event: IpcEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** Like ipcRenderer.invoke: a throwing handler rejects the renderer's promise. */
  async invoke(channel: string, event: IpcEventLike, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    return h(event, ...args);
  }
}

class FakeWebContents implements WebContentsLike {
  sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  private onDestroyed: (() => void)[] = [];
  constructor(readonly id: number) {}
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  once(_event: 'destroyed', listener: () => void): void {
    this.onDestroyed.push(listener);
  }
  destroy(): void {
    this.destroyed = true;
    for (const l of this.onDestroyed) l();
  }
  pushes(): ServerPush[] {
    return this.sent.filter((s) => s.channel === CHANNELS.push).map((s) => s.args[0] as ServerPush);
  }
}

class FakeService implements ServiceLike {
  received: ParsedCommand[] = [];
  listeners = new Set<(p: ServerPush) => void>();
  reply: (c: ParsedCommand) => Promise<CommandReply> = async () => ({ ok: true, value: 'done' });
  handle(command: ParsedCommand): Promise<CommandReply> {
    this.received.push(command);
    return this.reply(command);
  }
  subscribe(listener: (p: ServerPush) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(p: ServerPush): void {
    for (const l of this.listeners) l(p);
  }
}

class FakeDialog implements DialogLike {
  calls: SaveDialogOptionsLike[] = [];
  result: { canceled: boolean; filePath?: string } = { canceled: false, filePath: '/home/me/ivy-timings.csv' };
  async showSaveDialog(options: SaveDialogOptionsLike) {
    this.calls.push(options);
    return this.result;
  }
}

class FakeFs implements FsLike {
  files = new Map<string, string>();
  fail: Error | null = null;
  async writeFile(path: string, data: string): Promise<void> {
    if (this.fail) throw this.fail;
    this.files.set(path, data);
  }
}

const snapshot = (seq: number): ServerPush => ({
  type: 'snapshot',
  snapshot: {
    seq,
    t: 1,
    running: true,
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
});

function setup(opts: Parameters<typeof registerIpc>[4] = {}) {
  const ipc = new FakeIpcMain();
  const service = new FakeService();
  const dialog = new FakeDialog();
  const fs = new FakeFs();
  const reg = registerIpc(ipc, service, dialog, fs, opts);
  const wc = new FakeWebContents(1);
  const event: IpcEventLike = { sender: wc, senderFrame: { url: 'app://ivy/index.html' } };
  return { ipc, service, dialog, fs, reg, wc, event };
}

describe('registerIpc: commands', () => {
  it('registers exactly the four invoke channels and removes them on dispose', () => {
    const { ipc, reg, service } = setup();
    expect([...ipc.handlers.keys()].sort()).toEqual([CHANNELS.command, CHANNELS.saveCsv, CHANNELS.saveHistory, CHANNELS.subscribe].sort());
    expect(service.listeners.size).toBe(1);
    reg.dispose();
    expect(ipc.handlers.size).toBe(0);
    expect(service.listeners.size).toBe(0);
  });

  it('routes a valid command to the service, with schema defaults applied', async () => {
    const { ipc, service, event } = setup();
    const reply = await ipc.invoke(CHANNELS.command, event, { cmd: 'startCluster', config: { clients: 3 } });
    expect(reply).toEqual({ ok: true, value: 'done' });
    expect(service.received).toHaveLength(1);
    // The service gets the parsed command (defaults filled in), not the raw input.
    expect(service.received[0]).toEqual(CommandSchema.parse({ cmd: 'startCluster', config: { clients: 3 } }));
    expect(service.received[0]).toMatchObject({ cmd: 'startCluster', config: { clients: 3 } });

    await ipc.invoke(CHANNELS.command, event, { cmd: 'startCluster' });
    expect(service.received[1]).toEqual(CommandSchema.parse({ cmd: 'startCluster' }));

    await ipc.invoke(CHANNELS.command, event, { cmd: 'killNode', id: 'm0' });
    expect(service.received[2]).toEqual({ cmd: 'killNode', id: 'm0' });
  });

  it('routes Check history and Export history for the live run and for one scenario', async () => {
    const { ipc, service, event } = setup();
    await ipc.invoke(CHANNELS.command, event, { cmd: 'checkHistory', source: { kind: 'live' } });
    await ipc.invoke(CHANNELS.command, event, { cmd: 'exportHistory', source: { kind: 'scenario', id: 's3' } });
    expect(service.received).toEqual([
      { cmd: 'checkHistory', source: { kind: 'live' } },
      { cmd: 'exportHistory', source: { kind: 'scenario', id: 's3', protocol: 'ivy' } },
    ]);
  });

  it.each([
    ['nothing', undefined],
    ['a string', 'killNode m0'],
    ['an array', [1, 2]],
    ['an unknown command', { cmd: 'rm -rf' }],
    ['a bad node id', { cmd: 'killNode', id: '../../etc' }],
    ['a missing node id', { cmd: 'rebootNode' }],
    ['a config out of range', { cmd: 'startCluster', config: { clients: 100000 } }],
    ['a wrongly typed field', { cmd: 'startCluster', config: { backup: 'yes' } }],
    ['a bad scenario', { cmd: 'runScenario', request: { scenarios: ['s1; drop'] } }],
    ['a history check without a source', { cmd: 'checkHistory' }],
    ['a history of an unknown kind', { cmd: 'checkHistory', source: { kind: 'file', path: '/etc/passwd' } }],
    ['a history export of a bad scenario id', { cmd: 'exportHistory', source: { kind: 'scenario', id: '../s1' } }],
    ['a history export with a path for a source', { cmd: 'exportHistory', source: '/tmp/h.jsonl' }],
    ['an unknown protocol', { cmd: 'startCluster', config: { protocol: 'paxos' } }],
    ['a protocol of the wrong type', { cmd: 'startCluster', config: { protocol: ['isis'] } }],
    ['an unknown scenario protocol', { cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['ivy', 'raft'] } }],
    ['a protocol listed twice', { cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['isis', 'isis'] } }],
    ['no protocol at all', { cmd: 'runScenario', request: { scenarios: ['s1'], protocols: [] } }],
    ['an unknown nemesis preset', { cmd: 'setNemesis', spec: { presets: ['isolate-everyone'] } }],
    ['a nemesis loss above 1', { cmd: 'setNemesis', spec: { rules: [{ from: ['c0'], to: ['m0'], loss: 1.01 }] } }],
    ['a negative nemesis delay', { cmd: 'setNemesis', spec: { rules: [{ from: ['primary'], to: ['backup'], delayMs: -1 }] } }],
    ['a nemesis rule on a bad node name', { cmd: 'setNemesis', spec: { rules: [{ from: ['../m0'], to: ['m1'], partition: true }] } }],
    ['a nemesis without a spec', { cmd: 'setNemesis' }],
  ])('answers %s with a clear error and never reaches the service', async (_what, raw) => {
    const { ipc, service, event } = setup();
    const reply = (await ipc.invoke(CHANNELS.command, event, raw)) as CommandReply;
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error).toMatch(/^invalid command: /);
    expect(service.received).toHaveLength(0);
  });

  it('routes a write-update start and a two-protocol scenario run with their protocols', async () => {
    const { ipc, service, event } = setup();
    await ipc.invoke(CHANNELS.command, event, { cmd: 'startCluster', config: { protocol: 'isis', clients: 3, backup: true } });
    await ipc.invoke(CHANNELS.command, event, { cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['ivy', 'isis'] } });
    await ipc.invoke(CHANNELS.command, event, { cmd: 'runScenario', request: { scenarios: ['s2'] } });
    expect(service.received[0]).toMatchObject({ cmd: 'startCluster', config: { protocol: 'isis', clients: 3, backup: true } });
    expect(service.received[1]).toMatchObject({ cmd: 'runScenario', request: { scenarios: ['s1'], protocols: ['ivy', 'isis'] } });
    // A request from an older UI (no protocols) runs IVY, as it always did.
    expect(service.received[2]).toMatchObject({ cmd: 'runScenario', request: { scenarios: ['s2'], protocols: ['ivy'] } });
  });

  it('names the offending protocol field in the error', async () => {
    const { ipc, event } = setup();
    const reply = (await ipc.invoke(CHANNELS.command, event, { cmd: 'startCluster', config: { protocol: 'isis2' } })) as CommandReply;
    expect(reply).toEqual({ ok: false, error: expect.stringContaining('config.protocol') });
  });

  it('routes nemesis presets, rules and heal all, and names a bad rule field', async () => {
    const { ipc, service, event } = setup();
    await ipc.invoke(CHANNELS.command, event, { cmd: 'setNemesis', spec: { presets: ['isolate-primary-backup'] } });
    await ipc.invoke(CHANNELS.command, event, { cmd: 'setNemesis', spec: { rules: [{ from: ['c0'], to: ['others'], delayMs: 20 }] } });
    await ipc.invoke(CHANNELS.command, event, { cmd: 'healAll' });
    expect(service.received).toEqual([
      { cmd: 'setNemesis', spec: { presets: ['isolate-primary-backup'], rules: [] } },
      { cmd: 'setNemesis', spec: { presets: [], rules: [{ from: ['c0'], to: ['others'], symmetric: true, partition: false, loss: 0, dup: 0, delayMs: 20, jitterMs: 0 }] } },
      { cmd: 'healAll' },
    ]);
    const reply = (await ipc.invoke(CHANNELS.command, event, { cmd: 'setNemesis', spec: { rules: [{ from: ['c0'], to: ['m0'], dup: 7 }] } })) as CommandReply;
    expect(reply).toEqual({ ok: false, error: expect.stringMatching(/spec\.rules\.0\.dup: a probability must be in \[0, 1\]/) });
  });

  it('names the offending field in the error', async () => {
    const { ipc, event } = setup();
    const reply = (await ipc.invoke(CHANNELS.command, event, { cmd: 'killNode', id: 'x9' })) as CommandReply;
    expect(reply).toEqual({ ok: false, error: expect.stringContaining('id: node id must look like m0 or c12') });
  });

  it('turns a throwing or rejecting service into an error reply, not a rejected invoke', async () => {
    const { ipc, service, event } = setup();
    service.reply = async () => {
      throw new Error('supervisor exploded');
    };
    await expect(ipc.invoke(CHANNELS.command, event, { cmd: 'stopCluster' })).resolves.toEqual({ ok: false, error: 'supervisor exploded' });
    service.reply = () => {
      throw new Error('sync throw');
    };
    await expect(ipc.invoke(CHANNELS.command, event, { cmd: 'stopCluster' })).resolves.toEqual({ ok: false, error: 'sync throw' });
  });

  it('passes the service error replies through unchanged', async () => {
    const { ipc, service, event } = setup();
    service.reply = async () => ({ ok: false, error: 'no node c99' });
    await expect(ipc.invoke(CHANNELS.command, event, { cmd: 'killNode', id: 'c99' })).resolves.toEqual({ ok: false, error: 'no node c99' });
  });

  it('rejects messages from untrusted frames', async () => {
    const { ipc, service, wc } = setup({ isTrustedSender: (e) => (e.senderFrame?.url ?? '').startsWith('app://ivy/') });
    const evil: IpcEventLike = { sender: wc, senderFrame: { url: 'https://evil.example/' } };
    await expect(ipc.invoke(CHANNELS.command, evil, { cmd: 'stopCluster' })).resolves.toEqual({ ok: false, error: 'untrusted sender' });
    await expect(ipc.invoke(CHANNELS.subscribe, evil)).resolves.toEqual({ ok: false, error: 'untrusted sender' });
    await expect(ipc.invoke(CHANNELS.saveCsv, evil, { csv: 'a', name: 'x.csv' })).resolves.toEqual({ ok: false, error: 'untrusted sender' });
    await expect(ipc.invoke(CHANNELS.saveHistory, evil, { jsonl: 'a', name: 'h.jsonl' })).resolves.toEqual({ ok: false, error: 'untrusted sender' });
    expect(service.received).toHaveLength(0);
  });
});

describe('registerIpc: pushes', () => {
  it('forwards pushes only to subscribed renderers', async () => {
    const { ipc, service, event, wc } = setup();
    const other = new FakeWebContents(2);
    service.emit(snapshot(1));
    expect(wc.sent).toHaveLength(0);
    await ipc.invoke(CHANNELS.subscribe, event);
    // Catch-up: the latest snapshot arrives at once.
    expect(wc.pushes()).toEqual([snapshot(1)]);
    service.emit({ type: 'event', event: { t: 2, level: 'warn', kind: 'kill', node: 'm0', message: 'm0 killed' } });
    expect(wc.pushes()).toHaveLength(2);
    expect(other.sent).toHaveLength(0);
  });

  it('subscribing twice does not duplicate pushes', async () => {
    const { ipc, service, event, wc, reg } = setup();
    await ipc.invoke(CHANNELS.subscribe, event);
    await ipc.invoke(CHANNELS.subscribe, event);
    expect(reg.subscriberCount()).toBe(1);
    wc.sent = [];
    service.emit(snapshot(5));
    expect(wc.pushes()).toEqual([snapshot(5)]);
  });

  it('replays the last scenario state and recent events to a late subscriber', async () => {
    const { ipc, service, event, wc } = setup();
    service.emit({ type: 'event', event: { t: 1, level: 'info', kind: 'cluster', message: 'ready' } });
    service.emit({ type: 'scenarioProgress', progress: { scenario: 's1', index: 0, of: 1, trial: 1, trials: 5, message: '' } });
    service.emit({ type: 'scenarioResult', results: [], csv: 'x', linearizable: true });
    service.emit(snapshot(3));
    await ipc.invoke(CHANNELS.subscribe, event);
    expect(wc.pushes().map((p) => p.type)).toEqual(['event', 'scenarioResult', 'snapshot']);
  });

  it('stops sending to a destroyed window and survives one that throws', async () => {
    const { ipc, service, event, wc, reg } = setup();
    await ipc.invoke(CHANNELS.subscribe, event);
    const b = new FakeWebContents(2);
    await ipc.invoke(CHANNELS.subscribe, { sender: b, senderFrame: { url: 'app://ivy/' } });
    expect(reg.subscriberCount()).toBe(2);
    wc.destroy();
    expect(reg.subscriberCount()).toBe(1);
    b.destroyed = true; // destroyed without the event having fired yet
    expect(() => service.emit(snapshot(9))).not.toThrow();
    expect(reg.subscriberCount()).toBe(0);
  });
});

describe('registerIpc: saveCsv', () => {
  it('asks where to save and writes the file', async () => {
    const { ipc, dialog, fs, event } = setup({ defaultDir: '/home/me/Documents' });
    const reply = await ipc.invoke(CHANNELS.saveCsv, event, { csv: 'scenario,trial\ns1,1\n', name: 'ivy-timings.csv' });
    expect(reply).toEqual({ ok: true, value: '/home/me/ivy-timings.csv' });
    expect(fs.files.get('/home/me/ivy-timings.csv')).toBe('scenario,trial\ns1,1\n');
    expect(dialog.calls[0]?.defaultPath).toBe('/home/me/Documents/ivy-timings.csv');
    expect(dialog.calls[0]?.filters).toEqual([{ name: 'CSV', extensions: ['csv'] }]);
  });

  it('returns null when the user cancels, writing nothing', async () => {
    const { ipc, dialog, fs, event } = setup();
    dialog.result = { canceled: true };
    await expect(ipc.invoke(CHANNELS.saveCsv, event, { csv: 'a', name: 'a.csv' })).resolves.toEqual({ ok: true, value: null });
    expect(fs.files.size).toBe(0);
  });

  it('never lets the suggested name choose a folder', async () => {
    const { ipc, dialog, event } = setup({ defaultDir: '/docs' });
    await ipc.invoke(CHANNELS.saveCsv, event, { csv: 'a', name: '../../../etc/passwd' });
    expect(dialog.calls[0]?.defaultPath).toBe('/docs/passwd.csv');
    expect(safeCsvName('..\\..\\x.csv')).toBe('x.csv');
    expect(safeCsvName('')).toBe('ivy-timings.csv');
    expect(safeCsvName('.hidden')).toBe('hidden.csv');
    expect(safeCsvName('a<b>|c.CSV')).toBe('a_b__c.CSV');
  });

  it.each([
    ['nothing', undefined],
    ['no csv', { name: 'a.csv' }],
    ['a non-string csv', { csv: 42, name: 'a.csv' }],
    ['an empty name', { csv: 'a', name: '' }],
  ])('rejects %s with a clear error', async (_what, raw) => {
    const { ipc, dialog, event } = setup();
    const reply = (await ipc.invoke(CHANNELS.saveCsv, event, raw)) as CommandReply;
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error).toMatch(/^invalid save request: /);
    expect(dialog.calls).toHaveLength(0);
  });

  it('reports a failed write', async () => {
    const { ipc, fs, event } = setup();
    fs.fail = new Error('EACCES: permission denied');
    await expect(ipc.invoke(CHANNELS.saveCsv, event, { csv: 'a', name: 'a.csv' })).resolves.toEqual({
      ok: false,
      error: 'could not save the CSV: EACCES: permission denied',
    });
  });
});

describe('registerIpc: saveHistory', () => {
  const line = '{"client":"c0","op":"write","page":0,"value":"c0:1","start":1,"end":2,"outcome":"ok","fault":true}\n';

  it('asks where to save with a JSON Lines filter and writes the file', async () => {
    const { ipc, dialog, fs, event } = setup({ defaultDir: '/home/me/Documents' });
    dialog.result = { canceled: false, filePath: '/home/me/h.jsonl' };
    const reply = await ipc.invoke(CHANNELS.saveHistory, event, { jsonl: line, name: 'ivy-history-s1.jsonl' });
    expect(reply).toEqual({ ok: true, value: '/home/me/h.jsonl' });
    expect(fs.files.get('/home/me/h.jsonl')).toBe(line);
    expect(dialog.calls[0]?.defaultPath).toBe('/home/me/Documents/ivy-history-s1.jsonl');
    expect(dialog.calls[0]?.filters).toEqual([{ name: 'History (JSON Lines)', extensions: ['jsonl'] }]);
  });

  it('returns null when the user cancels, writing nothing', async () => {
    const { ipc, dialog, fs, event } = setup();
    dialog.result = { canceled: true };
    await expect(ipc.invoke(CHANNELS.saveHistory, event, { jsonl: line, name: 'h.jsonl' })).resolves.toEqual({ ok: true, value: null });
    expect(fs.files.size).toBe(0);
  });

  it('never lets the suggested name choose a folder or another extension', async () => {
    const { ipc, dialog, event } = setup({ defaultDir: '/docs' });
    await ipc.invoke(CHANNELS.saveHistory, event, { jsonl: line, name: '../../.bashrc' });
    expect(dialog.calls[0]?.defaultPath).toBe('/docs/bashrc.jsonl');
    expect(safeHistoryName('')).toBe('ivy-history.jsonl');
    expect(safeHistoryName('C:\\Windows\\h.exe')).toBe('h.exe.jsonl');
  });

  it.each([
    ['nothing', undefined],
    ['no history', { name: 'h.jsonl' }],
    ['a CSV request on the history channel', { csv: 'a', name: 'h.jsonl' }],
    ['a non-string history', { jsonl: ['a'], name: 'h.jsonl' }],
    ['a name too long', { jsonl: 'a', name: 'x'.repeat(300) }],
  ])('rejects %s with a clear error', async (_what, raw) => {
    const { ipc, dialog, event } = setup();
    const reply = (await ipc.invoke(CHANNELS.saveHistory, event, raw)) as CommandReply;
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error).toMatch(/^invalid save request: /);
    expect(dialog.calls).toHaveLength(0);
  });

  it('reports a failed write', async () => {
    const { ipc, fs, event } = setup();
    fs.fail = new Error('ENOSPC: no space left on device');
    await expect(ipc.invoke(CHANNELS.saveHistory, event, { jsonl: line, name: 'h.jsonl' })).resolves.toEqual({
      ok: false,
      error: 'could not save the history: ENOSPC: no space left on device',
    });
  });
});
