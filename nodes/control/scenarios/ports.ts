// Fail fast, and say which port, when another program already holds one a cluster
// needs: otherwise a node retries its bind for seconds and then dies with a bare
// "Address already in use".
import { createServer } from 'node:net';

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Ports a cluster binds: managers at base (and base+1 with a backup), clients from base+10. */
export function clusterPorts(basePort: number, clients: number, backup: boolean): number[] {
  return [basePort, ...(backup ? [basePort + 1] : []), ...Array.from({ length: clients }, (_, i) => basePort + 10 + i)];
}

export async function assertPortsFree(host: string, ports: readonly number[]): Promise<void> {
  const busy: number[] = [];
  for (const p of ports) if (!(await isFree(host, p))) busy.push(p);
  if (busy.length > 0) {
    throw new Error(`port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} on ${host} already in use by another program: choose another --base-port`);
  }
}
