/**
 * Comparing subnets served by their own API: `sn64` and `sn64/<model>` are
 * targets like any other, and naming a miner of such a subnet (or taking its
 * top_n) is a 400 that says why, not "not served" or "not one subnet's model";
 * top_n without a subnet takes the gateway's one subnet with miners.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { compare, compareOk } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let chutes: RunningSubnetApi;
let miner: RunningMiner;
let gw: TestGateway;

beforeAll(async () => {
  chutes = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'chutes-key', models: ['deepseek-ai/DeepSeek-V3'], name: 'chutes' });
  miner = await startMiner({ hotkeyUri: '//CompareApiMiner', name: 'miner' });
  gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner, uid: 1, incentive: 1 }] }],
    subnetConfig: {
      document: { subnets: [{ netuid: 64, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: chutes.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' }, models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3' }] }] },
      env: { CHUTES_API_KEY: 'chutes-key' },
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([chutes?.close(), miner?.close()]);
});

describe('a subnet served by its own API in a comparison', () => {
  it('is a target as sn64 and as sn64/<model>, beside a miner', async () => {
    const c = await compareOk(gw, { prompt: 'hi', targets: ['sn64', 'sn64/deepseek-v3', 'sn4/uid:1'] });
    expect(c.entries.map((e) => [e.target, e.served_model, e.miner?.upstream, e.error])).toEqual([
      ['sn64', 'sn64/deepseek-v3', '64/api/chutes', null],
      ['sn64/deepseek-v3', 'sn64/deepseek-v3', '64/api/chutes', null],
      ['sn4/uid:1', 'sn4/llama-3.1-8b', `4/1/${miner.hotkey}`, null],
    ]);
    expect(c.entries[0]?.answer).toContain('devnet miner chutes');
  });

  it.each([
    [{ top_n: 1 }, ['sn4/uid:1']],
    // Fewer when the subnet has fewer.
    [{ top_n: 3 }, ['sn4/uid:1']],
    [{ top_n: 1, subnet: 'sn4' }, ['sn4/uid:1']],
  ])('%j: top_n takes the one subnet with miners when no subnet is named (sn64 has none)', async (body, targets) => {
    chutes.reset();
    const c = await compareOk(gw, { prompt: 'x', ...body });
    expect(c.entries.map((e) => e.target)).toEqual(targets);
    expect(c.entries.map((e) => [e.miner?.upstream, e.error])).toEqual(targets.map(() => [`4/1/${miner.hotkey}`, null]));
    expect(chutes.requests).toHaveLength(0);
  });

  it.each([
    [{ targets: ['sn64/uid:1'] }, 'targets[0]'],
    [{ targets: ['sn4', 'sn64/deepseek-v3/uid:1'] }, 'targets[1]'],
    [{ top_n: 2, subnet: 'sn64' }, 'subnet'],
    [{ top_n: 1, subnet: 'sn64/deepseek-v3' }, 'subnet'],
  ])('%j: a 400 saying it has no miners to pick, and which targets it has', async (body, param) => {
    chutes.reset();
    const { status, json } = await compare(gw, { prompt: 'x', ...body });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'unknown_target', param });
    expect(json.error.message).toMatch(/sn64 is served by its own API: it has no miners to pick \(use sn64 or sn64\/deepseek-v3\)/);
    expect(chutes.requests).toHaveLength(0);
  });
});
