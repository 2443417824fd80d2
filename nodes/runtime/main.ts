// The entry every node process runs, whatever its role. The supervisor passes the
// node's configuration as one JSON argument; a bad one exits with a clear message.
import { NodeConfigSchema } from './config.js';
import { receiveLinkKeys } from './link-keys.js';
import { ClientNode } from './client-node.js';
import { ManagerNode } from './manager-node.js';

function parseConfig(): ReturnType<typeof NodeConfigSchema.parse> {
  const raw = process.argv[2] ?? process.env.IVY_NODE_CONFIG;
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

async function main(): Promise<void> {
  const cfg = parseConfig();
  try {
    // Authenticated links: nothing is bound before the keys came over the IPC pipe.
    const keys = cfg.links === 'curve' ? await receiveLinkKeys() : null;
    const node = cfg.role === 'manager' ? new ManagerNode(cfg, keys) : new ClientNode(cfg, keys);
    await node.start();
  } catch (err) {
    console.error(`[${cfg.id}] failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

void main();
