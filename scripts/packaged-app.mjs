// Finds the packaged desktop app that electron-builder left in release/, per operating
// system, and says why when it cannot be run here. Shared by `npm run test:packaged`
// (scripts/test-packaged.mjs) and the smoke test itself (test/packaged/smoke.test.ts).
//   Linux:   release/*.AppImage, extracted (--appimage-extract, no FUSE needed) and started
//            through its AppRun launcher, exactly as a user's double-click starts it;
//            falls back to release/linux-unpacked/ivy-cluster.
//   macOS:   release/mac*/Ivy Cluster.app/Contents/MacOS/Ivy Cluster
//   Windows: release/win-unpacked/Ivy Cluster.exe (what the NSIS installer installs)
// IVY_PACKAGED_APP=/path/to/executable overrides the search.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RELEASE = join(ROOT, 'release');
const PRODUCT = 'Ivy Cluster';

const ls = (dir) => (existsSync(dir) ? readdirSync(dir) : []);

/**
 * @returns {{ ok: true, executable: string, kind: string } | { ok: false, reason: string }}
 * Where the AppImage must be extracted, that happens here (into a fresh temp folder).
 */
export function findPackagedApp(platform = process.platform, release = RELEASE) {
  const override = process.env.IVY_PACKAGED_APP;
  if (override) {
    return existsSync(override) ? { ok: true, executable: resolve(override), kind: 'IVY_PACKAGED_APP' } : { ok: false, reason: `IVY_PACKAGED_APP=${override} does not exist` };
  }
  const hint = 'package it first with npm run package (that needs Electron\'s binary: an npm install without ELECTRON_SKIP_BINARY_DOWNLOAD)';
  if (platform === 'linux') {
    const image = ls(release).find((f) => f.endsWith('.AppImage'));
    if (image) {
      const dir = mkdtempSync(join(tmpdir(), 'ivy-appimage-'));
      const r = spawnSync(join(release, image), ['--appimage-extract'], { cwd: dir, stdio: 'ignore' });
      const appRun = join(dir, 'squashfs-root', 'AppRun');
      if (r.status === 0 && existsSync(appRun)) return { ok: true, executable: appRun, kind: `${image} (extracted, via AppRun)` };
      return { ok: false, reason: `could not extract release/${image} (--appimage-extract exited ${r.status ?? r.signal})` };
    }
    const unpacked = join(release, 'linux-unpacked', 'ivy-cluster');
    if (existsSync(unpacked)) return { ok: true, executable: unpacked, kind: 'release/linux-unpacked' };
    return { ok: false, reason: `no release/*.AppImage or release/linux-unpacked/ivy-cluster: ${hint}` };
  }
  if (platform === 'darwin') {
    for (const d of ls(release).filter((f) => f.startsWith('mac'))) {
      const exe = join(release, d, `${PRODUCT}.app`, 'Contents', 'MacOS', PRODUCT);
      if (existsSync(exe)) return { ok: true, executable: exe, kind: `release/${d}/${PRODUCT}.app` };
    }
    return { ok: false, reason: `no release/mac*/${PRODUCT}.app: ${hint}` };
  }
  if (platform === 'win32') {
    const exe = join(release, 'win-unpacked', `${PRODUCT}.exe`);
    if (existsSync(exe)) return { ok: true, executable: exe, kind: 'release/win-unpacked' };
    return { ok: false, reason: `no release/win-unpacked/${PRODUCT}.exe: ${hint}` };
  }
  return { ok: false, reason: `no packaged app is built for ${platform}` };
}

/** Linux needs a display for a window: null when there is one, or the wrapper to get one (xvfb-run), or why not. */
export function displayProblem(platform = process.platform) {
  if (platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return null;
  try {
    execFileSync('xvfb-run', ['--help'], { stdio: 'ignore' });
    return { wrap: 'xvfb-run' };
  } catch {
    return { reason: 'Linux has no display (DISPLAY / WAYLAND_DISPLAY unset) and xvfb-run is not installed (apt-get install xvfb)' };
  }
}
