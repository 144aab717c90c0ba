/** The metering parts on their own: money arithmetic, configuration, receipts, tokenizer, journal bounds. */
import { randomUUID } from 'node:crypto';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { costMicroUsd } from '../src/metering/pricing.js';
import { formatDuration } from '../src/metering/rate-limiter.js';
import { createReceiptSigner, verifyReceipt } from '../src/metering/receipts.js';
import { TokenCounter } from '../src/metering/token-counter.js';
import { UsageJournal } from '../src/metering/usage-journal.js';
import { createMemoryStore } from '../src/store/memory.js';
import { createRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { startOwnRedis } from './support/own-redis.js';

describe('cost arithmetic', () => {
  it('is exact in integers and rounds each request up once', () => {
    const price = { promptMicroUsdPer1M: 150_000, completionMicroUsdPer1M: 600_000 }; // $0.15 / $0.60 per 1M
    expect(costMicroUsd(price, 0, 0)).toBe(0);
    expect(costMicroUsd(price, 1, 0)).toBe(1); // 0.15 µ$ → 1
    expect(costMicroUsd(price, 1_000_000, 1_000_000)).toBe(750_000);
    expect(costMicroUsd(price, 3, 1)).toBe(2); // 0.45 + 0.6 = 1.05 → 2
    // Far beyond 2^53 in the intermediate product: still exact.
    const dear = { promptMicroUsdPer1M: 1_000_000_000, completionMicroUsdPer1M: 999_999_999 };
    // 5e16 + 50_000_000_949_999_999 = 100_000_000_949_999_999 → / 1e6, rounded up.
    expect(costMicroUsd(dear, 50_000_000, 50_000_001)).toBe(100_000_000_950);
  });
});

describe('metering configuration', () => {
  const base = { METAGRAPH_FILE: '/dev/null' };
  it('parses prices in both shapes into micro-USD per 1M tokens, with a non-zero default', () => {
    const config = loadConfig({ ...base, MODEL_PRICES: '{"sn4/a":{"prompt":0.15,"completion":0.6},"llama":[2,6]}' });
    expect(config.MODEL_PRICES).toEqual({
      'sn4/a': { promptMicroUsdPer1M: 150_000, completionMicroUsdPer1M: 600_000 },
      llama: { promptMicroUsdPer1M: 2_000_000, completionMicroUsdPer1M: 6_000_000 },
    });
    expect(config.DEFAULT_PRICE_USD_PER_1M.promptMicroUsdPer1M).toBeGreaterThan(0);
    expect(config.DEFAULT_PRICE_USD_PER_1M.completionMicroUsdPer1M).toBeGreaterThan(0);
    expect(loadConfig({ ...base, DEFAULT_PRICE_USD_PER_1M: '0.25, 1.25' }).DEFAULT_PRICE_USD_PER_1M).toEqual({ promptMicroUsdPer1M: 250_000, completionMicroUsdPer1M: 1_250_000 });
    expect(config.CREDITS_ON_STORE_DOWN).toBe('deny');
  });

  it('refuses prices it would have to round, naming the variable, and never echoes the receipt key', () => {
    expect(() => loadConfig({ ...base, MODEL_PRICES: '{"sn4/a":[0.1234567,1]}' })).toThrow(/MODEL_PRICES.*at most 6 decimals/);
    expect(() => loadConfig({ ...base, DEFAULT_PRICE_USD_PER_1M: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, CREDITS_ON_STORE_DOWN: 'maybe' })).toThrow(/CREDITS_ON_STORE_DOWN/);
    let message = '';
    try {
      loadConfig({ ...base, RECEIPT_SIGNING_KEY: 'short-secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/RECEIPT_SIGNING_KEY/);
    expect(message).not.toContain('short-secret');
  });
});

describe('receipts', () => {
  it('sign natively with the same bytes tweetnacl produces, and verify offline', () => {
    const seed = new Uint8Array(32).fill(9);
    const signer = createReceiptSigner(seed);
    expect(signer.ephemeral).toBe(false);
    expect(Buffer.from(signer.publicKey)).toEqual(Buffer.from(nacl.sign.keyPair.fromSeed(seed).publicKey));
    const receipt = signer.sign({
      request_id: 'r1',
      key_id: 'key_1',
      model: 'auto',
      served_model: 'sn4/m',
      miner: { netuid: 4, uid: 3, hotkey: '5Hot' },
      snapshot: { version: 'abc', block: 12 },
      tokens: { prompt: 1, completion: 2, estimated: true },
      cost_micro_usd: 7,
      time: '2026-01-01T00:00:00.000Z',
    });
    const [payload, signature] = receipt.split('.') as [string, string];
    const expected = nacl.sign.detached(new Uint8Array(Buffer.from(payload, 'base64url')), nacl.sign.keyPair.fromSeed(seed).secretKey);
    expect(Buffer.from(signature, 'base64url')).toEqual(Buffer.from(expected));
    expect(verifyReceipt(receipt, signer.publicKey)).toMatchObject({ valid: true, body: { cost_micro_usd: 7, kid: signer.kid } });
    expect(verifyReceipt('garbage', signer.publicKey).valid).toBe(false);
    expect(createReceiptSigner(null).ephemeral).toBe(true);
  });
});

describe('token counting', () => {
  it('counts legacy prompts with their suffix, and chat messages with their framing', async () => {
    const tokens = await TokenCounter.load();
    expect(tokens.prompt({ model: 'x', prompt: 'def add(a, b):', suffix: '\nprint(add(1, 2))' })).toBe(countTokens('def add(a, b):') + countTokens('\nprint(add(1, 2))'));
    const chat = { model: 'x', messages: [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: [{ type: 'text', text: 'Hello there' }] }] };
    expect(tokens.prompt(chat)).toBe(3 + (3 + countTokens('Be brief.')) + (3 + countTokens('Hello there')));
    expect(tokens.text('')).toBe(0);
  });
});

describe('rate-limit header durations', () => {
  it('formats like OpenAI', () => {
    expect(formatDuration(20)).toBe('20ms');
    expect(formatDuration(1000)).toBe('1s');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(360_000)).toBe('6m0s');
  });
});

describe('usage journal', () => {
  it('holds at most METERING_JOURNAL_MAX counters and says how many it dropped', async () => {
    const store = createMemoryStore();
    const journal = new UsageJournal(store, silentLogger(), { flushMs: 60_000, maxCounters: 3 });
    journal.add('k1', 'sn4/a', { requests: 1, prompt_tokens: 5 });
    journal.add('k1', 'sn4/a', { requests: 1, prompt_tokens: 5 }); // same counters: no new slot
    journal.add('k2', 'sn4/a', { requests: 1, prompt_tokens: 5 });
    expect(journal.pending()).toMatchObject({ counters: 3, dropped: 1 });
    await journal.flush();
    expect(journal.pending()).toMatchObject({ counters: 0, batches: 0 });
    const day = new Date().toISOString().slice(0, 10);
    expect(await store.hgetall('usage:{k1}')).toEqual({ [`${day}|sn4/a|requests`]: '2', [`${day}|sn4/a|prompt_tokens`]: '10' });
  });

  it('keeps a batch it could not write, under the same id, until the store answers; then it lands once', async () => {
    const redis = await startOwnRedis();
    const store = await createRedisStore({ url: redis.url, prefix: `test:${randomUUID()}:`, connectWaitMs: 2000 });
    // The real store, with the batch id of every write attempt noted on the way through.
    const attempts: string[] = [];
    const observed: Store = {
      ...store,
      hincrbyOnce: (opId, increments, ttlMs) => {
        attempts.push(opId);
        return store.hincrbyOnce(opId, increments, ttlMs);
      },
    };
    const requestsOf = async () => Number((await store.hgetall('usage:{k1}'))[`${new Date().toISOString().slice(0, 10)}|sn4/a|requests`] ?? 0);
    try {
      const journal = new UsageJournal(observed, silentLogger(), { flushMs: 60_000, maxCounters: 100 });
      await redis.stop();
      journal.add('k1', 'sn4/a', { requests: 1 });
      await journal.flush();
      expect(journal.pending()).toMatchObject({ counters: 0, batches: 1 });
      // New usage meanwhile aggregates instead of piling up batches; the retry is the same batch.
      journal.add('k1', 'sn4/a', { requests: 1 });
      journal.add('k1', 'sn4/a', { requests: 1 });
      await journal.flush();
      expect(journal.pending()).toMatchObject({ counters: 1, batches: 1 });
      expect(attempts).toHaveLength(2);
      expect(attempts[1]).toBe(attempts[0]);

      await redis.start();
      await expect.poll(() => store.state(), { timeout: 10_000 }).toBe('up');
      await journal.flush();
      // The waiting batch is written first, still under its first id...
      expect(attempts).toHaveLength(3);
      expect(attempts[2]).toBe(attempts[0]);
      expect(await requestsOf()).toBe(1);
      expect(journal.pending()).toMatchObject({ counters: 1, batches: 0 });
      // ...then what aggregated meanwhile, as a new batch with a new id.
      await journal.flush();
      expect(attempts).toHaveLength(4);
      expect(attempts[3]).not.toBe(attempts[0]);
      expect(await requestsOf()).toBe(3);
      // Replaying the first batch's id is a no-op: it was applied once.
      expect(await store.hincrbyOnce(attempts[0] ?? '', [{ key: 'usage:{k1}', field: 'replayed', by: 1 }], 60_000)).toBe(false);
    } finally {
      await store.close();
      await redis.destroy();
    }
  });
});
