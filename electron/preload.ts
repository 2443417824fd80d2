// The preload script: runs sandboxed with context isolation and exposes exactly one
// object to the page, `window.ivy` = { send, subscribe, saveCsv, saveHistory } — no ipcRenderer,
// no Node. The main process validates everything that comes through it.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNELS } from './channels.js';

type Reply = { ok: true; value?: unknown } | { ok: false; error: string };

const bridge = {
  send(command: unknown): Promise<unknown> {
    return ipcRenderer.invoke(CHANNELS.command, command);
  },
  subscribe(listener: (push: unknown) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('subscribe needs a function');
    const onPush = (_event: IpcRendererEvent, push: unknown) => listener(push);
    ipcRenderer.on(CHANNELS.push, onPush);
    void ipcRenderer.invoke(CHANNELS.subscribe);
    return () => {
      ipcRenderer.removeListener(CHANNELS.push, onPush);
    };
  },
  saveCsv(csv: string, suggestedName: string): Promise<string | null> {
    return save(CHANNELS.saveCsv, { csv, name: suggestedName });
  },
  saveHistory(jsonl: string, suggestedName: string): Promise<string | null> {
    return save(CHANNELS.saveHistory, { jsonl, name: suggestedName });
  },
};

async function save(channel: string, request: object): Promise<string | null> {
  const reply = (await ipcRenderer.invoke(channel, request)) as Reply;
  if (!reply || typeof reply !== 'object') throw new Error('no reply from the main process');
  if (!reply.ok) throw new Error(reply.error);
  return typeof reply.value === 'string' ? reply.value : null;
}

contextBridge.exposeInMainWorld('ivy', bridge);
