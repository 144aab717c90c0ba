/**
 * While Redis is down, the routes that can only answer from the store (usage,
 * key administration) answer 503 store_unavailable with retry-after in the
 * OpenAI envelope, logged as a warning — not a 500 "unhandled error" — and
 * work again once Redis is back. A redis-server of the test's own is stopped
 * and restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { createLogger } from '../src/log.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';
import { startOwnRedis, type OwnRedis } from './support/own-redis.js';

let redis: OwnRedis;
let miner: RunningMiner;
let gw: TestGateway;
const logLines: string[] = [];
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

beforeAll(async () => {
  redis = await startOwnRedis();
  miner = await startMiner({ hotkeyUri: '//StoreDownMiner', name: 'S' });
  gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }],
    env: { REDIS_URL: redis.url },
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }),
  });
});

afterAll(async () => {
  await gw?.close();
  await miner?.close();
  await redis?.destroy();
});

async function expectStoreUnavailable(res: Response, code = 'store_unavailable'): Promise<void> {
  expect(res.status, `${res.url}`).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(body.error).toEqual({ message: expect.stringMatching(/unreachable.*retry shortly/), type: 'server_error', code, param: null });
}

describe('Redis down', () => {
  it('usage and key administration answer 503 store_unavailable with retry-after, and recover', async () => {
    // Both keys are checked once while Redis is up, so the key check itself is served from the in-process cache.
    const created = (await (await gw.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'prepaid', credits_usd: 1 } })).json()) as { id: string; key: string };
    const asCreated = { authorization: `Bearer ${created.key}` };
    expect((await gw.request('/v1/usage', { headers: asCreated })).status).toBe(200);
    expect((await gw.request('/v1/usage')).status).toBe(200);

    await redis.stop();
    logLines.length = 0;
    await expectStoreUnavailable(await gw.request('/v1/usage'));
    await expectStoreUnavailable(await gw.request('/v1/usage', { headers: asCreated }));
    await expectStoreUnavailable(await gw.request('/admin/keys', { headers: admin }));
    await expectStoreUnavailable(await gw.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'while down' } }));
    await expectStoreUnavailable(await gw.request(`/admin/keys/${created.id}`, { headers: admin }));
    await expectStoreUnavailable(
      await gw.request(`/admin/keys/${created.id}/credits`, { method: 'POST', headers: { ...admin, 'idempotency-key': 'down-1' }, json: { amount_usd: 1 } }),
    );
    await expectStoreUnavailable(await gw.request(`/admin/keys/${created.id}`, { method: 'DELETE', headers: admin }));
    // A key never seen before cannot be checked: retryable too, under its own code.
    await expectStoreUnavailable(await gw.request('/v1/usage', { headers: { authorization: 'Bearer sk-tao-never-seen-before' } }), 'key_store_unavailable');

    const logged = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logged.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    expect(logged.filter((l) => l.msg === 'store unavailable: answered 503').length).toBeGreaterThanOrEqual(7);

    await redis.start();
    await expect.poll(async () => (await gw.request('/admin/keys', { headers: admin })).status, { timeout: 10_000, interval: 200 }).toBe(200);
    expect((await gw.request(`/admin/keys/${created.id}`, { headers: admin })).status).toBe(200);
    expect((await gw.request('/v1/usage')).status).toBe(200);
  });
});
