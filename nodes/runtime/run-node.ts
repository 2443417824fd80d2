// Starting a node process, whatever its role, from the one JSON argument the supervisor
// passes; a bad one exits with a clear message. Shared by both entries: main.ts (the
// bundle node.js) and snapshot-main.ts (the same code from a V8 start-up snapshot).
import { NodeConfigSchema, type NodeConfig } from './config.js';
import { receiveLinkKeys } from './link-keys.js';
import { ClientNode } from './client-node.js';
import { ManagerNode } from './manager-node.js';

function parseConfig(raw: string | undefined): NodeConfig {
  if (!raw) {
    console.error('usage: node out/nodes/node.js \'{"role":"client",...}\' (normally started by the ivy-cluster supervisor)');
    process.exit(2);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    console.error('node config is not valid JSON');
    process.exit(2);
  }
  const parsed = NodeConfigSchema.safeParse(json);
  if (!parsed.success) {
    console.error(`bad node config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    process.exit(2);
  }
  return parsed.data;
}

export function runNode(raw: string | undefined): void {
  const cfg = parseConfig(raw);
  const start = async (): Promise<void> => {
    // Authenticated links: nothing is bound before the keys came over the IPC pipe.
    const keys = cfg.links === 'curve' ? await receiveLinkKeys() : null;
    const node = cfg.role === 'manager' ? new ManagerNode(cfg, keys) : new ClientNode(cfg, keys);
    await node.start();
  };
  start().catch((err: unknown) => {
    console.error(`[${cfg.id}] failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
