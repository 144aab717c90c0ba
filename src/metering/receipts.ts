/**
 * Signed usage receipts: proof, checkable offline by anyone holding the
 * gateway's public key, of what a request was charged and which miner served
 * it. A receipt is `<base64url(compact JSON)>.<base64url(ed25519 signature)>`,
 * the signature over the JSON bytes exactly as encoded.
 *
 * Signing uses node:crypto's native ed25519 (≈60 µs) rather than tweetnacl
 * (≈4.5 ms in pure JS, measured in bench/suites/sign.ts), which would cost
 * more than the gateway's whole latency budget; ed25519 is deterministic, so
 * both produce the same bytes. Verification (CLI, tests) uses tweetnacl.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';

export interface ReceiptBody {
  readonly v: 1;
  /** Which gateway key signed it (first 8 bytes of SHA-256 of the public key, hex). */
  readonly kid: string;
  readonly request_id: string;
  readonly key_id: string;
  /** The model id the client asked for, and the subnet model that served it. */
  readonly model: string;
  readonly served_model: string;
  readonly miner: { readonly netuid: number; readonly uid: number | null; readonly hotkey: string | null };
  readonly snapshot: { readonly version: string; readonly block: number | null };
  readonly tokens: { readonly prompt: number; readonly completion: number; readonly estimated: boolean };
  readonly cost_micro_usd: number;
  /** ISO 8601, when the request was billed. */
  readonly time: string;
  /** Present (true) when the answer came from the response cache; `miner` is then the miner that first served it. */
  readonly cached?: true;
}

export interface ReceiptSigner {
  readonly publicKey: Uint8Array;
  readonly kid: string;
  /** True when no RECEIPT_SIGNING_KEY was given: receipts stop verifying after a restart. */
  readonly ephemeral: boolean;
  sign(body: Omit<ReceiptBody, 'v' | 'kid'>): string;
}

/** PKCS#8 DER prefix of an ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function parseSeed(text: string): Uint8Array {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (bytes.length !== 32) throw new Error('a receipt signing seed is 32 bytes');
  return new Uint8Array(bytes);
}

export function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

function nativeSigner(seed: Uint8Array): ((message: Uint8Array) => Uint8Array) | null {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    sign(null, new Uint8Array(0), key); // some runtimes parse the key but cannot sign with it
  } catch {
    return null; // A runtime without native ed25519 (some Workers builds): tweetnacl below.
  }
  return (message) => sign(null, message, key);
}

export function createReceiptSigner(seed: Uint8Array | null): ReceiptSigner {
  const ephemeral = seed === null;
  const secretSeed = seed ?? nacl.randomBytes(32);
  const pair = nacl.sign.keyPair.fromSeed(secretSeed);
  const signBytes = nativeSigner(secretSeed) ?? ((message: Uint8Array) => nacl.sign.detached(message, pair.secretKey));
  const kid = keyIdOf(pair.publicKey);
  return {
    publicKey: pair.publicKey,
    kid,
    ephemeral,
    sign(body) {
      const json = Buffer.from(JSON.stringify({ v: 1, kid, ...body }));
      return `${json.toString('base64url')}.${Buffer.from(signBytes(json)).toString('base64url')}`;
    },
  };
}

export type ReceiptCheck = { readonly valid: true; readonly body: ReceiptBody } | { readonly valid: false; readonly reason: string };

/** Checks a receipt against a public key, offline. */
export function verifyReceipt(receipt: string, publicKey: Uint8Array): ReceiptCheck {
  const parts = receipt.trim().split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { valid: false, reason: 'not a receipt: expected <payload>.<signature>' };
  const payload = Buffer.from(parts[0], 'base64url');
  const signature = Buffer.from(parts[1], 'base64url');
  if (publicKey.length !== nacl.sign.publicKeyLength) return { valid: false, reason: 'the public key is not 32 bytes' };
  if (signature.length !== nacl.sign.signatureLength) return { valid: false, reason: 'the signature is not 64 bytes' };
  if (!nacl.sign.detached.verify(new Uint8Array(payload), new Uint8Array(signature), publicKey)) {
    return { valid: false, reason: 'the signature does not match the payload and public key' };
  }
  let body: ReceiptBody;
  try {
    body = JSON.parse(payload.toString('utf8')) as ReceiptBody;
  } catch {
    return { valid: false, reason: 'the signed payload is not JSON' };
  }
  if (body.kid !== keyIdOf(publicKey)) return { valid: false, reason: `signed by key ${body.kid}, not ${keyIdOf(publicKey)}` };
  return { valid: true, body };
}

/**
 * The body of a receipt this gateway just signed, without checking the
 * signature (a caller that needs proof uses verifyReceipt); null when it is
 * not a receipt.
 */
export function readReceiptBody(receipt: string): ReceiptBody | null {
  const payload = receipt.split('.')[0];
  if (!payload) return null;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ReceiptBody;
  } catch {
    return null;
  }
}

/** Reads a public key given as hex (64 chars) or base64. */
export function parsePublicKey(text: string): Uint8Array {
  return parseSeed(text.trim());
}
