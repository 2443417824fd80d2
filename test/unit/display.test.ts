// The packaged app on Linux without a display: a clear message with the browser-mode
// command for this very installation (AppImage or not), and silence everywhere else.
import { describe, expect, it } from 'vitest';
import { noDisplayMessage } from '../../electron/display.js';

const base = { execPath: '/opt/Ivy Cluster/ivy-cluster', resourcesPath: '/opt/Ivy Cluster/resources' };

describe('noDisplayMessage', () => {
  it('stays silent where a window can open', () => {
    expect(noDisplayMessage({ ...base, platform: 'linux', env: { DISPLAY: ':0' } })).toBeNull();
    expect(noDisplayMessage({ ...base, platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' } })).toBeNull();
    expect(noDisplayMessage({ ...base, platform: 'darwin', env: {} })).toBeNull();
    expect(noDisplayMessage({ ...base, platform: 'win32', env: {} })).toBeNull();
  });

  it('names the problem and the browser-mode command of this installation', () => {
    const m = noDisplayMessage({ ...base, platform: 'linux', env: {} }) ?? '';
    expect(m).toMatch(/no display \(neither DISPLAY nor WAYLAND_DISPLAY is set\)/);
    expect(m).toContain('ELECTRON_RUN_AS_NODE=1 "/opt/Ivy Cluster/ivy-cluster" "/opt/Ivy Cluster/resources/app.asar.unpacked/out/nodes/cli.js" serve');
  });

  it('tells an AppImage user to extract it first (its mount goes away on exit)', () => {
    const m = noDisplayMessage({ ...base, platform: 'linux', env: { APPIMAGE: '/home/u/Ivy Cluster-0.1.0-x86_64.AppImage' } }) ?? '';
    expect(m).toContain('"/home/u/Ivy Cluster-0.1.0-x86_64.AppImage" --appimage-extract');
    expect(m).toContain('ELECTRON_RUN_AS_NODE=1 ./squashfs-root/ivy-cluster ./squashfs-root/resources/app.asar.unpacked/out/nodes/cli.js serve');
  });
});
