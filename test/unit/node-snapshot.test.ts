// When the supervisor starts nodes from the V8 start-up snapshot (out/nodes/node.blob) and
// when from node.js: V8 refuses a snapshot built by another binary or with other flags (the
// node would die at start), so only an exact match may use it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_SNAPSHOT_FLAGS } from '../../scripts/node-bundle.mjs';
import { NODE_V8_FLAGS, nodeSnapshot } from '../../nodes/control/supervisor.js';

function outDir(meta: unknown, blob = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'ivy-snap-'));
  writeFileSync(join(dir, 'node.js'), '');
  if (blob) writeFileSync(join(dir, 'node.blob'), 'x');
  if (meta !== undefined) writeFileSync(join(dir, 'node.blob.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
  return join(dir, 'node.js');
}

const built = { node: process.version, execPath: process.execPath, flags: [...NODE_V8_FLAGS] };

describe('node start-up snapshot', () => {
  afterEach(() => {
    delete process.env.IVY_NODE_SNAPSHOT;
  });

  it('is built with the flags every node runs with', () => {
    expect(NODE_SNAPSHOT_FLAGS).toEqual([...NODE_V8_FLAGS]);
  });

  it('is used when it was built by this node binary with exactly these flags', () => {
    const entry = outDir(built);
    expect(nodeSnapshot(entry, NODE_V8_FLAGS)).toBe(join(entry, '..', 'node.blob'));
    expect(nodeSnapshot(entry, NODE_V8_FLAGS, process.execPath)).toBe(join(entry, '..', 'node.blob'));
  });

  it('is used under CPU profiling too (Node flags, not V8 flags: a profile shows the start-up nodes really run)', () => {
    const entry = outDir(built);
    const prof = ['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--cpu-prof-name=c5.cpuprofile', '--cpu-prof-interval=100'];
    expect(nodeSnapshot(entry, [...NODE_V8_FLAGS, ...prof])).toBe(join(entry, '..', 'node.blob'));
    expect(nodeSnapshot(entry, ['--cpu-prof', ...NODE_V8_FLAGS])).toBe(join(entry, '..', 'node.blob'));
  });

  it('is not used with other flags, another node, another binary, no blob, a bad record, or IVY_NODE_SNAPSHOT=0', () => {
    expect(nodeSnapshot(outDir(built), [...NODE_V8_FLAGS, '--max-old-space-size=64'])).toBeNull();
    expect(nodeSnapshot(outDir(built), [])).toBeNull();
    expect(nodeSnapshot(outDir({ ...built, node: 'v0.0.1' }), NODE_V8_FLAGS)).toBeNull();
    expect(nodeSnapshot(outDir({ ...built, execPath: '/elsewhere/node' }), NODE_V8_FLAGS)).toBeNull();
    expect(nodeSnapshot(outDir(built), NODE_V8_FLAGS, '/opt/App/app-electron')).toBeNull();
    expect(nodeSnapshot(outDir(built, false), NODE_V8_FLAGS)).toBeNull();
    expect(nodeSnapshot(outDir(undefined), NODE_V8_FLAGS)).toBeNull();
    expect(nodeSnapshot(outDir('{not json'), NODE_V8_FLAGS)).toBeNull();
    expect(nodeSnapshot(outDir(null), NODE_V8_FLAGS)).toBeNull();
    process.env.IVY_NODE_SNAPSHOT = '0';
    expect(nodeSnapshot(outDir(built), NODE_V8_FLAGS)).toBeNull();
  });
});
