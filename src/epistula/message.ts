// The Epistula v2 wire format: header names and the exact string that gets signed.
// Kept apart from the signer/verifier so a Workers build can swap node:crypto for WebCrypto here alone.
import * as nodeCrypto from 'node:crypto';

export const EPISTULA_VERSION = '2';

/** Canonical header names, as the gateway sends them (HTTP header names are case-insensitive on the wire). */
export const EpistulaHeader = {
  version: 'Epistula-Version',
  timestamp: 'Epistula-Timestamp',
  uuid: 'Epistula-Uuid',
  signedBy: 'Epistula-Signed-By',
  signedFor: 'Epistula-Signed-For',
  signature: 'Epistula-Request-Signature',
} as const;

export type EpistulaHeaderName = (typeof EpistulaHeader)[keyof typeof EpistulaHeader];

/** Lowercase hex SHA-256 of the exact request body bytes (a string is hashed as UTF-8). */
export function sha256Hex(body: Uint8Array | string): string {
  // One-shot crypto.hash (Node >= 20.12) skips the Hash object createHash builds: ~1 us less per request.
  return typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash('sha256', body, 'hex') : nodeCrypto.createHash('sha256').update(body).digest('hex');
}

/**
 * The UTF-8 message that is sr25519-signed. `timestampMs` may be passed as the header string a verifier
 * received, so the message is rebuilt from exactly what was sent rather than a re-formatted number.
 */
export function epistulaMessage(
  bodySha256Hex: string,
  uuid: string,
  timestampMs: number | string,
  signedFor: string,
): string {
  return `${bodySha256Hex}.${uuid}.${timestampMs}.${signedFor}`;
}
