/**
 * Metering through the stock openai client: real gateway on the shared
 * Redis (own prefix), real Epistula-verifying miners, usage read back
 * through the admin API and /v1/usage.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { parsePublicKey, verifyReceipt, type ReceiptBody } from '../src/metering/receipts.js';
import { createKey, keyDetails, topUp, type Counters } from './support/admin-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SEED_HEX = '4f'.repeat(32);
const LONG_ANSWER = Array.from({ length: 240 }, (_, i) => `word${i}`).join(' ');

let minerA: RunningMiner;
let silent: RunningMiner;
let slow: RunningMiner;
let gw: TestGateway;
let publicKey: Uint8Array;

beforeAll(async () => {
  minerA = await startMiner({ hotkeyUri: '//MeterA', name: 'A' });
  silent = await startMiner({ hotkeyUri: '//MeterSilent', name: 'S', omitUsage: true });
  slow = await startMiner({ hotkeyUri: '//MeterSlow', name: 'L', answer: () => LONG_ANSWER, chunkCount: 40, chunkDelayMs: 40 });
  gw = await startTestGateway({
    subnets: [
      { netuid: 4, models: ['m'], miners: [{ miner: minerA, uid: 0, incentive: 1 }] },
      { netuid: 5, models: ['plain'], miners: [{ miner: silent, uid: 0, incentive: 1 }] },
      { netuid: 6, models: ['long'], miners: [{ miner: slow, uid: 0, incentive: 1 }] },
    ],
    env: {
      REDIS_URL,
      MODEL_PRICES: JSON.stringify({ 'sn4/m': { prompt: 2, completion: 6 }, 'sn6/long': [1.5, 4.5] }),
      DEFAULT_PRICE_USD_PER_1M: '1,3',
      RECEIPT_SIGNING_KEY: SEED_HEX,
      METERING_FLUSH_MS: '50',
    },
  });
  const res = await fetch(`${gw.url}/v1/receipts/public-key`);
  publicKey = parsePublicKey(((await res.json()) as { public_key_hex: string }).public_key_hex);
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([minerA, silent, slow].map((m) => m?.close()));
});

const chat = (model: string, content = 'how much does this cost?') => ({ model, messages: [{ role: 'user' as const, content }] });

function receiptOf(text: string | null | undefined): ReceiptBody {
  const check = verifyReceipt(text ?? '', publicKey);
  if (!check.valid) throw new Error(`receipt did not verify: ${check.reason}`);
  return check.body;
}

/** Usage of a key once this gateway has written what it queued. */
async function usageOf(id: string) {
  await gw.gateway.metering.flush();
  return (await keyDetails(gw, id)).usage;
}

const today = () => new Date().toISOString().slice(0, 10);

