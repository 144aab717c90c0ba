/**
 * The cache's settings, each on a gateway of its own: TTLs and their bound,
 * per-key scope, the entry cap, the memory LRU by bytes, hit pricing and
 * RPM limits on hits, caching sampled requests (per request or for all), and
 * turning the cache off.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { createKey, keyDetails } from './support/admin-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//CacheSettings', name: 'C' });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await miner?.close();
});

async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }], env: { METERING_FLUSH_MS: '50', ...env } });
  gateways.push(gw);
  return gw;
}

const fresh = (content = `question ${randomUUID()}`) => ({ model: 'sn4/m', temperature: 0, messages: [{ role: 'user' as const, content }] });

/** Sends the request and returns its x-taogate-cache status. */
async function statusOf(gw: TestGateway, body: unknown, headers: Record<string, string> = {}, apiKey?: string): Promise<string | null> {
  const auth: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { ...headers, ...auth }, json: body });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return res.headers.get('x-taogate-cache');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('time to live', () => {
  it('keeps an entry for the TTL the request asks for, never longer than CACHE_MAX_TTL_S', async () => {
    const gw = await gateway({ CACHE_DEFAULT_TTL_S: '1', CACHE_MAX_TTL_S: '2' });
    const bounded = fresh();
    expect(await statusOf(gw, bounded, { 'x-taogate-cache-ttl': '3600' })).toBe('MISS');
    expect(await statusOf(gw, bounded)).toBe('HIT');
    await sleep(1200);
    // Past the 1 s default: the header's TTL applies...
    expect(await statusOf(gw, bounded)).toBe('HIT');
    await sleep(1000);
    // ...but an hour was cut to the 2 s maximum.
    expect(await statusOf(gw, bounded)).toBe('MISS');
  });

  it('uses CACHE_DEFAULT_TTL_S without a header', async () => {
    const gw = await gateway({ CACHE_DEFAULT_TTL_S: '1', CACHE_MAX_TTL_S: '60' });
    const body = fresh();
    const long = fresh();
    await statusOf(gw, body);
    await statusOf(gw, long, { 'x-taogate-cache-ttl': '30' });
    await sleep(1100);
    expect(await statusOf(gw, body)).toBe('MISS');
    expect(await statusOf(gw, long)).toBe('HIT');
  });

  it('refuses a default TTL above the maximum at start-up', async () => {
    await expect(gateway({ CACHE_DEFAULT_TTL_S: '100', CACHE_MAX_TTL_S: '10' })).rejects.toThrow(/CACHE_DEFAULT_TTL_S: must not exceed CACHE_MAX_TTL_S/);
  });
});

describe('scope', () => {
  it('shares answers across keys by default and separates them with CACHE_SCOPE=key', async () => {
    const shared = await gateway({});
    const perKey = await gateway({ CACHE_SCOPE: 'key' });
    for (const [gw, otherKeyStatus] of [[shared, 'HIT'], [perKey, 'MISS']] as const) {
      const body = fresh();
      const other = await createKey(gw, {});
      expect(await statusOf(gw, body)).toBe('MISS');
      expect(await statusOf(gw, body)).toBe('HIT');
      expect(await statusOf(gw, body, {}, other.key)).toBe(otherKeyStatus);
      expect(await statusOf(gw, body, {}, other.key)).toBe('HIT');
    }
  });
});

describe('size bounds', () => {
  it('serves but does not keep an answer over CACHE_MAX_ENTRY_BYTES', async () => {
    const gw = await gateway({ CACHE_MAX_ENTRY_BYTES: '300' });
    const body = fresh();
    const calls = miner.requestCount;
    expect(await statusOf(gw, body)).toBe('MISS');
    expect(await statusOf(gw, body)).toBe('MISS');
    const stream = { ...body, stream: true };
    expect(await statusOf(gw, stream)).toBe('MISS');
    expect(await statusOf(gw, stream)).toBe('MISS');
    expect(miner.requestCount).toBe(calls + 4);
    expect(gw.gateway.cache.stats()).toMatchObject({ stored: 0, tooLarge: 2, memoryEntries: 0 });
  });

  it('evicts the least recently used entries once CACHE_MEMORY_MAX_BYTES is full', async () => {
    // One entry of this miner's answer is about 800 bytes: three fit, the fourth pushes out the oldest.
    const gw = await gateway({ CACHE_MEMORY_MAX_BYTES: '2800' });
    const bodies = Array.from({ length: 4 }, (_, i) => fresh(`entry ${i} ${randomUUID()}`));
    for (const body of bodies.slice(0, 3)) expect(await statusOf(gw, body)).toBe('MISS');
    const perEntry = gw.gateway.cache.stats().memoryBytes / 3;
    expect(perEntry).toBeGreaterThan(2800 / 4);
    expect(perEntry).toBeLessThan(2800 / 3);
    expect(await statusOf(gw, bodies[0])).toBe('HIT'); // 0 is now the most recent; 1 the least
    expect(await statusOf(gw, bodies[3])).toBe('MISS');
    const stats = gw.gateway.cache.stats();
    expect(stats.evictions).toBe(1);
    expect(stats.memoryBytes).toBeLessThanOrEqual(2800);
    expect(await statusOf(gw, bodies[1])).toBe('MISS');
    expect(await statusOf(gw, bodies[3])).toBe('HIT');
  });
});

