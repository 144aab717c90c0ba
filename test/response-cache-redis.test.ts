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
import { cacheKey } from '../src/cache/cache-key.js';
import { HeldClaim } from '../src/cache/replica-claim.js';
import { SharedTier } from '../src/cache/shared-tier.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { readReceiptBody } from '../src/metering/receipts.js';
import { createLogger, silentLogger, type Logger } from '../src/log.js';
import { createRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
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

async function gateway(env: Record<string, string>, logger?: Logger): Promise<TestGateway> {
  const gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }], env, logger });
  gateways.push(gw);
  return gw;
}

/** `count` replicas sharing one Redis namespace, in front of a miner of the test's own. */
function replicasOf(own: RunningMiner, env?: Record<string, string>, count?: 2): Promise<[TestGateway, TestGateway]>;
function replicasOf(own: RunningMiner, env: Record<string, string>, count: 3): Promise<[TestGateway, TestGateway, TestGateway]>;
async function replicasOf(own: RunningMiner, env: Record<string, string> = {}, count = 2): Promise<TestGateway[]> {
  const shared = { REDIS_URL: SHARED_REDIS, REDIS_PREFIX: `test:${randomUUID()}:`, ...env };
  const started: TestGateway[] = [];
  for (let i = 0; i < count; i++) {
    started.push(await startTestGateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: own, uid: 0, incentive: 1 }] }], env: shared }));
  }
  gateways.push(...started);
  return started;
}

