/**
 * The response cache through the stock openai client against a real
 * gateway (memory store) and real Epistula-verifying miners: hits and
 * misses, both answer shapes, the request policy, and single-flight.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { parsePublicKey, verifyReceipt, type ReceiptBody } from '../src/metering/receipts.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
let slow: RunningMiner;
let gw: TestGateway;
let publicKey: Uint8Array;

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//CacheA', name: 'A' });
  // Long enough in flight that identical requests overlap it.
  slow = await startMiner({ hotkeyUri: '//CacheSlow', name: 'S', chunkCount: 12, chunkDelayMs: 25, slowMs: 300, fault: 'slowFirstByte' });
  gw = await startTestGateway({
    subnets: [
      { netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] },
      { netuid: 5, models: ['slow'], miners: [{ miner: slow, uid: 0, incentive: 1 }] },
    ],
    env: { METERING_FLUSH_MS: '50', MODEL_ALIASES: JSON.stringify({ fast: 'sn4/m' }) },
  });
  const res = await fetch(`${gw.url}/v1/receipts/public-key`);
  publicKey = parsePublicKey(((await res.json()) as { public_key_hex: string }).public_key_hex);
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([miner, slow].map((m) => m?.close()));
});

/** A request nobody sent before (so each test starts from a miss), cacheable (temperature 0). */
const fresh = (model = 'sn4/m') => ({ model, temperature: 0, messages: [{ role: 'user' as const, content: `tell me about ${randomUUID()}` }] });

const cacheOf = (res: Response) => res.headers.get('x-taogate-cache');

function receiptOf(text: string | null | undefined): ReceiptBody {
  const check = verifyReceipt(text ?? '', publicKey);
  if (!check.valid) throw new Error(`receipt did not verify: ${check.reason}`);
  return check.body;
}

async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  const chunks: Array<OpenAI.ChatCompletionChunk & { taogate_receipt?: string }> = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const deltas = (chunks: readonly OpenAI.ChatCompletionChunk[]) => chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).filter((t) => t !== '');

describe('hits and misses', () => {
  it('answers the second identical request from the cache without calling the miner', async () => {
    const body = fresh();
    const first = await gw.client().chat.completions.create(body).withResponse();
    const calls = miner.requestCount;
    const second = await gw.client().chat.completions.create(body).withResponse();

    expect(miner.requestCount).toBe(calls);
    expect(cacheOf(first.response)).toBe('MISS');
    expect(cacheOf(second.response)).toBe('HIT');
    expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(second.data.id).toBe(first.data.id);
    expect(second.data.model).toBe('sn4/m');
    expect(Number(second.response.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(first.response.headers.get('age')).toBeNull();
    // The original miner, a request id of its own, and a receipt that says cached.
    expect(second.response.headers.get('x-taogate-miner')).toBe(first.response.headers.get('x-taogate-miner'));
    expect(second.response.headers.get('x-request-id')).not.toBe(first.response.headers.get('x-request-id'));
    const receipt = receiptOf(second.response.headers.get('x-taogate-receipt'));
    expect(receipt).toMatchObject({ cached: true, cost_micro_usd: 0, request_id: second.response.headers.get('x-request-id') });
    expect(receipt.miner.hotkey).toBe(miner.hotkey);
  });

  it('ignores key order and whitespace in the body, and serves an alias from its target\'s entry', async () => {
    const body = fresh();
    await gw.client().chat.completions.create(body);
    const calls = miner.requestCount;
    const reordered = `{ "messages" : [ { "content" : ${JSON.stringify(body.messages[0]?.content)},\n "role":"user" } ],\n\t"temperature": 0, "model": "sn4/m" }`;
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: reordered });
    expect(res.status).toBe(200);
    expect(cacheOf(res)).toBe('HIT');
    const aliased = await gw.client().chat.completions.create({ ...body, model: 'fast' }).withResponse();
    expect(cacheOf(aliased.response)).toBe('HIT');
    expect(aliased.data.model).toBe('fast');
    expect(miner.requestCount).toBe(calls);
  });

  it('caches legacy completions with suffix (fill-in-the-middle) too', async () => {
    const body = { model: 'sn4/m', prompt: `def ${randomUUID().slice(0, 8)}(`, suffix: '\n    return x', temperature: 0, max_tokens: 20 };
    const first = await gw.client().completions.create(body).withResponse();
    const calls = miner.requestCount;
    const second = await gw.client().completions.create(body).withResponse();
    const otherSuffix = await gw.client().completions.create({ ...body, suffix: '\n    pass' }).withResponse();
    expect([cacheOf(first.response), cacheOf(second.response), cacheOf(otherSuffix.response)]).toEqual(['MISS', 'HIT', 'MISS']);
    expect(second.data.choices[0]?.text).toBe(first.data.choices[0]?.text);
    expect(miner.requestCount).toBe(calls + 1);
  });
});

