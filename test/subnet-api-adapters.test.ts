/**
 * The Chutes, Targon and Nineteen adapters through the stock openai client,
 * against fake APIs on loopback that answer in each API's documented
 * request, response, stream and error shapes. Each fake accepts only its own
 * key; the client's gateway key must never reach any of them.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi, type SubnetApiFlavor } from '../src/devnet/fake-subnet-api.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { expectOnlyOwnKey, lastBody, receiptClaims } from './support/subnet-apis.js';

interface Case {
  readonly flavor: SubnetApiFlavor;
  readonly netuid: number;
  readonly name: string;
  readonly upstream: string;
  /** Whether the API reports usage (Nineteen drops stream_options and never does). */
  readonly reportsUsage: boolean;
}

const CASES: readonly Case[] = [
  { flavor: 'chutes', netuid: 64, name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324', reportsUsage: true },
  { flavor: 'targon', netuid: 4, name: 'deepseek-r1', upstream: 'deepseek-ai/DeepSeek-R1', reportsUsage: true },
  { flavor: 'nineteen', netuid: 19, name: 'llama-3.1-8b', upstream: 'chat-llama-3-1-8b', reportsUsage: false },
];

const apis = new Map<SubnetApiFlavor, RunningSubnetApi>();
const keyOf = (flavor: SubnetApiFlavor) => `upstream-key-${flavor}-0123456789`;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  for (const c of CASES) apis.set(c.flavor, await startFakeSubnetApi({ flavor: c.flavor, apiKey: keyOf(c.flavor), models: [c.upstream], name: `${c.flavor}-fake` }));
  const env = Object.fromEntries(CASES.map((c) => [`${c.flavor.toUpperCase()}_API_KEY`, keyOf(c.flavor)]));
  gw = await startTestGateway({
    subnetConfig: {
      env,
      document: {
        subnets: CASES.map((c) => ({
          netuid: c.netuid,
          provider: 'subnet-api',
          api: { kind: c.flavor, baseUrl: apis.get(c.flavor)?.baseUrl, apiKeyEnv: `${c.flavor.toUpperCase()}_API_KEY` },
          models: [{ name: c.name, upstream: c.upstream, price: { prompt: 1, completion: 2 } }],
        })),
      },
    },
  });
  client = gw.client();
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([...apis.values()].map((a) => a.close()));
});

beforeEach(async () => {
  for (const api of apis.values()) {
    await api.setFault('none');
    api.reset();
  }
});

describe.each(CASES)('$flavor (sn$netuid)', (c) => {
  const model = `sn${c.netuid}/${c.name}`;
  const api = () => apis.get(c.flavor) as RunningSubnetApi;

  it('answers a chat completion with its own key, metered from its usage (or counted when it reports none)', async () => {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello subnet api' }] }).withResponse();
    expect(data.choices[0]?.message.content).toContain(`devnet miner ${c.flavor}-fake`);
    expect(data.model).toBe(model);
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/\S/);
    expect(response.headers.get('x-taogate-miner')).toBe(`${c.netuid}/api/${c.flavor}`);
    expect(lastBody(api()).model).toBe(c.upstream);
    expectOnlyOwnKey(api(), keyOf(c.flavor), gw.apiKey);

    const receipt = receiptClaims(response.headers.get('x-taogate-receipt'));
    expect(receipt.served_model).toBe(model);
    expect(receipt.miner).toEqual({ netuid: c.netuid, uid: null, hotkey: null });
    expect(receipt.tokens.estimated).toBe(!c.reportsUsage);
    if (c.reportsUsage) expect(receipt.tokens).toMatchObject({ prompt: data.usage?.prompt_tokens, completion: data.usage?.completion_tokens });
    else expect(receipt.tokens.completion).toBeGreaterThan(0);
    // price 1 / 2 USD per 1M: 1 micro-USD per prompt token, 2 per completion token
    expect(receipt.cost_micro_usd).toBe(receipt.tokens.prompt + 2 * receipt.tokens.completion);
  });

  it('streams, asking the API for usage, and bills from the stream', async () => {
    const stream = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let receipt: string | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
      receipt = (chunk as unknown as { taogate_receipt?: string }).taogate_receipt ?? receipt;
    }
    expect(text).toContain(`devnet miner ${c.flavor}-fake`);
    const body = lastBody(api());
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expectOnlyOwnKey(api(), keyOf(c.flavor), gw.apiKey);
    const claims = receiptClaims(receipt);
    expect(claims.tokens.estimated).toBe(!c.reportsUsage);
    // The client asked for usage: it gets the API's, or the gateway's own count when the API sent none.
    expect(usage).toMatchObject({ prompt_tokens: claims.tokens.prompt, completion_tokens: claims.tokens.completion });
  });

  it('asks for usage even when the client did not, and hides the usage chunk from it', async () => {
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model, stream: true, messages: [{ role: 'user', content: 'no usage for me' }] } });
    const text = await res.text();
    expect(text).toContain('[DONE]');
    expect(text).not.toContain('"usage"');
    expect(lastBody(api()).stream_options).toEqual({ include_usage: true });
    const receipt = /"taogate_receipt":"([^"]+)"/.exec(text)?.[1];
    expect(receiptClaims(receipt).tokens.estimated).toBe(!c.reportsUsage);
  });
});

