/**
 * A subnet's models are what its provider offers (Provider.models): the
 * catalog asks the provider, so /v1/models and model resolution list exactly
 * that. A subnet API offers its configured names; a miner subnet the config
 * lists models for offers those over the snapshot's; any other miner subnet
 * the snapshot's, and none when the snapshot has no list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

type ListedModel = { id: string; owned_by: string };

let miner: RunningMiner;
const gateways: TestGateway[] = [];

/** A gateway whose sn64 is a subnet API configured with `apiModels`, beside miner subnets 4, 5 and 6. */
async function gatewayWith(apiModels: readonly string[]): Promise<TestGateway> {
  const gw = await startTestGateway({
    subnets: [
      { netuid: 4, models: ['snapshot-only', 'llama-3.1-8b'], miners: [{ miner, uid: 1, incentive: 1 }] },
      { netuid: 5, models: ['m5-a', 'm5-b'], miners: [{ miner, uid: 2, incentive: 1 }] },
      { netuid: 6, models: [], miners: [{ miner, uid: 3, incentive: 1 }] },
    ],
    subnetConfig: {
      env: { KEY: 'provider-models-key' },
      document: {
        subnets: [
          // Never contacted: listing and resolving need no call.
          { netuid: 64, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'KEY' }, models: apiModels.map((name) => ({ name })) },
          { netuid: 4, provider: 'openai-epistula', models: [{ name: 'llama-3.1-8b' }] },
        ],
      },
    },
  });
  gateways.push(gw);
  return gw;
}

async function listed(gw: TestGateway): Promise<ListedModel[]> {
  const res = await gw.request('/v1/models');
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: ListedModel[] }).data;
}

const idsOwnedBy = (models: readonly ListedModel[], netuid: number) => models.filter((m) => m.owned_by === `sn${netuid}`).map((m) => m.id);

/** What the subnet's provider offers, as model ids. */
function offered(gw: TestGateway, netuid: number): string[] {
  const subnet = gw.gateway.metagraph.current()?.subnets.get(netuid);
  return gw.gateway.providerFor(netuid).models(subnet).map((name) => `sn${netuid}/${name}`);
}

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//ProviderModelsMiner', name: 'PM' });
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await miner?.close();
});

describe("a provider's models are its subnet's listing", () => {
  let gw: TestGateway;
  let models: ListedModel[];

  beforeAll(async () => {
    gw = await gatewayWith(['deepseek-v3', 'qwen3-32b']);
    models = await listed(gw);
  });

  it('/v1/models lists, for every served subnet, exactly what its provider offers', () => {
    expect(gw.gateway.catalog.netuids).toEqual([64, 4, 5, 6]);
    for (const netuid of gw.gateway.catalog.netuids) expect(idsOwnedBy(models, netuid)).toEqual(offered(gw, netuid));
  });

  it('each kind of provider offers its own list: configured, configured over the snapshot, the snapshot, none', () => {
    expect(offered(gw, 64)).toEqual(['sn64/deepseek-v3', 'sn64/qwen3-32b']);
    expect(gw.gateway.providerFor(64).source).toBe('config');
    expect(offered(gw, 4)).toEqual(['sn4/llama-3.1-8b']);
    expect(gw.gateway.providerFor(4).source).toBe('metagraph');
    expect(offered(gw, 5)).toEqual(['sn5/m5-a', 'sn5/m5-b']);
    expect(offered(gw, 6)).toEqual([]);
  });

  it("resolution names what the provider offers, and a subnet without a list lets any name through to routing", async () => {
    const wrong = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/snapshot-only', messages: [{ role: 'user', content: 'x' }] } });
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain('subnet 4 serves sn4/llama-3.1-8b');
    expect(gw.gateway.catalog.resolve('sn6/anything', gw.gateway.metagraph.current()).targets.map((t) => t.id)).toEqual(['sn6/anything']);
  });
});

describe("a subnet API's configured models", () => {
  it('change its provider’s offer, and the listing with it', async () => {
    const gw = await gatewayWith(['kimi-k2', 'deepseek-r1', 'glm-4.5']);
    expect(offered(gw, 64)).toEqual(['sn64/kimi-k2', 'sn64/deepseek-r1', 'sn64/glm-4.5']);
    expect(idsOwnedBy(await listed(gw), 64)).toEqual(offered(gw, 64));
  });
});
