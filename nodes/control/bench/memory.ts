// Memory of node processes as the kernel accounts it (Linux /proc). RSS counts every
// resident page a process maps, including the node binary's file-backed pages that
// every node shares; PSS divides each shared page among the processes mapping it, so
// the PSS of N nodes adds up to what they really cost together.
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  rssKiB: number;
  pssKiB: number;
  /** Private to the process: heaps, stacks, JIT code (PSS of anonymous pages). */
  anonKiB: number;
  /** File-backed: the node binary, libzmq, the bundle's code pages (PSS share). */
  fileKiB: number;
}

/** Null where /proc is unavailable (not Linux) or the process is gone. */
export function procMemory(pid: number): ProcMemory | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    const m = { rssKiB: field('Rss'), pssKiB: field('Pss'), anonKiB: field('Pss_Anon'), fileKiB: field('Pss_File') };
    return Number.isFinite(m.rssKiB) && Number.isFinite(m.pssKiB) ? m : null;
  } catch {
    return null;
  }
}

export interface RoleMemory {
  /** MiB, one decimal: the largest process of the role (a per-process budget is about the worst one). */
  rss: number;
  pss: number;
  anon: number;
  file: number;
  /** Mean RSS / PSS over the role's processes. */
  rssMean: number;
  pssMean: number;
  processes: number;
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

export function roleMemory(pids: readonly number[]): RoleMemory | null {
  const ms = pids.map(procMemory).filter((m): m is ProcMemory => m !== null);
  if (ms.length === 0) return null;
  const max = (f: (m: ProcMemory) => number): number => mib(Math.max(...ms.map(f)));
  const mean = (f: (m: ProcMemory) => number): number => mib(ms.reduce((s, m) => s + f(m), 0) / ms.length);
  return {
    rss: max((m) => m.rssKiB),
    pss: max((m) => m.pssKiB),
    anon: max((m) => (Number.isFinite(m.anonKiB) ? m.anonKiB : 0)),
    file: max((m) => (Number.isFinite(m.fileKiB) ? m.fileKiB : 0)),
    rssMean: mean((m) => m.rssKiB),
    pssMean: mean((m) => m.pssKiB),
    processes: ms.length,
  };
}
