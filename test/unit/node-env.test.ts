// A node process starts without NODE_EXTRA_CA_CERTS (supervisor.ts nodeEnv): Node parses that file of
// certificates at every process start, and a node never opens a TLS connection. Everything else passes.
import { describe, expect, it } from 'vitest';
import { nodeEnv } from '../../nodes/control/supervisor.js';

describe('the environment a node starts with', () => {
  it('drops NODE_EXTRA_CA_CERTS and keeps every other variable, the launcher’s additions on top', () => {
    const from = { PATH: '/usr/bin', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', IVY_NODE_FLAGS: '--x', SSL_CERT_FILE: '/etc/ssl/cert.pem' };
    const env = nodeEnv({ ELECTRON_RUN_AS_NODE: '1', PATH: '/opt/bin' }, from);
    expect(env).toEqual({ PATH: '/opt/bin', IVY_NODE_FLAGS: '--x', SSL_CERT_FILE: '/etc/ssl/cert.pem', ELECTRON_RUN_AS_NODE: '1' });
    expect('NODE_EXTRA_CA_CERTS' in env).toBe(false);
    // The supervisor's own environment is not changed.
    expect(from.NODE_EXTRA_CA_CERTS).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('drops it when only the launcher sets it too', () => {
    expect('NODE_EXTRA_CA_CERTS' in nodeEnv({ NODE_EXTRA_CA_CERTS: '/x.pem' }, {})).toBe(false);
  });
});