describe('policy', () => {
  it('bypasses sampling that is not deterministic, and caches a seed at any temperature', async () => {
    const body = { ...fresh(), temperature: 0.8 };
    const calls = miner.requestCount;
    const a = await gw.client().chat.completions.create(body).withResponse();
    const b = await gw.client().chat.completions.create(body).withResponse();
    const { temperature: _, ...noTemperature } = body;
    const c = await gw.client().chat.completions.create(noTemperature).withResponse();
    expect([cacheOf(a.response), cacheOf(b.response), cacheOf(c.response)]).toEqual(['BYPASS', 'BYPASS', 'BYPASS']);
    expect(miner.requestCount).toBe(calls + 3);

    const seeded = { ...body, seed: 42 };
    await gw.client().chat.completions.create(seeded);
    const again = await gw.client().chat.completions.create(seeded).withResponse();
    expect(cacheOf(again.response)).toBe('HIT');
    expect(miner.requestCount).toBe(calls + 4);
  });

  it('cache-control: no-store neither reads nor writes', async () => {
    const body = fresh();
    await gw.client().chat.completions.create(body);
    const calls = miner.requestCount;
    const noStore = { headers: { 'cache-control': 'no-store' } };
    const skipped = await gw.client().chat.completions.create(body, noStore).withResponse();
    expect(cacheOf(skipped.response)).toBe('BYPASS');
    expect(miner.requestCount).toBe(calls + 1);

    const other = fresh();
    await gw.client().chat.completions.create(other, noStore);
    const after = await gw.client().chat.completions.create(other).withResponse();
    expect(cacheOf(after.response)).toBe('MISS');
  });

  it('never caches pinned requests (private mode: test/private-mode.test.ts)', async () => {
    const body = fresh();
    const pinned = { headers: { 'x-taogate-uids': '0' } };
    const calls = miner.requestCount;
    await gw.client().chat.completions.create(body, pinned);
    const again = await gw.client().chat.completions.create(body, pinned).withResponse();
    expect(cacheOf(again.response)).toBe('BYPASS');
    expect(miner.requestCount).toBe(calls + 2);
  });

  it('refuses a TTL header that is not whole seconds', async () => {
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-cache-ttl': 'an hour' }, json: fresh() });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; code: string } };
    expect(body.error).toMatchObject({ param: 'x-taogate-cache-ttl', code: 'invalid_cache_ttl' });
  });
});

