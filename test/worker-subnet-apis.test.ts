/**
 * The Worker bundle in workerd serving subnet APIs from taogate.config.json
 * given inline: TAOGATE_CONFIG_JSON as wrangler passes a [vars] table (a
 * JSON value), the API keys as the Worker's secrets named by `apiKeyEnv`.
 * Fake Chutes, Nineteen and Targon APIs on loopback answer in their own
 * shapes; one alias spans them, with failover across subnets, configured
 * prices in the receipts, and a private subnet (Targon on sn4, which
 * wrangler.toml's NETUIDS = "4" also names). No snapshot is ever pushed: a
 * Worker whose every subnet is an API needs no miners and waits for none.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { TEST_ADMIN_TOKEN, TEST_HOTKEY_URI } from './support/gateway-harness.js';
import { expectOnlyOwnKey, lastBody, receiptClaims } from './support/subnet-apis.js';
import { startWorkerRuntime, type WorkerRuntime } from './support/worker-runtime.js';

const API_KEYS = { CHUTES_API_KEY: 'chutes-worker-key', NINETEEN_API_KEY: 'nineteen-worker-key', TARGON_API_KEY: 'targon-worker-key' };
let chutes: RunningSubnetApi;
let nineteen: RunningSubnetApi;
let targon: RunningSubnetApi;
let runtime: WorkerRuntime;
let clientKey: string;
let client: OpenAI;

const configDocument = () => ({
  subnets: [
    {
      netuid: 64,
      provider: 'subnet-api',
      api: { kind: 'chutes', baseUrl: chutes.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' },
      models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324', price: { prompt: 2, completion: 4 }, context_length: 163840 }],
    },
    {
      netuid: 19,
      provider: 'subnet-api',
      api: { kind: 'nineteen', baseUrl: nineteen.baseUrl, apiKeyEnv: 'NINETEEN_API_KEY' },
      models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3', price: { prompt: 1, completion: 1 } }],
    },
    {
      netuid: 4,
      provider: 'subnet-api',
      private: true,
      api: { kind: 'targon', baseUrl: targon.baseUrl, apiKeyEnv: 'TARGON_API_KEY' },
      models: [{ name: 'deepseek-v3', upstream: 'deepseek', price: { prompt: 3, completion: 3 } }],
    },
  ],
  aliases: { deepseek: ['sn64/deepseek-v3', 'sn19/deepseek-v3', 'sn4/deepseek-v3'] },
});

const workerVars = (overrides: Record<string, string | object>) => ({
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  GATEWAY_HOTKEY_URI: TEST_HOTKEY_URI,
  LOG_LEVEL: 'warn',
  // One attempt at a time, and no breaker opening on the faults set below.
  HEDGE_MODE: 'off',
  BREAKER_FAILURES: '100',
  ...overrides,
});

beforeAll(async () => {
  chutes = await startFakeSubnetApi({ flavor: 'chutes', apiKey: API_KEYS.CHUTES_API_KEY, models: ['deepseek-ai/DeepSeek-V3-0324'], name: 'chutes' });
  nineteen = await startFakeSubnetApi({ flavor: 'nineteen', apiKey: API_KEYS.NINETEEN_API_KEY, models: ['deepseek-ai/DeepSeek-V3'], name: 'nineteen' });
  targon = await startFakeSubnetApi({ flavor: 'targon', apiKey: API_KEYS.TARGON_API_KEY, models: ['deepseek'], name: 'targon' });
  runtime = await startWorkerRuntime(workerVars({ ...API_KEYS, TAOGATE_CONFIG_JSON: configDocument() }));
  const created = await fetch(`${runtime.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'worker-apis' }),
  });
  expect(created.status).toBe(201);
  clientKey = ((await created.json()) as { key: string }).key;
  client = new OpenAI({ baseURL: `${runtime.url}/v1`, apiKey: clientKey, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await Promise.all([chutes, nineteen, targon].map((api) => api?.close()));
});

beforeEach(async () => {
  for (const api of [chutes, nineteen, targon]) {
    await api.setFault('none');
    api.reset();
  }
});

const ask = (model: string, headers: Record<string, string> = {}) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'which subnet?' }] }, { headers }).withResponse();

describe('subnet APIs on the Worker (TAOGATE_CONFIG_JSON)', () => {
  it('serves every configured subnet by its API, with no snapshot to wait for (sn4 is an API here, whatever NETUIDS says)', async () => {
    const res = await fetch(`${runtime.url}/v1/subnets`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { source: string | null; status: { state: string }; data: Array<{ netuid: number }> };
    expect(body.source).toBe('none');
    expect(body.status.state).toBe('ok');
    expect(body.data.map((s) => s.netuid)).toEqual([64, 19, 4]);
    expect((await fetch(`${runtime.url}/readyz`)).status).toBe(200);
  });

  it('lists the configured models, owned by their subnets, with price, context length and privacy', async () => {
    const models: Array<OpenAI.Model & { context_length: number | null; pricing: { prompt_usd_per_1m: number }; taogate: { targets: string[]; private: boolean } }> = [];
    for await (const m of client.models.list()) models.push(m as (typeof models)[number]);
    const byId = new Map(models.map((m) => [m.id, m]));
    expect(models.map((m) => m.id)).toEqual(['sn64/deepseek-v3', 'sn19/deepseek-v3', 'sn4/deepseek-v3', 'deepseek', 'auto']);
    expect(byId.get('sn64/deepseek-v3')).toMatchObject({ owned_by: 'sn64', context_length: 163840, pricing: { prompt_usd_per_1m: 2 }, taogate: { private: false } });
    expect(byId.get('sn4/deepseek-v3')).toMatchObject({ owned_by: 'sn4', taogate: { private: true } });
    expect(byId.get('deepseek')?.taogate.targets).toEqual(['sn64/deepseek-v3', 'sn19/deepseek-v3', 'sn4/deepseek-v3']);
  });

  it('serves the alias through the Chutes API with the Worker’s own key, billed at the configured price', async () => {
    const { data, response } = await ask('deepseek');
    expect(data.choices[0]?.message.content).toContain('devnet miner chutes');
    expect(data.model).toBe('deepseek');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn64/deepseek-v3');
    expect(lastBody(chutes).model).toBe('deepseek-ai/DeepSeek-V3-0324');
    expectOnlyOwnKey(chutes, API_KEYS.CHUTES_API_KEY, clientKey);
    const receipt = receiptClaims(response.headers.get('x-taogate-receipt'));
    expect(receipt.served_model).toBe('sn64/deepseek-v3');
    expect(receipt.tokens.estimated).toBe(false);
    // 2 and 4 USD per 1M tokens: 2 and 4 micro-USD per token.
    expect(receipt.cost_micro_usd).toBe(2 * receipt.tokens.prompt + 4 * receipt.tokens.completion);
    expect(nineteen.requests).toHaveLength(0);
  });

  it('streams through the Chutes API without buffering the answer away', async () => {
    const stream = await client.chat.completions.create({ model: 'sn64/deepseek-v3', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] });
    let text = '';
    let chunks = 0;
    let completionTokens = 0;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        text += delta;
        chunks++;
      }
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    expect(text).toMatch(/devnet miner chutes\. You said "stream please"/);
    expect(chunks).toBeGreaterThan(1);
    expect(completionTokens).toBeGreaterThan(0);
  });

  it('fails over across subnets when the first API is down', async () => {
    await chutes.setFault('down');
    const { data, response } = await ask('deepseek');
    expect(data.choices[0]?.message.content).toContain('devnet miner nineteen');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
    expect(response.headers.get('x-taogate-failover')).toBe('sn64/deepseek-v3');
    const receipt = receiptClaims(response.headers.get('x-taogate-receipt'));
    expect(receipt.cost_micro_usd).toBe(receipt.tokens.prompt + receipt.tokens.completion);
    expectOnlyOwnKey(nineteen, API_KEYS.NINETEEN_API_KEY, clientKey);
  });

  it('routes a private request only to the subnet marked private, and says so', async () => {
    const { data, response } = await ask('deepseek', { 'x-taogate-private': '1' });
    expect(data.choices[0]?.message.content).toContain('devnet miner targon');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn4/deepseek-v3');
    expect(response.headers.get('x-taogate-private')).toBe('1');
    expect(chutes.requests).toHaveLength(0);
    expect(nineteen.requests).toHaveLength(0);
    expectOnlyOwnKey(targon, API_KEYS.TARGON_API_KEY, clientKey);
  });
});

describe('a bad TAOGATE_CONFIG_JSON', () => {
  it('keeps the Worker from starting, naming the field, in the OpenAI envelope (JSON text, as a var or secret holds it)', async () => {
    const document = { subnets: [configDocument().subnets[0]] };
    // NETUIDS unset (an empty variable is unset, as on Node): the document alone says what to serve.
    const broken = await startWorkerRuntime(workerVars({ NETUIDS: '', TAOGATE_CONFIG_JSON: JSON.stringify(document) }));
    try {
      const res = await fetch(`${broken.url}/v1/models`);
      expect(res.status).toBe(500);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('gateway_misconfigured');
      expect(error.message).toMatch(/invalid config file TAOGATE_CONFIG_JSON:\n\s+subnets\[0\]\.api\.apiKeyEnv: environment variable CHUTES_API_KEY is not set/);
    } finally {
      await broken.close();
    }
  });
});
