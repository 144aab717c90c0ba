/**
 * The Worker bundle in workerd (Miniflare), end to end on loopback: real
 * Epistula-verifying miners, the local subtensor node read by the Node
 * syncer (`npm run sync`'s chain source and pusher), the snapshot shelved in
 * KV, keys, limits and usage in the store's Durable Object. The runtime-
 * independent assertions are the shared cases, the same ones the Node
 * gateway passes (test/gateway-core.test.ts).
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainSource } from '../src/chain/chain-source.js';
import { encodeSnapshot } from '../src/chain/snapshot-codec.js';
import { startSnapshotPusher, type SnapshotPusher } from '../src/chain/snapshot-pusher.js';
import { startChainNode, type ChainNode } from '../src/devnet/chain-node.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { createEpistulaSigner } from '../src/epistula/signer.js';
import { silentLogger } from '../src/log.js';
import { sharedCodingApiCases } from './shared/coding-api-cases.js';
import { adminRequest, gatewayClient, sharedGatewayCases, type GatewayUnderTest } from './shared/gateway-cases.js';
import { TEST_ADMIN_TOKEN, TEST_HOTKEY_URI } from './support/gateway-harness.js';
import { minerNeurons } from './support/miner-neurons.js';
import { startWorkerRuntime, type WorkerRuntime } from './support/worker-runtime.js';

const NETUID = 4;
const METRICS_TOKEN = 'worker-test-metrics-token';
const MODELS = ['llama-3.1-8b', 'qwen-coder'];
let miners: RunningMiner[];
let node: ChainNode;
let runtime: WorkerRuntime;
let pusher: SnapshotPusher;
let target: GatewayUnderTest;

const neurons = (incentives: readonly number[]) => minerNeurons(miners, incentives);

/** Polls until `read` gives `expected` (expect.poll is for tests; this is set-up). */
async function waitFor<T>(read: () => Promise<T>, expected: T, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`waited ${timeoutMs} ms for ${JSON.stringify(expected)}, last saw ${JSON.stringify(last)}`);
}

async function rankedUids(): Promise<number[]> {
  const res = await fetch(`${runtime.url}/v1/subnets/${NETUID}/miners`);
  if (res.status !== 200) return [];
  return ((await res.json()) as { data: Array<{ uid: number }> }).data.map((m) => m.uid);
}

