/** Admin API calls the metering tests share: create keys, top up, read a key's usage and credit. */
import { TEST_ADMIN_TOKEN, type TestGateway } from './gateway-harness.js';

export interface CreatedKey {
  readonly id: string;
  readonly key: string;
}

export interface Counters {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_hits: number;
  estimated: number;
  cost_micro_usd: number;
}

export interface KeyDetails {
  id: string;
  usage: {
    billing: 'postpaid' | 'prepaid';
    totals: Counters;
    models: Record<string, Counters>;
    days: Array<Counters & { date: string; models: Record<string, Counters> }>;
    credits: { available_micro_usd: number; reserved_micro_usd: number; spent_micro_usd: number; topped_up_micro_usd: number } | null;
  };
}

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

export async function createKey(gw: TestGateway, body: Record<string, unknown>): Promise<CreatedKey> {
  const res = await gw.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'metering-test', ...body } });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedKey;
}

export async function keyDetails(gw: TestGateway, id: string): Promise<KeyDetails> {
  const res = await gw.request(`/admin/keys/${id}`, { headers: admin });
  if (res.status !== 200) throw new Error(`key lookup failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as KeyDetails;
}

export function topUp(gw: TestGateway, id: string, body: Record<string, unknown>, idempotencyKey?: string): Promise<Response> {
  const headers: Record<string, string> = { ...admin };
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  return gw.request(`/admin/keys/${id}/credits`, { method: 'POST', headers, json: body });
}