describe('metering per key, model and day', () => {
  it('counts requests, tokens and exact micro-dollar cost from the miner usage', async () => {
    const { id, key } = await createKey(gw, {});
    const client = gw.client({ apiKey: key });
    const expected: Counters = { requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_hits: 0, estimated: 0, cost_micro_usd: 0 };
    for (const content of ['one', 'two words', 'and three words here']) {
      const { data, response } = await client.chat.completions.create(chat('sn4/m', content)).withResponse();
      const usage = data.usage as OpenAI.CompletionUsage;
      const cost = 2 * usage.prompt_tokens + 6 * usage.completion_tokens; // $2 and $6 per 1M tokens
      expect(receiptOf(response.headers.get('x-taogate-receipt')).cost_micro_usd).toBe(cost);
      expected.requests++;
      expected.prompt_tokens += usage.prompt_tokens;
      expected.completion_tokens += usage.completion_tokens;
      expected.cost_micro_usd += cost;
    }
    const usage = await usageOf(id);
    expect(usage.billing).toBe('postpaid');
    expect(usage.credits).toBeNull();
    expect(usage.totals).toMatchObject(expected);
    expect(usage.models['sn4/m']).toMatchObject(expected);
    expect(usage.days.map((d) => d.date)).toEqual([today()]);
    expect(usage.days[0]?.models['sn4/m']).toMatchObject(expected);

    const own = await gw.request('/v1/usage', { headers: { authorization: `Bearer ${key}` } });
    const body = (await own.json()) as { object: string; key_id: string; totals: Counters };
    expect(body).toMatchObject({ object: 'usage', key_id: id, totals: expected });
  });

  it('rounds a fractional cost up to the next micro-dollar, once per request', async () => {
    const { id, key } = await createKey(gw, {});
    // $1 and $3 per 1M tokens (the default here): cost = ceil(p + 3c) — already integral; sn6 at 1.5/4.5 is not.
    const { data, response } = await gw.client({ apiKey: key }).chat.completions.create({ ...chat('sn6/long'), stream: false }).withResponse();
    const usage = data.usage as OpenAI.CompletionUsage;
    const exact = (usage.prompt_tokens * 1_500_000 + usage.completion_tokens * 4_500_000) / 1_000_000;
    const receipt = receiptOf(response.headers.get('x-taogate-receipt'));
    expect(receipt.cost_micro_usd).toBe(Math.ceil(exact));
    expect((await usageOf(id)).totals.cost_micro_usd).toBe(Math.ceil(exact));
  });

  it('shows each model price in /v1/models, the default marked as such', async () => {
    const res = await gw.request('/v1/models');
    const { data } = (await res.json()) as { data: Array<{ id: string; pricing: { prompt_usd_per_1m: number; completion_usd_per_1m: number; default: boolean } }> };
    const price = (id: string) => data.find((m) => m.id === id)?.pricing;
    expect(price('sn4/m')).toEqual({ prompt_usd_per_1m: 2, completion_usd_per_1m: 6, default: false });
    expect(price('sn6/long')).toEqual({ prompt_usd_per_1m: 1.5, completion_usd_per_1m: 4.5, default: false });
    expect(price('sn5/plain')).toEqual({ prompt_usd_per_1m: 1, completion_usd_per_1m: 3, default: true });
  });

  it('counts with the tokenizer when the miner omits usage, and marks it estimated', async () => {
    const { id, key } = await createKey(gw, {});
    const content = 'Tokenize this sentence, please: ünïcödé and numbers 12345.';
    const { data, response } = await gw.client({ apiKey: key }).chat.completions.create(chat('sn5/plain', content)).withResponse();
    const answer = data.choices[0]?.message.content ?? '';
    // One user message: 3 tokens of framing, 3 of reply priming, and its content.
    const prompt = 3 + 3 + countTokens(content);
    const completion = countTokens(answer);
    expect(completion).toBeGreaterThan(0);
    const receipt = receiptOf(response.headers.get('x-taogate-receipt'));
    expect(receipt.tokens).toEqual({ prompt, completion, estimated: true });
    // The answer states the count it was billed by.
    expect(data.usage).toEqual({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

    // Streamed: the miner sends no usage chunk even though it was asked for one.
    const stream = await gw.client({ apiKey: key }).chat.completions.create({ ...chat('sn5/plain', content), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(silent.lastRequest?.parsed?.includeUsage).toBe(true);

    const usage = await usageOf(id);
    expect(usage.totals).toMatchObject({ requests: 2, estimated: 2, prompt_tokens: 2 * prompt, completion_tokens: completion + countTokens(text) });
    expect(usage.totals.cost_micro_usd).toBe(2 * prompt + 3 * (completion + countTokens(text)));
  });

  it('counts a cache hit as a request and a cached hit, free of charge, with a receipt that says cached', async () => {
    const { id, key } = await createKey(gw, {});
    const body = { ...chat('sn4/m', 'cache this answer for the meter'), temperature: 0 };
    const first = await gw.client({ apiKey: key }).chat.completions.create(body).withResponse();
    const second = await gw.client({ apiKey: key }).chat.completions.create(body).withResponse();
    expect(second.response.headers.get('x-taogate-cache')).toBe('HIT');
    const usage = first.data.usage as OpenAI.CompletionUsage;
    const missCost = 2 * usage.prompt_tokens + 6 * usage.completion_tokens;
    const hit = receiptOf(second.response.headers.get('x-taogate-receipt'));
    expect(hit).toMatchObject({ cached: true, cost_micro_usd: 0, tokens: { prompt: usage.prompt_tokens, completion: usage.completion_tokens } });
    expect(hit.miner.hotkey).toBe(minerA.hotkey);
    expect(receiptOf(first.response.headers.get('x-taogate-receipt')).cached).toBeUndefined();
    expect((await usageOf(id)).models['sn4/m']).toMatchObject({
      requests: 2,
      cached_hits: 1,
      prompt_tokens: 2 * usage.prompt_tokens,
      completion_tokens: 2 * usage.completion_tokens,
      cost_micro_usd: missCost,
    });
  });
});

describe('streams', () => {
  it('always asks the miner for usage, strips it for a client that did not ask, and ends with the receipt', async () => {
    const { id, key } = await createKey(gw, {});
    const stream = await gw.client({ apiKey: key }).chat.completions.create({ ...chat('sn4/m'), stream: true });
    const chunks: Array<Record<string, unknown>> = [];
    for await (const chunk of stream) chunks.push(chunk as unknown as Record<string, unknown>);
    expect(minerA.lastRequest?.parsed?.includeUsage).toBe(true);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    // The receipt rides on the finish chunk, so clients indexing choices[0] never meet an empty chunk.
    const last = chunks.at(-1) as { choices: Array<{ finish_reason: string | null }>; taogate_receipt?: string };
    expect(last.choices[0]?.finish_reason).toBe('stop');
    const receipt = receiptOf(last.taogate_receipt);
    expect(receipt.tokens.estimated).toBe(false);
    expect(chunks.slice(0, -1).some((c) => 'taogate_receipt' in c)).toBe(false);
    expect((await usageOf(id)).totals).toMatchObject({ requests: 1, prompt_tokens: receipt.tokens.prompt, completion_tokens: receipt.tokens.completion, estimated: 0 });
  });

  it('puts the receipt on the usage chunk when the client asked for usage', async () => {
    const stream = await gw.client().chat.completions.create({ ...chat('sn4/m'), stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1) as unknown as { choices: unknown[]; usage: OpenAI.CompletionUsage; taogate_receipt: string };
    expect(last.choices).toEqual([]);
    const receipt = receiptOf(last.taogate_receipt);
    expect(receipt.tokens).toEqual({ prompt: last.usage.prompt_tokens, completion: last.usage.completion_tokens, estimated: false });
    expect(receipt.cost_micro_usd).toBe(2 * last.usage.prompt_tokens + 6 * last.usage.completion_tokens);
  });

  it('charges a stream the client aborted for the prompt and the delivered tokens only', async () => {
    const { id, key } = await createKey(gw, {});
    slow.reset();
    const content = 'tell me a long story';
    const stream = await gw.client({ apiKey: key }).chat.completions.create({ ...chat('sn6/long', content), stream: true });
    let received = '';
    let n = 0;
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta?.content ?? '';
      if (++n === 4) break; // leaving the loop aborts the request
    }
    await slow.waitForAborts(1);
    await expect.poll(async () => (await usageOf(id)).totals.requests).toBe(1);
    const { totals } = await usageOf(id);
    const full = countTokens(LONG_ANSWER);
    expect(totals.estimated).toBe(1);
    expect(totals.prompt_tokens).toBe(3 + 3 + countTokens(content));
    expect(totals.completion_tokens).toBeGreaterThanOrEqual(countTokens(received));
    expect(totals.completion_tokens).toBeLessThan(full / 2);
    expect(totals.cost_micro_usd).toBe(Math.ceil((totals.prompt_tokens * 1_500_000 + totals.completion_tokens * 4_500_000) / 1_000_000));
  });
});

describe('receipts', () => {
  it('signs each answer; the receipt verifies offline and a tampered one does not', async () => {
    const { id, key } = await createKey(gw, {});
    const { data, response } = await gw.client({ apiKey: key }).chat.completions.create(chat('sn4/m')).withResponse();
    const header = response.headers.get('x-taogate-receipt') ?? '';
    const body = receiptOf(header);
    const [netuid, uid, hotkey] = (response.headers.get('x-taogate-miner') ?? '').split('/');
    expect(body).toMatchObject({
      v: 1,
      request_id: response.headers.get('x-request-id'),
      key_id: id,
      model: 'sn4/m',
      served_model: 'sn4/m',
      miner: { netuid: Number(netuid), uid: Number(uid), hotkey },
      tokens: { prompt: data.usage?.prompt_tokens, completion: data.usage?.completion_tokens, estimated: false },
    });
    expect(body.snapshot.version).toMatch(/^[0-9a-f]{12}$/);
    expect(Date.parse(body.time)).toBeGreaterThan(Date.now() - 60_000);

    const [payload, signature] = header.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...body, cost_micro_usd: 1 })).toString('base64url');
    expect(verifyReceipt(`${forged}.${signature}`, publicKey).valid).toBe(false);
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expect(verifyReceipt(`${payload}.${flipped}`, publicKey).valid).toBe(false);
    expect(verifyReceipt(header, parsePublicKey('11'.repeat(32))).valid).toBe(false);

    // The same check offline, through `npm run verify-receipt`.
    const cli = (receipt: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/metering/verify-receipt-cli.ts', receipt, '--public-key', Buffer.from(publicKey).toString('hex')]);
    const ok = await cli(header);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, receipt: { key_id: id } });
    const bad = await cli(`${forged}.${signature}`).catch((e: { code: number; stdout: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect(JSON.parse((bad as { stdout: string }).stdout).valid).toBe(false);
    // `-` reads the receipt from stdin, as `pbpaste | npm run verify-receipt -- - --public-key …` would (newline included).
    const cliStdin = (receipt: string) => {
      const run = cli('-');
      run.child.stdin?.end(`${receipt}\n`);
      return run;
    };
    const okStdin = await cliStdin(header);
    expect(JSON.parse(okStdin.stdout)).toMatchObject({ valid: true, receipt: { key_id: id, cost_micro_usd: body.cost_micro_usd } });
    const badStdin = await cliStdin(`${payload}.${flipped}`).catch((e: { code: number; stdout: string }) => e);
    expect(badStdin).toMatchObject({ code: 1 });
    expect(JSON.parse((badStdin as { stdout: string }).stdout)).toMatchObject({ valid: false, reason: expect.stringContaining('signature') });
  });

  it('publishes the key derived from RECEIPT_SIGNING_KEY', async () => {
    const res = await fetch(`${gw.url}/v1/receipts/public-key`);
    const body = (await res.json()) as { algorithm: string; kid: string; ephemeral: boolean };
    expect(body).toMatchObject({ algorithm: 'ed25519', ephemeral: false });
    expect(body.kid).toBe(gw.gateway.metering.receipts.kid);
  });
});

describe('rate limits', () => {
  it('answers 429 with retry-after and the OpenAI x-ratelimit headers once RPM is used up', async () => {
    const { key } = await createKey(gw, { rpm: 2 });
    const client = gw.client({ apiKey: key });
    const remaining = [];
    for (let i = 0; i < 2; i++) {
      const { response } = await client.chat.completions.create(chat('sn4/m')).withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|\d+(\.\d+)?s|\d+m\d+(\.\d+)?s)$/);
      remaining.push(response.headers.get('x-ratelimit-remaining-requests'));
    }
    expect(remaining).toEqual(['1', '0']);
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: chat('sn4/m') });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('2');
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null });
    expect(String(error.message)).toMatch(/requests per min/);
    const sdk = await client.chat.completions.create(chat('sn4/m')).catch((e: unknown) => e);
    expect(sdk).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('sends the rate-limit headers on streamed answers too', async () => {
    const { key } = await createKey(gw, { rpm: 100 });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: { ...chat('sn4/m'), stream: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    expect(await res.text()).toMatch(/"taogate_receipt":"[\w-]+\.[\w-]+"[^\n]*\n\ndata: \[DONE\]\n\n$/);
  });

  it('limits tokens per minute with the prompt estimate plus max_tokens, and refuses what can never fit', async () => {
    const { key } = await createKey(gw, { tpm: 200 });
    const headers = { authorization: `Bearer ${key}` };
    const ok = await gw.request('/v1/chat/completions', { method: 'POST', headers, json: { ...chat('sn4/m', 'hi'), max_tokens: 20 } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe('200');
    expect(Number(ok.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(200);
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBeNull();
    const huge = await gw.request('/v1/chat/completions', { method: 'POST', headers, json: { ...chat('sn4/m'), max_tokens: 500 } });
    expect(huge.status).toBe(429);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('request_too_large_for_limit');
    // Waiting never helps it, so it names no time to wait.
    expect(huge.headers.get('x-ratelimit-limit-tokens')).toBe('200');
    expect(huge.headers.get('retry-after')).toBeNull();
    expect(huge.headers.get('retry-after-ms')).toBeNull();
    // Fits the limit on its own (7 + 190 tokens), but not on top of the first request's tokens: wait, with a retry-after.
    const big = await gw.request('/v1/chat/completions', { method: 'POST', headers, json: { ...chat('sn4/m', 'hi'), max_tokens: 190 } });
    expect(big.status).toBe(429);
    const { error } = (await big.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('rate_limit_exceeded');
    const requested = Number(/requested (\d+)/.exec(error.message)?.[1]);
    expect(requested).toBeGreaterThanOrEqual(190);
    expect(big.headers.get('x-ratelimit-limit-tokens')).toBe('200');
    // What is left is less than it asked for: that is why it waits. A refused request is not charged.
    const remaining = Number(big.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeGreaterThanOrEqual(0);
    expect(remaining).toBeLessThan(requested);
    expect(big.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(\d+ms|\d+(\.\d+)?s|\d+m\d+(\.\d+)?s)$/);
    const retryAfterMs = Number(big.headers.get('retry-after-ms'));
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(big.headers.get('retry-after')).toBe(String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  });
});

describe('prepaid credit', () => {
  const envelope = async (res: Response) => ((await res.json()) as { error: Record<string, unknown> }).error;

  it('402 in the OpenAI envelope when the credit cannot cover the worst case; postpaid keys are never refused for credit', async () => {
    const { id, key } = await createKey(gw, { credits_usd: 0.0001 });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: { ...chat('sn4/m'), max_tokens: 1000 } });
    expect(res.status).toBe(402);
    const error = await envelope(res);
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_credits', param: null });
    expect(String(error.message)).toMatch(/\$0\.006\d+.*\$0\.000100 is available/);
    const sdk = await gw.client({ apiKey: key }).chat.completions.create({ ...chat('sn4/m'), max_tokens: 1000 }).catch((e: unknown) => e);
    expect(sdk).toBeInstanceOf(OpenAI.APIError);
    expect((sdk as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((await usageOf(id)).credits).toMatchObject({ available_micro_usd: 100, reserved_micro_usd: 0, spent_micro_usd: 0 });

    const postpaid = await createKey(gw, {});
    const served = await gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${postpaid.key}` }, json: { ...chat('sn4/m'), max_tokens: 100_000 } });
    expect(served.status).toBe(200);
  });

  it('settles the real cost and gives the rest of the reservation back', async () => {
    const { id, key } = await createKey(gw, { credits_usd: 1 });
    const { response } = await gw.client({ apiKey: key }).chat.completions.create({ ...chat('sn4/m'), max_tokens: 64 }).withResponse();
    const cost = receiptOf(response.headers.get('x-taogate-receipt')).cost_micro_usd;
    expect(cost).toBeGreaterThan(0);
    const usage = await usageOf(id);
    expect(usage.billing).toBe('prepaid');
    expect(usage.credits).toMatchObject({ available_micro_usd: 1_000_000 - cost, reserved_micro_usd: 0, spent_micro_usd: cost, topped_up_micro_usd: 1_000_000 });
    expect(usage.totals.cost_micro_usd).toBe(cost);
  });

  it('tops up once per Idempotency-Key, which is required', async () => {
    const { id, key } = await createKey(gw, { credits_usd: 0 });
    const missing = await topUp(gw, id, { amount_usd: 5 });
    expect(missing.status).toBe(400);
    expect((await envelope(missing)).code).toBe('idempotency_key_required');

    const first = await topUp(gw, id, { amount_usd: 2.5 }, 'order-1001');
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ applied: true, amount_micro_usd: 2_500_000, credits: { available_micro_usd: 2_500_000 } });
    const replay = await topUp(gw, id, { amount_micro_usd: 2_500_000 }, 'order-1001');
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ applied: false, credits: { available_micro_usd: 2_500_000, topped_up_micro_usd: 2_500_000 } });
    const reused = await topUp(gw, id, { amount_usd: 9 }, 'order-1001');
    expect(reused.status).toBe(409);
    expect((await envelope(reused)).code).toBe('idempotency_key_reused');
    const tooPrecise = await topUp(gw, id, { amount_usd: 0.0000001 }, 'order-1002');
    expect(tooPrecise.status).toBe(400);
    const both = await topUp(gw, id, { amount_usd: 1, amount_micro_usd: 1 }, 'order-1003');
    expect(both.status).toBe(400);

    // Concurrent retries of one top-up add it once.
    await Promise.all(Array.from({ length: 10 }, () => topUp(gw, id, { amount_usd: 1 }, 'order-1004')));
    expect((await keyDetails(gw, id)).usage.credits?.available_micro_usd).toBe(3_500_000);

    const postpaid = await createKey(gw, {});
    const refused = await topUp(gw, postpaid.id, { amount_usd: 1 }, 'order-1');
    expect(refused.status).toBe(400);
    expect((await envelope(refused)).code).toBe('key_is_postpaid');
    expect((await topUp(gw, 'key_nope', { amount_usd: 1 }, 'x')).status).toBe(404);

    const served = await gw.client({ apiKey: key }).chat.completions.create(chat('sn4/m'));
    expect(served.object).toBe('chat.completion');
  });
});