beforeAll(async () => {
  miners = await Promise.all(['A', 'B'].map((name) => startMiner({ hotkeyUri: `//WorkerMiner${name}`, name })));
  node = await startChainNode({ blockTimeMs: 200 });
  node.setNeurons(NETUID, neurons([0.6, 0.4]));
  runtime = await startWorkerRuntime({
    NETUIDS: String(NETUID),
    ALLOW_PRIVATE_AXONS: '1',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    GATEWAY_HOTKEY_URI: TEST_HOTKEY_URI,
    METAGRAPH_REFRESH_S: '1',
    METERING_FLUSH_MS: '100',
    LOG_LEVEL: 'warn',
    METRICS_TOKEN: METRICS_TOKEN,
  }, { instances: 2 });
  // `npm run sync`: the chain source on Node, delivering to the Worker.
  const source = createChainSource({
    url: node.url,
    netuids: [NETUID],
    modelsFor: () => MODELS,
    rankBy: 'incentive',
    refreshMs: 300,
    addressPolicy: { allowPrivate: true },
    logger: silentLogger(),
  });
  pusher = await startSnapshotPusher({ source, targetUrl: runtime.url, adminToken: TEST_ADMIN_TOKEN, logger: silentLogger(), retryMs: 200 });
  await waitFor(rankedUids, [0, 1]);
  const created = await fetch(`${runtime.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'worker-test' }),
  });
  const { key } = (await created.json()) as { key: string };
  target = {
    baseUrl: runtime.url,
    apiKey: key,
    adminToken: TEST_ADMIN_TOKEN,
    signerSs58: (await createEpistulaSigner(TEST_HOTKEY_URI)).ss58,
    netuid: NETUID,
    miners,
    model: `sn${NETUID}/${MODELS[0]}`,
    upstreamModel: MODELS[0] ?? '',
    coalescing: 'store',
  };
}, 60_000);

afterAll(async () => {
  await pusher?.stop();
  await runtime?.close();
  await node?.stop();
  await Promise.all((miners ?? []).map((m) => m.close()));
});

sharedGatewayCases(() => target);
sharedCodingApiCases(() => target);

describe('the Worker build', () => {
  it('routes by the snapshot the syncer shelved, and follows the chain when it changes', async () => {
    const detail = (await (await fetch(`${runtime.url}/v1/subnets/${NETUID}/miners`)).json()) as { source: string; block: number; rank_policy: string };
    expect(detail.source).toBe('store');
    expect(detail.block).toBeGreaterThan(0);
    expect(detail.rank_policy).toBe('incentive');
    // The chain ticks every 200 ms and is read every 300 ms, but an unchanged metagraph is not re-sent.
    const delivered = pusher.delivered();
    await new Promise((r) => setTimeout(r, 1500));
    expect(pusher.delivered()).toBe(delivered);
    try {
      node.setNeurons(NETUID, neurons([0.1, 0.9]));
      await expect.poll(rankedUids, { timeout: 20_000, interval: 200 }).toEqual([1, 0]);
      for (const m of miners) m.reset();
      for (let i = 0; i < 40; i++) await gatewayClient(target).chat.completions.create({ model: target.model, messages: [{ role: 'user', content: 'x' }] });
      expect(miners[1]?.requestCount).toBeGreaterThan(miners[0]?.requestCount ?? 0);
    } finally {
      node.setNeurons(NETUID, neurons([0.6, 0.4]));
      await expect.poll(rankedUids, { timeout: 20_000, interval: 200 }).toEqual([0, 1]);
    }
  });

  it('meters usage into the store object once responses are sent, streamed ones included', async () => {
    const created = (await (await adminRequest(target, '/admin/keys', { method: 'POST', json: { name: 'metered', credits_usd: 5 } })).json()) as { id: string; key: string };
    const client = gatewayClient(target, created.key);
    await client.chat.completions.create({ model: target.model, messages: [{ role: 'user', content: 'count me' }] });
    const stream = await client.chat.completions.create({ model: target.model, messages: [{ role: 'user', content: 'and me' }], stream: true });
    for await (const _ of stream) void _;
    const usage = async () => {
      const body = (await (await adminRequest(target, `/admin/keys/${created.id}`)).json()) as {
        usage: { totals: { requests: number; completion_tokens: number }; credits: { spent_micro_usd: number; reserved_micro_usd: number } };
      };
      return body.usage;
    };
    await expect.poll(async () => (await usage()).totals.requests, { timeout: 10_000 }).toBe(2);
    const settled = await usage();
    expect(settled.totals.completion_tokens).toBeGreaterThan(0);
    // Both reservations were settled: the charge is spent, nothing is left held.
    await expect.poll(async () => (await usage()).credits.reserved_micro_usd, { timeout: 10_000 }).toBe(0);
    expect(settled.credits.spent_micro_usd).toBeGreaterThan(0);
  });

  it('enforces a key’s RPM across requests through the store object', async () => {
    const created = (await (await adminRequest(target, '/admin/keys', { method: 'POST', json: { name: 'limited', rpm: 2 } })).json()) as { key: string };
    const client = gatewayClient(target, created.key);
    const ask = () => client.chat.completions.create({ model: target.model, messages: [{ role: 'user', content: 'x' }] });
    await ask();
    await ask();
    const refused = await ask().catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(429);
  });

  it('a key revoked through one isolate is refused at once by another that has used it: no pub/sub reaches it, so lookups read the store object', async () => {
    // Both instances run the bundle in workerd, each in an isolate of its own over the one store object.
    const [first, second] = runtime.urls.map((baseUrl) => ({ ...target, baseUrl }));
    if (!first || !second) throw new Error('two instances expected');
    const created = (await (await adminRequest(first, '/admin/keys', { method: 'POST', json: { name: 'shared' } })).json()) as { id: string; key: string };
    const ask = () => gatewayClient(second, created.key).chat.completions.create({ model: target.model, messages: [{ role: 'user', content: 'x' }] });
    expect((await ask()).object).toBe('chat.completion');
    expect((await adminRequest(first, `/admin/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await ask().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('shares cached answers between isolates through the cache’s Durable Object: a HIT in another isolate, in either shape', async () => {
    const [first, second] = runtime.urls.map((url) => gatewayClient({ ...target, baseUrl: url }));
    if (!first || !second) throw new Error('two instances expected');
    const body = { model: target.model, temperature: 0, messages: [{ role: 'user' as const, content: `across isolates ${randomUUID()}` }] };
    for (const m of miners) m.reset();
    const stored = await first.chat.completions.create(body).withResponse();
    expect(stored.response.headers.get('x-taogate-cache')).toBe('MISS');
    const json = await second.chat.completions.create(body).withResponse();
    expect(json.response.headers.get('x-taogate-cache')).toBe('HIT');
    expect(json.data.choices[0]?.message.content).toBe(stored.data.choices[0]?.message.content);
    const streamed = await second.chat.completions.create({ ...body, stream: true }).withResponse();
    expect(streamed.response.headers.get('x-taogate-cache')).toBe('HIT');
    let text = '';
    for await (const chunk of streamed.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(stored.data.choices[0]?.message.content);
    expect(miners.reduce((n, m) => n + m.requestCount, 0)).toBe(1);
  });

  it('identical JSON requests sent at once to two isolates call the miner once: one takes the claim, the other waits for its entry', async () => {
    const clients = runtime.urls.map((url) => gatewayClient({ ...target, baseUrl: url }));
    const body = { model: target.model, temperature: 0, messages: [{ role: 'user' as const, content: `claimed across isolates ${randomUUID()}` }] };
    for (const m of miners) m.reset();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => (clients[i % clients.length] as OpenAI).chat.completions.create(body).withResponse()));
    expect(miners.reduce((n, m) => n + m.requestCount, 0)).toBe(1);
    expect(answers.map((a) => a.response.headers.get('x-taogate-cache')).sort()).toEqual(['HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'MISS']);
    expect(new Set(answers.map((a) => a.data.choices[0]?.message.content)).size).toBe(1);
  });

  it('serves /metrics (prom-client in workerd) to METRICS_TOKEN: a Worker has no local clients to trust', async () => {
    expect((await fetch(`${runtime.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${runtime.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^taogate_http_requests_total\{[^}]*route="\/v1\/chat\/completions"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^taogate_metagraph_block\{.*\} [1-9]/m);
  });

  it('runs regex checks of a comparison in workerd, in linear time (RE2), and says why it cannot run JSON Schema checks', async () => {
    const compare = (checks: unknown[]) =>
      fetch(`${runtime.url}/v1/compare`, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'x', targets: [`sn${NETUID}/uid:0`], checks }),
      });
    const res = await compare([{ type: 'regex', pattern: 'devnet miner [AB]' }, { type: 'regex', pattern: '(a+)+b' }]);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entries: Array<{ scores: { checks: Array<{ passed: boolean | null }>; overall: number | null } }> };
    expect(body.entries[0]?.scores.checks.map((c) => c.passed)).toEqual([true, false]);
    expect(body.entries[0]?.scores.overall).toBe(5);
    const schema = await compare([{ type: 'json_schema', schema: { type: 'object' } }]);
    expect(schema.status).toBe(400);
    expect(((await schema.json()) as { error: { code: string; param: string; message: string } }).error).toMatchObject({
      code: 'json_schema_unsupported',
      param: 'checks[0].schema',
      message: expect.stringMatching(/Cloudflare Workers/),
    });
  });

  it('takes snapshot pushes only with the admin token and only in the persisted format', async () => {
    const body = encodeSnapshot({ source: 'chain', version: '1', block: 1, takenAt: Date.now(), subnets: new Map() });
    const anonymous = await fetch(`${runtime.url}/admin/metagraph`, { method: 'PUT', body });
    expect(anonymous.status).toBe(401);
    const garbage = await adminRequest(target, '/admin/metagraph', { method: 'PUT', json: { subnets: 'nope' } });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe('invalid_snapshot');
  });
});
