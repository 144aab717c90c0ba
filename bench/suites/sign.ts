// Epistula signing cost per proxied request: which sr25519 implementation the signer should use,
// and what the full headers() call costs on top of the raw signature.
// Run: npm run bench -- sign   (writes bench/results/sign.json)
import { randomUUID } from 'node:crypto';
import { Keyring } from '@polkadot/keyring';
import { sr25519Sign, waitReady } from '@polkadot/wasm-crypto';
import { sr25519_sign as schnorrkelSign } from '@polkadot-labs/schnorrkel-wasm';
import { epistulaMessage, sha256Hex } from '../../src/epistula/message.js';
import { NoncePool } from '../../src/epistula/nonce-pool.js';
import { sr25519KeypairFromUri } from '../../src/epistula/secret-uri.js';
import { createEpistulaSigner } from '../../src/epistula/signer.js';
import { nonceSigningKey, signWithNonce, type SigningNonce } from '../../src/epistula/sr25519-nonce-signing.js';
import { verifyEpistulaRequest } from '../../src/epistula/verifier.js';
import { measure, type MeasuredRow } from '../support/measure.js';
import type { BenchSuite } from '../support/suite.js';

export type SignBenchRow = MeasuredRow;

const SIGNER_URI = '//Gateway';
const MINER_SS58 = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty'; // //Bob

/** A typical ~1 KB chat request body, as the gateway would forward it. */
function realisticBody(): string {
  return JSON.stringify({
    model: 'unsloth/Llama-3.3-70B-Instruct',
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.7,
    max_tokens: 512,
    messages: [
      { role: 'system', content: 'You are a helpful assistant. Answer concisely and cite sources when you can.' },
      { role: 'user', content: 'Explain how Bittensor validators score miners, '.repeat(16) },
    ],
  });
}

export async function runSignBench(iterations = 5000): Promise<SignBenchRow[]> {
  await waitReady();
  const body = realisticBody();
  const message = Buffer.from(epistulaMessage(sha256Hex(body), randomUUID(), Date.now(), MINER_SS58), 'utf8');
  const { publicKey, secretKey } = sr25519KeypairFromUri(SIGNER_URI);
  const keyringPair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(SIGNER_URI);
  const signer = await createEpistulaSigner(SIGNER_URI, { precomputedNonces: false });
  const bodyBytes = Buffer.from(body, 'utf8');

  // Verification is the fake miner's per-request cost, not the gateway's; measured so the
  // miner's throughput ceiling with verifySignatures on is known.
  const signedHeaders = signer.headers(bodyBytes, MINER_SS58);
  const lookup = (name: string) => signedHeaders[name];
  const signedAt = Number(signedHeaders['Epistula-Timestamp']);
  const verifyOpts = { expectedSignedFor: MINER_SS58, now: () => signedAt }; // the bench outlasts the 8 s window

  // What the request path pays with a nonce precomputed by the worker: the nonces are taken
  // from a real pool beforehand, so the loop measures signing alone, not the worker's refill rate.
  const nonces = await takeNonces(iterations + 200);
  const nonceKey = nonceSigningKey(publicKey, secretKey);
  let next = 0;

  return measure([
    { method: 'Keyring pair.sign (@scure/sr25519, pure JS)', op: () => keyringPair.sign(message) },
    { method: '@polkadot/wasm-crypto sr25519Sign', op: () => sr25519Sign(publicKey, secretKey, message) },
    { method: '@polkadot-labs/schnorrkel-wasm sr25519_sign', op: () => schnorrkelSign(publicKey, secretKey, message) },
    { method: 'signWithNonce [nonce precomputed by the worker]', op: () => signWithNonce(nonceKey, message, nonces[next++] as SigningNonce) },
    { method: 'signer.headers(body, signedFor) [full, nonce pool off]', op: () => signer.headers(bodyBytes, MINER_SS58) },
    {
      method: 'verifyEpistulaRequest [miner side, wasm-crypto]',
      op: () => {
        const verdict = verifyEpistulaRequest(lookup, bodyBytes, verifyOpts);
        if (!verdict.ok) throw new Error(`bench request failed verification: ${verdict.reason}`);
      },
    },
  ], iterations, () => Number(process.hrtime.bigint()) / 1e6);
}

async function takeNonces(count: number): Promise<SigningNonce[]> {
  const pool = await NoncePool.start({ batch: 512 });
  if (!pool) throw new Error('the nonce worker did not start');
  const nonces: SigningNonce[] = [];
  while (nonces.length < count) {
    const nonce = pool.take();
    if (nonce) nonces.push(nonce);
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await pool.close();
  return nonces;
}

/** The suite `npm run bench` runs. */
export const signSuite: BenchSuite = {
  name: 'sign',
  title: 'Epistula signing cost per request (µs/op, median of 5 interleaved rounds)',
  async run() {
    const iterations = Number(process.env.SIGN_BENCH_N ?? 5000);
    const rows = await runSignBench(iterations);
    return {
      columns: ['method', 'usPerOp', 'opsPerSec'],
      rows: rows.map((r) => ({ method: r.method, usPerOp: r.usPerOp, opsPerSec: r.opsPerSec })),
      notes: [`${iterations} operations per method`],
    };
  },
};
