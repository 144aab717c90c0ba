import { randomBytes } from 'node:crypto';
import { keccakP } from '@noble/hashes/sha3';
import { sr25519_pubkey, sr25519_verify } from '@polkadot-labs/schnorrkel-wasm';
import { Keyring } from '@polkadot/keyring';
import { signatureVerify } from '@polkadot/util-crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EpistulaHeader } from '../src/epistula/message.js';
import { keccakF1600 } from '../src/epistula/keccak-f1600.js';
import { NoncePool } from '../src/epistula/nonce-pool.js';
import { sr25519KeypairFromUri } from '../src/epistula/secret-uri.js';
import { createEpistulaSigner } from '../src/epistula/signer.js';
import {
  GROUP_ORDER,
  bigIntToBytesLE,
  bytesToBigIntLE,
  nonceSigningKey,
  secretKeyForScalar,
  signWithNonce,
  type SigningNonce,
} from '../src/epistula/sr25519-nonce-signing.js';
import { verifyEpistulaRequest } from '../src/epistula/verifier.js';

const alice = sr25519KeypairFromUri('//Alice');
const key = nonceSigningKey(alice.publicKey, alice.secretKey);

/** A nonce made here the way the worker makes one. */
function nonce(): SigningNonce {
  const r = bytesToBigIntLE(randomBytes(64)) % GROUP_ORDER;
  return { r, point: sr25519_pubkey(secretKeyForScalar(r)) };
}

const pools: NoncePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('keccakF1600', () => {
  it('permutes exactly as @noble/hashes keccakP', () => {
    for (let i = 0; i < 200; i++) {
      const state = new Uint32Array(randomBytes(200).buffer.slice(0, 200));
      const reference = Uint32Array.from(state);
      keccakF1600(state);
      keccakP(reference);
      expect(Array.from(state)).toEqual(Array.from(reference));
    }
  });
});

describe('signWithNonce', () => {
  it('makes signatures that schnorrkel, Keyring and util-crypto verify, for any message', () => {
    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(i * 7);
      const signature = signWithNonce(key, message, nonce());
      expect(sr25519_verify(alice.publicKey, message, signature)).toBe(true);
      expect(pair.verify(message, signature, alice.publicKey)).toBe(true);
      expect(signatureVerify(message, signature, alice.publicKey).isValid).toBe(true);
    }
  });

  it('is refused for another message, another key or a changed signature', () => {
    const message = new TextEncoder().encode('abc.uuid.1.5Grwva');
    const signature = signWithNonce(key, message, nonce());
    expect(sr25519_verify(alice.publicKey, new TextEncoder().encode('abc.uuid.2.5Grwva'), signature)).toBe(false);
    expect(sr25519_verify(sr25519KeypairFromUri('//Bob').publicKey, message, signature)).toBe(false);
    const changed = Uint8Array.from(signature);
    changed[40] = changed[40]! ^ 1;
    expect(sr25519_verify(alice.publicKey, message, changed)).toBe(false);
  });

  it('round-trips scalars through little-endian bytes', () => {
    for (const n of [0n, 1n, GROUP_ORDER - 1n, bytesToBigIntLE(randomBytes(32)) % GROUP_ORDER]) {
      expect(bytesToBigIntLE(bigIntToBytesLE(n, 32))).toBe(n);
    }
  });
});

describe('NoncePool', () => {
  it('hands out nonces whose point is r·B, each once, then null until the worker refills', async () => {
    const pool = await NoncePool.start({ batch: 8, lowWater: 4 });
    expect(pool).not.toBeNull();
    pools.push(pool!);
    await until(() => pool!.size >= 4);
    const taken: SigningNonce[] = [];
    for (let n = pool!.take(); n !== null; n = pool!.take()) taken.push(n);
    expect(taken.length).toBeGreaterThanOrEqual(4);
    expect(pool!.take()).toBeNull();
    expect(new Set(taken.map((n) => n.r)).size).toBe(taken.length);
    for (const n of taken) {
      expect(n.r > 0n && n.r < GROUP_ORDER).toBe(true);
      expect(Buffer.from(n.point).equals(Buffer.from(sr25519_pubkey(secretKeyForScalar(n.r))))).toBe(true);
      const message = randomBytes(100);
      expect(sr25519_verify(alice.publicKey, message, signWithNonce(key, message, n))).toBe(true);
    }
    await until(() => pool!.size > 0);
  });

  it('is empty once closed', async () => {
    const pool = (await NoncePool.start({ batch: 4, lowWater: 4 }))!;
    await until(() => pool.size > 0);
    await pool.close();
    expect(pool.size).toBe(0);
    expect(pool.take()).toBeNull();
  });
});

describe('Epistula signer with precomputed nonces', () => {
  it('signs from the pool once it has filled, and every header set verifies at the miner', async () => {
    const signer = await createEpistulaSigner('//Alice');
    const bob = (await createEpistulaSigner('//Bob', { precomputedNonces: false })).ss58;
    const check = (body: string) => {
      const headers = signer.headers(body, bob);
      const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(verifyEpistulaRequest((name) => lower.get(name.toLowerCase()), body, { expectedSignedFor: bob }).ok).toBe(true);
      expect(headers[EpistulaHeader.signedBy]).toBe(signer.ss58);
    };
    try {
      // The first request starts the worker and is signed the ordinary way.
      check('{"first":true}');
      await until(() => signer.noncesReady > 0);
      for (let i = 0; i < 20; i++) {
        const ready = signer.noncesReady;
        check(JSON.stringify({ i, pad: 'x'.repeat(i * 13) }));
        // Refills arrive asynchronously, so a synchronous signature took exactly one nonce.
        expect(signer.noncesReady).toBe(ready - 1);
      }
    } finally {
      await signer.close();
    }
    expect(signer.noncesReady).toBe(0);
  });

  it('stops a worker that was still starting when the signer closed', async () => {
    const signer = await createEpistulaSigner('//Alice');
    signer.headers('{}', signer.ss58);
    await signer.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(signer.noncesReady).toBe(0);
  });

  it('signs the ordinary way when precomputed nonces are off', async () => {
    const signer = await createEpistulaSigner('//Alice', { precomputedNonces: false });
    signer.headers('{}', signer.ss58);
    await new Promise((r) => setTimeout(r, 100));
    expect(signer.noncesReady).toBe(0);
  });
});
