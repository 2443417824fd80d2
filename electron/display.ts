// Linux without a display (a server, an SSH session, a container): Chromium would die
// with "Missing X server or $DISPLAY". Say clearly what is wrong and how to use the same
// installation in browser mode instead. Free of `electron` imports: tested under Node.
import { join } from 'node:path';

export interface DisplayContext {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  /** process.execPath: the app's binary. */
  execPath: string;
  /** process.resourcesPath: …/resources. */
  resourcesPath: string;
}

/** Null when a window can open; otherwise the message to print before exiting. */
export function noDisplayMessage(ctx: DisplayContext): string | null {
  if (ctx.platform !== 'linux' || ctx.env['DISPLAY'] || ctx.env['WAYLAND_DISPLAY']) return null;
  const cli = join(ctx.resourcesPath, 'app.asar.unpacked', 'out', 'nodes', 'cli.js');
  const appImage = ctx.env['APPIMAGE'];
  const lines = [
    'Ivy Cluster cannot open its window: this Linux session has no display (neither DISPLAY nor WAYLAND_DISPLAY is set).',
    'Use browser mode instead — the same UI and engine, served on 127.0.0.1; open the printed http:// URL (token included) in a browser:',
  ];
  if (appImage) {
    // The AppImage's files live on a mount that goes away when this process ends: extract them once.
    lines.push(
      `  "${appImage}" --appimage-extract    # unpacks into ./squashfs-root`,
      '  ELECTRON_RUN_AS_NODE=1 ./squashfs-root/ivy-cluster ./squashfs-root/resources/app.asar.unpacked/out/nodes/cli.js serve',
    );
  } else {
    lines.push(`  ELECTRON_RUN_AS_NODE=1 "${ctx.execPath}" "${cli}" serve`);
  }
  lines.push('From a source checkout: npm start (falls back to browser mode by itself) or npx ivy-cluster serve. With a display server: xvfb-run, or ssh -X.');
  return lines.join('\n');
}
