// How node processes start (supervisor.ts spawn): from the start-up snapshot when one was built for this
// node binary, and without NODE_EXTRA_CA_CERTS in their environment (Node parses that file at every process
// start; a node never opens a TLS connection). Checked on the real processes, through /proc.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterConfigSchema } from '../../nodes/control/api.js';
import { defaultNodeEntry, nodeExecArgv, nodeSnapshot, Supervisor } from '../../nodes/control/supervisor.js';
import { freshPorts } from './cluster.js';

const procStrings = (pid: number, file: 'environ' | 'cmdline'): string[] => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);

describe.runIf(process.platform === 'linux')('node start-up', () => {
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
  });

  it('nodes start without the supervisor’s NODE_EXTRA_CA_CERTS, from the snapshot when there is one', async () => {
    // A file that does not exist: a node that still got the variable would also warn on stderr at start.
    process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/ivy-test-extra-ca.pem';
    const stderr: string[] = [];
    const sup = new Supervisor({
      config: ClusterConfigSchema.parse({ basePort: await freshPorts(2, true), clients: 2, backup: true, pages: 4 }),
      runDir: mkdtempSync(join(tmpdir(), 'ivy-test-')),
    });
    sup.on('event', (e) => {
      if (e.kind === 'stderr') stderr.push(e.message);
    });
    try {
      await sup.start();
      const nodes = sup.nodeInfos();
      expect(nodes).toHaveLength(4);
      // As the supervisor decides it (under a test runner its own flags, passed on to nodes, may rule the snapshot out).
      const snapshot = nodeSnapshot(defaultNodeEntry(), nodeExecArgv());
      for (const n of nodes) {
        expect(n.state).toBe('up');
        const env = procStrings(n.pid!, 'environ');
        expect(env.some((kv) => kv.startsWith('PATH='))).toBe(true);
        expect(env.filter((kv) => kv.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
        // The supervisor's own environment keeps it.
        expect(process.env.NODE_EXTRA_CA_CERTS).toBe('/nonexistent/ivy-test-extra-ca.pem');
        const cmdline = procStrings(n.pid!, 'cmdline');
        if (snapshot !== null) expect(cmdline).toContain(snapshot);
        else expect(cmdline.some((a) => a.endsWith('node.js'))).toBe(true);
      }
      expect(stderr).toEqual([]);
    } finally {
      await sup.shutdown();
    }
  });
});
