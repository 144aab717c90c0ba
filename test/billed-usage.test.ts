/**
 * Non-stream answers from an upstream that reports no usage carry the
 * gateway's own count, the one it bills (as streams do on their final
 * chunk), on every wire API: chat completions, Responses and Messages,
 * from the miner and from the cache. Stock SDKs.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { readReceiptBody } from '../src/metering/receipts.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
let gw: TestGateway;

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//BilledUsage', name: 'U', omitUsage: true });
  gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }] });
});

afterAll(async () => {
  await gw?.close();
  await miner?.close();
});

/** The tokens the receipt says were billed; they must be the gateway's estimate (the miner reported none). */
function billed(headers: Headers): { prompt: number; completion: number } {
  const tokens = readReceiptBody(headers.get('x-taogate-receipt') ?? '')?.tokens;
  expect(tokens?.estimated).toBe(true);
  expect(tokens?.completion).toBeGreaterThan(0);
  return { prompt: tokens?.prompt ?? -1, completion: tokens?.completion ?? -1 };
}

describe('usage of non-stream answers whose upstream reported none', () => {
  it('chat completions: the billed count, from the miner and from the cache', async () => {
    const body = { model: 'sn4/m', temperature: 0, messages: [{ role: 'user' as const, content: `count me ${crypto.randomUUID()}` }] };
    for (const cache of ['MISS', 'HIT']) {
      const { data, response } = await gw.client().chat.completions.create(body).withResponse();
      expect(response.headers.get('x-taogate-cache')).toBe(cache);
      const tokens = billed(response.headers);
      expect(data.usage).toEqual({ prompt_tokens: tokens.prompt, completion_tokens: tokens.completion, total_tokens: tokens.prompt + tokens.completion });
    }
  });

  it('Responses API: usage is the billed count, not null', async () => {
    const { data, response } = await gw.client().responses.create({ model: 'sn4/m', input: 'how many tokens is this' }).withResponse();
    const tokens = billed(response.headers);
    expect(data.usage).toMatchObject({ input_tokens: tokens.prompt, output_tokens: tokens.completion, total_tokens: tokens.prompt + tokens.completion });
  });

  it('Messages API: usage is the billed count, not 0', async () => {
    const claude = new Anthropic({ baseURL: gw.url, apiKey: gw.apiKey, maxRetries: 0 });
    const { data, response } = await claude.messages.create({ model: 'sn4/m', max_tokens: 64, messages: [{ role: 'user', content: 'count my words please' }] }).withResponse();
    const tokens = billed(response.headers);
    expect(data.usage).toMatchObject({ input_tokens: tokens.prompt, output_tokens: tokens.completion });
  });
});
