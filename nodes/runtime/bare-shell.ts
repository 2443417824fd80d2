// The process shell both bare benchmark nodes (bare.ts, bare-fair.ts) share: the config
// from argv, the real Transport and codec to the peers, the control channel to the
// parent, and the same start and stop as a real node, authenticated links included
// (the keys from the parent over the IPC pipe). Only the handlers differ.
import type { z } from 'zod';
import { decode, encode, type Message } from '../protocol/index.js';
import { receiveLinkKeys, type Links } from './link-keys.js';
import { Transport } from './transport.js';

/** The config in argv[2], validated; a bad one exits with code 2 before anything binds. */
export function parseBareConfig<C>(schema: z.ZodType<C>): C {
  const parsed = schema.safeParse(JSON.parse(process.argv[2] ?? 'null'));
  if (!parsed.success) {
    console.error(`bad bare node config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    process.exit(2);
  }
  return parsed.data;
}

/** What the shell itself tells the parent; every bare node's From schema accepts these. */
type ShellMessage = { type: 'ready'; id: string } | { type: 'log'; message: string };

export interface BareShell<F> {
  send(to: string, msg: Message): void;
  toParent(msg: F): void;
  /** Stops on SIGTERM or when the parent goes, gets the link keys (curve), binds, then tells the parent it is ready. */
  start(): void;
}

/** Frames that decode go to `onFrame`; frames that do not are dropped, as a real node drops them. */
export function bareShell<F>(
  cfg: { id: string; endpoint: string; peers: readonly { id: string; endpoint: string }[]; links: Links },
  fromSchema: z.ZodType<F>,
  onFrame: (msg: Message) => void,
): BareShell<F> {
  const peers = new Map(cfg.peers.map((p) => [p.id, p.endpoint]));
  const toParent = (msg: F | ShellMessage): void => {
    if (process.send && process.connected) process.send(fromSchema.parse(msg));
  };
  // Made in start(), once the keys are in: nothing sends before the parent hears `ready`.
  let transport: Transport | null = null;
  const send = (to: string, msg: Message): void => {
    const endpoint = peers.get(to);
    if (endpoint === undefined) toParent({ type: 'log', message: `${cfg.id}: no endpoint for ${to}` });
    else transport?.send(endpoint, encode(msg));
  };
  const start = (): void => {
    const stop = (): void => {
      transport?.close();
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('disconnect', stop);
    const bind = async (): Promise<void> => {
      const keys = cfg.links === 'curve' ? await receiveLinkKeys() : null;
      const receive = (frame: Buffer): void => {
        const r = decode(frame);
        if (r.ok) onFrame(r.msg);
      };
      // Refused handshakes are not counted here: nothing but the bench's own processes talks to a bare node.
      transport = new Transport(cfg.endpoint, receive, keys ? { keys, onRefused: () => undefined } : undefined);
      await transport.bind();
    };
    bind().then(
      () => toParent({ type: 'ready', id: cfg.id }),
      (err: unknown) => {
        console.error(`[${cfg.id}] start failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  return { send, toParent, start };
}
