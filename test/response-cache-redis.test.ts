/**
 * The cache across replicas and through Redis failures: two gateways on
 * the shared Redis (one prefix between them) coalesce identical requests
 * into one miner call and share entries; a Redis of the test's own is
 * stopped, slowed and restarted while requests keep being answered.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { startOwnRedis, type OwnRedis } from './support/own-redis.js';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let miner: RunningMiner;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  // Slow to answer, so that requests sent together overlap it on both replicas.
  miner = await startMiner({ hotkeyUri: '//CacheRedis', name: 'R', fault: 'slowFirstByte', slowMs: 300, chunkCount: 10, chunkDelayMs: 20 });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await miner?.close();
});

async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }], env });
  gateways.push(gw);
  return gw;
}

/** Two replicas sharing one Redis namespace. */
async function replicas(): Promise<[TestGateway, TestGateway]> {
  const env = { REDIS_URL: SHARED_REDIS, REDIS_PREFIX: `test:${randomUUID()}:` };
  return [await gateway(env), await gateway(env)];
}

const fresh = () => ({ model: 'sn4/m', temperature: 0, messages: [{ role: 'user' as const, content: `replicated ${randomUUID()}` }] });
const cacheOf = (r: { response: Response }) => r.response.headers.get('x-taogate-cache');

async function streamText(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('two replicas on one Redis', () => {
  it('sends 50 identical concurrent requests, spread over both, to the miner once', async () => {
    const [a, b] = await replicas();
    const body = fresh();
    miner.reset();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).client().chat.completions.create(body).withResponse()));
    expect(miner.requestCount).toBe(1);
    const answers = new Set(results.map((r) => r.data.choices[0]?.message.content));
    expect(answers.size).toBe(1);
    expect([...answers][0]).toContain('devnet miner R');
    expect(results.filter((r) => cacheOf(r) === 'MISS')).toHaveLength(1);
    // The replica that did not call the miner got all 25 answers through Redis, waiting on the other's claim.
    const [leader, other] = [a, b].map((g) => g.gateway.cache.stats()).sort((x, y) => y.misses - x.misses);
    expect(leader?.misses).toBe(1);
    expect(other).toMatchObject({ misses: 0, hits: 25 });
    expect(other?.coalesced).toBeGreaterThan(0);
  });

  it('coalesces streams across replicas too, each client getting the whole stream', async () => {
    const [a, b] = await replicas();
    const body = fresh();
    miner.reset();
    const texts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).client().chat.completions.create({ ...body, stream: true }).then(streamText)));
    expect(miner.requestCount).toBe(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain('devnet miner R');
  });

  it('answers one replica from the entry another one stored, in either shape', async () => {
    const [a, b] = await replicas();
    const body = fresh();
    const first = await a.client().chat.completions.create(body).withResponse();
    const calls = miner.requestCount;
    const json = await b.client().chat.completions.create(body).withResponse();
    const streamed = await b.client().chat.completions.create({ ...body, stream: true }).withResponse();
    expect([cacheOf(first), cacheOf(json), cacheOf(streamed)]).toEqual(['MISS', 'HIT', 'HIT']);
    expect(json.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(await streamText(streamed.data)).toBe(first.data.choices[0]?.message.content);
    expect(json.response.headers.get('x-taogate-miner')).toBe(first.response.headers.get('x-taogate-miner'));
    expect(miner.requestCount).toBe(calls);
  });
});

describe('Redis failures', () => {
  let redis: OwnRedis;

  beforeAll(async () => {
    redis = await startOwnRedis();
  });

  afterAll(async () => {
    await redis?.destroy();
  });

  it('keeps answering while Redis is stopped mid-run, and shares entries again once it is back', async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `test:${randomUUID()}:` };
    const a = await gateway(env);
    const b = await gateway(env);
    const before = fresh();
    await a.client().chat.completions.create(before);
    expect(cacheOf(await b.client().chat.completions.create(before).withResponse())).toBe('HIT');

    // Load running while Redis goes away: every request must still be answered.
    const bodies = Array.from({ length: 6 }, fresh);
    const load = Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 10));
        const res = await a.request('/v1/chat/completions', { method: 'POST', json: bodies[i % bodies.length] });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    await new Promise((r) => setTimeout(r, 150));
    await redis.stop();
    const statuses = await load;
    expect(statuses.every((s) => s === 200)).toBe(true);

    // Down: a new request goes to the miner; its answer is still kept in this replica's memory.
    const during = fresh();
    const missWhileDown = await a.client().chat.completions.create(during).withResponse();
    expect(cacheOf(missWhileDown)).toBe('MISS');
    expect(cacheOf(await a.client().chat.completions.create(during).withResponse())).toBe('HIT');
    expect(a.gateway.cache.stats().shared).toBe('down');

    await redis.start();
    await waitFor(() => a.gateway.cache.stats().shared === 'up' && b.gateway.cache.stats().shared === 'up');
    const after = fresh();
    expect(cacheOf(await a.client().chat.completions.create(after).withResponse())).toBe('MISS');
    expect(cacheOf(await b.client().chat.completions.create(after).withResponse())).toBe('HIT');
  });

  it('treats a Redis that stops answering as a miss, counts it, and still answers', async () => {
    const gw = await gateway({ REDIS_URL: redis.url, REDIS_PREFIX: `test:${randomUUID()}:` });
    await waitFor(() => gw.gateway.cache.stats().shared === 'up');
    // Known to the key registry first (keys are cached in-process; a key never seen needs the store).
    await gw.client().chat.completions.create(fresh());
    const errorsBefore = gw.gateway.cache.stats().errors;
    // Redis holds every client's commands for 1.5 s: each cache call times out (CACHE_STORE_TIMEOUT_MS) instead of waiting.
    const admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    try {
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      const res = await gw.client().chat.completions.create(fresh()).withResponse();
      expect(cacheOf(res)).toBe('MISS');
      expect(res.data.choices[0]?.message.content).toContain('devnet miner R');
      expect(gw.gateway.cache.stats().errors).toBeGreaterThan(errorsBefore);
    } finally {
      admin.disconnect();
    }
    await waitFor(async () => {
      await gw.client().chat.completions.create(fresh());
      return gw.gateway.cache.stats().shared === 'up';
    });
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
