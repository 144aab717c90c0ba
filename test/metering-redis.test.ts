/**
 * Money and limits under concurrency and failure, on real Redis: the shared
 * one (own prefix per test) for concurrency and replicas, a redis-server of
 * the test's own for stopping and restarting under load.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { createLogger } from '../src/log.js';
import { CreditLedger } from '../src/metering/credit-ledger.js';
import { parsePublicKey, verifyReceipt } from '../src/metering/receipts.js';
import { UsageJournal } from '../src/metering/usage-journal.js';
import { createRedisStore } from '../src/store/redis.js';
import { createKey, keyDetails, topUp } from './support/admin-client.js';
import { startTestGateway, type SubnetEntry, type TestGateway } from './support/gateway-harness.js';
import { startOwnRedis, type OwnRedis } from './support/own-redis.js';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PRICES = JSON.stringify({ 'sn4/m': { prompt: 2, completion: 6 } });
const BODY = { model: 'sn4/m', messages: [{ role: 'user' as const, content: 'what does one answer cost?' }], max_tokens: 40 };

let miner: RunningMiner;
let subnets: SubnetEntry[];
const gateways: TestGateway[] = [];

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//MeterRedis', name: 'R' });
  subnets = [{ netuid: 4, models: ['m'], miners: [{ miner, uid: 0, incentive: 1 }] }];
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await miner?.close();
});

async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ subnets, env: { MODEL_PRICES: PRICES, METERING_FLUSH_MS: '50', ...env } });
  gateways.push(gw);
  return gw;
}

const publicKeys = new Map<TestGateway, Uint8Array>();

/** The cost a response's receipt states, once its signature checked out against the gateway's published key. */
async function costOf(gw: TestGateway, response: Response): Promise<number> {
  let publicKey = publicKeys.get(gw);
  if (!publicKey) {
    const key = (await (await fetch(`${gw.url}/v1/receipts/public-key`)).json()) as { public_key_hex: string };
    publicKeys.set(gw, (publicKey = parsePublicKey(key.public_key_hex)));
  }
  const check = verifyReceipt(response.headers.get('x-taogate-receipt') ?? '', publicKey);
  if (!check.valid) throw new Error(check.reason);
  return check.body.cost_micro_usd;
}

describe('prepaid credit under concurrency', () => {
  it('serves at most what 100 requests cost out of 1,000 concurrent ones; the ledger equals the served costs', async () => {
    const gw = await gateway({ REDIS_URL: SHARED_REDIS });
    // What one request costs, measured on a postpaid key (the miner answers deterministically).
    const probe = await gw.client().chat.completions.create(BODY).withResponse();
    const unit = await costOf(gw, probe.response);
    expect(unit).toBe(2 * (probe.data.usage?.prompt_tokens ?? 0) + 6 * (probe.data.usage?.completion_tokens ?? 0));

    const { id, key } = await createKey(gw, { credits_usd: 0 });
    expect((await topUp(gw, id, { amount_micro_usd: 100 * unit }, `fund-${id}`)).status).toBe(201);
    const client = gw.client({ apiKey: key, maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => client.chat.completions.create(BODY).withResponse()));

    const served = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(served.length).toBeGreaterThan(0);
    expect(served.length).toBeLessThanOrEqual(100);
    for (const r of refused) {
      const err = r.reason as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(402);
      expect((err.error as { code?: string }).code).toBe('insufficient_credits');
    }
    const costs = await Promise.all(served.map((r) => costOf(gw, r.value.response)));
    const total = costs.reduce((a, b) => a + b, 0);

    await gw.gateway.metering.flush();
    const { usage } = await keyDetails(gw, id);
    expect(usage.credits).toEqual({
      available_micro_usd: 100 * unit - total,
      reserved_micro_usd: 0,
      spent_micro_usd: total,
      topped_up_micro_usd: 100 * unit,
      available_usd: (100 * unit - total) / 1_000_000,
    });
    expect(usage.totals.requests).toBe(served.length);
    expect(usage.totals.cost_micro_usd).toBe(total);
  });
});

