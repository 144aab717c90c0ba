// Epistula v2 request verification, as a miner does it. Not on the gateway's hot path, but it is on the
// devnet miner's, so signatures go through wasm-crypto (~10x faster than util-crypto's pure-JS verify).
import { hexToU8a } from '@polkadot/util';
import { decodeAddress, sr25519Verify as sr25519VerifyJs } from '@polkadot/util-crypto';
import { isReady, sr25519Verify as sr25519VerifyWasm, waitReady } from '@polkadot/wasm-crypto';
import { EPISTULA_VERSION, EpistulaHeader, type EpistulaHeaderName, epistulaMessage, sha256Hex } from './message.js';

export type EpistulaVerification = { ok: true; signedBy: string } | { ok: false; reason: string };

export interface VerifyEpistulaOptions {
  /** ss58 of the hotkey the request must be addressed to (the verifying miner's own hotkey). */
  expectedSignedFor: string;
  now?: () => number;
  /** Oldest accepted timestamp, relative to `now()`. */
  maxAgeMs?: number;
  /** Tolerated clock skew for timestamps ahead of `now()`. */
  maxFutureMs?: number;
}

/**
 * Looks up a request header by its canonical Epistula name. Must be case-insensitive, like Fetch
 * `Headers.get`; for node's lowercased `IncomingMessage.headers`, lowercase the name first.
 */
export type HeaderLookup = (name: string) => string | undefined;

const DEFAULT_MAX_AGE_MS = 8_000;
const DEFAULT_MAX_FUTURE_MS = 2_000;
const SIGNATURE_RE = /^0x[0-9a-fA-F]{128}$/;
const TIMESTAMP_RE = /^\d{1,16}$/;

const REQUIRED_HEADERS: readonly EpistulaHeaderName[] = [
  EpistulaHeader.timestamp,
  EpistulaHeader.uuid,
  EpistulaHeader.signedBy,
  EpistulaHeader.signedFor,
  EpistulaHeader.signature,
];

/** Resolves once wasm verification is available; until then `verifyEpistulaRequest` uses the slow JS path. */
export async function epistulaVerifierReady(): Promise<void> {
  await waitReady();
}

export function verifyEpistulaRequest(
  headers: HeaderLookup,
  body: Uint8Array | string,
  opts: VerifyEpistulaOptions,
): EpistulaVerification {
  const version = headers(EpistulaHeader.version);
  if (version === undefined) return reject(`missing ${EpistulaHeader.version} header`);
  if (version !== EPISTULA_VERSION) return reject(`unsupported ${EpistulaHeader.version} ${version}`);

  for (const name of REQUIRED_HEADERS) {
    if (!headers(name)) return reject(`missing ${name} header`);
  }
  // Non-null: each was checked just above.
  const timestamp = headers(EpistulaHeader.timestamp)!;
  const uuid = headers(EpistulaHeader.uuid)!;
  const signedBy = headers(EpistulaHeader.signedBy)!;
  const signedFor = headers(EpistulaHeader.signedFor)!;
  const signature = headers(EpistulaHeader.signature)!;

  if (!TIMESTAMP_RE.test(timestamp)) return reject('malformed timestamp');
  const ageMs = (opts.now ?? Date.now)() - Number(timestamp);
  if (ageMs > (opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS)) return reject('stale timestamp');
  if (-ageMs > (opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS)) return reject('timestamp in the future');

  if (signedFor !== opts.expectedSignedFor) return reject('signed for another hotkey');
  if (!SIGNATURE_RE.test(signature)) return reject('malformed signature');

  const publicKey = publicKeyOf(signedBy);
  if (publicKey === undefined) return reject(`invalid ${EpistulaHeader.signedBy} address`);

  // The message is rebuilt from the header strings exactly as received.
  const message = Buffer.from(epistulaMessage(sha256Hex(body), uuid, timestamp, signedFor), 'utf8');
  const signatureBytes = hexToU8a(signature);
  const valid = isReady()
    ? sr25519VerifyWasm(signatureBytes, message, publicKey)
    : sr25519VerifyJs(message, signatureBytes, publicKey);
  return valid ? { ok: true, signedBy } : reject('bad signature');
}

function reject(reason: string): EpistulaVerification {
  return { ok: false, reason };
}

// A miner sees the same few signers (gateways/validators) over and over; ss58 decoding costs a
// base58 decode plus a blake2 checksum, so decoded keys are memoised. Bounded so junk addresses
// from unauthenticated callers cannot grow it without limit.
const PUBLIC_KEY_CACHE_LIMIT = 1_024;
const publicKeyCache = new Map<string, Uint8Array>();

function publicKeyOf(ss58: string): Uint8Array | undefined {
  const cached = publicKeyCache.get(ss58);
  if (cached !== undefined) return cached;
  let publicKey: Uint8Array;
  try {
    publicKey = decodeAddress(ss58);
  } catch {
    return undefined;
  }
  if (publicKey.length !== 32) return undefined;
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) publicKeyCache.clear();
  publicKeyCache.set(ss58, publicKey);
  return publicKey;
}
