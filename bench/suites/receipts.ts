/**
 * What a signed receipt costs per answered request: raw ed25519 signing with
 * tweetnacl (pure JS) against node:crypto (native), the receipt signer as the
 * gateway calls it, and offline verification. Run: npm run bench -- receipts
 */
import nacl from 'tweetnacl';
import { createReceiptSigner, verifyReceipt } from '../../src/metering/receipts.js';
import type { BenchSuite } from '../support/suite.js';

const SEED = new Uint8Array(32).fill(7);
const BODY = {
  request_id: '0b7c6a2e-2b1f-4a7e-9a36-1c1c1c1c1c1c',
  key_id: 'key_0123456789abcdef',
  model: 'sn4/llama-3.1-8b',
  served_model: 'sn4/llama-3.1-8b',
  miner: { netuid: 4, uid: 12, hotkey: '5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX' },
  snapshot: { version: '6852690', block: 6852690 },
  tokens: { prompt: 120, completion: 300, estimated: false },
  cost_micro_usd: 1234,
  time: new Date().toISOString(),
};

/** Median µs per op over 5 batches, after a warm-up. */
function measure(op: () => unknown, iterations: number): number {
  const batches = 5;
  const perBatch = Math.max(1, Math.floor(iterations / batches));
  for (let i = 0; i < Math.min(20, perBatch); i++) op();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) op();
    samples.push(Number(process.hrtime.bigint() - start) / 1_000 / perBatch);
  }
  return samples.sort((a, b) => a - b)[Math.floor(batches / 2)] ?? Number.NaN;
}

export const receiptsSuite: BenchSuite = {
  name: 'receipts',
  title: 'Signed usage receipts: cost per answered request (µs/op, median of 5 batches)',
  async run() {
    const signer = createReceiptSigner(SEED);
    const message = Buffer.from(JSON.stringify({ v: 1, kid: signer.kid, ...BODY }));
    const pair = nacl.sign.keyPair.fromSeed(SEED);
    const receipt = signer.sign(BODY);
    const cases: Array<[string, () => unknown, number]> = [
      ['tweetnacl sign.detached (pure JS)', () => nacl.sign.detached(message, pair.secretKey), 50],
      ['receipt signer.sign(body) [node:crypto ed25519, what the gateway runs]', () => signer.sign(BODY), 5000],
      ['verifyReceipt [tweetnacl, offline check]', () => verifyReceipt(receipt, signer.publicKey), 50],
    ];
    const rows = cases.map(([method, op, n]) => {
      const us = measure(op, n);
      return { method, iterations: n, usPerOp: Math.round(us * 10) / 10, opsPerSec: Math.round(1e6 / us) };
    });
    return {
      columns: ['method', 'iterations', 'usPerOp', 'opsPerSec'],
      rows,
      notes: ['ed25519 is deterministic: both implementations produce the same signature bytes (test/metering-units.test.ts)'],
    };
  },
};
