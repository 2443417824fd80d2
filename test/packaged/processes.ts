// Which node processes of one packaged app are alive, from the operating system's own
// process list (not the app's word for it): every process whose command line runs the
// app's unpacked node entry (…/app.asar.unpacked/out/nodes/node.js) from the app's folder.
import { execFileSync } from 'node:child_process';

export interface OsProcess {
  pid: number;
  command: string;
}

export function listProcesses(): OsProcess[] {
  const text =
    process.platform === 'win32'
      ? execFileSync('powershell.exe', ['-NoProfile', '-Command', 'Get-CimInstance Win32_Process | ForEach-Object { "$($_.ProcessId) $($_.CommandLine)" }'], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        })
      : execFileSync('ps', ['-A', '-o', 'pid=,args='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out: OsProcess[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), command: m[2] ?? '' });
  }
  return out;
}

/** Node processes started by the app installed under `appRoot`. */
export function nodeProcessesOf(appRoot: string): OsProcess[] {
  const norm = (s: string) => s.replace(/\\/g, '/');
  const root = norm(appRoot);
  return listProcesses().filter((p) => {
    const c = norm(p.command);
    return c.includes(root) && c.includes('app.asar.unpacked/out/nodes/node.js');
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
