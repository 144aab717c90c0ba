/**
 * GET /metrics through the real gateway: requests sent with the stock openai
 * client show up by route pattern, model and status; the latency and
 * time-to-first-token histograms count them; a miner whose breaker opened
 * shows it; the metagraph's block and age are there for a file and for the
 * chain; a 300-miner subnet stays under the per-miner series cap; store
 * failures are counted while Redis is down; and access needs the token or a
 * local client.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { encodeAddress } from '@polkadot/util-crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startChainNode } from '../src/devnet/chain-node.js';
import { startFakeSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { startMiner, type FaultMode, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type MinerEntry, type TestGateway, type TestGatewayOptions } from './support/gateway-harness.js';
import { eventually } from './support/health-view.js';
import { startOwnRedis } from './support/own-redis.js';
import { parsePrometheusText, type Exposition } from './support/prometheus-text.js';

const started: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).reverse().map((s) => s.close()));
});

async function miner(name: string, options: { fault?: FaultMode; verifySignatures?: boolean } = {}): Promise<RunningMiner> {
  const m = await startMiner({ hotkeyUri: `//Metrics${name}`, name, ...options });
  started.push(m);
  return m;
}

async function gateway(options: TestGatewayOptions): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  started.push(gw);
  return gw;
}

async function scrape(gw: TestGateway, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await fetch(`${gw.url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const exposition = parsePrometheusText(await res.text());
  expectConsistentHistograms(exposition);
  return exposition;
}

/** Each histogram series: cumulative buckets never decrease, and +Inf equals _count. */
function expectConsistentHistograms(exposition: Exposition): void {
  for (const [family, type] of exposition.types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, number[]>();
    for (const bucket of exposition.find(`${family}_bucket`)) {
      const { le: _, ...rest } = bucket.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), bucket.value]);
    }
    for (const [key, values] of series) {
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(values.at(-1)).toBe(exposition.value(`${family}_count`, JSON.parse(key) as Record<string, string>));
    }
  }
}

const chat = (model = 'sn4/m') => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

