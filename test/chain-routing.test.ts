/**
 * Chain-ranked routing end to end: the gateway reads the local subtensor node
 * over WebSocket (SUBTENSOR_URL), and traffic follows what the chain says.
 */
import { randomUUID } from 'node:crypto';
import { silentEndpoint } from './support/silent-endpoint.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChainNode, type ChainNode, type DevnetNeuron } from '../src/devnet/chain-node.js';
import { sn1NeuronsLiteHex } from '../src/devnet/chain-fixtures.js';
import { createEpistulaSigner } from '../src/epistula/signer.js';
import { createMemoryStore } from '../src/store/memory.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { minerNeurons } from './support/miner-neurons.js';

const NETUID = 7;
let node: ChainNode;
let miners: RunningMiner[];
let validatorHotkey: string;

function neurons(incentives: readonly number[]): DevnetNeuron[] {
  return [
    { uid: 0, hotkey: validatorHotkey, coldkey: null, stakeTao: 5000, incentive: 0, active: true, validatorPermit: true, axon: null, lastUpdate: 1 },
    ...minerNeurons(miners, incentives, 1),
  ];
}

const chainEnv = (extra: Record<string, string> = {}) => ({
  SUBTENSOR_URL: node.url,
  NETUIDS: String(NETUID),
  SUBNET_MODELS: JSON.stringify({ [NETUID]: ['m'], 1: ['m'] }),
  METAGRAPH_REFRESH_S: '1',
  ...extra,
});

async function send(gw: TestGateway, count: number): Promise<number[]> {
  for (const m of miners) m.reset();
  for (let i = 0; i < count; i++) {
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: `sn${NETUID}/m`, messages: [{ role: 'user', content: 'hi' }] } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  return miners.map((m) => m.requestCount);
}

async function rankedUids(gw: TestGateway, netuid = NETUID): Promise<number[]> {
  const res = await gw.request(`/v1/subnets/${netuid}/miners`);
  if (res.status !== 200) return [];
  const body = (await res.json()) as { data: Array<{ uid: number }> };
  return body.data.map((m) => m.uid);
}

beforeAll(async () => {
  validatorHotkey = (await createEpistulaSigner('//ChainValidator')).ss58;
  miners = await Promise.all([1, 2, 3].map((i) => startMiner({ hotkeyUri: `//ChainMiner${i}`, name: `c${i}` })));
  node = await startChainNode({ blockTimeMs: 200 });
  node.setNeurons(NETUID, neurons([0.7, 0.2, 0.1]));
  // The validator disagrees with consensus: it ranks the last miner first.
  node.setWeights(NETUID, 0, [[1, 1000], [2, 5000], [3, 60000]]);
});

afterAll(async () => {
  await node?.stop();
  await Promise.all((miners ?? []).map((m) => m.close()));
});

