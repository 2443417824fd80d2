// The node's ZAP handler (ZeroMQ RFC 27): libzmq asks it about every CURVE handshake
// on the node's ROUTER socket, and it admits only the cluster's client public key.
// Without it a CURVE server accepts any client that knows the server's public key;
// with it a process needs the cluster's client secret too. The handler is a ROUTER
// socket of its own, bound at inproc://zeromq.zap.01 in the node's (zeromq.js's default,
// process-wide) context, so there is one per process; a refused handshake shows up on
// the node's ROUTER as `handshake:error:auth`, where the transport counts it.
import type * as Zmq from 'zeromq';
import { lazyRequire } from './lazy-require.js';
import { z85Decode } from './link-keys.js';

// Required on first use: a node may start from a V8 start-up snapshot, which cannot hold the native addon (lazy-require.ts).
const zmq = lazyRequire<typeof Zmq>('zeromq');

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
  const reply = (status: readonly Buffer[]): Buffer[] => [ZAP_VERSION, requestId ?? EMPTY, ...status];
  if (version === undefined || !version.equals(ZAP_VERSION) || requestId === undefined || mechanism === undefined) return reply(NOT_ZAP);
  if (!mechanism.equals(CURVE)) return reply(CURVE_ONLY);
  if (key?.length !== 32 || !admit(key)) return reply(UNKNOWN_KEY);
  return reply(ADMITTED);
}

// The frames of every reply, made once: a node answers one request per handshake, and with 128 clients
// the links between them are thousands of handshakes in a run. Nothing ever writes to these frames, so
// replies share them.
const EMPTY = Buffer.alloc(0);
const ZAP_VERSION = Buffer.from('1.0');
const CURVE = Buffer.from('CURVE');
const status = (code: string, text: string): readonly Buffer[] => [Buffer.from(code), Buffer.from(text), EMPTY, EMPTY];
const NOT_ZAP = status('500', 'not a ZAP 1.0 request');
const CURVE_ONLY = status('400', 'CURVE only');
const UNKNOWN_KEY = status('400', 'unknown client key');
const ADMITTED = status('200', 'OK');

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
