/**
 * Without NETUIDS the gateway serves every subnet of its metagraph source,
 * as the source changes: a subnet added to METAGRAPH_FILE while the gateway
 * runs is listed and routable, one removed is no longer, and the config
 * file's subnets (here a subnet API) are served throughout. A real gateway,
 * real Epistula-verifying miners, a fake subnet API, the stock client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, writeMetagraphFile, type SubnetEntry, type TestGateway } from './support/gateway-harness.js';

const API_KEY = 'upstream-key-chutes-served-subnets';

let first: RunningMiner;
let added: RunningMiner;
let api: RunningSubnetApi;
let gw: TestGateway;

const sn4 = (): SubnetEntry => ({ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner: first, uid: 0, incentive: 1 }] });
const sn9 = (): SubnetEntry => ({ netuid: 9, models: ['newcomer'], miners: [{ miner: added, uid: 3, incentive: 1 }] });

beforeAll(async () => {
  first = await startMiner({ hotkeyUri: '//ServedFirst', name: 'first' });
  added = await startMiner({ hotkeyUri: '//ServedAdded', name: 'added' });
  api = await startFakeSubnetApi({ flavor: 'chutes', apiKey: API_KEY, models: ['deepseek-ai/DeepSeek-V3-0324'], name: 'chutes-fake' });
  gw = await startTestGateway({
    subnets: [sn4()],
    subnetConfig: {
      env: { CHUTES_API_KEY: API_KEY },
      document: {
        subnets: [
          {
            netuid: 64,
            provider: 'subnet-api',
            api: { kind: 'chutes', baseUrl: api.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' },
            models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324' }],
          },
        ],
      },
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([first?.close(), added?.close(), api?.close()]);
});

async function listedModels(): Promise<string[]> {
  const ids: string[] = [];
  for await (const model of gw.client().models.list()) ids.push(model.id);
  return ids;
}

const ask = (model: string) => gw.client().chat.completions.create({ model, messages: [{ role: 'user', content: `hello ${model}` }] }).withResponse();

describe('subnets of the metagraph file, followed while the gateway runs (NETUIDS unset)', () => {
  it('serves a subnet added to the file, keeps the configured subnets, and drops a removed one', async () => {
    expect(await listedModels()).toEqual(expect.arrayContaining(['sn4/llama-3.1-8b', 'sn64/deepseek-v3']));
    expect(await listedModels()).not.toContain('sn9/newcomer');
    expect((await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn9/newcomer', messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(404);

    writeMetagraphFile([sn4(), sn9()], gw.metagraphFile);
    await expect.poll(listedModels, { timeout: 10_000, interval: 200 }).toContain('sn9/newcomer');
    const { data, response } = await ask('sn9/newcomer');
    expect(data.choices[0]?.message.content).toContain('devnet miner added');
    expect(response.headers.get('x-taogate-miner')).toBe(`9/3/${added.hotkey}`);
    // The file's other subnet and the config file's subnet API are served as before.
    expect(await listedModels()).toEqual(expect.arrayContaining(['sn4/llama-3.1-8b', 'sn64/deepseek-v3', 'sn9/newcomer']));
    expect((await ask('sn64/deepseek-v3')).data.choices[0]?.message.content).toContain('chutes-fake');
    expect((await ask('sn4/llama-3.1-8b')).data.choices[0]?.message.content).toContain('devnet miner first');
    const subnets = (await (await gw.request('/v1/subnets')).json()) as { data: Array<{ netuid: number }> };
    expect(subnets.data.map((s) => s.netuid).sort((a, b) => a - b)).toEqual([4, 9, 64]);

    writeMetagraphFile([sn4()], gw.metagraphFile);
    await expect.poll(listedModels, { timeout: 10_000, interval: 200 }).not.toContain('sn9/newcomer');
    expect(await listedModels()).toEqual(expect.arrayContaining(['sn4/llama-3.1-8b', 'sn64/deepseek-v3']));
    expect((await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn9/newcomer', messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(404);
  });
});
