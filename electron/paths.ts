// Where the node entry lives and how to start it, in development and in a packaged
// app. Nodes run on Electron's own binary in Node mode (ELECTRON_RUN_AS_NODE=1), so
// a user needs no separate Node.js. In a packaged app the entry is unpacked from the
// asar archive (electron-builder asarUnpack: out/nodes/**) because a child process
// cannot run a script from inside app.asar reliably, and zeromq's native addon
// must be a real file on disk.
import { join } from 'node:path';

export interface LaunchContext {
  /** app.isPackaged */
  isPackaged: boolean;
  /** app.getAppPath(): the project root in development, …/resources/app.asar when packaged. */
  appPath: string;
  /** process.execPath: the Electron binary. */
  execPath: string;
  /** process.resourcesPath: …/resources (…/Contents/Resources on macOS). */
  resourcesPath: string;
}

/**
 * How to spawn a node. `command` + `args` for spawn(); `entry` + `execPath` for the
 * supervisor's fork()-based NodeLauncher. `env` holds only the additions: merge it
 * over process.env.
 */
export interface NodeLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  entry: string;
  execPath: string;
}

export const NODE_ENTRY = ['out', 'nodes', 'node.js'] as const;

/** Absolute path of out/nodes/node.js for this app. */
export function nodeEntryPath(ctx: Pick<LaunchContext, 'isPackaged' | 'appPath' | 'resourcesPath'>): string {
  if (!ctx.isPackaged) return join(ctx.appPath, ...NODE_ENTRY);
  // Packaged: resources/app.asar -> resources/app.asar.unpacked. If the app is not in
  // an asar archive at all (asar: false), the files are in resources/app as they are.
  const appPath = ctx.appPath.replace(/[\\/]+$/, '');
  if (appPath.endsWith('.asar')) return join(`${appPath}.unpacked`, ...NODE_ENTRY);
  if (appPath) return join(appPath, ...NODE_ENTRY);
  return join(ctx.resourcesPath, 'app.asar.unpacked', ...NODE_ENTRY);
}

export function nodeLaunch(ctx: LaunchContext): NodeLaunch {
  const entry = nodeEntryPath(ctx);
  return {
    command: ctx.execPath,
    args: [entry],
    env: { ELECTRON_RUN_AS_NODE: '1' },
    entry,
    execPath: ctx.execPath,
  };
}
