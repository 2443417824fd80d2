// Picks the ClusterApi implementation: Electron IPC when the preload exposed
// `window.ivy`, otherwise the WebSocket of `ivy-cluster serve`.
import type { ClusterApi } from '../../../nodes/control/api.js';
import type { StatusSource } from './connection.js';
import { IpcClusterApi } from './ipc.js';
import { WsClusterApi, wsUrlFromLocation } from './ws.js';

export type Connection =
  | { ok: true; mode: 'electron' | 'browser'; api: ClusterApi & StatusSource }
  | { ok: false; error: string };

export function connect(): Connection {
  if (window.ivy) return { ok: true, mode: 'electron', api: new IpcClusterApi(window.ivy) };
  const url = wsUrlFromLocation(window.location);
  if (!url) {
    return {
      ok: false,
      error:
        'This page needs the access token of the server that serves it. Open the full URL that ' +
        '`ivy-cluster serve` printed (it ends in ?token=…).',
    };
  }
  return { ok: true, mode: 'browser', api: new WsClusterApi(url) };
}
