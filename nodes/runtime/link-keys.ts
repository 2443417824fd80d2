// The keys of a cluster's authenticated links (CurveZMQ, DESIGN §3). The supervisor
// generates one server keypair (every node's ROUTER socket) and one client keypair
// (every node's DEALER sockets) per cluster and hands them to each node it starts over
// the IPC pipe, never in argv (any local user reads it in /proc/PID/cmdline) or the
// environment (/proc/PID/environ, any process of the same user). A node asks for them
// first thing and binds nothing before they arrive.
// Each node's ZAP handler (zap.ts) admits only the cluster's client public key, so a
// process that knows a server's public key but not the client secret is refused too.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { z } from 'zod';

/** curve: authenticated links (the default everywhere); plain: only for measuring what CURVE costs. */
export const LinksSchema = z.enum(['curve', 'plain']);
export type Links = z.infer<typeof LinksSchema>;

/** Z85 (ZeroMQ RFC 32): 85 printable characters, 5 per 4 bytes. A 32-byte CURVE key is 40 of them. */
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_INDEX = new Map([...Z85].map((c, i) => [c, i]));

/** Decodes Z85 text (a multiple of 5 characters) to bytes; null when it is not Z85. */
export function z85Decode(text: string): Buffer | null {
  if (text.length % 5 !== 0) return null;
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      const d = Z85_INDEX.get(text[i + k]!);
      if (d === undefined) return null;
      v = v * 85 + d;
    }
    if (v > 0xffff_ffff) return null; // "#####" and the like: more than 32 bits
    out.writeUInt32BE(v, (i / 5) * 4);
  }
  return out;
}

/** Encodes bytes (a multiple of 4) as Z85 text. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new Error('Z85 encodes whole 4-byte groups');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = view.readUInt32BE(i);
    const group = new Array<string>(5);
    for (let k = 4; k >= 0; k--) {
      group[k] = Z85[v % 85]!;
      v = Math.floor(v / 85);
    }
    out += group.join('');
  }
  return out;
}

// CurveZMQ keys are X25519 keys (libsodium's crypto_box), so Node's own crypto makes and checks them: the
// supervisor, which may run inside Electron's main process, never loads the zeromq addon for this.
/** A fresh CURVE keypair (as zmq.curveKeyPair() makes). */
export function generateKeyPair(): { publicKey: string; secretKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const pub = publicKey.export({ format: 'jwk' }).x;
  const sec = privateKey.export({ format: 'jwk' }).d;
  if (pub === undefined || sec === undefined) throw new Error('X25519 key export failed');
  return { publicKey: z85Encode(Buffer.from(pub, 'base64url')), secretKey: z85Encode(Buffer.from(sec, 'base64url')) };
}

const JWK_X_PLACEHOLDER = Buffer.alloc(32).toString('base64url');

/**
 * The public key that belongs to a Z85 secret key (null: not a key). Imported as a JWK: OpenSSL takes the raw
 * key as it is, where a PKCS#8 DER import goes through its decoder machinery, whose first use in a process cost
 * a node ~1 ms more at start (every node checks both keypairs it is given). The JWK's `x` is a placeholder:
 * OpenSSL derives the public key from `d` and ignores it, so the key's own public half is what comes back.
 */
export function publicKeyOf(secretKey: string): string | null {
  const raw = z85Decode(secretKey);
  if (raw === null || raw.length !== 32) return null;
  const jwk = { kty: 'OKP', crv: 'X25519', d: raw.toString('base64url'), x: JWK_X_PLACEHOLDER };
  const pub = createPublicKey(createPrivateKey({ key: jwk, format: 'jwk' })).export({ format: 'jwk' }).x;
  return pub === undefined ? null : z85Encode(Buffer.from(pub, 'base64url'));
}

/** A cluster's keys: made once per supervisor, the same for every node and every reboot of it. */
export function generateLinkKeys(): LinkKeys {
  return { server: generateKeyPair(), client: generateKeyPair() };
}

/** A CURVE key as libzmq and zeromq.js take it: 40 characters of Z85 (32 bytes). */
export const CurveKeySchema = z
  .string()
  .length(40, 'a CURVE key is 40 characters of Z85')
  .refine((k) => z85Decode(k) !== null, 'not Z85 text');

const KeyPairSchema = z
  .object({ publicKey: CurveKeySchema, secretKey: CurveKeySchema })
  .refine((p) => publicKeyOf(p.secretKey) === p.publicKey, 'the secret key does not belong to the public key');

export const LinkKeysSchema = z
  .object({
    /** Every node's ROUTER socket (CURVE server). */
    server: KeyPairSchema,
    /** Every node's DEALER sockets (CURVE clients); the ZAP handlers admit exactly this public key. */
    client: KeyPairSchema,
  })
  .refine((k) => k.server.publicKey !== k.client.publicKey && k.server.secretKey !== k.client.secretKey, 'the server and the client keypair must differ');
export type LinkKeys = z.infer<typeof LinkKeysSchema>;

/** Node -> supervisor: "send me the cluster's link keys" (the first message a curve node sends). */
export const LinkKeysRequestSchema = z.object({ type: z.literal('linkKeys') });
/** Supervisor -> node: the answer, on the IPC pipe only. */
export const LinkKeysMessageSchema = z.object({ type: z.literal('linkKeys'), keys: LinkKeysSchema });
export type LinkKeysMessage = z.infer<typeof LinkKeysMessageSchema>;

/**
 * Is `raw` a node's request for the keys? (Checked before the control schemas, which do not know it.) Every
 * message from every node passes here first, and a zod parse that fails builds its issues: the type is
 * compared by hand, so only a request pays for the schema.
 */
export const isLinkKeysRequest = (raw: unknown): boolean =>
  typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'linkKeys' && LinkKeysRequestSchema.safeParse(raw).success;

/**
 * In a node process: asks the parent for the cluster's link keys over the IPC pipe and resolves with the first
 * valid answer. Invalid answers are ignored (a node trusts no parent). It waits as long as the pipe is up: the
 * supervisor owns the start-up deadline (20 s + 0.5 s per client, then it reports and kills a node that is
 * not ready); a fixed 20 s here gave up first when 130 processes started at once on two busy cores (128
 * clients at load 14-58: several clients exited "no link keys" while the supervisor still waited for them).
 * A lost pipe (the supervisor died) rejects at once; `timeoutMs` is only a backstop.
 */
export function receiveLinkKeys(timeoutMs = 600_000): Promise<LinkKeys> {
  return new Promise((resolve, reject) => {
    const send = process.send?.bind(process);
    if (!send || !process.connected) {
      reject(new Error('curve links take their keys from the supervisor over the IPC pipe, and this process has none (start it through ivy-cluster)'));
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    };
    const onMessage = (raw: unknown): void => {
      const parsed = LinkKeysMessageSchema.safeParse(raw);
      if (!parsed.success) return;
      done();
      resolve(parsed.data.keys);
    };
    const onDisconnect = (): void => {
      done();
      reject(new Error('the supervisor went away before it sent the link keys'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no link keys from the supervisor within ${timeoutMs} ms`));
    }, timeoutMs);
    process.on('message', onMessage);
    process.on('disconnect', onDisconnect);
    send({ type: 'linkKeys' });
  });
}
