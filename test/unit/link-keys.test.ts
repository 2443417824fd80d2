// The cluster's link keys (link-keys.ts) and the ZAP handler's decision (zap.ts): Z85
// against the RFC's test vector and zeromq's own keys, keypairs that belong together,
// and the validation of the key message a node receives over the IPC pipe.
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, generateLinkKeys, LinkKeysMessageSchema, isLinkKeysRequest, publicKeyOf, z85Decode, z85Encode } from '../../nodes/runtime/link-keys.js';
import { zapReply } from '../../nodes/runtime/zap.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;

describe('Z85', () => {
  it('encodes and decodes the test vector of ZeroMQ RFC 32', () => {
    const bytes = Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
    expect(z85Decode('HelloWorld')).toEqual(bytes);
  });

  it('rejects text that is not Z85', () => {
    expect(z85Decode('Hello')).not.toBeNull();
    expect(z85Decode('Hell')).toBeNull(); // not a multiple of 5
    expect(z85Decode('Hell"')).toBeNull(); // not in the alphabet
    expect(z85Decode('#####')).toBeNull(); // more than 32 bits
  });
});

describe('CURVE keys', () => {
  it('derives the public key zeromq derives from a secret key, and makes keypairs zeromq would', () => {
    for (let i = 0; i < 5; i++) {
      const kp = zmq.curveKeyPair();
      expect(publicKeyOf(kp.secretKey)).toBe(kp.publicKey);
      const ours = generateKeyPair();
      expect(ours.publicKey).toHaveLength(40);
      expect(publicKeyOf(ours.secretKey)).toBe(ours.publicKey);
    }
  });

  it('makes distinct keys for every cluster', () => {
    const a = generateLinkKeys();
    const b = generateLinkKeys();
    expect(new Set([a.server.publicKey, a.client.publicKey, b.server.publicKey, b.client.publicKey]).size).toBe(4);
  });
});

describe('the key message (supervisor -> node over the IPC pipe)', () => {
  const keys = generateLinkKeys();
  const parse = (raw: unknown): boolean => LinkKeysMessageSchema.safeParse(raw).success;

  it('accepts the supervisor\'s message', () => {
    expect(parse({ type: 'linkKeys', keys })).toBe(true);
    expect(isLinkKeysRequest({ type: 'linkKeys' })).toBe(true);
    expect(isLinkKeysRequest({ type: 'ready' })).toBe(false);
  });

  it('refuses keys that are malformed or do not belong together', () => {
    const other = generateKeyPair();
    const bad: unknown[] = [
      null,
      { type: 'linkKeys' },
      { type: 'linkKeys', keys: { server: keys.server } },
      { type: 'linkKeys', keys: { ...keys, server: { ...keys.server, secretKey: keys.server.secretKey.slice(1) } } }, // 39 characters
      { type: 'linkKeys', keys: { ...keys, server: { ...keys.server, publicKey: `${keys.server.publicKey.slice(0, 39)}"` } } }, // not Z85
      { type: 'linkKeys', keys: { ...keys, server: { publicKey: keys.server.publicKey, secretKey: other.secretKey } } }, // another pair's secret
      { type: 'linkKeys', keys: { server: keys.server, client: keys.server } }, // one pair for both roles
      { type: 'linkKeys', keys: { ...keys, client: { ...keys.client, publicKey: 42 } } },
    ];
    for (const raw of bad) expect(parse(raw), JSON.stringify(raw)).toBe(false);
  });
});

describe('ZAP decision', () => {
  const admitted = z85Decode(generateKeyPair().publicKey)!;
  const stranger = z85Decode(generateKeyPair().publicKey)!;
  const admit = (k: Buffer): boolean => k.equals(admitted);
  const request = (mechanism: string, key?: Buffer): Buffer[] =>
    [Buffer.from('1.0'), Buffer.from('7'), Buffer.from('ivy-cluster'), Buffer.from('127.0.0.1'), Buffer.alloc(0), Buffer.from(mechanism), ...(key ? [key] : [])];
  const status = (reply: Buffer[]): string => reply[2]!.toString();

  it('admits only the cluster\'s client key, over CURVE, and answers the request it was asked', () => {
    const ok = zapReply(request('CURVE', admitted), admit);
    expect(status(ok)).toBe('200');
    expect(ok[0]!.toString()).toBe('1.0');
    expect(ok[1]!.toString()).toBe('7');
    expect(ok).toHaveLength(6);
    expect(status(zapReply(request('CURVE', stranger), admit))).toBe('400');
    expect(status(zapReply(request('CURVE', admitted.subarray(0, 31)), admit))).toBe('400');
    expect(status(zapReply(request('CURVE'), admit))).toBe('400');
    expect(status(zapReply(request('NULL'), admit))).toBe('400');
    expect(status(zapReply(request('PLAIN', admitted), admit))).toBe('400');
    expect(status(zapReply([Buffer.from('2.0'), ...request('CURVE', admitted).slice(1)], admit))).toBe('500');
    expect(status(zapReply([], admit))).toBe('500');
  });
});
