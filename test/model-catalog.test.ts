/**
 * One catalog across subnets: /v1/models through the stock client lists
 * miner subnets (models from the metagraph file) and subnet APIs (models
 * from the config) side by side, owned by sn<netuid>, with context length
 * and price (config prices and MODEL_PRICES in one price book), plus the
 * aliases from the file, from each model and from MODEL_ALIASES.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

type CatalogModel = OpenAI.Model & {
  context_length: number | null;
  pricing: { prompt_usd_per_1m: number; completion_usd_per_1m: number; default: boolean };
  taogate: { kind: string; targets: string[]; private: boolean };
};

let api: RunningSubnetApi;
let miner: RunningMiner;
let gw: TestGateway;
let models: CatalogModel[];

beforeAll(async () => {
  api = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'catalog-secret-key', models: ['deepseek-ai/DeepSeek-V3-0324', 'Qwen/Qwen3-32B'] });
  miner = await startMiner({ hotkeyUri: '//CatalogMiner', name: 'M' });
  gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner, uid: 1, incentive: 1 }] }],
    env: {
      MODEL_ALIASES: JSON.stringify({ llama: ['sn4/llama-3.1-8b'], mixed: ['sn99/gone', 'sn64/retired', 'sn4/llama-3.1-8b'], stale: ['sn99/gone', 'sn64/retired'] }),
      MODEL_PRICES: JSON.stringify({ 'sn64/qwen3-32b': { prompt: 0.9, completion: 0.9 }, 'sn4/llama-3.1-8b': [0.2, 0.6] }),
    },
    subnetConfig: {
      env: { KEY: 'catalog-secret-key' },
      document: {
        subnets: [
          {
            netuid: 64,
            provider: 'subnet-api',
            private: true,
            api: { kind: 'chutes', baseUrl: api.baseUrl, apiKeyEnv: 'KEY' },
            models: [
              { name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324', aliases: ['deepseek', 'dsv3'], price: { prompt: 0.3, completion: 1.2 }, context_length: 163840 },
              { name: 'qwen3-32b', upstream: 'Qwen/Qwen3-32B', price: { prompt: 0.1, completion: 0.3 }, context_length: 40960 },
            ],
          },
        ],
        aliases: { fast: { targets: ['sn4/llama-3.1-8b', 'sn64/qwen3-32b'], policy: 'latency' } },
      },
    },
  });
  models = [];
  for await (const m of gw.client().models.list()) models.push(m as CatalogModel);
});

afterAll(async () => {
  await gw?.close();
  await api?.close();
  await miner?.close();
});

const byId = (id: string) => models.find((m) => m.id === id);

describe('/v1/models', () => {
  it('lists config subnets first, then the metagraph’s, then aliases and auto', () => {
    // `stale` has no candidate that can serve: not listed (it is a 404 to use).
    expect(models.map((m) => m.id)).toEqual(['sn64/deepseek-v3', 'sn64/qwen3-32b', 'sn4/llama-3.1-8b', 'fast', 'llama', 'mixed', 'deepseek', 'dsv3', 'auto']);
  });

  it('a subnet API model: owned by its subnet, with context length, price and privacy', () => {
    expect(byId('sn64/deepseek-v3')).toMatchObject({
      object: 'model',
      owned_by: 'sn64',
      context_length: 163840,
      pricing: { prompt_usd_per_1m: 0.3, completion_usd_per_1m: 1.2, default: false },
      taogate: { kind: 'subnet', targets: ['sn64/deepseek-v3'], private: true },
    });
  });

  it('MODEL_PRICES wins over the file for the same id; a miner model is priced from it too', () => {
    expect(byId('sn64/qwen3-32b')?.pricing).toMatchObject({ prompt_usd_per_1m: 0.9, completion_usd_per_1m: 0.9 });
    expect(byId('sn4/llama-3.1-8b')).toMatchObject({ owned_by: 'sn4', context_length: null, pricing: { prompt_usd_per_1m: 0.2, completion_usd_per_1m: 0.6 } });
  });

  it('aliases from the file (with their targets across kinds), from models and from MODEL_ALIASES', () => {
    expect(byId('fast')).toMatchObject({ owned_by: 'taogate', taogate: { kind: 'alias', targets: ['sn4/llama-3.1-8b', 'sn64/qwen3-32b'], private: false } });
    expect(byId('deepseek')?.taogate.targets).toEqual(['sn64/deepseek-v3']);
    expect(byId('dsv3')?.context_length).toBe(163840);
    expect(byId('llama')?.taogate.targets).toEqual(['sn4/llama-3.1-8b']);
    expect(byId('auto')?.taogate.targets).toEqual(['sn64/deepseek-v3', 'sn4/llama-3.1-8b']);
  });

  it('retrieves one model by id, and 404s an unknown one in the OpenAI envelope', async () => {
    const client = gw.client();
    expect((await client.models.retrieve('sn64/qwen3-32b')).owned_by).toBe('sn64');
    await expect(client.models.retrieve('sn64/nope')).rejects.toMatchObject({ status: 404 });
  });

  it('an id the catalog lists is one the gateway routes, for both kinds of subnet', async () => {
    const client = gw.client();
    for (const id of ['sn64/deepseek-v3', 'sn4/llama-3.1-8b', 'dsv3']) {
      const answer = await client.chat.completions.create({ model: id, messages: [{ role: 'user', content: 'x' }] });
      expect(answer.model).toBe(id);
    }
    const wrong = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn64/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] } });
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain('subnet 64 serves sn64/deepseek-v3, sn64/qwen3-32b');
  });
});

describe('an alias with candidates that cannot serve', () => {
  it('drops them and is served by the others, as /v1/models lists it', async () => {
    expect(byId('mixed')?.taogate.targets).toEqual(['sn4/llama-3.1-8b']);
    const { data, response } = await gw.client().chat.completions.create({ model: 'mixed', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(data.model).toBe('mixed');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn4/llama-3.1-8b');
  });

  it('is a 404 only when none is left, naming why each was dropped', async () => {
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'stale', messages: [{ role: 'user', content: 'x' }] } });
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('model_not_found');
    expect(error.message).toContain('sn99/gone: subnet 99 is not configured on this gateway');
    expect(error.message).toContain('sn64/retired: subnet 64 serves sn64/deepseek-v3, sn64/qwen3-32b');
  });
});

describe('/v1/subnets', () => {
  it('shows the subnet API with its provider and health, its origin only to an admin, never its key', async () => {
    const body = (await (await fetch(`${gw.url}/v1/subnets`)).json()) as { data: Array<Record<string, unknown>> };
    const sn64 = body.data.find((s) => s.netuid === 64);
    expect(sn64).toMatchObject({ provider: 'subnet-api:chutes', private: true, models: ['sn64/deepseek-v3', 'sn64/qwen3-32b'] });
    expect(sn64).not.toHaveProperty('origin');
    expect(JSON.stringify(body)).not.toContain(api.baseUrl.replace(/\/v1$/, ''));
    // An API key is no admin token.
    const asKey = (await (await gw.request('/v1/subnets')).json()) as { data: Array<Record<string, unknown>> };
    expect(asKey.data.find((s) => s.netuid === 64)).not.toHaveProperty('origin');
    const asAdmin = (await (await fetch(`${gw.url}/v1/subnets`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { data: Array<Record<string, unknown>> };
    expect(asAdmin.data.find((s) => s.netuid === 64)).toMatchObject({ origin: api.baseUrl.replace(/\/v1$/, '') });
    expect(body.data.find((s) => s.netuid === 4)).toMatchObject({ provider: 'openai-epistula', routable: 1 });
    expect(JSON.stringify(body)).not.toContain('catalog-secret-key');
    const miners = await gw.request('/v1/subnets/64/miners');
    expect(miners.status).toBe(404);
  });
});
