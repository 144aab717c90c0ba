/**
 * What a stream is billed for is what its client received: a real gateway,
 * real Epistula-verifying miners that send no usage (so the gateway counts
 * the delivered text itself), the stock OpenAI and Anthropic SDKs, and the
 * bill read back through /v1/usage and the signed receipt.
 */
import Anthropic from '@anthropic-ai/sdk';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { parsePublicKey, verifyReceipt, type ReceiptBody } from '../src/metering/receipts.js';
import { createKey, keyDetails } from './support/admin-client.js';
import { compareOk } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const ANSWER = 'the whole answer, every word of it, up to the very last one';

let tail: RunningMiner;
let cut: RunningMiner;
let gw: TestGateway;
let publicKey: Uint8Array;

beforeAll(async () => {
  // No usage, and the answer's last piece arrives on the finish chunk together with finish_reason.
  tail = await startMiner({ hotkeyUri: '//BillTail', name: 'T', omitUsage: true, contentInFinishChunk: true, answer: () => ANSWER, chunkCount: 4 });
  // Sends its opening chunk and one piece of the answer, then drops the connection (its usage chunk never comes).
  cut = await startMiner({ hotkeyUri: '//BillCut', name: 'C', fault: 'dropMidStream', answer: () => ANSWER, chunkCount: 4 });
  gw = await startTestGateway({
    subnets: [
      { netuid: 7, models: ['tail'], miners: [{ miner: tail, uid: 0, incentive: 1 }] },
      { netuid: 8, models: ['cut'], miners: [{ miner: cut, uid: 0, incentive: 1 }] },
    ],
    env: { RECEIPT_SIGNING_KEY: '5e'.repeat(32), METERING_FLUSH_MS: '50' },
  });
  const res = await fetch(`${gw.url}/v1/receipts/public-key`);
  publicKey = parsePublicKey(((await res.json()) as { public_key_hex: string }).public_key_hex);
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([tail, cut].map((m) => m?.close()));
});

function receiptOf(text: unknown): ReceiptBody {
  const check = verifyReceipt(typeof text === 'string' ? text : '', publicKey);
  if (!check.valid) throw new Error(`receipt did not verify: ${check.reason}`);
  return check.body;
}

/** A key's usage totals once the gateway has written what it queued. */
async function totalsOf(id: string) {
  await gw.gateway.metering.flush();
  return (await keyDetails(gw, id)).usage.totals;
}

/** Through /v1/usage, as the key's owner sees it. */
async function ownUsage(key: string) {
  await gw.gateway.metering.flush();
  const res = await gw.request('/v1/usage', { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as { totals: { requests: number; prompt_tokens: number; completion_tokens: number; estimated: number; cost_micro_usd: number } }).totals;
}

describe('a stream whose finish chunk carries text', () => {
  it('bills every delivered word, the finish chunk’s included (chat)', async () => {
    const { id, key } = await createKey(gw, {});
    const stream = await gw.client({ apiKey: key }).chat.completions.create({ model: 'sn7/tail', messages: [{ role: 'user', content: 'chat, whole text' }], stream: true });
    let text = '';
    let last: Record<string, unknown> = {};
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      last = chunk as unknown as Record<string, unknown>;
    }
    expect(text).toBe(ANSWER);
    const receipt = receiptOf(last.taogate_receipt);
    expect(receipt.tokens).toMatchObject({ completion: countTokens(ANSWER), estimated: true });
    expect(await ownUsage(key)).toMatchObject({ completion_tokens: countTokens(ANSWER), estimated: 1 });
    expect((await totalsOf(id)).cost_micro_usd).toBe(receipt.cost_micro_usd);
  });

  it('counts the whole text in the usage the client asked for', async () => {
    const { key } = await createKey(gw, {});
    const stream = await gw.client({ apiKey: key }).chat.completions.create({
      model: 'sn7/tail',
      messages: [{ role: 'user', content: 'chat, with usage' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: { completion_tokens: number } | null | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage?.completion_tokens).toBe(countTokens(ANSWER));
    expect((await ownUsage(key)).completion_tokens).toBe(countTokens(ANSWER));
  });

  it('bills the whole text through the Responses API', async () => {
    const { key } = await createKey(gw, {});
    const stream = await gw.client({ apiKey: key }).responses.create({ model: 'sn7/tail', input: 'responses, whole text', stream: true });
    let text = '';
    let completed: Record<string, unknown> | null = null;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response as unknown as Record<string, unknown>;
    }
    expect(text).toBe(ANSWER);
    expect((completed?.usage as { output_tokens: number }).output_tokens).toBe(countTokens(ANSWER));
    expect(receiptOf(completed?.taogate_receipt).tokens.completion).toBe(countTokens(ANSWER));
    expect((await ownUsage(key)).completion_tokens).toBe(countTokens(ANSWER));
  });

  it('bills the whole text through the Messages API', async () => {
    const { key } = await createKey(gw, {});
    const claude = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
    const stream = await claude.messages.create({ model: 'sn7/tail', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'messages, whole text' }] });
    let text = '';
    let outputTokens = -1;
    let receipt: unknown;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') {
        outputTokens = event.usage.output_tokens;
        receipt = (event as unknown as { taogate_receipt?: string }).taogate_receipt;
      }
    }
    expect(text).toBe(ANSWER);
    expect(outputTokens).toBe(countTokens(ANSWER));
    expect(receiptOf(receipt).tokens.completion).toBe(countTokens(ANSWER));
    expect((await ownUsage(key)).completion_tokens).toBe(countTokens(ANSWER));
  });

  it('bills a replay of the cached stream for the whole text too', async () => {
    const { key } = await createKey(gw, {});
    const body = { model: 'sn7/tail', messages: [{ role: 'user' as const, content: 'cache me whole' }], stream: true as const, temperature: 0 };
    const client = gw.client({ apiKey: key });
    const texts: string[] = [];
    const receipts: ReceiptBody[] = [];
    for (let i = 0; i < 2; i++) {
      const { data: stream, response } = await client.chat.completions.create(body).withResponse();
      expect(response.headers.get('x-taogate-cache')).toBe(i === 0 ? 'MISS' : 'HIT');
      let text = '';
      let last: Record<string, unknown> = {};
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        last = chunk as unknown as Record<string, unknown>;
      }
      texts.push(text);
      receipts.push(receiptOf(last.taogate_receipt));
    }
    expect(texts).toEqual([ANSWER, ANSWER]);
    expect(receipts.map((r) => r.tokens.completion)).toEqual([countTokens(ANSWER), countTokens(ANSWER)]);
    expect(receipts[1]?.cached).toBe(true);
    expect((await ownUsage(key)).completion_tokens).toBe(2 * countTokens(ANSWER));
  });
});

