// Main-process glue between the renderer and the ClusterService. Deliberately free of
// any `electron` import: it takes ipcMain-, dialog- and fs-like objects so it can be
// tested under plain Node with fakes. Every incoming message is validated; bad input
// gets a clear `{ ok: false, error }`, never an exception across the bridge.
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { CommandReply, ParsedCommand, ServerPush } from '../nodes/control/api.js';
import { PushCache, dispatchCommand } from '../nodes/control/serve.js';
import { CHANNELS } from './channels.js';

export interface WebContentsLike {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
}

export interface IpcEventLike {
  sender: WebContentsLike;
  senderFrame?: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface SaveDialogOptionsLike {
  title?: string;
  defaultPath?: string;
  buttonLabel?: string;
  filters?: { name: string; extensions: string[] }[];
}

export interface DialogLike {
  showSaveDialog(options: SaveDialogOptionsLike): Promise<{ canceled: boolean; filePath?: string }>;
}

export interface FsLike {
  writeFile(path: string, data: string, encoding: 'utf8'): Promise<void>;
}

/** What the glue needs from the engine's ClusterService. */
export interface ServiceLike {
  handle(command: ParsedCommand): Promise<CommandReply>;
  subscribe(listener: (push: ServerPush) => void): () => void;
}

export interface IpcOptions {
  /** Reject messages from frames that are not our UI (e.g. a navigated-away page). */
  isTrustedSender?: (event: IpcEventLike) => boolean;
  /** Folder the save dialog opens in. */
  defaultDir?: string;
  log?: (line: string) => void;
}

export interface IpcRegistration {
  dispose(): void;
  /** How many renderers currently receive pushes. */
  subscriberCount(): number;
}

const MAX_CSV_BYTES = 64 * 1024 * 1024;
/** A long live run's history is large: ~150 bytes an operation, a million operations. */
const MAX_HISTORY_BYTES = 256 * 1024 * 1024;

const SaveCsvSchema = z.object({
  csv: z.string().max(MAX_CSV_BYTES, 'CSV too large'),
  name: z.string().min(1).max(255),
});

const SaveHistorySchema = z.object({
  jsonl: z.string().max(MAX_HISTORY_BYTES, 'history too large'),
  name: z.string().min(1).max(255),
});

/** A safe file name for the save dialog: no folders, no odd characters, ends in `ext`. */
export function safeFileName(name: string, ext: string, fallback: string): string {
  let n = basename(name.replace(/\\/g, '/'))
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/^\.+/, '')
    .trim();
  if (!n) n = fallback;
  if (!n.toLowerCase().endsWith(ext)) n += ext;
  return n;
}

export function safeCsvName(name: string): string {
  return safeFileName(name, '.csv', 'ivy-timings.csv');
}

export function safeHistoryName(name: string): string {
  return safeFileName(name, '.jsonl', 'ivy-history.jsonl');
}

interface SaveKind {
  channel: string;
  /** Validates a save request: the text to write and the file name to suggest, or why not. */
  parse(raw: unknown): { ok: true; text: string; name: string } | { ok: false; error: string };
  title: string;
  what: string;
  filter: { name: string; extensions: string[] };
}

function saveParser<T extends { name: string }>(schema: z.ZodType<T>, text: (d: T) => string, name: (n: string) => string): SaveKind['parse'] {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
    return { ok: true, text: text(parsed.data), name: name(parsed.data.name) };
  };
}

const SAVES: readonly SaveKind[] = [
  {
    channel: CHANNELS.saveCsv,
    parse: saveParser(SaveCsvSchema, (d) => d.csv, safeCsvName),
    title: 'Export timing CSV',
    what: 'the CSV',
    filter: { name: 'CSV', extensions: ['csv'] },
  },
  {
    channel: CHANNELS.saveHistory,
    parse: saveParser(SaveHistorySchema, (d) => d.jsonl, safeHistoryName),
    title: 'Export history',
    what: 'the history',
    filter: { name: 'History (JSON Lines)', extensions: ['jsonl'] },
  },
];

export function registerIpc(
  ipcMain: IpcMainLike,
  service: ServiceLike,
  dialog: DialogLike,
  fs: FsLike,
  opts: IpcOptions = {},
): IpcRegistration {
  const trusted = opts.isTrustedSender ?? (() => true);
  const log = opts.log ?? (() => {});
  const subscribers = new Map<number, WebContentsLike>();
  const cache = new PushCache();

  const untrusted = (event: IpcEventLike): CommandReply | null => {
    if (trusted(event)) return null;
    log(`ignored IPC from an untrusted frame: ${event.senderFrame?.url ?? '?'}`);
    return { ok: false, error: 'untrusted sender' };
  };

  const deliver = (wc: WebContentsLike, push: ServerPush) => {
    if (wc.isDestroyed()) {
      subscribers.delete(wc.id);
      return;
    }
    try {
      wc.send(CHANNELS.push, push);
    } catch (err) {
      log(`push to renderer ${wc.id} failed: ${(err as Error).message}`);
      subscribers.delete(wc.id);
    }
  };

  const unsubscribe = service.subscribe((push) => {
    cache.record(push);
    for (const wc of [...subscribers.values()]) deliver(wc, push);
  });

  ipcMain.handle(CHANNELS.command, async (event, raw) => {
    const bad = untrusted(event);
    if (bad) return bad;
    return dispatchCommand(service, raw);
  });

  ipcMain.handle(CHANNELS.subscribe, (event) => {
    const bad = untrusted(event);
    if (bad) return bad;
    const wc = event.sender;
    if (!subscribers.has(wc.id)) {
      subscribers.set(wc.id, wc);
      wc.once('destroyed', () => subscribers.delete(wc.id));
    }
    // Catch the new view up at once rather than at the next change.
    for (const push of cache.replay()) deliver(wc, push);
    return { ok: true };
  });

  for (const save of SAVES) {
    ipcMain.handle(save.channel, async (event, raw): Promise<CommandReply> => {
      const bad = untrusted(event);
      if (bad) return bad;
      const parsed = save.parse(raw);
      if (!parsed.ok) return { ok: false, error: `invalid save request: ${parsed.error}` };
      const { name, text } = parsed;
      try {
        const res = await dialog.showSaveDialog({
          title: save.title,
          defaultPath: opts.defaultDir ? join(opts.defaultDir, name) : name,
          buttonLabel: 'Export',
          filters: [save.filter],
        });
        if (res.canceled || !res.filePath) return { ok: true, value: null };
        await fs.writeFile(res.filePath, text, 'utf8');
        return { ok: true, value: res.filePath };
      } catch (err) {
        return { ok: false, error: `could not save ${save.what}: ${(err as Error).message}` };
      }
    });
  }

  return {
    dispose() {
      unsubscribe();
      ipcMain.removeHandler(CHANNELS.command);
      ipcMain.removeHandler(CHANNELS.subscribe);
      for (const save of SAVES) ipcMain.removeHandler(save.channel);
      subscribers.clear();
    },
    subscriberCount: () => subscribers.size,
  };
}