describe('limits across replicas', () => {
  it('two gateway instances share one RPM limit', async () => {
    const prefix = `test:${randomUUID()}:`;
    const a = await gateway({ REDIS_URL: SHARED_REDIS, REDIS_PREFIX: prefix });
    const b = await gateway({ REDIS_URL: SHARED_REDIS, REDIS_PREFIX: prefix });
    const { key } = await createKey(a, { rpm: 5 });
    const send = (gw: TestGateway) => gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: BODY });
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => send(i % 2 === 0 ? a : b)));
    const statuses = responses.map((r) => r.status);
    // Per-replica limits would let 10 through.
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const viaB = responses.filter((_, i) => i % 2 === 1);
    expect(viaB.some((r) => r.status === 429)).toBe(true);
  });
});

describe('when Redis stops and comes back', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  const waitUp = (gw: TestGateway) => expect.poll(() => gw.gateway.store.state(), { timeout: 15_000, interval: 50 }).toBe('up');

  it('keeps serving under load, and the totals after recovery equal the requests served', async () => {
    const gw = await gateway({ REDIS_URL: redis.url });
    const { id, key } = await createKey(gw, { rpm: 1_000_000, tpm: 100_000_000 });
    const client = gw.client({ apiKey: key, maxRetries: 0 });
    const served = { requests: 0, prompt: 0, completion: 0, cost: 0 };
    const failures: string[] = [];
    let stopLoad = false;
    const once = async () => {
      try {
        const { data, response } = await client.chat.completions.create(BODY).withResponse();
        const cost = await costOf(gw, response);
        served.requests++;
        served.prompt += data.usage?.prompt_tokens ?? 0;
        served.completion += data.usage?.completion_tokens ?? 0;
        served.cost += cost;
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    };
    const worker = async () => {
      while (!stopLoad) await once();
    };
    // The key is known to this replica before the outage (keys are cached per replica).
    await once();
    const load = Promise.all(Array.from({ length: 6 }, worker));
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(500);
    const beforeStop = served.requests;
    await redis.stop();
    await expect.poll(() => gw.gateway.store.state(), { timeout: 5000, interval: 20 }).toBe('down');
    const atStop = served.requests;
    await pause(1500);
    const duringOutage = served.requests - atStop;
    expect(gw.gateway.metering.pending().counters).toBeGreaterThan(0);
    await redis.start();
    await waitUp(gw);
    await pause(500);
    stopLoad = true;
    await load;

    expect(failures).toEqual([]);
    expect(beforeStop).toBeGreaterThan(0);
    expect(duringOutage).toBeGreaterThan(0);
    await expect.poll(async () => {
      await gw.gateway.metering.flush();
      const p = gw.gateway.metering.pending();
      return p.counters + p.batches + p.creditOps;
    }, { timeout: 10_000 }).toBe(0);
    expect(gw.gateway.metering.pending().dropped).toBe(0);
    const { usage } = await keyDetails(gw, id);
    expect(usage.totals).toMatchObject({
      requests: served.requests,
      prompt_tokens: served.prompt,
      completion_tokens: served.completion,
      cost_micro_usd: served.cost,
    });
  }, 60_000);

  it('falls back to per-replica limits while Redis is down', async () => {
    const gw = await gateway({ REDIS_URL: redis.url });
    const { key } = await createKey(gw, { rpm: 3 });
    const send = () => gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: BODY });
    expect((await send()).status).toBe(200); // the replica now knows the key
    await redis.stop();
    await expect.poll(() => gw.gateway.store.state(), { timeout: 5000, interval: 20 }).toBe('down');
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send()).status);
    // This replica's own bucket starts full: 3 pass, then 429, never a 5xx.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    await redis.start();
    await waitUp(gw);
  }, 60_000);

  it('bills a settlement that waited out the outage after its reservation expired and was given back, once', async () => {
    const store = await createRedisStore({ url: redis.url, prefix: `test:${randomUUID()}:` });
    const warnings: Array<{ msg: string; reservationId?: string }> = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(JSON.parse(line)) } });
    // Not started: no timer and no flush on reconnect, so this test decides when the queued settlement is written.
    const journal = new UsageJournal(store, logger, { flushMs: 60_000, maxCounters: 1000 });
    // A reservation's life is its request's deadline plus a grace (5 min in the gateway); short here.
    const ledger = new CreditLedger(store, journal, logger, { onStoreDown: 'deny', reservationTtlMs: 300 });
    try {
      await expect.poll(() => store.state(), { timeout: 5000 }).toBe('up');
      await ledger.topUp('acct', 10_000, 'grant');
      const hold = await ledger.reserve('acct', 4_000);

      // The request is served, and its settlement meets a store that is down: it waits in the journal.
      await redis.stop();
      await expect.poll(() => store.state(), { timeout: 5000, interval: 20 }).toBe('down');
      expect(ledger.settle(hold, 2_500)).toBe(2_500);
      await expect.poll(() => journal.pending().creditOps).toBe(1);
      await new Promise((r) => setTimeout(r, 400));
      await journal.flush();
      expect(journal.pending().creditOps).toBe(1);

      // Back up, the key's next request sweeps the expired reservation back before the settlement is written.
      await redis.start();
      await expect.poll(() => store.state(), { timeout: 15_000, interval: 50 }).toBe('up');
      await ledger.reserve('acct', 1_000);
      expect(await ledger.balance('acct')).toEqual({ available: 9_000, reserved: 1_000, spent: 0, toppedUp: 10_000 });

      await journal.flush();
      expect(journal.pending().creditOps).toBe(0);
      expect(await ledger.balance('acct')).toEqual({ available: 6_500, reserved: 1_000, spent: 2_500, toppedUp: 10_000 });
      expect(warnings).toEqual([]);

      // Exactly once: the same settlement again bills nothing and is logged.
      ledger.settle(hold, 2_500);
      await journal.flush();
      expect(await ledger.balance('acct')).toEqual({ available: 6_500, reserved: 1_000, spent: 2_500, toppedUp: 10_000 });
      expect(warnings).toMatchObject([{ msg: expect.stringContaining('found no reservation'), reservationId: hold.kind === 'reserved' ? hold.reservationId : '' }]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('refuses prepaid requests with 503 while the ledger is down (deny), or serves and bills them once it is back (allow)', async () => {
    const deny = await gateway({ REDIS_URL: redis.url });
    const allow = await gateway({ REDIS_URL: redis.url, CREDITS_ON_STORE_DOWN: 'allow' });
    const denied = await createKey(deny, { credits_usd: 1 });
    const allowed = await createKey(allow, { credits_usd: 1 });
    const send = (gw: TestGateway, key: string) => gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: BODY });
    // Seen once while the store is up, so each replica knows the key.
    const warmDeny = await send(deny, denied.key);
    const warmAllow = await send(allow, allowed.key);
    expect([warmDeny.status, warmAllow.status]).toEqual([200, 200]);
    const warmCost = await costOf(allow, warmAllow);

    await redis.stop();
    await expect.poll(() => deny.gateway.store.state() === 'down' && allow.gateway.store.state() === 'down', { timeout: 5000, interval: 20 }).toBe(true);
    const refused = await send(deny, denied.key);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('credit_ledger_unavailable');
    const unbacked = await send(allow, allowed.key);
    expect(unbacked.status).toBe(200);
    const unbackedCost = await costOf(allow, unbacked);

    await redis.start();
    await waitUp(allow);
    await expect.poll(async () => {
      await allow.gateway.metering.flush();
      return (await keyDetails(allow, allowed.id)).usage.credits?.spent_micro_usd;
    }, { timeout: 10_000 }).toBe(warmCost + unbackedCost);
    await allow.gateway.metering.flush();
    const { usage } = await keyDetails(allow, allowed.id);
    expect(usage.credits).toMatchObject({ available_micro_usd: 1_000_000 - warmCost - unbackedCost, reserved_micro_usd: 0 });
    expect(usage.totals.requests).toBe(2);
  }, 60_000);
});
