import { readFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { beforeAll, describe, expect, it } from 'vitest';
import { EpistulaHeader, epistulaMessage, sha256Hex } from '../src/epistula/message.js';
import { sr25519KeypairFromUri } from '../src/epistula/secret-uri.js';
import { createEpistulaSigner, createEpistulaSignerFromKeypair, type EpistulaSigner } from '../src/epistula/signer.js';
import { fastestSr25519Backend, wasmCryptoBackend } from '../src/epistula/sr25519-backend.js';
import { epistulaVerifierReady, type HeaderLookup, verifyEpistulaRequest } from '../src/epistula/verifier.js';

interface Vector {
  signer_uri: string;
  signed_by: string;
  signed_for_uri: string;
  signed_for: string;
  body: string;
  body_sha256_hex: string;
  uuid: string;
  timestamp_ms: number;
  expected_message: string;
  signature: string;
  headers: Record<string, string>;
}

const vector = JSON.parse(
  readFileSync(new URL('./fixtures/epistula-v2-vector.json', import.meta.url), 'utf8'),
) as Vector;

const TEST_MNEMONIC = 'legal winner thank year wave sausage worth useful legal winner thank yellow';

/** Case-insensitive lookup over a plain record, like Fetch Headers. */
function lookup(record: Record<string, string>): HeaderLookup {
  const lower = new Map(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
  return (name) => lower.get(name.toLowerCase());
}

function keyringAddress(uri: string): string {
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri).address;
}

describe('epistulaMessage / sha256Hex', () => {
  it('hashes the body like the vector', () => {
    expect(sha256Hex(vector.body)).toBe(vector.body_sha256_hex);
    expect(sha256Hex(new TextEncoder().encode(vector.body))).toBe(vector.body_sha256_hex);
  });

  it('builds the vector message exactly', () => {
    const fromNumber = epistulaMessage(sha256Hex(vector.body), vector.uuid, vector.timestamp_ms, vector.signed_for);
    const fromHeader = epistulaMessage(vector.body_sha256_hex, vector.uuid, String(vector.timestamp_ms), vector.signed_for);
    expect(fromNumber).toBe(vector.expected_message);
    expect(fromHeader).toBe(vector.expected_message);
  });
});

describe('verifyEpistulaRequest', () => {
  const atVectorTime = () => vector.timestamp_ms + 1_000;
  const verify = (
    headers: Record<string, string>,
    body: string = vector.body,
    now: () => number = atVectorTime,
    expectedSignedFor = vector.signed_for,
  ) => verifyEpistulaRequest(lookup(headers), body, { expectedSignedFor, now });

  beforeAll(epistulaVerifierReady);

  it("accepts the vector's signature with a controlled clock", () => {
    expect(verify(vector.headers)).toEqual({ ok: true, signedBy: vector.signed_by });
  });

  it('accepts lowercase header names through a case-insensitive lookup', () => {
    const lowered = Object.fromEntries(Object.entries(vector.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verify(lowered).ok).toBe(true);
  });

  it('rejects a stale timestamp (older than 8 s)', () => {
    expect(verify(vector.headers, vector.body, () => vector.timestamp_ms + 8_001)).toEqual({
      ok: false,
      reason: 'stale timestamp',
    });
    expect(verify(vector.headers, vector.body, () => vector.timestamp_ms + 8_000).ok).toBe(true);
  });

  it('rejects the vector as stale with the real clock', () => {
    expect(verifyEpistulaRequest(lookup(vector.headers), vector.body, { expectedSignedFor: vector.signed_for })).toEqual({
      ok: false,
      reason: 'stale timestamp',
    });
  });

  it('rejects a timestamp more than 2 s in the future', () => {
    expect(verify(vector.headers, vector.body, () => vector.timestamp_ms - 2_001)).toEqual({
      ok: false,
      reason: 'timestamp in the future',
    });
    expect(verify(vector.headers, vector.body, () => vector.timestamp_ms - 2_000).ok).toBe(true);
  });

  it('honours custom maxAgeMs / maxFutureMs', () => {
    const opts = { expectedSignedFor: vector.signed_for, maxAgeMs: 100, maxFutureMs: 0 };
    expect(verifyEpistulaRequest(lookup(vector.headers), vector.body, { ...opts, now: () => vector.timestamp_ms + 101 }))
      .toEqual({ ok: false, reason: 'stale timestamp' });
    expect(verifyEpistulaRequest(lookup(vector.headers), vector.body, { ...opts, now: () => vector.timestamp_ms - 1 }))
      .toEqual({ ok: false, reason: 'timestamp in the future' });
  });

  it('rejects a request signed for another hotkey', () => {
    const alice = vector.signed_by;
    expect(verify(vector.headers, vector.body, atVectorTime, alice)).toEqual({
      ok: false,
      reason: 'signed for another hotkey',
    });
  });

  it('rejects a tampered body', () => {
    const tampered = vector.body.replace('haiku', 'sonnet');
    expect(tampered).not.toBe(vector.body);
    expect(verify(vector.headers, tampered)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('rejects a tampered uuid', () => {
    const headers = { ...vector.headers, [EpistulaHeader.uuid]: vector.uuid.replace(/.$/, '6') };
    expect(verify(headers)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('rejects a tampered timestamp even when still fresh', () => {
    const headers = { ...vector.headers, [EpistulaHeader.timestamp]: String(vector.timestamp_ms + 1) };
    expect(verify(headers)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('rejects a signature claimed by another signer', () => {
    const headers = { ...vector.headers, [EpistulaHeader.signedBy]: keyringAddress('//Charlie') };
    expect(verify(headers)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it.each(Object.values(EpistulaHeader))('rejects a request missing %s', (name) => {
    const headers = { ...vector.headers };
    delete headers[name];
    expect(verify(headers)).toEqual({ ok: false, reason: `missing ${name} header` });
  });

  it('rejects a wrong version', () => {
    expect(verify({ ...vector.headers, [EpistulaHeader.version]: '1' })).toEqual({
      ok: false,
      reason: 'unsupported Epistula-Version 1',
    });
  });

  it('rejects malformed timestamp, signature and signer', () => {
    expect(verify({ ...vector.headers, [EpistulaHeader.timestamp]: '17638e9' })).toEqual({
      ok: false,
      reason: 'malformed timestamp',
    });
    expect(verify({ ...vector.headers, [EpistulaHeader.signature]: vector.signature.slice(0, -2) })).toEqual({
      ok: false,
      reason: 'malformed signature',
    });
    expect(verify({ ...vector.headers, [EpistulaHeader.signedBy]: 'not-an-address' })).toEqual({
      ok: false,
      reason: 'invalid Epistula-Signed-By address',
    });
  });
});

describe('createEpistulaSigner', () => {
  let alice: EpistulaSigner;
  beforeAll(async () => {
    alice = await createEpistulaSigner('//Alice');
  });

  it.each([
    '//Alice',
    '//Bob',
    '//Miner1',
    TEST_MNEMONIC,
    `${TEST_MNEMONIC}//hard/soft`,
    `${TEST_MNEMONIC}/soft//hard///pass word`,
    '0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    '0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60//gateway',
  ])('derives the same ss58 as Keyring for %s', async (uri) => {
    const signer = await createEpistulaSigner(uri);
    const keyringPair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri);
    expect(signer.ss58).toBe(keyringPair.address);
    expect(Buffer.from(signer.publicKey).toString('hex')).toBe(Buffer.from(keyringPair.publicKey).toString('hex'));
  });

  it("matches the vector's signer", () => {
    expect(alice.ss58).toBe(vector.signed_by);
  });

  it('rejects a URI that is neither a mnemonic, dev URI nor hex seed', async () => {
    await expect(createEpistulaSigner('alice')).rejects.toThrow(/secret URI/);
    await expect(createEpistulaSigner('legal winner thank year wave sausage worth useful legal winner thank thank')).rejects.toThrow();
  });

  it('produces six headers that the verifier accepts', () => {
    const body = new TextEncoder().encode(vector.body);
    const before = Date.now();
    const headers = alice.headers(body, vector.signed_for);
    const after = Date.now();

    expect(Object.keys(headers).sort()).toEqual(Object.values(EpistulaHeader).sort());
    expect(headers[EpistulaHeader.version]).toBe('2');
    expect(headers[EpistulaHeader.signedBy]).toBe(vector.signed_by);
    expect(headers[EpistulaHeader.signedFor]).toBe(vector.signed_for);
    expect(headers[EpistulaHeader.uuid]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(headers[EpistulaHeader.signature]).toMatch(/^0x[0-9a-f]{128}$/);
    const ts = Number(headers[EpistulaHeader.timestamp]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(after);

    expect(verifyEpistulaRequest(lookup(headers), body, { expectedSignedFor: vector.signed_for })).toEqual({
      ok: true,
      signedBy: vector.signed_by,
    });
    // Same bytes as a string verify too; different bytes do not.
    expect(verifyEpistulaRequest(lookup(headers), vector.body, { expectedSignedFor: vector.signed_for }).ok).toBe(true);
    expect(verifyEpistulaRequest(lookup(headers), `${vector.body} `, { expectedSignedFor: vector.signed_for }).ok).toBe(false);
  });

  it('uses a fresh uuid and signature per call', () => {
    const a = alice.headers(vector.body, vector.signed_for);
    const b = alice.headers(vector.body, vector.signed_for);
    expect(a[EpistulaHeader.uuid]).not.toBe(b[EpistulaHeader.uuid]);
    expect(a[EpistulaHeader.signature]).not.toBe(b[EpistulaHeader.signature]);
  });

  it('signatures verify against Keyring, and Keyring signatures verify against the signer key', () => {
    const message = new TextEncoder().encode(vector.expected_message);
    const keyringPair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice');
    expect(keyringPair.verify(message, alice.sign(message), alice.publicKey)).toBe(true);
    const headers = {
      ...vector.headers,
      [EpistulaHeader.signature]: `0x${Buffer.from(keyringPair.sign(message)).toString('hex')}`,
    };
    expect(verifyEpistulaRequest(lookup(headers), vector.body, {
      expectedSignedFor: vector.signed_for,
      now: () => vector.timestamp_ms,
    }).ok).toBe(true);
  });

  it('honours an injected clock and can be built from a keypair', async () => {
    const signer = await createEpistulaSignerFromKeypair(sr25519KeypairFromUri('//Alice'), { now: () => 1_000 });
    expect(signer.ss58).toBe(vector.signed_by);
    const headers = signer.headers('{}', vector.signed_for);
    expect(headers[EpistulaHeader.timestamp]).toBe('1000');
    const opts = { expectedSignedFor: vector.signed_for };
    expect(verifyEpistulaRequest(lookup(headers), '{}', { ...opts, now: () => 1_500 }).ok).toBe(true);
    expect(verifyEpistulaRequest(lookup(headers), '{}', opts)).toEqual({ ok: false, reason: 'stale timestamp' });
  });
});

describe('sr25519 backends', () => {
  it('signatures from every backend verify with Keyring and the verifier', async () => {
    const message = new TextEncoder().encode(vector.expected_message);
    const keyringPair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice');
    const backends = [await fastestSr25519Backend(), await wasmCryptoBackend()];
    expect(backends[0]?.name).toBe('@polkadot-labs/schnorrkel-wasm');
    for (const backend of backends) {
      const signer = await createEpistulaSigner('//Alice', { backend });
      expect(signer.backend).toBe(backend.name);
      expect(keyringPair.verify(message, signer.sign(message), signer.publicKey)).toBe(true);
      const headers = signer.headers(vector.body, vector.signed_for);
      expect(verifyEpistulaRequest(lookup(headers), vector.body, { expectedSignedFor: vector.signed_for }).ok).toBe(true);
    }
  });
});
