/**
 * Aliases and `auto` across subnets: the candidates are ordered by policy,
 * and when every attempt in one subnet fails before the first byte the next
 * subnet serves, for subnet APIs and miner subnets alike, streamed and not.
 * The bill and the receipt are the serving subnet's.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { compareOk } from './support/compare-client.js';
import { receiptClaims } from './support/subnet-apis.js';

let chutes: RunningSubnetApi;
let nineteen: RunningSubnetApi;
let minerA: RunningMiner;
let minerB: RunningMiner;
let gw: TestGateway;
let client: OpenAI;

function subnetDocument() {
  return {
    subnets: [
      {
        netuid: 64,
        provider: 'subnet-api',
        api: { kind: 'chutes', baseUrl: chutes.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' },
        models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324', price: { prompt: 2, completion: 4 } }],
      },
      {
        netuid: 19,
        provider: 'subnet-api',
        api: { kind: 'nineteen', baseUrl: nineteen.baseUrl, apiKeyEnv: 'NINETEEN_API_KEY' },
        models: [
          { name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3', price: { prompt: 1, completion: 1 } },
          { name: 'llama-3.1-8b', upstream: 'chat-llama-3-1-8b', price: { prompt: 1, completion: 1 } },
        ],
      },
      { netuid: 4, provider: 'openai-epistula', models: [{ name: 'llama-3.1-8b', price: { prompt: 3, completion: 3 } }] },
    ],
    aliases: {
      deepseek: ['sn64/deepseek-v3', 'sn19/deepseek-v3'],
      cheap: { targets: ['sn64/deepseek-v3', 'sn19/deepseek-v3'], policy: 'price' },
      llama: ['sn4/llama-3.1-8b', 'sn19/llama-3.1-8b'],
    },
  };
}

beforeAll(async () => {
  chutes = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'chutes-key', models: ['deepseek-ai/DeepSeek-V3-0324'], name: 'chutes' });
  nineteen = await startFakeSubnetApi({ flavor: 'nineteen', apiKey: 'nineteen-key', models: ['deepseek-ai/DeepSeek-V3', 'chat-llama-3-1-8b'], name: 'nineteen' });
  minerA = await startMiner({ hotkeyUri: '//FailoverA', name: 'A' });
  minerB = await startMiner({ hotkeyUri: '//FailoverB', name: 'B' });
  gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner: minerA, uid: 1, incentive: 0.5 }, { miner: minerB, uid: 2, incentive: 0.5 }] }],
    env: { HEDGE_MODE: 'off', BREAKER_FAILURES: '100' },
    subnetConfig: { document: subnetDocument(), env: API_KEYS },
  });
  client = gw.client();
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([chutes, nineteen, minerA, minerB].map((s) => s?.close()));
});

beforeEach(async () => {
  for (const api of [chutes, nineteen]) {
    await api.setFault('none');
    api.reset();
  }
  for (const miner of [minerA, minerB]) {
    await miner.setFault('none');
    miner.reset();
  }
});

const API_KEYS = { CHUTES_API_KEY: 'chutes-key', NINETEEN_API_KEY: 'nineteen-key' };

/** A second gateway over the two subnet APIs alone, with its own settings. */
const apiOnlyGateway = (env: Record<string, string>) =>
  startTestGateway({ env, subnetConfig: { document: { subnets: subnetDocument().subnets.slice(0, 2), aliases: { deepseek: ['sn64/deepseek-v3', 'sn19/deepseek-v3'] } }, env: API_KEYS } });

const post = (target: TestGateway, model: string) => target.request('/v1/chat/completions', { method: 'POST', json: { model, messages: [{ role: 'user', content: 'x' }] } });

const ask = (model: string, headers: Record<string, string> = {}) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'which subnet?' }] }, { headers }).withResponse();

async function streamed(model: string): Promise<{ text: string; headers: Headers; receipt: string | undefined }> {
  const { data: stream, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'stream' }] }).withResponse();
  let text = '';
  let receipt: string | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    receipt = (chunk as unknown as { taogate_receipt?: string }).taogate_receipt ?? receipt;
  }
  return { text, headers: response.headers, receipt };
}

