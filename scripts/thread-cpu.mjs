// CPU time of a process by thread group, from the kernel's own accounting (/proc/PID/task/TID/stat):
// the benchmark scripts' one reader (op-cost, start-cost, tput-cost, link-cost). Linux only.
import { readdirSync, readFileSync } from 'node:fs';

/** Milliseconds per clock tick (USER_HZ, 100 on Linux). */
export const TICK_MS = 10;

/**
 * CPU ms of every thread of `pid`, by group: main (the JS thread; Node 20 names none of its threads, so it is
 * the one whose id is the process's), zmq (ZeroMQ's I/O and reaper threads), other (V8's worker, libuv's
 * pool, Node's own); total, user and sys over all of them. Null once the process is gone; a thread that ends
 * between listing and reading is left out.
 */
export function threadCpu(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const out = { main: 0, zmq: 0, other: 0, total: 0, user: 0, sys: 0 };
  for (const tid of tids) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(f[11]) * TICK_MS;
    const sys = Number(f[12]) * TICK_MS;
    const group = String(pid) === tid ? 'main' : name.startsWith('ZMQ') ? 'zmq' : 'other';
    out[group] += user + sys;
    out.total += user + sys;
    out.user += user;
    out.sys += sys;
  }
  return out;
}

/**
 * Voluntary context switches of `pid`'s threads, by the same groups: how often each went to sleep and was
 * woken. Per fault, it says how many frames a wake-up handles (fewer wake-ups per fault: more batched).
 */
export function threadWakeups(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const out = { main: 0, zmq: 0, other: 0 };
  for (const tid of tids) {
    let status;
    try {
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue;
    }
    const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
    const n = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    out[String(pid) === tid ? 'main' : name.startsWith('ZMQ') ? 'zmq' : 'other'] += n;
  }
  return out;
}
