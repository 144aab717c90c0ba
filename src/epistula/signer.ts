// Epistula v2 request signing: runs once per proxied request, so everything that can be done once
// (secret URI decoding, ss58 encoding, wasm initialisation) happens at creation, never per call.
import { randomUUID } from 'node:crypto';
import { encodeAddress } from '@polkadot/util-crypto';
import { EPISTULA_VERSION, EpistulaHeader, epistulaMessage, sha256Hex } from './message.js';
import { NoncePool } from './nonce-pool.js';
import { sr25519KeypairFromUri, type Sr25519Keypair } from './secret-uri.js';
import { fastestSr25519Backend, type Sr25519Backend } from './sr25519-backend.js';
import { nonceSigningKey, signWithNonce } from './sr25519-nonce-signing.js';

/** Bittensor / generic Substrate ss58 prefix. */
const SS58_PREFIX = 42;

export interface EpistulaSigner {
  readonly ss58: string;
  readonly publicKey: Uint8Array;
  /** Which sr25519 implementation signs (for logs and benchmarks). */
  readonly backend: string;
  /** Raw 64-byte sr25519 signature (signing context "substrate", as Keyring and the miners use). */
  sign(message: Uint8Array): Uint8Array;
  /** All six Epistula v2 headers for `body`, addressed to the miner hotkey `signedFor`. */
  headers(body: Uint8Array | string, signedFor: string): Record<string, string>;
  /** Precomputed nonces ready now (0 before the first request or without a worker). */
  readonly noncesReady: number;
  /** Stops the nonce worker, if one was started. */
  close(): Promise<void>;
}

export interface EpistulaSignerOptions {
  /** Clock for Epistula-Timestamp; tests inject one to produce stale or future requests. */
  now?: () => number;
  /** The sr25519 implementation; defaults to the fastest that loads here. */
  backend?: Sr25519Backend;
  /**
   * Sign request headers with nonces precomputed by a worker thread (default
   * true; started on the first `headers` call). `sign` and an empty pool use
   * the backend.
   */
  precomputedNonces?: boolean;
}

/** Builds a signer from a secret URI (see src/epistula/secret-uri.ts). */
export async function createEpistulaSigner(
  secretUri: string,
  options: EpistulaSignerOptions = {},
): Promise<EpistulaSigner> {
  return createEpistulaSignerFromKeypair(sr25519KeypairFromUri(secretUri), options);
}

/** Builds a signer from an already decoded keypair (tests, or keys loaded from elsewhere). */
export async function createEpistulaSignerFromKeypair(
  keypair: Sr25519Keypair,
  options: EpistulaSignerOptions = {},
): Promise<EpistulaSigner> {
  if (keypair.publicKey.length !== 32 || keypair.secretKey.length !== 64) {
    throw new Error('sr25519 keypair must have a 32-byte public key and a 64-byte secret key');
  }
  const backend = options.backend ?? (await fastestSr25519Backend());
  // Private copies so a caller mutating its arrays cannot change (or zero) the signer's key.
  const publicKey = Uint8Array.from(keypair.publicKey);
  const secretKey = Uint8Array.from(keypair.secretKey);
  const ss58 = encodeAddress(publicKey, SS58_PREFIX);
  const now = options.now ?? Date.now;

  const sign = (message: Uint8Array): Uint8Array => backend.sign(publicKey, secretKey, message);
  // Per request, the point multiplication is most of a signature's cost: a worker does it ahead of time.
  const nonceKey = options.precomputedNonces === false ? null : nonceSigningKey(publicKey, secretKey);
  let pool: NoncePool | null = null;
  let poolState: 'idle' | 'starting' | 'closed' = 'idle';
  const startPool = () => {
    poolState = 'starting';
    void NoncePool.start().then((started) => {
      if (poolState === 'closed') void started?.close();
      else pool = started;
    });
  };

  const headers = (body: Uint8Array | string, signedFor: string): Record<string, string> => {
    const uuid = randomUUID();
    const timestamp = String(now());
    const message = Buffer.from(epistulaMessage(sha256Hex(body), uuid, timestamp, signedFor), 'utf8');
    if (nonceKey && poolState === 'idle') startPool();
    const nonce = pool?.take();
    const signature = nonceKey && nonce ? signWithNonce(nonceKey, message, nonce) : sign(message);
    return {
      [EpistulaHeader.version]: EPISTULA_VERSION,
      [EpistulaHeader.timestamp]: timestamp,
      [EpistulaHeader.uuid]: uuid,
      [EpistulaHeader.signedBy]: ss58,
      [EpistulaHeader.signedFor]: signedFor,
      [EpistulaHeader.signature]: `0x${toHex(signature)}`,
    };
  };

  const close = async () => {
    poolState = 'closed';
    await pool?.close();
    pool = null;
  };

  return {
    ss58,
    publicKey,
    backend: backend.name,
    sign,
    headers,
    close,
    get noncesReady() {
      return pool?.size ?? 0;
    },
  };
}

/** Buffer's native hex encoder over the same memory: no copy, no per-byte JS loop. */
function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
