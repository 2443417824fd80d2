// The glue of the packaged-app smoke test that can run anywhere: finding the packaged
// app per OS (an AppImage is really extracted by running it with --appimage-extract; a
// stand-in script plays the AppImage here) and spotting the app's node processes in the
// operating system's own process list.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPackagedApp } from '../../scripts/packaged-app.mjs';
import { isAlive, nodeProcessesOf } from '../packaged/processes.js';

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  delete process.env.IVY_PACKAGED_APP;
});

describe('findPackagedApp', () => {
  it('says what to do when nothing was packaged, per OS', () => {
    const empty = tmp('ivy-release-');
    for (const os of ['linux', 'darwin', 'win32'] as const) {
      const r = findPackagedApp(os, empty);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/npm run package/);
    }
  });

  it('finds the .app on macOS and the unpacked exe on Windows', () => {
    const release = tmp('ivy-release-');
    const mac = join(release, 'mac-arm64', 'Ivy Cluster.app', 'Contents', 'MacOS');
    mkdirSync(mac, { recursive: true });
    writeFileSync(join(mac, 'Ivy Cluster'), '');
    mkdirSync(join(release, 'win-unpacked'));
    writeFileSync(join(release, 'win-unpacked', 'Ivy Cluster.exe'), '');
    expect(findPackagedApp('darwin', release)).toEqual({ ok: true, executable: join(mac, 'Ivy Cluster'), kind: 'release/mac-arm64/Ivy Cluster.app' });
    expect(findPackagedApp('win32', release)).toMatchObject({ ok: true, executable: join(release, 'win-unpacked', 'Ivy Cluster.exe') });
  });

  it.runIf(process.platform !== 'win32')('extracts a Linux AppImage and starts it through AppRun', () => {
    const release = tmp('ivy-release-');
    const image = join(release, 'Ivy Cluster-0.1.0-x86_64.AppImage');
    // A stand-in AppImage: it answers --appimage-extract the way the AppImage runtime does.
    writeFileSync(image, '#!/bin/sh\n[ "$1" = --appimage-extract ] || exit 3\nmkdir -p squashfs-root && printf "#!/bin/sh\\n" > squashfs-root/AppRun && chmod +x squashfs-root/AppRun\n');
    chmodSync(image, 0o755);
    const r = findPackagedApp('linux', release);
    expect(r).toMatchObject({ ok: true, kind: 'Ivy Cluster-0.1.0-x86_64.AppImage (extracted, via AppRun)' });
    if (r.ok) {
      expect(r.executable).toMatch(/squashfs-root[\\/]AppRun$/);
      dirs.push(join(r.executable, '..', '..'));
    }
  });

  it('honours IVY_PACKAGED_APP, and says so when it points nowhere', () => {
    process.env.IVY_PACKAGED_APP = join(tmpdir(), 'no-such-ivy-app');
    expect(findPackagedApp('linux', tmp('ivy-release-'))).toEqual({ ok: false, reason: `IVY_PACKAGED_APP=${process.env.IVY_PACKAGED_APP} does not exist` });
  });
});

describe('nodeProcessesOf', () => {
  it.runIf(process.platform !== 'win32')("lists processes running the app's unpacked node entry, and only those", async () => {
    const app = tmp('ivy-app-');
    const entry = join(app, 'resources', 'app.asar.unpacked', 'out', 'nodes', 'node.js');
    mkdirSync(join(entry, '..'), { recursive: true });
    writeFileSync(entry, 'setInterval(() => {}, 1000);\n');
    const child = spawn(process.execPath, [entry], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await expect.poll(() => nodeProcessesOf(app).map((p) => p.pid), { timeout: 5000 }).toEqual([child.pid]);
      expect(nodeProcessesOf(tmp('ivy-other-app-'))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
    await expect.poll(() => nodeProcessesOf(app), { timeout: 5000 }).toEqual([]);
    await exited; // reaped: no longer even a zombie
    expect(isAlive(child.pid ?? -1)).toBe(false);
  });
});
