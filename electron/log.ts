// The desktop app's log file: main.log in the app's logs folder (macOS ~/Library/Logs/Ivy
// Cluster, Windows %APPDATA%\Ivy Cluster\logs, Linux ~/.config/Ivy Cluster/logs). Main-process
// console output and the cluster's events (node exits, stderr of a node, failovers) go to it
// so a user can send it with a bug report. Free of `electron` imports: tested under Node.
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface AppLog {
  /** Absolute path of the current log file. */
  readonly file: string;
  write(level: 'info' | 'warn' | 'error', message: string): void;
}

/** One file, rotated once at start-up when it grew past `maxBytes` (the previous one kept as main.old.log). */
export function openAppLog(dir: string, opts: { maxBytes?: number; now?: () => Date } = {}): AppLog {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'main.log');
  const maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
  const now = opts.now ?? (() => new Date());
  if (existsSync(file) && statSync(file).size > maxBytes) renameSync(file, join(dir, 'main.old.log'));
  let broken = false;
  return {
    file,
    write(level, message) {
      if (broken) return;
      try {
        appendFileSync(file, `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${message.replace(/\r?\n/g, '\n    ')}\n`);
      } catch {
        broken = true; // a full or read-only disk must not take the app down; stop trying
      }
    },
  };
}

/** Copies console.log / warn / error of the main process into the log (they still print too). */
export function teeConsole(log: AppLog, target: Pick<Console, 'log' | 'warn' | 'error'> = console): void {
  const fmt = (args: unknown[]) => args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : safeJson(a))).join(' ');
  for (const [method, level] of [
    ['log', 'info'],
    ['warn', 'warn'],
    ['error', 'error'],
  ] as const) {
    const original = target[method].bind(target);
    target[method] = (...args: unknown[]) => {
      log.write(level, fmt(args));
      original(...args);
    };
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
