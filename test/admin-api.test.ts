/**
 * The admin API's access rules and key listing: a wrong or missing admin
 * token is 401 invalid_admin_token, the API is off (403 admin_disabled)
 * without ADMIN_TOKEN, and GET /admin/keys lists every key with its fields,
 * revoked ones included, never the key itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type SubnetEntry, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
let subnets: SubnetEntry[];
let gw: TestGateway;
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//AdminApiMiner', name: 'A' });
  subnets = [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }];
  gw = await startTestGateway({ subnets });
});

afterAll(async () => {
  await gw?.close();
  await miner?.close();
});

async function errorOf(res: Response): Promise<{ status: number; error: Record<string, unknown> }> {
  return { status: res.status, error: ((await res.json()) as { error: Record<string, unknown> }).error };
}

describe('admin API access', () => {
  it.each([
    ['a wrong token', { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }],
    ['a prefix of the token', { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}` }],
    ['an API key', null],
    ['no token', { authorization: '' }],
    ['another scheme', { authorization: `Basic ${TEST_ADMIN_TOKEN}` }],
  ])('refuses %s with 401 invalid_admin_token on every admin route', async (_, headers) => {
    // null: the harness's own API key, which is a valid key but not the admin token.
    const init = headers ?? {};
    const attempts = [
      gw.request('/admin/keys', { headers: init }),
      gw.request('/admin/keys', { method: 'POST', headers: init, json: { name: 'nope' } }),
      gw.request('/admin/keys/key_0000', { headers: init }),
      gw.request('/admin/keys/key_0000', { method: 'DELETE', headers: init }),
      gw.request('/admin/keys/key_0000/credits', { method: 'POST', headers: { ...init, 'idempotency-key': 'x' }, json: { amount_usd: 1 } }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(await errorOf(res)).toEqual({
        status: 401,
        error: { message: 'invalid admin token', type: 'authentication_error', code: 'invalid_admin_token', param: null },
      });
    }
  });

  it('is off without ADMIN_TOKEN: 403 admin_disabled, even for a request that brings a token', async () => {
    const off = await startTestGateway({ subnets, env: { ADMIN_TOKEN: '' } });
    try {
      expect(off.gateway.config.ADMIN_TOKEN).toBeUndefined();
      for (const res of await Promise.all([
        off.request('/admin/keys', { headers: admin }),
        off.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'x' } }),
        off.request('/admin/keys/key_0000', { method: 'DELETE' }),
      ])) {
        const { status, error } = await errorOf(res);
        expect(status).toBe(403);
        expect(error).toMatchObject({ type: 'permission_error', code: 'admin_disabled', param: null });
        expect(error.message).toMatch(/set ADMIN_TOKEN/);
      }
    } finally {
      await off.close();
    }
  });
});

describe('GET /admin/keys', () => {
  it('lists every key with its settings, oldest first, revoked ones marked, never the key itself', async () => {
    const create = async (body: Record<string, unknown>) => {
      const res = await gw.request('/admin/keys', { method: 'POST', headers: admin, json: body });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; key: string };
    };
    const postpaid = await create({ name: 'list-postpaid', rpm: 60, tpm: 10_000 });
    const prepaid = await create({ name: 'list-prepaid', credits_usd: 2.5, private: true, trusted_scorer: true });
    expect((await gw.request(`/admin/keys/${postpaid.id}`, { method: 'DELETE', headers: admin })).status).toBe(200);

    const res = await gw.request('/admin/keys', { headers: admin });
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe('list');
    // The harness's key (created at start) and the two above, in creation order (two created in the same ms may tie).
    expect(body.data.map((k) => k.name).sort()).toEqual(['list-postpaid', 'list-prepaid', 'test']);
    const times = body.data.map((k) => Date.parse(String(k.created_at)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const byId = new Map(body.data.map((k) => [k.id, k]));
    expect(byId.get(postpaid.id)).toEqual({
      id: postpaid.id,
      name: 'list-postpaid',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      revoked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      credits_usd: null,
      rpm: 60,
      tpm: 10_000,
      private: false,
      trusted_scorer: false,
    });
    expect(byId.get(prepaid.id)).toMatchObject({ id: prepaid.id, revoked_at: null, credits_usd: 2.5, rpm: null, tpm: null, private: true, trusted_scorer: true });
    for (const key of [gw.apiKey, postpaid.key, prepaid.key]) expect(text).not.toContain(key);
  });
});

describe('money beyond micro-dollars', () => {
  it('is refused, not rounded, when a key is created and when it is topped up: 400 naming the field', async () => {
    const tooFine = await gw.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'sub-micro', credits_usd: 0.1234567 } });
    expect(await errorOf(tooFine)).toEqual({
      status: 400,
      error: { message: "Invalid value for 'credits_usd': has more than 6 decimals (micro-dollars are the smallest unit)", type: 'invalid_request_error', code: 'invalid_request', param: 'credits_usd' },
    });
    const exact = await gw.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'micro', credits_usd: 0.123456 } });
    expect(exact.status).toBe(201);
    const { id, credits_usd } = (await exact.json()) as { id: string; credits_usd: number };
    expect(credits_usd).toBe(0.123456);

    const topUp = await gw.request(`/admin/keys/${id}/credits`, { method: 'POST', headers: { ...admin, 'idempotency-key': 'sub-micro' }, json: { amount_usd: 0.0000001 } });
    expect(await errorOf(topUp)).toEqual({
      status: 400,
      error: { message: "Invalid value for 'amount_usd': has more than 6 decimals (micro-dollars are the smallest unit)", type: 'invalid_request_error', code: 'invalid_request', param: 'amount_usd' },
    });
    // And the balance is exactly what was granted: nothing was rounded in.
    const details = (await (await gw.request(`/admin/keys/${id}`, { headers: admin })).json()) as { usage: { credits: { available_micro_usd: number } } };
    expect(details.usage.credits.available_micro_usd).toBe(123_456);
  });
});
