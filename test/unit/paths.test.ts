import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeEntryPath, nodeLaunch } from '../../electron/paths.js';

describe('node entry paths', () => {
  it('uses out/nodes/node.js under the project root in development', () => {
    const root = join('/home', 'me', 'ivy-cluster');
    expect(nodeEntryPath({ isPackaged: false, appPath: root, resourcesPath: '/ignored' })).toBe(join(root, 'out', 'nodes', 'node.js'));
  });

  it('uses app.asar.unpacked in a packaged app (Linux/Windows layout)', () => {
    const resources = join('/opt', 'Ivy Cluster', 'resources');
    const entry = nodeEntryPath({ isPackaged: true, appPath: join(resources, 'app.asar'), resourcesPath: resources });
    expect(entry).toBe(join(resources, 'app.asar.unpacked', 'out', 'nodes', 'node.js'));
    expect(entry).not.toContain(`app.asar${join('/', 'out')}`);
  });

  it('uses app.asar.unpacked in a packaged macOS app', () => {
    const resources = '/Applications/Ivy Cluster.app/Contents/Resources';
    const entry = nodeEntryPath({ isPackaged: true, appPath: `${resources}/app.asar`, resourcesPath: resources });
    expect(entry).toBe(join(resources, 'app.asar.unpacked', 'out', 'nodes', 'node.js'));
  });

  it('tolerates a trailing separator and an app packaged without asar', () => {
    const resources = join('/opt', 'ivy', 'resources');
    expect(nodeEntryPath({ isPackaged: true, appPath: join(resources, 'app.asar') + '/', resourcesPath: resources })).toBe(
      join(resources, 'app.asar.unpacked', 'out', 'nodes', 'node.js'),
    );
    expect(nodeEntryPath({ isPackaged: true, appPath: join(resources, 'app'), resourcesPath: resources })).toBe(
      join(resources, 'app', 'out', 'nodes', 'node.js'),
    );
    expect(nodeEntryPath({ isPackaged: true, appPath: '', resourcesPath: resources })).toBe(
      join(resources, 'app.asar.unpacked', 'out', 'nodes', 'node.js'),
    );
  });

  it('handles Windows-style paths', () => {
    const resources = 'C:\\Program Files\\Ivy Cluster\\resources';
    const entry = nodeEntryPath({ isPackaged: true, appPath: `${resources}\\app.asar`, resourcesPath: resources });
    expect(entry).toBe(join(`${resources}\\app.asar.unpacked`, 'out', 'nodes', 'node.js'));
  });

  it('launches nodes on the Electron binary in Node mode', () => {
    const resources = join('/opt', 'Ivy Cluster', 'resources');
    const launch = nodeLaunch({
      isPackaged: true,
      appPath: join(resources, 'app.asar'),
      execPath: join('/opt', 'Ivy Cluster', 'ivy-cluster'),
      resourcesPath: resources,
    });
    const entry = join(resources, 'app.asar.unpacked', 'out', 'nodes', 'node.js');
    expect(launch).toEqual({
      command: join('/opt', 'Ivy Cluster', 'ivy-cluster'),
      args: [entry],
      env: { ELECTRON_RUN_AS_NODE: '1' },
      entry,
      execPath: join('/opt', 'Ivy Cluster', 'ivy-cluster'),
    });
  });

  it('also runs dev nodes with ELECTRON_RUN_AS_NODE on the Electron binary', () => {
    const root = join('/src', 'ivy');
    const launch = nodeLaunch({ isPackaged: false, appPath: root, execPath: '/src/ivy/node_modules/electron/dist/electron', resourcesPath: '/x' });
    expect(launch.args).toEqual([join(root, 'out', 'nodes', 'node.js')]);
    expect(launch.env).toEqual({ ELECTRON_RUN_AS_NODE: '1' });
    expect(launch.command).toBe('/src/ivy/node_modules/electron/dist/electron');
  });
});
