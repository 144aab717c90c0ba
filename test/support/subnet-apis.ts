/**
 * Fake subnet APIs on loopback for the tests, and the checks every test
 * makes about what reached them: the gateway's own key for that API as the
 * bearer, and the client's key nowhere.
 */
import { expect } from 'vitest';
import type { RecordedApiRequest, RunningSubnetApi } from '../../src/devnet/fake-subnet-api.js';

/** Every request carried exactly this API's key, and no byte of the client's key. */
export function expectOnlyOwnKey(api: RunningSubnetApi, apiKey: string, clientKey: string): void {
  expect(api.requests.length).toBeGreaterThan(0);
  for (const request of api.requests) {
    expect(request.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(JSON.stringify(request.headers)).not.toContain(clientKey);
    expect(request.body).not.toContain(clientKey);
  }
}

export function lastBody(api: RunningSubnetApi): Record<string, unknown> {
  const last = api.requests[api.requests.length - 1] as RecordedApiRequest | undefined;
  if (!last) throw new Error(`the ${api.flavor} fake got no request`);
  return JSON.parse(last.body) as Record<string, unknown>;
}

export interface ReceiptClaims {
  model: string;
  served_model: string;
  miner: { netuid: number; uid: number | null; hotkey: string | null };
  tokens: { prompt: number; completion: number; estimated: boolean };
  cost_micro_usd: number;
}

/** The signed receipt's claims (signature checks live in the metering tests). */
export function receiptClaims(receipt: string | null | undefined): ReceiptClaims {
  if (!receipt) throw new Error('no receipt');
  return JSON.parse(Buffer.from(receipt.split('.')[0] ?? '', 'base64url').toString('utf8')) as ReceiptClaims;
}