describe('routing by the chain', () => {
  it('follows incentive, and re-ranks when the chain changes', async () => {
    const gw = await startTestGateway({ env: chainEnv() });
    try {
      expect(await rankedUids(gw)).toEqual([1, 2, 3]);
      const before = await send(gw, 200);
      expect(before[0]).toBeGreaterThan(before[1] ?? 0);
      expect(before[1]).toBeGreaterThan(before[2] ?? 0);

      node.setNeurons(NETUID, neurons([0.1, 0.2, 0.7]));
      await expect.poll(() => rankedUids(gw), { timeout: 10_000, interval: 200 }).toEqual([3, 2, 1]);
      const after = await send(gw, 200);
      expect(after[2]).toBeGreaterThan(after[1] ?? 0);
      expect(after[1]).toBeGreaterThan(after[0] ?? 0);

      const detail = (await (await gw.request(`/v1/subnets/${NETUID}/miners`)).json()) as { source: string; block: number; rank_policy: string };
      expect(detail.source).toBe('chain');
      expect(detail.rank_policy).toBe('incentive');
      expect(detail.block).toBeGreaterThan(0);
    } finally {
      node.setNeurons(NETUID, neurons([0.7, 0.2, 0.1]));
      await gw.close();
    }
  });

  it('RANK_BY=validator:<ss58> routes by that validator’s weights, not consensus', async () => {
    const gw = await startTestGateway({ env: chainEnv({ RANK_BY: `validator:${validatorHotkey}` }) });
    try {
      await expect.poll(() => rankedUids(gw), { timeout: 10_000 }).toEqual([3, 2, 1]);
      const counts = await send(gw, 150);
      expect(counts[2]).toBeGreaterThan(counts[0] ?? 0);
      const detail = (await (await gw.request(`/v1/subnets/${NETUID}/miners`)).json()) as { rank_policy: string };
      expect(detail.rank_policy).toBe(`validator:${validatorHotkey}`);
    } finally {
      await gw.close();
    }
  });

  it('keeps answering from the last snapshot while the node is down, then picks up changes', async () => {
    const gw = await startTestGateway({ env: chainEnv() });
    try {
      await expect.poll(() => rankedUids(gw), { timeout: 10_000 }).toEqual([1, 2, 3]);
      await node.stop();
      await expect
        .poll(async () => ((await (await gw.request('/v1/subnets')).json()) as { status: { state: string } }).status.state, { timeout: 10_000 })
        .toBe('degraded');
      const whileDown = await send(gw, 30);
      expect(whileDown.reduce((a, b) => a + b, 0)).toBe(30);

      node.setNeurons(NETUID, neurons([0.05, 0.05, 0.9]));
      await node.restart();
      await expect.poll(() => rankedUids(gw), { timeout: 20_000, interval: 250 }).toEqual([3, 1, 2]);
    } finally {
      if (!node.isRunning()) await node.restart();
      node.setNeurons(NETUID, neurons([0.7, 0.2, 0.1]));
      await gw.close();
    }
  });

  it('serves the snapshot saved in Redis at once when restarted without a chain', async () => {
    const env = chainEnv({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `test:${randomUUID()}:` });
    const first = await startTestGateway({ env });
    await expect.poll(() => rankedUids(first), { timeout: 10_000 }).toEqual([1, 2, 3]);
    await first.close();
    await node.stop();
    const second = await startTestGateway({ env });
    try {
      const list = (await (await second.request('/v1/subnets')).json()) as { source: string; age_s: number };
      expect(list.source).toBe('store');
      expect(list.age_s).toBeGreaterThanOrEqual(0);
      const counts = await send(second, 10);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
    } finally {
      await second.close();
      await node.restart();
    }
  });

  it('serves the saved snapshot at once when the endpoint accepts connections but never answers', async () => {
    const store = createMemoryStore();
    const first = await startTestGateway({ env: chainEnv(), overrides: { store } });
    await expect.poll(() => rankedUids(first), { timeout: 10_000 }).toEqual([1, 2, 3]);
    await expect.poll(() => store.get('metagraph:snapshot'), { timeout: 10_000 }).not.toBeNull();
    await first.close();

    const silent = await silentEndpoint();
    const started = Date.now();
    // Waiting for that endpoint (start-up's 10 s limit; the WebSocket handshake's is 20 s) would take 10 s.
    const second = await startTestGateway({ env: chainEnv({ SUBTENSOR_URL: silent.url }), overrides: { store } });
    try {
      expect(Date.now() - started).toBeLessThan(5000);
      expect(silent.connections()).toBeLessThanOrEqual(1);
      const list = (await (await second.request('/v1/subnets')).json()) as { source: string; status: { state: string } };
      expect(list.source).toBe('store');
      expect(list.status.state).toBe('starting');
      expect((await second.request('/readyz')).status).toBe(200);
      const counts = await send(second, 10);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
    } finally {
      await second.close();
      await silent.close();
    }
  });

  it('with the node down at start and nothing saved: 503 until the node comes up, then ready and serving', async () => {
    const late = await startChainNode({ blockTimeMs: 200 });
    late.setNeurons(NETUID, neurons([0.7, 0.2, 0.1]));
    await late.stop();
    const gw = await startTestGateway({ env: chainEnv({ SUBTENSOR_URL: late.url }) });
    try {
      const ready = await gw.request('/readyz');
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toContain(late.url);
      const before = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: `sn${NETUID}/m`, messages: [{ role: 'user', content: 'x' }] } });
      expect(before.status).toBe(503);
      expect(((await before.json()) as { error: { code: string } }).error.code).toBe('metagraph_unavailable');

      await late.restart();
      await expect.poll(async () => (await gw.request('/readyz')).status, { timeout: 20_000, interval: 250 }).toBe(200);
      expect((await send(gw, 3)).reduce((a, b) => a + b, 0)).toBe(3);
    } finally {
      await gw.close();
      await late.stop();
    }
  });

  it('with no chain and no saved snapshot, /readyz and requests are 503 naming the endpoint', async () => {
    const gw = await startTestGateway({ env: chainEnv({ SUBTENSOR_URL: 'ws://127.0.0.1:1' }) });
    try {
      const ready = await gw.request('/readyz');
      expect(ready.status).toBe(503);
      const notReady = (await ready.json()) as { status: string; reason: string; error: { message: string; type: string; code: string } };
      expect(notReady.status).toBe('not_ready');
      expect(notReady.reason).toContain('ws://127.0.0.1:1');
      expect(notReady.error).toMatchObject({ type: 'server_error', code: 'not_ready', param: null, message: `not ready: ${notReady.reason}` });
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: `sn${NETUID}/m`, messages: [{ role: 'user', content: 'x' }] } });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('metagraph_unavailable');
      expect(body.error.message).toContain('ws://127.0.0.1:1');
    } finally {
      await gw.close();
    }
  });
});

