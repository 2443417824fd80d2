// CPU time of a process by thread group, from the kernel's own accounting (/proc/PID/task/TID/stat):
// the benchmark scripts' one reader (op-cost, start-cost, tput-cost, link-cost). Linux only.
import { readdirSync, readFileSync } from 'node:fs';

/** Milliseconds per clock tick (USER_HZ, 100 on Linux). */
export const TICK_MS = 10;

/**
 * Reads /proc/PID/task/TID/`file` of every thread of `pid` and hands each to `visit` with the thread's group:
 * main (the JS thread; Node 20 names none of its threads, so it is the one whose id is the process's), zmq
 * (ZeroMQ's I/O and reaper threads), other (V8's worker, libuv's pool, Node's own). False once the process
 * is gone; a thread that ends between listing and reading is left out.
 */
function eachThread(pid, file, nameOf, visit) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  for (const tid of tids) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8');
    } catch {
      continue;
    }
    visit(String(pid) === tid ? 'main' : nameOf(text).startsWith('ZMQ') ? 'zmq' : 'other', text);
  }
  return true;
}

/** CPU ms of every thread of `pid`, by group (above); total, user and sys over all of them. Null once the process is gone. */
export function threadCpu(pid) {
  const out = { main: 0, zmq: 0, other: 0, total: 0, user: 0, sys: 0 };
  const nameOf = (stat) => stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const found = eachThread(pid, 'stat', nameOf, (group, stat) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(f[11]) * TICK_MS;
    const sys = Number(f[12]) * TICK_MS;
    out[group] += user + sys;
    out.total += user + sys;
    out.user += user;
    out.sys += sys;
  });
  return found ? out : null;
}

/**
 * Voluntary context switches of `pid`'s threads, by group: how often each went to sleep and was woken. Per
 * fault, it says how many frames a wake-up handles (fewer wake-ups per fault: more batched).
 */
export function threadWakeups(pid) {
  const out = { main: 0, zmq: 0, other: 0 };
  const nameOf = (status) => /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
  const found = eachThread(pid, 'status', nameOf, (group, status) => {
    out[group] += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  });
  return found ? out : null;
}