describe('GET /metrics', () => {
  it('counts requests by route pattern, model and status, with latency and time-to-first-token histograms', async () => {
    const a = await miner('A');
    const gw = await gateway({
      subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: a, uid: 0, incentive: 1 }] }],
      env: { MODEL_ALIASES: JSON.stringify({ fast: ['sn4/m'] }) },
    });
    const openai = gw.client();

    const answer = await openai.chat.completions.create(chat());
    expect(answer.choices[0]?.message.content).toBeTruthy();
    const stream = await openai.chat.completions.create({ ...chat(), stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed).toBeTruthy();
    await openai.chat.completions.create(chat('fast'));
    const unknownModel = `made-up-${randomUUID()}`;
    await expect(openai.chat.completions.create(chat(unknownModel))).rejects.toMatchObject({ status: 404 });
    await expect(gw.client({ apiKey: 'sk-tao-not-a-key' }).chat.completions.create(chat())).rejects.toMatchObject({ status: 401 });
    expect((await gw.request('/v1/subnets/4/miners')).status).toBe(200);
    expect((await gw.request(`/no/such/path/${randomUUID()}`)).status).toBe(404);

    const m = await scrape(gw);
    const requests = (labels: Record<string, string>) => m.value('taogate_http_requests_total', labels);
    const completions = { route: '/v1/chat/completions', method: 'POST' };
    expect(requests({ ...completions, status: '200', model: 'sn4/m' })).toBe(2);
    // An alias is a catalog id: kept as the client asked for it.
    expect(requests({ ...completions, status: '200', model: 'fast' })).toBe(1);
    // A model the catalog does not know never becomes a label value.
    expect(requests({ ...completions, status: '404', model: 'other' })).toBe(1);
    // Refused before the body was read: no model.
    expect(requests({ ...completions, status: '401', model: 'none' })).toBe(1);
    // Route patterns, never raw paths.
    expect(requests({ route: '/v1/subnets/:netuid/miners', method: 'GET', status: '200', model: 'none' })).toBe(1);
    expect(requests({ route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    const labelValues = m.samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => v.includes(unknownModel) || v.includes('/no/such') || v === '/v1/subnets/4/miners')).toEqual([]);

    expect(m.value('taogate_http_request_duration_seconds_count', { ...completions, status: '200' })).toBe(3);
    expect(m.value('taogate_http_request_duration_seconds_count', { ...completions, status: '401' })).toBe(1);
    // Time to first token and completion time carry the subnet model that served (the alias resolved to sn4/m).
    expect(m.value('taogate_completion_ttft_seconds_count', { model: 'sn4/m', mode: 'json' })).toBe(2);
    expect(m.value('taogate_completion_ttft_seconds_count', { model: 'sn4/m', mode: 'stream' })).toBe(1);
    expect(m.value('taogate_completion_ttft_seconds_sum', { model: 'sn4/m', mode: 'stream' })).toBeGreaterThan(0);
    expect(m.value('taogate_completion_duration_seconds_count', { model: 'sn4/m', mode: 'stream', outcome: 'ok' })).toBe(1);
    expect(m.value('taogate_completion_duration_seconds_count', { model: 'sn4/m', mode: 'json', outcome: 'ok' })).toBe(2);
    expect(m.find('taogate_completion_ttft_seconds_count', { model: 'fast' })).toEqual([]);
    // The stream lasts at least as long as its first token took.
    expect(m.value('taogate_completion_duration_seconds_sum', { mode: 'stream' })).toBeGreaterThanOrEqual(m.value('taogate_completion_ttft_seconds_sum', { mode: 'stream' }));

    // The miner that answered: closed, tried three times; memory store up and error-free.
    expect(m.value('taogate_miner_breaker_state', { netuid: '4', uid: '0' })).toBe(0);
    expect(m.value('taogate_miner_attempts_total', { netuid: '4', uid: '0' })).toBe(3);
    expect(m.value('taogate_store_up', { backend: 'memory' })).toBe(1);
    expect(m.find('taogate_store_errors_total').every((s) => s.value === 0)).toBe(true);

    // The scrape itself is counted on the next one.
    const again = await scrape(gw);
    expect(again.value('taogate_http_requests_total', { route: '/metrics', status: '200' })).toBe(1);
  });

  it('shows a miner whose breaker opened, and counts an interrupted stream', async () => {
    const bad = await miner('Bad', { fault: 'http500' });
    const good = await miner('Good');
    const gw = await gateway({
      subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: bad, uid: 0, incentive: 0.5 }, { miner: good, uid: 1, incentive: 0.5 }] }],
      env: { HEDGE_MODE: 'off', BREAKER_COOLDOWN_MS: '60000' },
    });
    const openai = gw.client();
    for (let i = 0; i < 200 && bad.requestCount < 3; i++) await openai.chat.completions.create(chat());
    expect(bad.requestCount).toBe(3);

    const m = await scrape(gw);
    expect(m.value('taogate_miner_breaker_state', { netuid: '4', uid: '0' })).toBe(2);
    expect(m.value('taogate_miner_routing_factor', { netuid: '4', uid: '0' })).toBe(0);
    expect(m.value('taogate_miner_failures_total', { netuid: '4', uid: '0' })).toBe(3);
    expect(m.value('taogate_miner_error_rate', { netuid: '4', uid: '0' })).toBe(1);
    expect(m.value('taogate_miner_breaker_state', { netuid: '4', uid: '1' })).toBe(0);
    expect(m.value('taogate_miner_failures_total', { netuid: '4', uid: '1' })).toBe(0);
    expect(m.value('taogate_miner_ttfb_ewma_seconds', { netuid: '4', uid: '1' })).toBeGreaterThan(0);
    expect(m.value('taogate_subnet_miners', { netuid: '4', state: 'open' })).toBe(1);
    expect(m.value('taogate_subnet_miners', { netuid: '4', state: 'closed' })).toBe(1);

    // A stream cut after its first chunk: the client saw an error, the metrics an interrupted completion.
    await good.setFault('dropMidStream');
    const stream = await openai.chat.completions.create({ ...chat(), stream: true });
    await expect(async () => {
      for await (const _ of stream);
    }).rejects.toThrow();
    await eventually(async () => {
      const after = await scrape(gw);
      expect(after.value('taogate_completion_duration_seconds_count', { mode: 'stream', outcome: 'interrupted' })).toBe(1);
      expect(after.value('taogate_subnet_miners', { netuid: '4', state: 'open' })).toBe(2);
    });
  });

  it('has health and breaker series for a subnet served by its own API, as uid="api", with or without miner subnets', async () => {
    const api = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'chutes-key', models: ['up'], name: 'chutes' });
    started.push(api);
    const a = await miner('BesideApi');
    const gw = await gateway({
      subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: a, uid: 0, incentive: 1 }] }],
      env: { HEDGE_MODE: 'off', BREAKER_FAILURES: '1', BREAKER_COOLDOWN_MS: '60000' },
      subnetConfig: {
        document: { subnets: [{ netuid: 64, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: api.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' }, models: [{ name: 'm', upstream: 'up' }] }] },
        env: { CHUTES_API_KEY: 'chutes-key' },
      },
    });
    const openai = gw.client();
    await openai.chat.completions.create(chat('sn64/m'));
    const up = await scrape(gw);
    expect(up.value('taogate_miner_breaker_state', { netuid: '64', uid: 'api' })).toBe(0);
    expect(up.value('taogate_miner_attempts_total', { netuid: '64', uid: 'api' })).toBe(1);
    expect(up.value('taogate_miner_ttfb_ewma_seconds', { netuid: '64', uid: 'api' })).toBeGreaterThan(0);
    expect(up.value('taogate_subnet_miners', { netuid: '64', state: 'closed' })).toBe(1);
    // An API has no neurons; the miner subnet beside it still has its series.
    expect(up.find('taogate_subnet_neurons', { netuid: '64' })).toEqual([]);
    expect(up.value('taogate_miner_breaker_state', { netuid: '4', uid: '0' })).toBe(0);

    await api.setFault('down');
    await expect(openai.chat.completions.create(chat('sn64/m'))).rejects.toMatchObject({ status: 502 });
    const down = await scrape(gw);
    expect(down.value('taogate_miner_breaker_state', { netuid: '64', uid: 'api' })).toBe(2);
    expect(down.value('taogate_miner_failures_total', { netuid: '64', uid: 'api' })).toBe(1);
    expect(down.value('taogate_subnet_miners', { netuid: '64', state: 'open' })).toBe(1);
  });

  it('publishes the age of a metagraph file and the block and age of the chain metagraph', async () => {
    const a = await miner('Meta');
    const fileGw = await gateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: a, uid: 0, incentive: 1 }] }] });
    const fromFile = await scrape(fileGw);
    expect(fromFile.value('taogate_metagraph_age_seconds', { source: 'file' })).toBeGreaterThanOrEqual(0);
    expect(fromFile.value('taogate_metagraph_source_state', { source: 'file', state: 'ok' })).toBe(1);
    expect(fromFile.value('taogate_metagraph_source_state', { source: 'file', state: 'down' })).toBe(0);
    expect(fromFile.value('taogate_metagraph_updates_total', { source: 'file' })).toBeGreaterThanOrEqual(1);
    // A file has no block: no sample rather than a made-up 0.
    expect(fromFile.find('taogate_metagraph_block')).toEqual([]);
    expect(fromFile.value('taogate_subnet_neurons', { netuid: '4' })).toBe(1);

    const node = await startChainNode({ blockTimeMs: 100, startBlock: 5000 });
    started.push({ close: () => node.stop() });
    node.setNeurons(7, [
      { uid: 0, hotkey: a.hotkey, coldkey: null, stakeTao: 10, incentive: 1, active: true, validatorPermit: false, axon: { ip: '127.0.0.1', port: a.port }, lastUpdate: 1 },
    ]);
    const chainGw = await gateway({ env: { SUBTENSOR_URL: node.url, NETUIDS: '7', SUBNET_MODELS: JSON.stringify({ 7: ['m'] }), METAGRAPH_REFRESH_S: '1' } });
    await eventually(() => expect(chainGw.gateway.metagraph.current()).not.toBeNull());
    const fromChain = await scrape(chainGw);
    const block = fromChain.value('taogate_metagraph_block', { source: 'chain' });
    expect(block).toBeGreaterThanOrEqual(5000);
    expect(block).toBeLessThanOrEqual(node.block());
    expect(fromChain.value('taogate_metagraph_age_seconds', { source: 'chain' })).toBeLessThan(30);
    expect(fromChain.value('taogate_metagraph_source_state', { source: 'chain', state: 'ok' })).toBe(1);
    // The chain keeps moving and the source follows it.
    await eventually(async () => expect((await scrape(chainGw)).value('taogate_metagraph_block', { source: 'chain' })).toBeGreaterThan(block), 15_000);
  });

  it('keeps per-miner series under the cap on a 300-miner subnet, every miner routed once', async () => {
    // One real server stands behind 300 registered hotkeys (signatures are not checked, so any hotkey may be signed for).
    const shared = await miner('Shared', { verifySignatures: false });
    const entries: MinerEntry[] = Array.from({ length: 300 }, (_, uid) => ({
      miner: { ...shared, hotkey: encodeAddress(randomBytes(32), 42) },
      uid,
      // Distinct ranks: uid 299 is best.
      incentive: (uid + 1) / 45150,
    }));
    const cap = 10;
    const gw = await gateway({ subnets: [{ netuid: 4, models: ['m'], miners: entries }], env: { METRICS_MINERS_PER_SUBNET: String(cap), HEDGE_MODE: 'off' } });
    const openai = gw.client();
    for (let uid = 0; uid < 300; uid++) {
      await openai.chat.completions.create(chat(), { headers: { 'x-taogate-uids': String(uid) } });
    }
    expect(shared.requestCount).toBe(300);

    const m = await scrape(gw);
    const perMiner = [...m.types.keys()].filter((name) => name.startsWith('taogate_miner_'));
    expect(perMiner.length).toBeGreaterThanOrEqual(6);
    for (const family of perMiner) expect(m.find(family).length).toBeLessThanOrEqual(cap + 1);
    // The labelled miners are the best-ranked ones; the rest are one "other" series.
    const labelled = m.find('taogate_miner_breaker_state').map((s) => Number(s.labels.uid)).sort((x, y) => x - y);
    expect(labelled).toEqual(Array.from({ length: cap }, (_, i) => 300 - cap + i));
    expect(m.value('taogate_miner_attempts_total', { netuid: '4', uid: 'other' })).toBe(300 - cap);
    expect(m.find('taogate_miner_attempts_total').reduce((sum, s) => sum + s.value, 0)).toBe(300);
    expect(m.value('taogate_subnet_miners', { netuid: '4', state: 'closed' })).toBe(300);
    // No hotkey anywhere in the labels.
    const hotkeys = new Set(entries.map((e) => e.miner.hotkey));
    expect(m.samples.filter((s) => Object.values(s.labels).some((v) => hotkeys.has(v)))).toEqual([]);
    // The whole exposition stays small whatever the metagraph's size.
    expect(m.samples.length).toBeLessThan(1000);
  });

  it('counts store failures and the store going down while Redis is stopped', async () => {
    const redis = await startOwnRedis();
    started.push({ close: () => redis.destroy() });
    const a = await miner('Redis');
    const gw = await gateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: a, uid: 0, incentive: 1 }] }], env: { REDIS_URL: redis.url } });
    // The key is seen once while Redis is up, so the gateway can vouch for it later.
    expect((await gw.client().chat.completions.create(chat())).choices.length).toBe(1);
    const before = await scrape(gw);
    expect(before.value('taogate_store_up', { backend: 'redis' })).toBe(1);
    const getErrors = (m: Exposition) => m.value('taogate_store_errors_total', { backend: 'redis', operation: 'get' });
    expect(getErrors(before)).toBe(0);

    await redis.stop();
    await eventually(() => expect(gw.gateway.store.state()).toBe('down'));
    // A key never seen before has to be looked up in the store: that lookup fails (and the client gets a 503).
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: chat(), headers: { authorization: `Bearer sk-tao-${randomUUID()}` } });
    expect(res.status).toBe(503);
    // The known key keeps working from the gateway's cache.
    expect((await gw.client().chat.completions.create(chat())).choices.length).toBe(1);

    const during = await scrape(gw);
    expect(getErrors(during)).toBeGreaterThanOrEqual(1);
    expect(during.value('taogate_store_up', { backend: 'redis' })).toBe(0);
    expect(during.value('taogate_store_state_changes_total', { backend: 'redis', state: 'down' })).toBeGreaterThanOrEqual(1);

    await redis.start();
    await eventually(async () => expect((await scrape(gw)).value('taogate_store_up', { backend: 'redis' })).toBe(1), 15_000);
  });

  it('needs METRICS_TOKEN when set, and otherwise a local client that did not come through a proxy', async () => {
    const a = await miner('Access');
    const subnets = [{ netuid: 4, models: ['m'], miners: [{ miner: a, uid: 0, incentive: 1 }] }];
    const token = `metrics-${randomUUID()}`;
    const guarded = await gateway({ subnets, env: { METRICS_TOKEN: token } });
    const missing = await fetch(`${guarded.url}/metrics`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('invalid_metrics_token');
    expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
    // An API key is not a metrics token.
    expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${guarded.apiKey}` } })).status).toBe(401);
    const m = await scrape(guarded, { authorization: `Bearer ${token}` });
    expect(m.types.get('taogate_http_requests_total')).toBe('counter');

    const open = await gateway({ subnets });
    await scrape(open);
    const proxied = await fetch(`${open.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect(((await proxied.json()) as { error: { code: string } }).error.code).toBe('metrics_local_only');
  });
});

describe('response cache counters', () => {
  it('reads the cache\'s running totals at each scrape', async () => {
    const a = await miner('Cache');
    const gw = await gateway({ subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: a, uid: 0, incentive: 1 }] }] });
    const events = async () => Object.fromEntries((await scrape(gw)).find('taogate_cache_events_total').map((s) => [s.labels.event, s.value]));
    expect(await events()).toEqual({ hit: 0, miss: 0, bypass: 0, error: 0, coalesced: 0 });
    const cacheable = { model: 'sn4/m', temperature: 0, messages: [{ role: 'user' as const, content: 'count me' }] };
    await gw.client().chat.completions.create(cacheable);
    await gw.client().chat.completions.create(cacheable);
    await gw.client().chat.completions.create({ ...cacheable, temperature: 1 });
    expect(await events()).toEqual({ hit: 1, miss: 1, bypass: 1, error: 0, coalesced: 0 });
  });
});
