// ClusterApi over Electron IPC: a thin wrapper around `window.ivy`, which the preload
// script exposes with contextBridge. The main process validates every command; this
// side validates every push, and turns a rejected IPC call into a clear error reply.
import type { ClusterApi, Command, CommandReply, ServerPush } from '../../../nodes/control/api.js';
import type { ConnectionStatus, StatusSource } from './connection.js';
import { CommandReplySchema, parsePush } from './wire.js';

export class IpcClusterApi implements ClusterApi, StatusSource {
  readonly status: ConnectionStatus = { state: 'open', message: 'desktop app' };

  constructor(private readonly bridge: ClusterApi) {}

  async send(command: Command): Promise<CommandReply> {
    try {
      const reply: unknown = await this.bridge.send(command);
      const r = CommandReplySchema.safeParse(reply);
      if (!r.success) return { ok: false, error: 'the main process sent a malformed reply' };
      return r.data as CommandReply;
    } catch (err) {
      return { ok: false, error: (err as Error).message || String(err) };
    }
  }

  subscribe(listener: (push: ServerPush) => void): () => void {
    return this.bridge.subscribe((raw: unknown) => {
      const p = parsePush(raw);
      if ('error' in p) {
        console.warn('ivy: ignored an invalid push:', p.error);
        return;
      }
      listener(p.push);
    });
  }

  saveCsv(csv: string, suggestedName: string): Promise<string | null> {
    return this.bridge.saveCsv(csv, suggestedName);
  }

  saveHistory(jsonl: string, suggestedName: string): Promise<string | null> {
    return this.bridge.saveHistory(jsonl, suggestedName);
  }

  onStatus(_listener: (status: ConnectionStatus) => void): () => void {
    return () => {};
  }
}
