/**
 * Before the first metagraph snapshot (the chain unreachable, nothing
 * saved), subnets served by their own API still answer, on every route that
 * resolves a model (chat, Messages and its count_tokens alike); miner
 * subnets are a 503 naming the source.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let chutes: RunningSubnetApi;
let gw: TestGateway;
let claude: Anthropic;

beforeAll(async () => {
  chutes = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'chutes-key', models: ['deepseek-ai/DeepSeek-V3-0324'], name: 'chutes' });
  gw = await startTestGateway({
    // Nothing listens on port 1: the chain source never gets a snapshot.
    env: { SUBTENSOR_URL: 'ws://127.0.0.1:1', NETUIDS: '4', SUBNET_MODELS: JSON.stringify({ 4: ['m'] }) },
    subnetConfig: {
      document: {
        subnets: [
          { netuid: 64, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: chutes.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' }, models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324' }] },
          { netuid: 4, provider: 'openai-epistula', models: [{ name: 'm' }] },
        ],
      },
      env: { CHUTES_API_KEY: 'chutes-key' },
    },
  });
  claude = new Anthropic({ baseURL: gw.url, apiKey: gw.apiKey, maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await chutes?.close();
});

const ask = { max_tokens: 16, messages: [{ role: 'user' as const, content: 'before the chain' }] };

describe('before the first snapshot', () => {
  it('a subnet API model is answered, and its count_tokens too', async () => {
    expect(gw.gateway.metagraph.current()).toBeNull();
    const message = await claude.messages.create({ model: 'sn64/deepseek-v3', ...ask });
    expect(message.content[0]?.type).toBe('text');
    const counted = await claude.messages.countTokens({ model: 'sn64/deepseek-v3', messages: ask.messages });
    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  it('a miner subnet model is a 503 naming the source, for the message and its count alike', async () => {
    for (const call of [() => claude.messages.create({ model: 'sn4/m', ...ask }), () => claude.messages.countTokens({ model: 'sn4/m', messages: ask.messages })]) {
      const err = (await call().catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(err.status).toBe(503);
      expect(err.message).toContain('ws://127.0.0.1:1');
    }
  });

  it('an unknown model is still a 404', async () => {
    expect(await claude.messages.countTokens({ model: 'sn64/nope', messages: ask.messages }).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.NotFoundError);
  });
});