describe('an alias across subnet APIs', () => {
  it('is served by its first subnet while that one is up', async () => {
    const { data, response } = await ask('deepseek');
    expect(data.choices[0]?.message.content).toContain('devnet miner chutes');
    expect(data.model).toBe('deepseek');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn64/deepseek-v3');
    expect(response.headers.get('x-taogate-failover')).toBeNull();
    expect(nineteen.requests).toHaveLength(0);
  });

  it.each(['down', 'refuse', 'rate_limit', 'payment'] as const)('fails over to the next subnet when the first is %s', async (fault) => {
    await chutes.setFault(fault);
    const { data, response } = await ask('deepseek');
    expect(data.choices[0]?.message.content).toContain('devnet miner nineteen');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
    expect(response.headers.get('x-taogate-failover')).toBe('sn64/deepseek-v3');
    expect(response.headers.get('x-taogate-miner')).toBe('19/api/nineteen');
    // Billed as what served it: the second subnet's model at its price (1 + 1 USD per 1M).
    const receipt = receiptClaims(response.headers.get('x-taogate-receipt'));
    expect(receipt.served_model).toBe('sn19/deepseek-v3');
    expect(receipt.cost_micro_usd).toBe(receipt.tokens.prompt + receipt.tokens.completion);
  });

  it('fails over for a stream too, before its first byte', async () => {
    await chutes.setFault('down');
    const { text, headers, receipt } = await streamed('deepseek');
    expect(text).toContain('devnet miner nineteen');
    expect(headers.get('x-taogate-failover')).toBe('sn64/deepseek-v3');
    expect(receiptClaims(receipt).served_model).toBe('sn19/deepseek-v3');
  });

  it('fails over for `auto` too: its first subnet down, the next one serves, and the answer names the one that failed', async () => {
    // A gateway of its own: one more failure of sn64 here would open its breaker for the cases below.
    const own = await apiOnlyGateway({ HEDGE_MODE: 'off' });
    try {
      await chutes.setFault('down');
      const { data, response } = await own.client().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'which subnet?' }] }).withResponse();
      expect(data.model).toBe('auto');
      expect(data.choices[0]?.message.content).toContain('devnet miner nineteen');
      expect(response.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
      expect(response.headers.get('x-taogate-failover')).toBe('sn64/deepseek-v3');
      expect(chutes.requests).toHaveLength(1);
      expect(receiptClaims(response.headers.get('x-taogate-receipt')).served_model).toBe('sn19/deepseek-v3');
    } finally {
      await own.close();
    }
  });

  it('answers 502 naming every subnet when all are down', async () => {
    await chutes.setFault('down');
    await nineteen.setFault('refuse');
    const res = await post(gw, 'deepseek');
    expect(res.status).toBe(502);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('all_subnets_failed');
    expect(error.message).toMatch(/tried 2 subnets: sn64\/deepseek-v3: .*HTTP 503.*; sn19\/deepseek-v3: .*ECONNREFUSED/);
  });

  it('answers the upstreams’ own 429 when every subnet is rate-limiting', async () => {
    await chutes.setFault('rate_limit');
    await nineteen.setFault('rate_limit');
    const res = await post(gw, 'deepseek');
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_rate_limited');
  });

  it('an explicit subnet model never fails over', async () => {
    await chutes.setFault('down');
    const res = await post(gw, 'sn64/deepseek-v3');
    expect(res.status).toBe(502);
    expect(nineteen.requests).toHaveLength(0);
  });
});