describe('metering of hits', () => {
  it('charges CACHE_HIT_PRICE_PCT of the model price for a hit', async () => {
    const gw = await gateway({ CACHE_HIT_PRICE_PCT: '50', MODEL_PRICES: JSON.stringify({ 'sn4/m': [3, 7] }) });
    const { id, key } = await createKey(gw, {});
    const body = fresh();
    const miss = await gw.client({ apiKey: key }).chat.completions.create(body);
    const full = 3 * (miss.usage?.prompt_tokens ?? 0) + 7 * (miss.usage?.completion_tokens ?? 0);
    await gw.client({ apiKey: key }).chat.completions.create(body);
    await gw.gateway.metering.flush();
    expect((await keyDetails(gw, id)).usage.totals).toMatchObject({ requests: 2, cached_hits: 1, cost_micro_usd: full + Math.ceil(full / 2) });
  });

  it('counts hits against the key\'s RPM limit', async () => {
    const gw = await gateway({});
    const { key } = await createKey(gw, { rpm: 3 });
    const body = fresh();
    const statuses: number[] = [];
    const cache: Array<string | null> = [];
    for (let i = 0; i < 4; i++) {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: body });
      statuses.push(res.status);
      cache.push(res.headers.get('x-taogate-cache'));
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(cache.slice(0, 3)).toEqual(['MISS', 'HIT', 'HIT']);
  });

  it('answers prepaid keys from the cache and settles their reservation at the hit price', async () => {
    const gw = await gateway({ MODEL_PRICES: JSON.stringify({ 'sn4/m': [3, 7] }) });
    const { id, key } = await createKey(gw, { credits_usd: 1 });
    const body = fresh();
    await gw.client({ apiKey: key }).chat.completions.create(body);
    await gw.gateway.metering.flush();
    const afterMiss = (await keyDetails(gw, id)).usage.credits;
    const hit = await gw.client({ apiKey: key }).chat.completions.create(body).withResponse();
    expect(hit.response.headers.get('x-taogate-cache')).toBe('HIT');
    await gw.gateway.metering.flush();
    const afterHit = (await keyDetails(gw, id)).usage.credits;
    expect(afterHit?.spent_micro_usd).toBe(afterMiss?.spent_micro_usd);
    expect(afterHit?.reserved_micro_usd).toBe(0);
  });
});

describe('sampled (not deterministic) requests', () => {
  const OPT_IN = 'x-taogate-cache-nondeterministic';
  const sampled = () => ({ ...fresh(), temperature: 0.7 });

  it('are BYPASS by default and cached with the per-request opt-in; 0 opts out again', async () => {
    const gw = await gateway({});
    const plain = sampled();
    let calls = miner.requestCount;
    expect([await statusOf(gw, plain), await statusOf(gw, plain)]).toEqual(['BYPASS', 'BYPASS']);
    expect(miner.requestCount).toBe(calls + 2);

    const optedIn = sampled();
    calls = miner.requestCount;
    expect(await statusOf(gw, optedIn, { [OPT_IN]: '1' })).toBe('MISS');
    expect(await statusOf(gw, optedIn, { [OPT_IN]: 'true' })).toBe('HIT');
    expect(miner.requestCount).toBe(calls + 1);
    // Without the header the default applies again: not read, not written.
    expect(await statusOf(gw, optedIn)).toBe('BYPASS');
    expect(miner.requestCount).toBe(calls + 2);
  });

  it('are cached for every request with CACHE_NONDETERMINISTIC=1, unless the request says 0', async () => {
    const gw = await gateway({ CACHE_NONDETERMINISTIC: '1' });
    const body = sampled();
    const calls = miner.requestCount;
    expect(await statusOf(gw, body)).toBe('MISS');
    expect(await statusOf(gw, body)).toBe('HIT');
    expect(miner.requestCount).toBe(calls + 1);
    expect(await statusOf(gw, body, { [OPT_IN]: '0' })).toBe('BYPASS');
    expect(miner.requestCount).toBe(calls + 2);
  });

  it('cache-control: no-store still wins over the opt-in, by header or by setting', async () => {
    for (const env of [{}, { CACHE_NONDETERMINISTIC: '1' }] as Array<Record<string, string>>) {
      const gw = await gateway(env);
      const body = sampled();
      const calls = miner.requestCount;
      const headers = { [OPT_IN]: '1', 'cache-control': 'no-store' };
      expect([await statusOf(gw, body, headers), await statusOf(gw, body, headers)]).toEqual(['BYPASS', 'BYPASS']);
      expect(miner.requestCount).toBe(calls + 2);
      // no-store did not write either: the first opted-in request without it is a miss.
      expect(await statusOf(gw, body, { [OPT_IN]: '1' })).toBe('MISS');
    }
  });

  it('refuses an opt-in header that is not 1 or 0, in the OpenAI envelope naming the header', async () => {
    const gw = await gateway({});
    for (const bad of ['force', '2', '']) {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { [OPT_IN]: bad }, json: sampled() });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { message: string; type: string; code: string; param: string } };
      expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_header', param: OPT_IN });
      expect(body.error.message).toContain(OPT_IN);
    }
  });
});

describe('switched off', () => {
  it('CACHE_ENABLED=0 answers every request from a miner as BYPASS', async () => {
    const gw = await gateway({ CACHE_ENABLED: '0' });
    const body = fresh();
    const calls = miner.requestCount;
    expect([await statusOf(gw, body), await statusOf(gw, body)]).toEqual(['BYPASS', 'BYPASS']);
    expect(miner.requestCount).toBe(calls + 2);
  });
});