describe('documented quirks', () => {
  it('Targon: says stream:false explicitly (it streams by default), joins text parts, reads only max_tokens, and its event-stream-labelled JSON is accepted', async () => {
    const answer = await client.chat.completions.create({
      model: 'sn4/deepseek-r1',
      max_completion_tokens: 64,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'two ' }, { type: 'text', text: 'parts' }] }],
    });
    expect(answer.choices[0]?.message.content).toContain('You said "two parts"');
    const body = lastBody(apis.get('targon') as RunningSubnetApi);
    expect(body.stream).toBe(false);
    expect(body.max_tokens).toBe(64);
    expect(body).not.toHaveProperty('max_completion_tokens');
    expect((body.messages as Array<{ content: unknown }>)[0]?.content).toBe('two parts');
  });

  it('Nineteen: legacy completions get the temperature and seed it requires, and a full answer back', async () => {
    const { data, response } = await client.completions.create({ model: 'sn19/llama-3.1-8b', prompt: 'def add(a, b):' }).withResponse();
    expect(data.choices[0]?.text).toContain('filling in after "def add(a, b):"');
    expect(data.object).toBe('text_completion');
    expect(data.id).toMatch(/^cmpl-sn19-/);
    expect(typeof data.created).toBe('number');
    const body = lastBody(apis.get('nineteen') as RunningSubnetApi);
    expect(body.temperature).toBe(1);
    expect(Number.isInteger(body.seed)).toBe(true);
    expect(body.stream).toBe(false);
    expect(receiptClaims(response.headers.get('x-taogate-receipt')).tokens.estimated).toBe(true);
  });

  it('Chutes: a failure written as a bare JSON line mid-stream ends the stream with an error event, not a clean end', async () => {
    await apis.get('chutes')?.setFault('stream_error');
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn64/deepseek-v3', stream: true, messages: [{ role: 'user', content: 'x' }] } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/"code":"stream_interrupted"/);
    expect(text).toContain('Unhandled exception during response stream');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('/v1/models lists each API subnet owned by sn<netuid>, with its configured price', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m as OpenAI.Model & { pricing: { prompt_usd_per_1m: number; completion_usd_per_1m: number } });
    for (const c of CASES) {
      const entry = models.find((m) => m.id === `sn${c.netuid}/${c.name}`);
      expect(entry?.owned_by).toBe(`sn${c.netuid}`);
      expect(entry?.pricing).toMatchObject({ prompt_usd_per_1m: 1, completion_usd_per_1m: 2 });
    }
  });
});