describe('an alias across a miner subnet and a subnet API', () => {
  it('fails over from miners that all fail to the subnet API', async () => {
    await minerA.setFault('http500');
    await minerB.setFault('http500');
    const { data, response } = await ask('llama');
    expect(data.choices[0]?.message.content).toContain('devnet miner nineteen');
    expect(response.headers.get('x-taogate-failover')).toBe('sn4/llama-3.1-8b');
    // Both miners were tried first (2 of the request's 3 attempts: the next subnet keeps one), then the next subnet.
    expect(minerA.requestCount + minerB.requestCount).toBe(2);
  });

  it('is served by the miners while they are up', async () => {
    const { data, response } = await ask('llama');
    expect(data.choices[0]?.message.content).toMatch(/devnet miner (A|B)/);
    expect(response.headers.get('x-taogate-served-model')).toBe('sn4/llama-3.1-8b');
    expect(response.headers.get('x-taogate-miner')).toMatch(/^4\/[12]\//);
  });
});

describe('candidate policies', () => {
  it('price puts the cheaper subnet first, from the alias or the request header', async () => {
    const fromAlias = await ask('cheap');
    expect(fromAlias.response.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
    expect(fromAlias.response.headers.get('x-taogate-route-policy')).toBe('price');
    const fromHeader = await ask('deepseek', { 'x-taogate-route-policy': 'price' });
    expect(fromHeader.response.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
    const ordered = await ask('deepseek');
    expect(ordered.response.headers.get('x-taogate-served-model')).toBe('sn64/deepseek-v3');
  });

  it('quality follows the leaderboard that comparisons of the subnet APIs fill, and the configured order before any', async () => {
    const without = await ask('deepseek', { 'x-taogate-route-policy': 'quality' });
    expect(without.response.headers.get('x-taogate-served-model')).toBe('sn64/deepseek-v3');
    expect(without.response.headers.get('x-taogate-route-policy')).toBe('order');
    // A scored comparison of both APIs (the harness's key is a trusted scorer): Nineteen passes, Chutes does not.
    const c = await compareOk(gw, { prompt: 'which subnet?', targets: ['sn64/deepseek-v3', 'sn19/deepseek-v3'], checks: [{ type: 'contains', value: 'devnet miner nineteen' }] });
    expect(c.leaderboard).toBe('recorded');
    expect(c.entries.map((e) => [e.miner?.upstream, e.scores.overall])).toEqual([
      ['64/api/chutes', 0],
      ['19/api/nineteen', 10],
    ]);
    const board = (await (await fetch(`${gw.url}/v1/leaderboard?trusted=true`)).json()) as { data: Array<{ netuid: number; hotkey: string; uid: number | null }> };
    expect(board.data.map((r) => [r.netuid, r.hotkey, r.uid]).sort()).toEqual([
      [19, '19/api/nineteen', null],
      [64, '64/api/chutes', null],
    ]);
    const withScores = await ask('deepseek', { 'x-taogate-route-policy': 'quality' });
    expect(withScores.response.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
    expect(withScores.response.headers.get('x-taogate-route-policy')).toBe('quality');
  });

  it('an unknown policy in the header is a 400 naming it', async () => {
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-route-policy': 'cheapest' }, json: { model: 'deepseek', messages: [{ role: 'user', content: 'x' }] } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('x-taogate-route-policy');
  });
});

describe('MAX_SUBNETS', () => {
  it('=1 keeps a request on its first subnet', async () => {
    const single = await apiOnlyGateway({ MAX_SUBNETS: '1' });
    try {
      await chutes.setFault('down');
      const res = await post(single, 'deepseek');
      expect(res.status).toBe(502);
      expect(nineteen.requests).toHaveLength(0);
    } finally {
      await single.close();
    }
  });
});

describe('a subnet whose breaker is open', () => {
  it('goes after the subnets that can take the request, so they serve without waiting on it', async () => {
    const strict = await apiOnlyGateway({ BREAKER_FAILURES: '1', BREAKER_COOLDOWN_MS: '60000', HEDGE_MODE: 'off' });
    try {
      await chutes.setFault('down');
      const first = await post(strict, 'deepseek');
      expect(first.headers.get('x-taogate-failover')).toBe('sn64/deepseek-v3');
      expect(chutes.requests).toHaveLength(1);
      // sn64's breaker is open now: the next request goes straight to sn19.
      const second = await post(strict, 'deepseek');
      expect(second.status).toBe(200);
      expect(second.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
      expect(second.headers.get('x-taogate-failover')).toBeNull();
      expect(chutes.requests).toHaveLength(1);
      // Asked for by name, it is still tried (every upstream of that subnet is open, so the breaker is bypassed).
      await chutes.setFault('none');
      const named = await post(strict, 'sn64/deepseek-v3');
      expect(named.status).toBe(200);
      expect(chutes.requests).toHaveLength(2);
    } finally {
      await strict.close();
    }
  });
});
