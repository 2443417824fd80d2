// Process plumbing both bare paths of the bench share (bare-path.ts, fair-bare-path.ts):
// find the built node, fork it with the real nodes' V8 flags, wait for its ready
// message, route its control messages (its request for the link keys answered, as a
// supervisor answers it), answer ops with a deadline, and kill it.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import { isLinkKeysRequest, type LinkKeys, type LinkKeysMessage } from '../../runtime/link-keys.js';
import { defaultNodeEntry, nodeEnv, nodeExecArgv } from '../supervisor.js';

export const OP_TIMEOUT_MS = 5000;

/** A built bare node beside the real one (out/nodes/<file>). */
export function bareNodeEntry(file: string): string {
  const entry = join(dirname(defaultNodeEntry()), file);
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build:nodes\` first`);
  return entry;
}

/**
 * Forks `entry` with `cfg` as its argument. `ready` resolves on its ready message and
 * rejects if it exits first or is not ready in 20 s; every other valid message goes to `onMessage`.
 * `keys`: the path's link keys, handed over the IPC pipe when the node asks (null: plain links).
 */
export function forkBareNode<M extends { type: string }>(
  entry: string,
  cfg: { id: string },
  keys: LinkKeys | null,
  label: string,
  fromSchema: z.ZodType<M>,
  onMessage: (m: M) => void,
): { proc: ChildProcess; ready: Promise<void> } {
  // The same V8 flags and environment as the real nodes, so the paths differ only in the protocol; IVY_PROFILE_NODES
  // names bare nodes too (a CPU profile of the bare c3 beside the protocol's c3).
  const proc = fork(entry, [JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', execArgv: nodeExecArgv(cfg.id), env: nodeEnv() });
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} ${cfg.id} not ready after 20 s ${stderr}`)), 20_000);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} ${cfg.id} exited (${signal ?? code}) ${stderr}`));
    });
    proc.on('message', (raw: unknown) => {
      if (isLinkKeysRequest(raw)) {
        if (keys !== null && proc.connected) proc.send({ type: 'linkKeys', keys } satisfies LinkKeysMessage);
        return;
      }
      const parsed = fromSchema.safeParse(raw);
      if (!parsed.success) return;
      if (parsed.data.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else onMessage(parsed.data);
    });
  });
  return { proc, ready };
}

/**
 * Registers a waiter for op `id`, then calls `send`; resolves with what the waiter is
 * given, or rejects with `what` … not answered after OP_TIMEOUT_MS.
 */
export function awaitOp<T>(waiters: Map<number, (t: T) => void>, id: number, what: string, send: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(id);
      reject(new Error(`${what} not answered within ${OP_TIMEOUT_MS} ms`));
    }, OP_TIMEOUT_MS);
    waiters.set(id, (t) => {
      clearTimeout(timer);
      resolve(t);
    });
    send();
  });
}

/** SIGKILLs every process still running and resolves when all have exited. */
export async function killAll(procs: Iterable<ChildProcess>): Promise<void> {
  await Promise.all(
    [...procs].map(
      (p) =>
        new Promise<void>((done) => {
          if (p.exitCode !== null || p.signalCode !== null) return done();
          p.once('exit', () => done());
          p.kill('SIGKILL');
        }),
    ),
  );
}
