// CPU time of node processes as the kernel accounts it (Linux /proc/PID/stat): user +
// system time of every thread, so ZeroMQ's I/O thread and V8's workers count too.
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc counts CPU time in 1/100 s on Linux. */
const TICK_MS = 10;

/** CPU milliseconds the process has used so far; null where /proc is unavailable or the process is gone. */
export function procCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: the fields after it start past the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    return Number.isFinite(ticks) ? ticks * TICK_MS : null;
  } catch {
    return null;
  }
}

/** CPU milliseconds of all of `pids` together (the ones that can be read). */
export const totalCpuMs = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + (procCpuMs(pid) ?? 0), 0);