describe('a stream cut by its miner after it started', () => {
  /** The key was billed exactly what the receipt says: the prompt and the delivered text, nothing more. */
  async function expectBilledAsReceipted(key: string, receipt: ReceiptBody, delivered: string) {
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.length).toBeLessThan(ANSWER.length);
    expect(receipt.tokens).toMatchObject({ completion: countTokens(delivered), estimated: true });
    expect(receipt.cost_micro_usd).toBeGreaterThan(0);
    expect(await ownUsage(key)).toEqual(
      expect.objectContaining({ requests: 1, prompt_tokens: receipt.tokens.prompt, completion_tokens: countTokens(delivered), cost_micro_usd: receipt.cost_micro_usd }),
    );
  }

  it('ends the chat stream with an error event carrying the receipt of what was delivered', async () => {
    const { key } = await createKey(gw, {});
    const stream = await gw.client({ apiKey: key }).chat.completions.create({ model: 'sn8/cut', messages: [{ role: 'user', content: 'chat, cut' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().catch((e: unknown) => e);
    // The SDK hands over the event's `error` object: the receipt is in it.
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const error = (err as InstanceType<typeof OpenAI.APIError>).error as Record<string, unknown>;
    expect(error).toMatchObject({ type: 'upstream_error', code: 'stream_interrupted', param: null });
    const receipt = receiptOf(error.taogate_receipt);
    expect(receipt.model).toBe('sn8/cut');
    await expectBilledAsReceipted(key, receipt, text);
  });

  it('gives a compare entry cut mid-stream the receipt of its partial answer', async () => {
    const { key } = await createKey(gw, {});
    const [entry] = (await compareOk(gw, { prompt: 'compare, cut', targets: ['sn8/cut'] }, key)).entries;
    expect(entry?.error).toMatchObject({ status: 502, code: 'stream_interrupted' });
    const receipt = receiptOf(entry?.receipt);
    expect(entry?.tokens).toEqual(receipt.tokens);
    expect(entry?.cost_micro_usd).toBe(receipt.cost_micro_usd);
    await expectBilledAsReceipted(key, receipt, entry?.answer ?? '');
  });

  it('puts the receipt on response.failed through the Responses API', async () => {
    const { key } = await createKey(gw, {});
    const stream = await gw.client({ apiKey: key }).responses.create({ model: 'sn8/cut', input: 'responses, cut', stream: true });
    let text = '';
    const types: string[] = [];
    let failed: Record<string, unknown> | null = null;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.failed') failed = event.response as unknown as Record<string, unknown>;
    }
    expect(types.slice(-2)).toEqual(['error', 'response.failed']);
    expect(failed?.status).toBe('failed');
    await expectBilledAsReceipted(key, receiptOf(failed?.taogate_receipt), text);
  });

  it('puts the receipt on the error event through the Messages API', async () => {
    const { key } = await createKey(gw, {});
    const claude = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
    const stream = await claude.messages.create({ model: 'sn8/cut', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'messages, cut' }] });
    let text = '';
    const err = await (async () => {
      for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    })().catch((e: unknown) => e);
    // The SDK keeps the whole event body as the APIError's `error`.
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const body = (err as InstanceType<typeof Anthropic.APIError>).error as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    await expectBilledAsReceipted(key, receiptOf(body.taogate_receipt), text);
  });
});