describe('streams', () => {
  it('replays a streamed answer with the same chunks, the usage chunk only when asked, and a cached receipt', async () => {
    const body = { ...fresh(), stream: true as const };
    const first = await collect(await gw.client().chat.completions.create({ ...body, stream_options: { include_usage: true } }));
    const calls = miner.requestCount;
    const { data: replayed, response } = await gw.client().chat.completions.create({ ...body, stream_options: { include_usage: true } }).withResponse();
    const again = await collect(replayed);
    expect(cacheOf(response)).toBe('HIT');
    expect(miner.requestCount).toBe(calls);
    expect(deltas(again)).toEqual(deltas(first));
    expect(deltas(first).length).toBeGreaterThan(2);
    expect(again.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual(first.map((c) => c.choices[0]?.finish_reason ?? null));
    expect(again.at(-1)?.usage).toEqual(first.at(-1)?.usage);
    expect(receiptOf(again.at(-1)?.taogate_receipt)).toMatchObject({ cached: true, cost_micro_usd: 0 });

    const withoutUsage = await collect(await gw.client().chat.completions.create(body));
    expect(deltas(withoutUsage)).toEqual(deltas(first));
    expect(withoutUsage.every((c) => !('usage' in c))).toBe(true);
    expect(receiptOf(withoutUsage.at(-1)?.taogate_receipt).cached).toBe(true);
  });

  it('serves a non-stream request from a streamed entry and a stream from a non-stream entry', async () => {
    const streamedFirst = fresh();
    const chunks = await collect(await gw.client().chat.completions.create({ ...streamedFirst, stream: true }));
    const calls = miner.requestCount;
    const json = await gw.client().chat.completions.create(streamedFirst).withResponse();
    expect(cacheOf(json.response)).toBe('HIT');
    expect(json.data.choices[0]?.message).toMatchObject({ role: 'assistant', content: deltas(chunks).join('') });
    expect(json.data.choices[0]?.finish_reason).toBe('stop');
    expect(json.data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(json.data.object).toBe('chat.completion');

    const jsonFirst = fresh();
    const answer = await gw.client().chat.completions.create(jsonFirst);
    const { data, response } = await gw.client().chat.completions.create({ ...jsonFirst, stream: true, stream_options: { include_usage: true } }).withResponse();
    const replayed = await collect(data);
    expect(cacheOf(response)).toBe('HIT');
    expect(deltas(replayed).join('')).toBe(answer.choices[0]?.message.content);
    expect(replayed.at(-1)?.usage).toEqual(answer.usage);
    expect(replayed.every((c) => c.object === 'chat.completion.chunk' && c.model === 'sn4/m')).toBe(true);
    expect(miner.requestCount).toBe(calls + 1);
  });

  it('never stores a stream that was cut or an error', async () => {
    const body = fresh();
    await miner.setFault('dropMidStream');
    try {
      const cut = await collect(await gw.client().chat.completions.create({ ...body, stream: true })).catch((err: unknown) => err);
      expect(cut).toBeInstanceOf(Error);
      await miner.setFault('http500');
      await expect(gw.client().chat.completions.create(body)).rejects.toThrow();
    } finally {
      await miner.setFault('none');
    }
    const calls = miner.requestCount;
    const res = await gw.client().chat.completions.create(body).withResponse();
    expect(cacheOf(res.response)).toBe('MISS');
    expect(miner.requestCount).toBe(calls + 1);
  });
});

describe('single-flight', () => {
  it('sends 50 identical concurrent requests to the miner once; all get the same answer', async () => {
    const body = fresh('sn5/slow');
    slow.reset();
    const results = await Promise.all(Array.from({ length: 50 }, () => gw.client().chat.completions.create(body).withResponse()));
    expect(slow.requestCount).toBe(1);
    const answers = new Set(results.map((r) => r.data.choices[0]?.message.content));
    expect(answers.size).toBe(1);
    expect([...answers][0]).toContain('devnet miner S');
    const statuses = results.map((r) => cacheOf(r.response));
    expect(statuses.filter((s) => s === 'MISS')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'HIT')).toHaveLength(49);
    // Most arrive while the miner call is running and wait for it (any late ones are plain hits).
    expect(gw.gateway.cache.stats().coalesced).toBeGreaterThan(0);
    const stats = await gw.request('/admin/cache', { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(await stats.json()).toMatchObject({ enabled: true, shared: 'none', inFlight: 0 });
  });

  it('shares one miner stream: stream followers get it chunk by chunk, JSON followers the whole answer', async () => {
    const body = fresh('sn5/slow');
    slow.reset();
    const streams = Array.from({ length: 10 }, () => gw.client().chat.completions.create({ ...body, stream: true }).then(collect));
    const jsons = Array.from({ length: 10 }, () => gw.client().chat.completions.create(body));
    const [streamed, answered] = await Promise.all([Promise.all(streams), Promise.all(jsons)]);
    expect(slow.requestCount).toBe(1);
    const text = deltas(streamed[0] ?? []).join('');
    expect(text).toContain('devnet miner S');
    for (const chunks of streamed) expect(deltas(chunks).join('')).toBe(text);
    for (const answer of answered) expect(answer.choices[0]?.message.content).toBe(text);
  });

  it('keeps the miner call going for followers when the leader\'s client leaves', async () => {
    const body = fresh('sn5/slow');
    slow.reset();
    const leader = new AbortController();
    const leading = gw.client().chat.completions.create({ ...body, stream: true }, { signal: leader.signal });
    await new Promise((r) => setTimeout(r, 50));
    const follower = gw.client().chat.completions.create(body);
    await new Promise((r) => setTimeout(r, 50));
    leader.abort();
    await leading.catch(() => undefined);
    const answer = await follower;
    expect(answer.choices[0]?.message.content).toContain('devnet miner S');
    expect(slow.requestCount).toBe(1);
    // The whole answer was read to its end, so it was stored.
    const later = await gw.client().chat.completions.create(body).withResponse();
    expect(cacheOf(later.response)).toBe('HIT');
    expect(slow.requestCount).toBe(1);
  });

  it('a follower never outlasts its own deadline, however many failed flights it followed', async () => {
    // A miner only the request's deadline (1 s) ends a call to: every flight fails, at its leader's deadline.
    const hanging = await startMiner({ hotkeyUri: '//CacheDeadline', name: 'D', fault: 'hang' });
    const strict = await startTestGateway({
      subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: hanging, uid: 0, incentive: 1 }] }],
      env: { REQUEST_TIMEOUT_MS: '1000', FIRST_BYTE_TIMEOUT_MS: '20000', MAX_ATTEMPTS: '1', HEDGE_MODE: 'off' },
    });
    try {
      const body = fresh();
      // Three identical requests 250 ms apart: the second follows the first's flight, then leads one of its own;
      // the third follows both, then calls alone. Each new call gets only what is left of its request's deadline.
      const timed = async (delayMs: number) => {
        await new Promise((r) => setTimeout(r, delayMs));
        const startedAt = performance.now();
        const res = await strict.request('/v1/chat/completions', { method: 'POST', json: body });
        const { error } = (await res.json()) as { error: { code: string } };
        return { status: res.status, code: error.code, elapsed: performance.now() - startedAt };
      };
      const results = await Promise.all([0, 250, 500].map(timed));
      expect(results.map((r) => [r.status, r.code])).toEqual(Array.from({ length: 3 }, () => [504, 'deadline_exceeded']));
      // A fresh deadline per flight would make these ~1.0, ~1.75 and ~2.5 s.
      for (const r of results) expect(r.elapsed).toBeLessThan(1000 + 350);
      expect(hanging.requestCount).toBe(3);
      expect(strict.gateway.cache.stats()).toMatchObject({ misses: 3, hits: 0 });
    } finally {
      await strict.close();
      await hanging.close();
    }
  });

  it('when the leader fails, its first follower calls again and the others follow that call', async () => {
    // A miner that does not answer the leader, behind a gateway that gives up on it after 300 ms with one attempt.
    const hanging = await startMiner({ hotkeyUri: '//CacheHang', name: 'H', fault: 'hang' });
    const strict = await startTestGateway({
      subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: hanging, uid: 0, incentive: 1 }] }],
      env: { FIRST_BYTE_TIMEOUT_MS: '300', MAX_ATTEMPTS: '1', HEDGE_MODE: 'off' },
    });
    try {
      const body = fresh();
      const leading = strict.request('/v1/chat/completions', { method: 'POST', json: body });
      await expect.poll(() => hanging.requestCount).toBe(1);
      const following = Array.from({ length: 4 }, () => strict.request('/v1/chat/completions', { method: 'POST', json: body }));
      // The miner recovers while the leader's call is still hanging.
      await hanging.setFault('none');
      const [lead, ...follows] = await Promise.all([leading, ...following]);
      expect(lead.status).toBe(502);
      expect(follows.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      // The followers did not take the leader's failure as their answer, nor did all four call at once: one did, for all.
      expect(hanging.requestCount).toBe(2);
      expect(follows.map((r) => r.headers.get('x-taogate-cache')).sort()).toEqual(['HIT', 'HIT', 'HIT', 'MISS']);
      expect(strict.gateway.cache.stats()).toMatchObject({ misses: 2, hits: 3, stored: 1 });
    } finally {
      await strict.close();
      await hanging.close();
    }
  });
});