describe('a miner subnet named only in taogate.config.json', () => {
  it('is synced from the chain too, with the models (and upstream names) the file gives it', async () => {
    node.setNeurons(8, neurons([0.5, 0.3, 0.2]));
    const gw = await startTestGateway({
      env: chainEnv(),
      subnetConfig: { document: { subnets: [{ netuid: 8, provider: 'openai-epistula', models: [{ name: 'chat', upstream: 'chat-model', price: [1, 1] }] }] } },
    });
    try {
      expect(await rankedUids(gw, 8)).toEqual([1, 2, 3]);
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn8/chat', messages: [{ role: 'user', content: 'hi' }] } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-taogate-miner')).toMatch(/^8\/[123]\//);
      expect(miners.find((m) => m.lastRequest?.parsed?.model === 'chat-model')).toBeDefined();
      // NETUIDS still serves its own subnet next to it.
      expect((await gw.request('/v1/chat/completions', { method: 'POST', json: { model: `sn${NETUID}/m`, messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('the real SN1 snapshot', () => {
  beforeAll(() => node.setRawNeurons(1, sn1NeuronsLiteHex()));

  it('RANK_BY=incentive has no routable miner, and the 503 says exactly why', async () => {
    const gw = await startTestGateway({ env: chainEnv({ NETUIDS: '1' }) });
    try {
      const miners = (await (await gw.request('/v1/subnets/1/miners')).json()) as { neurons: number; routable: number; no_route_reason: string };
      expect(miners.neurons).toBe(1024);
      expect(miners.routable).toBe(0);
      expect(miners.no_route_reason).toMatch(/1 neuron has a score above zero.*publish no axon \(uid 395\)/);
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn1/m', messages: [{ role: 'user', content: 'x' }] } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/RANK_BY=incentive.*uid 395/);
    } finally {
      await gw.close();
    }
  });

  it('a fallback chain ranks by the next policy when incentive yields nothing', async () => {
    // The owner uid 395 is also a validator; trust its weights as the fallback.
    const uid395 = '5HCFWvRqzSHWRPecN7q8J6c7aKQnrCZTMHstPv39xL1wgDHh';
    node.setWeights(1, 395, [[245, 40000], [502, 20000]]);
    const gw = await startTestGateway({ env: chainEnv({ NETUIDS: '1', RANK_BY: `incentive,validator:${uid395}` }) });
    try {
      // Looked at, never called: these are real public addresses.
      const miners = (await (await gw.request('/v1/subnets/1/miners')).json()) as { rank_policy: string; data: Array<{ uid: number }> };
      expect(miners.rank_policy).toBe(`validator:${uid395}`);
      expect(miners.data.map((m) => m.uid)).toEqual([245, 502]);
    } finally {
      await gw.close();
    }
  });
});
