// The node's ZAP handler (ZeroMQ RFC 27): libzmq asks it about every CURVE handshake
// on the node's PULL socket, and it admits only the cluster's client public key.
// Without it a CURVE server accepts any client that knows the server's public key;
// with it a process needs the cluster's client secret too. It is a ROUTER socket
// bound at inproc://zeromq.zap.01 in the node's (zeromq.js's default, process-wide)
// context, so there is one per process; a refused handshake shows up on the PULL
// socket as `handshake:error:auth`, where the transport counts it.
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import { z85Decode } from './link-keys.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;

export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
/** The CURVE servers' ZAP domain; set (with zapEnforceDomain) so that no handler means no admission. */
export const ZAP_DOMAIN = 'ivy-cluster';

/**
 * The reply to one ZAP request (the frames after the ROUTER's envelope): 200 for a CURVE client whose
 * 32-byte public key `admit` accepts, 400 for any other client or mechanism, 500 for a request that is not
 * ZAP 1.0 (libzmq sends none such; nothing else can reach an inproc endpoint of this process).
 */
export function zapReply(request: readonly Buffer[], admit: (publicKey: Buffer) => boolean): Buffer[] {
  const [version, requestId, , , , mechanism, key] = request;
  const reply = (status: string, text: string): Buffer[] => [Buffer.from('1.0'), requestId ?? Buffer.alloc(0), Buffer.from(status), Buffer.from(text), Buffer.alloc(0), Buffer.alloc(0)];
  if (version?.toString() !== '1.0' || requestId === undefined || mechanism === undefined) return reply('500', 'not a ZAP 1.0 request');
  if (mechanism.toString() !== 'CURVE') return reply('400', 'CURVE only');
  if (key?.length !== 32 || !admit(key)) return reply('400', 'unknown client key');
  return reply('200', 'OK');
}

let handler: { router: Zmq.Router; bound: Promise<void>; admitted: Map<string, number> } | null = null;

/**
 * Starts this process's ZAP handler if it is not running, admitting `clientPublicKey` (Z85) from now on.
 * Resolves once the handler is bound: bind the CURVE server after that, or its first handshakes would go
 * unchecked. The returned function withdraws the admission and stops the handler with the last one.
 */
export async function admitClient(clientPublicKey: string): Promise<() => void> {
  const key = z85Decode(clientPublicKey);
  if (key?.length !== 32) throw new Error('not a CURVE public key');
  const hex = key.toString('hex');
  if (handler === null) {
    const router = new zmq.Router({ linger: 0 });
    const admitted = new Map<string, number>();
    // Served once bound: zeromq.js refuses any other call on a socket while its bind is under way.
    const bound = router.bind(ZAP_ENDPOINT).then(
      () => void serve(router, admitted),
      (err: unknown) => {
        handler = null;
        router.close();
        throw err;
      },
    );
    handler = { router, admitted, bound };
  }
  const h = handler;
  h.admitted.set(hex, (h.admitted.get(hex) ?? 0) + 1);
  await h.bound;
  let withdrawn = false;
  return () => {
    if (withdrawn) return;
    withdrawn = true;
    const left = (h.admitted.get(hex) ?? 1) - 1;
    if (left > 0) h.admitted.set(hex, left);
    else h.admitted.delete(hex);
    if (h.admitted.size === 0 && handler === h) {
      handler = null;
      h.router.close();
    }
  };
}

async function serve(router: Zmq.Router, admitted: Map<string, number>): Promise<void> {
  const admit = (k: Buffer): boolean => admitted.has(k.toString('hex'));
  while (!router.closed) {
    try {
      const [peer, delimiter, ...request] = await router.receive();
      if (peer === undefined || delimiter === undefined) continue;
      await router.send([peer, delimiter, ...zapReply(request, admit)]);
    } catch {
      // Closed (the loop ends), or a reply libzmq no longer waits for. Either way the handshake is not admitted.
    }
  }
}