/** Two replicas sharing one Redis namespace. */
async function replicas(extra: Record<string, string> = {}): Promise<[TestGateway, TestGateway]> {
  const env = { REDIS_URL: SHARED_REDIS, REDIS_PREFIX: `test:${randomUUID()}:`, ...extra };
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

  it('sends 20 identical concurrent streams, spread over both, to the miner once: the other replica relays the leader’s chunks as they come', async () => {
    const [a, b] = await replicas();
    const body = { ...fresh(), stream: true as const, stream_options: { include_usage: true } };
    miner.reset();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await (i % 2 ? a : b).client().chat.completions.create(body).withResponse();
        const chunks: OpenAI.ChatCompletionChunk[] = [];
        for await (const chunk of res.data) chunks.push(chunk);
        return { cache: cacheOf(res), chunks };
      }),
    );
    expect(miner.requestCount).toBe(1);
    expect(answers.filter((r) => r.cache === 'MISS')).toHaveLength(1);
    const contentOf = (chunks: OpenAI.ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').filter((t) => t !== '');
    const leader = answers.find((r) => r.cache === 'MISS');
    const leaderContent = contentOf(leader?.chunks ?? []);
    // The miner sends 10 content chunks: every client got each of them, in order, not one assembled answer.
    expect(leaderContent.length).toBeGreaterThanOrEqual(10);
    for (const answer of answers) expect(contentOf(answer.chunks)).toEqual(leaderContent);
    expect(leaderContent.join('')).toContain('devnet miner R');
    // Every client asked for usage and got it, billed as a cached hit on the followers.
    for (const answer of answers) expect(answer.chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
    const receiptOf = (chunks: OpenAI.ChatCompletionChunk[]) => readReceiptBody(String((chunks.at(-1) as unknown as { taogate_receipt?: string }).taogate_receipt));
    expect(answers.filter((r) => receiptOf(r.chunks)?.cached === true).map((r) => r.cache)).toEqual(Array.from({ length: 19 }, () => 'HIT'));
    const stats = [a, b].map((g) => g.gateway.cache.stats()).sort((x, y) => y.misses - x.misses);
    expect(stats[0]).toMatchObject({ misses: 1, hits: 9 });
    expect(stats[1]).toMatchObject({ misses: 0, hits: 10 });
  });

  it('a stream that joins on another replica mid-stream gets the whole answer from its first chunk, while the leader’s is still coming', async () => {
    const slow = await startMiner({ hotkeyUri: '//CacheRedisSlow', name: 'S', chunkCount: 10, chunkDelayMs: 100 });
    const [a, b] = await replicasOf(slow);
    try {
      const body = { ...fresh(), stream: true as const };
      const leading = (await a.client().chat.completions.create(body))[Symbol.asyncIterator]();
      const first = await leading.next();
      const leaderContent = [first.done ? '' : (first.value.choices[0]?.delta?.content ?? '')];
      let leaderDone = false;
      const leaderRest = (async () => {
        for (let next = await leading.next(); !next.done; next = await leading.next()) leaderContent.push(next.value.choices[0]?.delta?.content ?? '');
        leaderDone = true;
      })();
      // a has relayed its first chunk (~1 s of chunks follow); b asks now.
      const following = await b.client().chat.completions.create(body).withResponse();
      expect(cacheOf(following)).toBe('HIT');
      const followerContent: string[] = [];
      let leaderDoneAtFirstChunk: boolean | null = null;
      for await (const chunk of following.data) {
        leaderDoneAtFirstChunk ??= leaderDone;
        followerContent.push(chunk.choices[0]?.delta?.content ?? '');
      }
      await leaderRest;
      // Its chunks came as the leader's did, not once the whole answer was in.
      expect(leaderDoneAtFirstChunk).toBe(false);
      expect(followerContent.filter((t) => t !== '')).toEqual(leaderContent.filter((t) => t !== ''));
      expect(followerContent.join('')).toContain('devnet miner S');
      expect(slow.requestCount).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('an answer too large to keep still reaches the other replica’s stream whole, even after the leader’s own client left', async () => {
    const slow = await startMiner({ hotkeyUri: '//CacheRedisLarge', name: 'L', chunkCount: 10, chunkDelayMs: 80 });
    // 300 bytes: the answer is over the entry cap (not kept), far under what a relay carries.
    const [a, b] = await replicasOf(slow, { CACHE_MAX_ENTRY_BYTES: '300' });
    try {
      const body = { ...fresh(), stream: true as const };
      const leading = (await a.client().chat.completions.create(body))[Symbol.asyncIterator]();
      await leading.next();
      const following = await b.client().chat.completions.create(body).withResponse();
      expect(cacheOf(following)).toBe('HIT');
      // The leader's client goes away after its first chunk: nobody on a reads or waits for a whole answer to keep.
      await leading.return?.();
      const followerText = await streamText(following.data);
      expect(followerText).toContain('devnet miner L');
      // Every chunk arrived: the same answer as an uncoalesced call gives.
      const alone = await streamText(await b.client().chat.completions.create({ ...body, messages: body.messages }, { headers: { 'cache-control': 'no-store' } }));
      expect(followerText).toBe(alone);
      expect(slow.requestCount).toBe(2);
    } finally {
      await slow.close();
    }
  });

  it('a led stream nobody on another replica follows stops the miner call as soon as its client leaves', async () => {
    const slow = await startMiner({ hotkeyUri: '//CacheRedisAlone', name: 'A', chunkCount: 30, chunkDelayMs: 100 });
    const [a, b] = await replicasOf(slow);
    try {
      const leading = (await a.client().chat.completions.create({ ...fresh(), stream: true as const }))[Symbol.asyncIterator]();
      await leading.next();
      await leading.return?.();
      // ~3 s of chunks were left: the miner sees its request closed well before it could have finished.
      await slow.waitForAborts(1, 1_500);
      expect(slow.requestCount).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('a led stream whose client left goes on for a JSON request waiting on another replica, which gets its entry', async () => {
    const slow = await startMiner({ hotkeyUri: '//CacheRedisJsonWaits', name: 'W', chunkCount: 10, chunkDelayMs: 100 });
    const [a, b] = await replicasOf(slow);
    try {
      const body = fresh();
      const leading = (await a.client().chat.completions.create({ ...body, stream: true as const }))[Symbol.asyncIterator]();
      await leading.next();
      const waiting = b.client().chat.completions.create(body).withResponse();
      // b waits on a's claim and has told a so (it looks every 100 ms); then a's own client leaves.
      await new Promise((r) => setTimeout(r, 300));
      await leading.return?.();
      const answer = await waiting;
      expect(cacheOf(answer)).toBe('HIT');
      expect(answer.data.choices[0]?.message.content).toContain('devnet miner W');
      expect(slow.requestCount).toBe(1);
      expect(slow.abortedRequests).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('a stream whose key another replica holds for a JSON answer calls on its own at once instead of waiting for the whole answer', async () => {
    const slow = await startMiner({ hotkeyUri: '//CacheRedisJsonLead', name: 'J', fault: 'slowFirstByte', slowMs: 3_000 });
    const [a, b] = await replicasOf(slow);
    try {
      const body = fresh();
      let leaderDone = false;
      const leading = a.client().chat.completions.create(body).withResponse();
      void leading.finally(() => (leaderDone = true));
      await expect.poll(() => slow.requestCount).toBe(1);
      await slow.setFault('none');
      const following = await b.client().chat.completions.create({ ...body, stream: true as const }).withResponse();
      const text = await streamText(following.data);
      // b's whole stream came from its own call, while a's miner was still slow to answer.
      expect(cacheOf(following)).toBe('MISS');
      expect(leaderDone).toBe(false);
      expect(text).toContain('devnet miner J');
      expect(slow.requestCount).toBe(2);
      expect(cacheOf(await leading)).toBe('MISS');
    } finally {
      await slow.close();
    }
  });

  it('a stream following another replica’s stream that breaks after it started ends with the error the leader’s client gets', async () => {
    const dropping = await startMiner({ hotkeyUri: '//CacheRedisDrop', name: 'D', fault: 'dropMidStream', chunkCount: 10, chunkDelayMs: 800 });
    const [a, b] = await replicasOf(dropping, { MAX_ATTEMPTS: '1', HEDGE_MODE: 'off' });
    try {
      const body = { ...fresh(), stream: true };
      const leading = await a.request('/v1/chat/completions', { method: 'POST', json: body });
      const reader = leading.body?.getReader();
      // The leader's first chunk is out; the miner drops the connection ~800 ms later.
      const firstBytes = await reader?.read();
      const following = await b.request('/v1/chat/completions', { method: 'POST', json: body });
      const rest = await new Response(
        new ReadableStream({
          async pull(controller) {
            const next = await reader?.read();
            if (!next || next.done) controller.close();
            else controller.enqueue(next.value);
          },
        }),
      ).text();
      const leaderText = new TextDecoder().decode(firstBytes?.value) + rest;
      const followerText = await following.text();
      expect([leading.status, following.status]).toEqual([200, 200]);
      expect(following.headers.get('x-taogate-cache')).toBe('HIT');
      const leaderError = errorMessageOf(leaderText);
      expect(leaderError).toContain('failed after it started');
      expect(errorMessageOf(followerText)).toBe(leaderError);
      expect(dropping.requestCount).toBe(1);
    } finally {
      await dropping.close();
    }
  });

  it('when the leading replica’s miner fails before its first byte, a stream waiting on another replica calls on its own', async () => {
    const hanging = await startMiner({ hotkeyUri: '//CacheRedisHangStream', name: 'HS', fault: 'hang' });
    const [a, b] = await replicasOf(hanging, { FIRST_BYTE_TIMEOUT_MS: '300', MAX_ATTEMPTS: '1', HEDGE_MODE: 'off' });
    try {
      const body = { ...fresh(), stream: true };
      const leading = a.request('/v1/chat/completions', { method: 'POST', json: body });
      await expect.poll(() => hanging.requestCount).toBe(1);
      const following = b.request('/v1/chat/completions', { method: 'POST', json: body });
      // b waits on a's claim (the miner is not asked again) while the miner recovers.
      await new Promise((r) => setTimeout(r, 100));
      expect(hanging.requestCount).toBe(1);
      await hanging.setFault('none');
      const [lead, follow] = await Promise.all([leading, following]);
      expect(lead.status).toBe(502);
      expect(follow.status).toBe(200);
      expect(follow.headers.get('x-taogate-cache')).toBe('MISS');
      expect(contentOfSse(await follow.text())).toContain('devnet miner HS');
      expect(hanging.requestCount).toBe(2);
    } finally {
      await hanging.close();
    }
  });

  it('keeps the other replica waiting while the answer takes longer than the claim’s TTL: its holder renews it', async () => {
    // The miner takes ~300 ms to a first byte and ~500 ms to the end; the claim lasts 200 ms unless renewed
    // (every ~67 ms, so only an event loop stalled for over 130 ms could let it lapse).
    const [a, b] = await replicas({ CACHE_CLAIM_TTL_MS: '200' });
    const body = fresh();
    miner.reset();
    const first = a.client().chat.completions.create(body).withResponse();
    // b asks once a holds the claim.
    await waitFor(() => a.gateway.cache.stats().misses === 1, 5_000);
    const second = await b.client().chat.completions.create(body).withResponse();
    expect([cacheOf(await first), cacheOf(second)]).toEqual(['MISS', 'HIT']);
    expect(miner.requestCount).toBe(1);
  });

  it('when the leading replica fails, the first waiting replica to retake the claim calls again and the others follow it', async () => {
    const hanging = await startMiner({ hotkeyUri: '//CacheRedisHang', name: 'H', fault: 'hang' });
    const [a, b, c] = await replicasOf(hanging, { FIRST_BYTE_TIMEOUT_MS: '300', MAX_ATTEMPTS: '1', HEDGE_MODE: 'off' }, 3);
    try {
      const body = fresh();
      const leading = a.request('/v1/chat/completions', { method: 'POST', json: body });
      await expect.poll(() => hanging.requestCount).toBe(1);
      const following = [b, c].map((g) => g.request('/v1/chat/completions', { method: 'POST', json: body }));
      // Both wait on a's claim (the miner is not asked again) while the miner recovers.
      await new Promise((r) => setTimeout(r, 100));
      expect(hanging.requestCount).toBe(1);
      await hanging.setFault('none');
      const [lead, ...follows] = await Promise.all([leading, ...following]);
      expect(lead.status).toBe(502);
      expect(follows.map((r) => r.status)).toEqual([200, 200]);
      expect(follows.map((r) => r.headers.get('x-taogate-cache')).sort()).toEqual(['HIT', 'MISS']);
      expect(hanging.requestCount).toBe(2);
    } finally {
      await hanging.close();
    }
  });

  it('a follower waits for a claim that is held on for a bounded time, then calls the miner itself within its own deadline', async () => {
    const prefix = `test:${randomUUID()}:`;
    // 1.5 s deadline; the reserve for its own call is FIRST_BYTE_TIMEOUT_MS capped at half of what is left: 750 ms.
    const gw = await gateway({ REDIS_URL: SHARED_REDIS, REDIS_PREFIX: prefix, REQUEST_TIMEOUT_MS: '1500' });
    const body = fresh();
    // Another "replica" holds the key's claim and keeps renewing it, but never answers.
    const store = await createRedisStore({ url: SHARED_REDIS, prefix });
    const tier = new SharedTier(store, silentLogger(), 1000);
    const stuck = new HeldClaim(tier, cacheKey({ endpoint: 'chat', model: 'sn4/m', request: body, scope: null }), 'stuck-replica', 300);
    try {
      await tier.claim(stuck.key, 'stuck-replica', 300);
      miner.reset();
      const startedAt = performance.now();
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: body });
      const elapsed = performance.now() - startedAt;
      // It waited ~750 ms, then made its own call (the miner answers in ~500 ms) without the claim.
      expect(res.status).toBe(200);
      expect(res.headers.get('x-taogate-cache')).toBe('MISS');
      expect(miner.requestCount).toBe(1);
      expect(await tier.claimed(stuck.key)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(700);
      expect(elapsed).toBeLessThan(1500 + 300);
    } finally {
      await stuck.release(false);
      await tier.close();
      await store.close();
    }
  });

  it('a follower whose leader failed calls with what is left of its own deadline, not a fresh one', async () => {
    const hanging = await startMiner({ hotkeyUri: '//CacheRedisDeadline', name: 'D', fault: 'hang' });
    // Only the request's deadline (1 s) ends a call to the hanging miner.
    const [a, b] = await replicasOf(hanging, { REQUEST_TIMEOUT_MS: '1000', FIRST_BYTE_TIMEOUT_MS: '20000', MAX_ATTEMPTS: '1', HEDGE_MODE: 'off' });
    try {
      const body = fresh();
      const leading = a.request('/v1/chat/completions', { method: 'POST', json: body });
      await expect.poll(() => hanging.requestCount).toBe(1);
      await new Promise((r) => setTimeout(r, 400));
      // b waits on a's claim until a gives up (~600 ms), then takes the claim and calls with the ~400 ms it has left.
      const startedAt = performance.now();
      const following = await b.request('/v1/chat/completions', { method: 'POST', json: body });
      const elapsed = performance.now() - startedAt;
      expect((await leading).status).toBe(504);
      expect(following.status).toBe(504);
      expect(((await following.json()) as { error: { code: string } }).error.code).toBe('deadline_exceeded');
      expect(hanging.requestCount).toBe(2);
      // Within its own 1 s deadline (some slack for a loaded machine); a fresh deadline after the wait would be ~1.6 s.
      expect(elapsed).toBeLessThan(1000 + 350);
    } finally {
      await hanging.close();
    }
  });
});

describe('claims', () => {
  const stores: Store[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });
  const tierOnRedis = async () => {
    const store = await createRedisStore({ url: SHARED_REDIS, prefix: `test:${randomUUID()}:` });
    stores.push(store);
    return new SharedTier(store, silentLogger(), 1000);
  };

  it('a claim that ran out and was taken by another replica is not released by its first holder', async () => {
    const tier = await tierOnRedis();
    expect(await tier.claim('k', 'first', 100)).toBe(true);
    expect(await tier.claim('k', 'second', 100)).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(await tier.claim('k', 'second', 5_000)).toBe(true);
    await tier.release('k', 'first', false);
    expect(await tier.claimed('k')).toBe(true);
    await tier.release('k', 'second', false);
    expect(await tier.claimed('k')).toBe(false);
  });

  it('a held claim is renewed until it is released', async () => {
    const tier = await tierOnRedis();
    expect(await tier.claim('k', 'token', 150)).toBe(true);
    const held = new HeldClaim(tier, 'k', 'token', 150);
    await new Promise((r) => setTimeout(r, 500));
    expect(await tier.claimed('k')).toBe(true);
    await held.release(true);
    expect(await tier.claimed('k')).toBe(false);
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
    // A Redis call that is merely slow on a loaded machine is not what this test stops: only the stop changes state.
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `test:${randomUUID()}:`, CACHE_STORE_TIMEOUT_MS: '400' };
    const { logger, lines } = capturingLogger();
    const a = await gateway(env, logger);
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
    // One line when the shared store stopped answering, however many requests met it down.
    expect(sharedStoreLines(lines)).toEqual([{ level: 'warn', msg: expect.stringContaining('the shared store is failing or slow') }]);

    await redis.start();
    await waitFor(() => a.gateway.cache.stats().shared === 'up' && b.gateway.cache.stats().shared === 'up');
    const after = fresh();
    expect(cacheOf(await a.client().chat.completions.create(after).withResponse())).toBe('MISS');
    expect(cacheOf(await b.client().chat.completions.create(after).withResponse())).toBe('HIT');
    // And one when it answers again, however many requests it serves since.
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.client().chat.completions.create(bodies[i % bodies.length] ?? after)));
    expect(sharedStoreLines(lines)).toEqual([
      { level: 'warn', msg: expect.stringContaining('the shared store is failing or slow') },
      { level: 'info', msg: expect.stringContaining('the shared store answers again') },
    ]);
  });

  it('lets a miss leave before its shared-store write: the JSON answer and a stream’s final chunk do not wait for Redis', async () => {
    const prefix = `test:${randomUUID()}:`;
    // Redis is held up below for less than its client's command timeout (500 ms); the cache waits as long.
    const gw = await gateway({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, CACHE_STORE_TIMEOUT_MS: '2000' });
    await waitFor(() => gw.gateway.cache.stats().shared === 'up');
    await gw.client().chat.completions.create(fresh());
    await gw.gateway.cache.settled();
    const errorsBefore = gw.gateway.cache.stats().errors;
    const admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    // Redis holds every write (reads still answer) from now until after the answer below has ended.
    const holdWrites = () => admin.call('CLIENT', 'PAUSE', '450', 'WRITE');
    const entryOf = (key: string) => admin.exists(`${prefix}cache:v1:${key}`);
    const claimOf = (key: string) => admin.exists(`${prefix}cache:claim:${key}`);
    try {
      for (const stream of [false, true]) {
        const body = fresh();
        const key = cacheKey({ endpoint: 'chat', model: 'sn4/m', request: body, scope: null });
        let text = '';
        if (stream) {
          const chunks = (await gw.client().chat.completions.create({ ...body, stream: true }))[Symbol.asyncIterator]();
          // The first chunk is in (the claim was taken before the miner was called); ~180 ms of chunks follow.
          const first = await chunks.next();
          text += first.done ? '' : (first.value.choices[0]?.delta?.content ?? '');
          await holdWrites();
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) text += next.value.choices[0]?.delta?.content ?? '';
        } else {
          const calls = miner.requestCount;
          const answer = gw.client().chat.completions.create(body);
          // The miner has the request (the claim was taken before it was sent); it answers ~300 ms later.
          await expect.poll(() => miner.requestCount, { interval: 10 }).toBe(calls + 1);
          await holdWrites();
          text = (await answer).choices[0]?.message.content ?? '';
        }
        expect(text).toContain('devnet miner R');
        // The whole answer is in, its entry not written yet, the claim still held.
        expect([await entryOf(key), await claimOf(key)]).toEqual([0, 1]);
        // Behind the answer: the entry is stored, then the claim let go.
        await gw.gateway.cache.settled();
        expect([await entryOf(key), await claimOf(key)]).toEqual([1, 0]);
      }
      expect(gw.gateway.cache.stats()).toMatchObject({ errors: errorsBefore, shared: 'up', stored: 3 });
    } finally {
      admin.disconnect();
    }
  });

  it('with Redis stopped, streams on both replicas are still served: one miner call per replica', async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `test:${randomUUID()}:` };
    const a = await gateway(env);
    const b = await gateway(env);
    await waitFor(() => a.gateway.cache.stats().shared === 'up' && b.gateway.cache.stats().shared === 'up');
    // Known to the key registry first (keys are cached in-process; a key never seen needs the store).
    await Promise.all([a, b].map((g) => g.client().chat.completions.create(fresh())));
    await redis.stop();
    try {
      await waitFor(() => a.gateway.cache.stats().shared === 'down' && b.gateway.cache.stats().shared === 'down');
      const body = { ...fresh(), stream: true as const };
      miner.reset();
      const texts = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).client().chat.completions.create(body).then(streamText)));
      expect(new Set(texts).size).toBe(1);
      expect(texts[0]).toContain('devnet miner R');
      expect(miner.requestCount).toBe(2);
    } finally {
      await redis.start();
    }
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

interface LogLine {
  readonly level: number;
  readonly msg: string;
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  return { logger, lines };
}

/** The response cache's lines about the shared store's availability, as level name and message. */
const sharedStoreLines = (lines: readonly LogLine[]) =>
  lines.filter((l) => l.msg.startsWith('response cache: the shared store')).map((l) => ({ level: l.level === 40 ? 'warn' : l.level === 30 ? 'info' : String(l.level), msg: l.msg }));

/** The text of a stream's chunks. */
function contentOfSse(sse: string): string {
  const events = sse.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]');
  return events.map((l) => (JSON.parse(l.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content ?? '').join('');
}

/** The message of a stream's error event, or null. */
function errorMessageOf(sse: string): string | null {
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const event = JSON.parse(line.slice(6)) as { error?: { message?: string } };
    if (event.error?.message) return event.error.message;
  }
  return null;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
