// `ivy-cluster serve`: the desktop app's UI in a browser, for headless machines and
// end-to-end tests. The URL (with its per-run token) is the first line starting with
// http:// on stdout; Ctrl-C stops the server, then any cluster it started.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioHooks } from '../scenarios/service-hooks.js';
import { startServer } from '../serve.js';
import { ClusterService } from '../service.js';
import type { Out } from './up.js';

export interface ServeOptions {
  port: number;
  host: string;
  /** Clusters started from the UI use basePort (managers +0/+1, clients from +10); scenario runs basePort + 200 on. */
  basePort: number;
}

/** out/renderer, found from wherever this module was bundled (out/nodes) or loaded (nodes/control/commands). */
export function rendererDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'out', 'renderer');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (existsSync(join(dir, 'renderer', 'index.html')) && dir.endsWith('out')) return join(dir, 'renderer');
    // A packaged app run in Node mode (ELECTRON_RUN_AS_NODE=1 …/app.asar.unpacked/out/nodes/cli.js serve):
    // the UI stays inside app.asar, which Electron's Node reads like a folder.
    const packaged = join(dir, 'app.asar', 'out', 'renderer');
    if (existsSync(join(packaged, 'index.html'))) return packaged;
  }
  throw new Error('the UI is not built (out/renderer missing): run `npm run build` first');
}

export async function runServe(opts: ServeOptions, out: Out): Promise<number> {
  const service = new ClusterService({ basePort: opts.basePort, scenarios: scenarioHooks({ basePort: opts.basePort + 200 }) });
  const server = await startServer({ port: opts.port, host: opts.host, service, staticDir: rendererDir(), log: (l) => out.error(l) });
  out.log(server.url);
  out.log(`Ivy Cluster UI at the address above (token included); Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await service.close();
  return 0;
}
