/**
 * sr25519 (schnorrkel) signing with a nonce computed ahead of time.
 *
 * A signature is (R, s): R = r·B for a secret random scalar r, k = the
 * Merlin challenge over the context, message, public key and R, and
 * s = k·a + r (mod ℓ). Nearly all of its cost is r·B (~100 µs in wasm); the
 * rest depends on the message but is cheap (three Keccak permutations and
 * one scalar multiply-add, ~15 µs). So a worker computes (r, R) pairs in
 * advance (nonce-pool.ts) and the request path only hashes and adds. The
 * transcript is exactly schnorrkel's (as in @scure/sr25519's `sign`), so
 * every sr25519 verifier accepts the result; the tests check it against
 * schnorrkel's own verify.
 *
 * Schnorrkel derives r from the transcript, its secret nonce seed and fresh
 * randomness; here r is 512 fresh CSPRNG bits reduced mod ℓ (the textbook
 * Schnorr nonce, uniform to within 2^-260). It stays as secret as the key:
 * it never leaves this process, signs exactly once, and its pooled bytes
 * are zeroed when it is handed out.
 */
import { MerlinTranscript } from './merlin-transcript.js';

/** Order of the ristretto255 group. */
export const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

export interface SigningNonce {
  /** The secret scalar r, reduced mod ℓ. */
  readonly r: bigint;
  /** R = r·B, ristretto-encoded (32 bytes). */
  readonly point: Uint8Array;
}

export function bytesToBigIntLE(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
}

export function bigIntToBytesLE(n: bigint, length: number): Uint8Array {
  const hex = n.toString(16).padStart(length * 2, '0');
  return Uint8Array.from(Buffer.from(hex, 'hex').reverse());
}

/**
 * The 64-byte schnorrkel secret whose public key is r·B: the scalar times the
 * cofactor (the "ed25519-expanded" form wasm-crypto and schnorrkel-wasm
 * read), and an unused nonce half. A nonce worker passes it to
 * `sr25519_pubkey` to get R.
 */
export function secretKeyForScalar(r: bigint): Uint8Array {
  const secret = new Uint8Array(64);
  secret.set(bigIntToBytesLE(r << 3n, 32), 0);
  return secret;
}

const SIGN_BYTES = new TextEncoder().encode('sign-bytes');
const PROTO_NAME = new TextEncoder().encode('proto-name');
const SCHNORR_SIG = new TextEncoder().encode('Schnorr-sig');
const SIGN_PK = new TextEncoder().encode('sign:pk');
const SIGN_R = new TextEncoder().encode('sign:R');
const SIGN_C = new TextEncoder().encode('sign:c');

export interface NonceSigningKey {
  readonly publicKey: Uint8Array;
  /** The secret scalar a (the 64-byte secret's first half, divided by the cofactor). */
  readonly scalar: bigint;
  /** The transcript after the signing context ("substrate"), shared by every signature. */
  readonly context: MerlinTranscript;
}

export function nonceSigningKey(publicKey: Uint8Array, secretKey: Uint8Array, context = 'substrate'): NonceSigningKey {
  const transcript = MerlinTranscript.start('SigningContext');
  transcript.append(new Uint8Array(0), new TextEncoder().encode(context));
  return { publicKey, scalar: bytesToBigIntLE(secretKey.subarray(0, 32)) >> 3n, context: transcript };
}

/** A 64-byte sr25519 signature of `message` by `key`, using (and consuming) `nonce`. */
export function signWithNonce(key: NonceSigningKey, message: Uint8Array, nonce: SigningNonce): Uint8Array {
  const t = key.context.clone();
  t.append(SIGN_BYTES, message);
  t.append(PROTO_NAME, SCHNORR_SIG);
  t.append(SIGN_PK, key.publicKey);
  t.append(SIGN_R, nonce.point);
  const k = bytesToBigIntLE(t.challengeBytes(SIGN_C, 64)) % GROUP_ORDER;
  t.wipe();
  const s = (k * key.scalar + nonce.r) % GROUP_ORDER;
  const signature = new Uint8Array(64);
  signature.set(nonce.point, 0);
  signature.set(bigIntToBytesLE(s, 32), 32);
  // schnorrkel's marker bit, which tells its signatures from ed25519's
  signature[63] = signature[63]! | 0x80;
  return signature;
}
