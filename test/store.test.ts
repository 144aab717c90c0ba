import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { applyReserve, applySettle, applyTopUp, emptyAccount, EXPIRED_RESERVATION_MEMORY_MS } from '../src/store/credit-account.js';
import { createDurableObjectStore } from '../src/store/durable-object.js';
import { createMemoryStore } from '../src/store/memory.js';
import { createRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { startWorkerRuntime, type WorkerRuntime } from './support/worker-runtime.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The Worker's store object runs in workerd; this process calls it over RPC like a Worker does. */
let workerRuntime: Promise<WorkerRuntime> | null = null;
afterAll(async () => {
  await (await workerRuntime)?.close();
});

const factories: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => createMemoryStore()],
  ['redis', () => createRedisStore({ url: REDIS_URL, prefix: `test:${randomUUID()}:` })],
  [
    'durable-object',
    async () => {
      workerRuntime ??= startWorkerRuntime({ NETUIDS: '4' });
      const namespace = await (await workerRuntime).storeNamespace();
      // A proxied call from this process takes a few ms more than one from a Worker.
      return createDurableObjectStore(namespace, { name: `test:${randomUUID()}:`, callTimeoutMs: 10_000 });
    },
  ],
];

describe.each(factories)('%s store', (_name, create) => {
  const opened: Store[] = [];
  const open = async () => {
    const store = await create();
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('is up once created', async () => {
    const store = await open();
    expect(store.state()).toBe('up');
  });

  it('gets, sets and deletes values', async () => {
    const store = await open();
    expect(await store.get('a')).toBeNull();
    expect(await store.set('a', 'one')).toBe(true);
    expect(await store.get('a')).toBe('one');
    await store.del('a');
    expect(await store.get('a')).toBeNull();
  });

  it('onlyIfAbsent acts as a lock', async () => {
    const store = await open();
    expect(await store.set('lock', 'x', { onlyIfAbsent: true, ttlMs: 5000 })).toBe(true);
    expect(await store.set('lock', 'y', { onlyIfAbsent: true, ttlMs: 5000 })).toBe(false);
    expect(await store.get('lock')).toBe('x');
  });

  it('deletes and renews a value only while it holds what the caller expects (a lock released or renewed by its holder)', async () => {
    const store = await open();
    expect(await store.set('claim', 'token-a', { onlyIfAbsent: true, ttlMs: 300 })).toBe(true);
    expect(await store.compareAndDelete('claim', 'token-b')).toBe(false);
    expect(await store.compareAndExpire('claim', 'token-b', 60_000)).toBe(false);
    expect(await store.get('claim')).toBe('token-a');
    // Renewed by its holder: still there after the first ttl would have run out.
    expect(await store.compareAndExpire('claim', 'token-a', 60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.get('claim')).toBe('token-a');
    expect(await store.compareAndDelete('claim', 'token-a')).toBe(true);
    expect(await store.get('claim')).toBeNull();
    expect(await store.compareAndDelete('claim', 'token-a')).toBe(false);
    expect(await store.compareAndExpire('missing', 'token-a', 1000)).toBe(false);
    // Concurrent releases by the holder: exactly one deletes.
    await store.set('claim', 'token-c');
    const released = await Promise.all(Array.from({ length: 10 }, () => store.compareAndDelete('claim', 'token-c')));
    expect(released.filter(Boolean)).toHaveLength(1);
  });

  it('expires values after their ttl', async () => {
    const store = await open();
    // Long enough for a round trip to a store in another process (workerd) on a loaded machine.
    await store.set('short', 'v', { ttlMs: 300 });
    expect(await store.get('short')).toBe('v');
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.get('short')).toBeNull();
    expect(await store.set('short', 'w', { onlyIfAbsent: true })).toBe(true);
  });

  it('keeps hashes and increments fields atomically', async () => {
    const store = await open();
    await store.hset('h', { name: 'k1', rpm: '60' });
    expect(await store.hgetall('h')).toEqual({ name: 'k1', rpm: '60' });
    expect(await store.hgetall('missing')).toEqual({});
    const results = await Promise.all(Array.from({ length: 50 }, () => store.hincrby('counts', { a: 1, b: 2 })));
    expect(results.map((r) => r.a ?? -1).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await store.hgetall('counts')).toEqual({ a: '50', b: '100' });
  });

  it('expires a hash incremented with a ttl, and renews the ttl on each increment', async () => {
    const store = await open();
    // Margins of 250 ms: long enough for a round trip to a store in another process (workerd) on a loaded machine.
    await store.hincrby('bucket', { n: 1 }, { ttlMs: 600 });
    await new Promise((r) => setTimeout(r, 350));
    expect(await store.hincrby('bucket', { n: 2 }, { ttlMs: 600 })).toEqual({ n: 3 });
    await new Promise((r) => setTimeout(r, 350));
    // 700 ms after the first write, but only 350 ms after the renewing one.
    expect(await store.hgetall('bucket')).toEqual({ n: '3' });
    await new Promise((r) => setTimeout(r, 600));
    expect(await store.hgetall('bucket')).toEqual({});
    // A hash without a ttl keeps.
    await store.hincrby('forever', { n: 1 });
    await new Promise((r) => setTimeout(r, 30));
    expect(await store.hgetall('forever')).toEqual({ n: '1' });
  });

  it('reads many hashes at once, in order, missing and expired ones empty', async () => {
    const store = await open();
    expect(await store.hgetallMany([])).toEqual([]);
    await store.hincrby('m:a', { n: 1 });
    await store.hset('m:b', { x: 'y', z: 'w' });
    await store.hincrby('m:gone', { n: 1 }, { ttlMs: 50 });
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.hgetallMany(['m:b', 'm:none', 'm:a', 'm:gone'])).toEqual([{ x: 'y', z: 'w' }, {}, { n: '1' }, {}]);
  });

  it('applies an idempotent batch of increments once per id', async () => {
    const store = await open();
    const batch = [
      { key: 'u1', field: 'requests', by: 2 },
      { key: 'u1', field: 'cost', by: 150 },
      { key: 'u2', field: 'requests', by: 1 },
    ];
    expect(await store.hincrbyOnce('batch-1', batch, 60_000)).toBe(true);
    expect(await store.hincrbyOnce('batch-1', batch, 60_000)).toBe(false);
    expect(await store.hincrbyOnce('batch-2', [{ key: 'u1', field: 'requests', by: 1 }], 60_000)).toBe(true);
    expect(await store.hgetall('u1')).toEqual({ requests: '3', cost: '150' });
    expect(await store.hgetall('u2')).toEqual({ requests: '1' });
  });

  it('rate-limits with GCRA: a burst of the limit, then refusals with a retry time', async () => {
    const store = await open();
    const bucket = { key: 'rl:a', limit: 5, periodMs: 60_000, cost: 1 };
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await store.rateLimit([bucket]);
      expect(d.allowed).toBe(true);
      remaining.push(d.buckets[0]?.remaining ?? -1);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await store.rateLimit([bucket]);
    expect(refused.allowed).toBe(false);
    // One unit comes back every 12 s.
    expect(refused.retryAfterMs).toBeGreaterThan(10_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(12_000);
    expect(refused.buckets[0]?.resetMs).toBeGreaterThan(50_000);
    // Giving 2 units back lets exactly 2 more through.
    await store.rateLimitAdjust({ ...bucket, cost: -2 });
    expect((await store.rateLimit([bucket])).allowed).toBe(true);
    expect((await store.rateLimit([bucket])).allowed).toBe(true);
    expect((await store.rateLimit([bucket])).allowed).toBe(false);
  });

  it('charges several buckets all or nothing, and never lets a cost over the limit through', async () => {
    const store = await open();
    const requests = { key: 'rl:req', limit: 100, periodMs: 60_000, cost: 1 };
    const tokens = { key: 'rl:tok', limit: 1000, periodMs: 60_000, cost: 800 };
    expect((await store.rateLimit([requests, tokens])).allowed).toBe(true);
    const refused = await store.rateLimit([requests, tokens]);
    expect(refused.allowed).toBe(false);
    // The refused request took no request unit. (Tokens come back one per 60 ms: a store reached
    // over RPC on a loaded machine may answer a few of them later.)
    const [requestsLeft, tokensLeft] = refused.buckets.map((b) => b.remaining);
    expect(requestsLeft).toBe(99);
    expect(tokensLeft).toBeGreaterThanOrEqual(200);
    expect(tokensLeft).toBeLessThan(250);
    const never = await store.rateLimit([requests, { ...tokens, key: 'rl:tok2', cost: 1001 }]);
    expect(never.allowed).toBe(false);
    expect(never.retryAfterMs).toBe(-1);
  });

  it('admits exactly the limit under concurrency', async () => {
    const store = await open();
    const bucket = { key: 'rl:conc', limit: 20, periodMs: 60_000, cost: 1 };
    const decisions = await Promise.all(Array.from({ length: 60 }, () => store.rateLimit([bucket])));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
  });

  it('tops up credit once per idempotency key', async () => {
    const store = await open();
    const first = await store.creditTopUp('acct', 5_000_000, 'idem-1');
    expect(first).toMatchObject({ applied: true, amount: 5_000_000, balance: { available: 5_000_000, toppedUp: 5_000_000 } });
    const replay = await store.creditTopUp('acct', 7_000_000, 'idem-1');
    expect(replay).toMatchObject({ applied: false, amount: 5_000_000, balance: { available: 5_000_000 } });
    await store.creditTopUp('acct', 1, 'idem-2');
    expect(await store.creditBalance('acct')).toEqual({ available: 5_000_001, reserved: 0, spent: 0, toppedUp: 5_000_001 });
    expect(await store.creditBalance('nobody')).toEqual({ available: 0, reserved: 0, spent: 0, toppedUp: 0 });
  });

  it('reserves credit atomically and never beyond the balance', async () => {
    const store = await open();
    await store.creditTopUp('acct', 250, 'grant');
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.creditReserve('acct', `r${i}`, 10, 60_000)));
    expect(results.filter((r) => r.ok)).toHaveLength(25);
    expect(await store.creditBalance('acct')).toMatchObject({ available: 0, reserved: 250 });
    expect((await store.creditReserve('nobody', 'x', 1, 60_000)).ok).toBe(false);
  });

  it('settles the real cost, gives back the rest, and settles each reservation once', async () => {
    const store = await open();
    await store.creditTopUp('acct', 1000, 'grant');
    expect((await store.creditReserve('acct', 'r1', 400, 60_000)).balance).toMatchObject({ available: 600, reserved: 400 });
    expect(await store.creditSettle('acct', 'r1', 123)).toBe(123);
    expect(await store.creditSettle('acct', 'r1', 123)).toBeNull();
    expect(await store.creditBalance('acct')).toEqual({ available: 877, reserved: 0, spent: 123, toppedUp: 1000 });
    // A charge above the reservation spends only the reservation.
    await store.creditReserve('acct', 'r2', 100, 60_000);
    expect(await store.creditSettle('acct', 'r2', 500)).toBe(100);
    expect(await store.creditBalance('acct')).toEqual({ available: 777, reserved: 0, spent: 223, toppedUp: 1000 });
  });

  it('gives back reservations nobody settled once they expire', async () => {
    const store = await open();
    await store.creditTopUp('acct', 100, 'grant');
    expect((await store.creditReserve('acct', 'lost', 100, 300)).ok).toBe(true);
    expect((await store.creditReserve('acct', 'r2', 100, 60_000)).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect((await store.creditReserve('acct', 'r2', 100, 60_000)).ok).toBe(true);
    expect(await store.creditBalance('acct')).toEqual({ available: 0, reserved: 100, spent: 0, toppedUp: 100 });
  });

  it('bills a settlement that arrives after its reservation was given back, at most what it held, once', async () => {
    const store = await open();
    await store.creditTopUp('acct', 100, 'grant');
    expect((await store.creditReserve('acct', 'late-a', 40, 300)).ok).toBe(true);
    expect((await store.creditReserve('acct', 'late-b', 30, 300)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    // The key's next request takes everything the two gave back.
    expect((await store.creditReserve('acct', 'r3', 100, 60_000)).balance).toEqual({ available: 0, reserved: 100, spent: 0, toppedUp: 100 });
    expect(await store.creditSettle('acct', 'late-a', 25)).toBe(25);
    expect(await store.creditSettle('acct', 'late-b', 500)).toBe(30);
    // Served, so billed even below zero; and only once.
    expect(await store.creditBalance('acct')).toEqual({ available: -55, reserved: 100, spent: 55, toppedUp: 100 });
    expect(await store.creditSettle('acct', 'late-a', 25)).toBeNull();
    expect(await store.creditSettle('acct', 'never-reserved', 25)).toBeNull();
    expect(await store.creditSettle('acct', 'r3', 10)).toBe(10);
    expect(await store.creditBalance('acct')).toEqual({ available: 35, reserved: 0, spent: 65, toppedUp: 100 });
  });

  it('charges without a reservation once per charge id', async () => {
    const store = await open();
    await store.creditTopUp('acct', 100, 'grant');
    expect(await store.creditCharge('acct', 'c1', 150, 60_000)).toBe(true);
    expect(await store.creditCharge('acct', 'c1', 150, 60_000)).toBe(false);
    expect(await store.creditBalance('acct')).toMatchObject({ available: -50, spent: 150 });
  });

  it('keeps sets', async () => {
    const store = await open();
    await store.sadd('s', 'x');
    await store.sadd('s', 'y');
    await store.sadd('s', 'x');
    expect((await store.smembers('s')).sort()).toEqual(['x', 'y']);
    await store.srem('s', 'x');
    expect(await store.smembers('s')).toEqual(['y']);
  });

  it('delivers published messages to subscribers until they unsubscribe', async () => {
    const store = await open();
    const received: string[] = [];
    const unsubscribe = await store.subscribe('chan', (m) => received.push(m));
    await store.publish('chan', 'hello');
    await expect.poll(() => received).toEqual(['hello']);
    await unsubscribe();
    await store.publish('chan', 'after');
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual(['hello']);
  });

  it('appends to a log and reads it on from any entry, keeping the newest maxLen values', async () => {
    const store = await open();
    expect(await store.logRead('log', '0', { count: 10, blockMs: 0 })).toEqual([]);
    await store.logAppend('log', ['a', 'b'], { maxLen: 3, ttlMs: 60_000 });
    await store.logAppend('log', ['c'], { maxLen: 3, ttlMs: 60_000 });
    const all = await store.logRead('log', '0', { count: 10, blockMs: 0 });
    expect(all.map((e) => e.value)).toEqual(['a', 'b', 'c']);
    expect(new Set(all.map((e) => e.id)).size).toBe(3);
    // On from an entry, at most `count` at a time.
    const [first] = await store.logRead('log', '0', { count: 1, blockMs: 0 });
    expect(first?.value).toBe('a');
    expect((await store.logRead('log', first?.id ?? '', { count: 10, blockMs: 0 })).map((e) => e.value)).toEqual(['b', 'c']);
    expect(await store.logRead('log', all[2]?.id ?? '', { count: 10, blockMs: 0 })).toEqual([]);
    // Past maxLen the oldest go.
    await store.logAppend('log', ['d'], { maxLen: 3, ttlMs: 60_000 });
    expect((await store.logRead('log', '0', { count: 10, blockMs: 0 })).map((e) => e.value)).toEqual(['b', 'c', 'd']);
    await store.del('log');
    expect(await store.logRead('log', '0', { count: 10, blockMs: 0 })).toEqual([]);
  });

  it('expires a log after its ttl, renewed by appending nothing', async () => {
    const store = await open();
    await store.logAppend('log', ['a'], { maxLen: 10, ttlMs: 300 });
    await store.logAppend('log', [], { maxLen: 10, ttlMs: 60_000 });
    // Renewing a log that does not exist creates nothing.
    await store.logAppend('none', [], { maxLen: 10, ttlMs: 60_000 });
    await new Promise((r) => setTimeout(r, 400));
    expect((await store.logRead('log', '0', { count: 10, blockMs: 0 })).map((e) => e.value)).toEqual(['a']);
    expect(await store.logRead('none', '0', { count: 10, blockMs: 0 })).toEqual([]);
    await store.logAppend('short', ['x'], { maxLen: 10, ttlMs: 100 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await store.logRead('short', '0', { count: 10, blockMs: 0 })).toEqual([]);
  });

  it('a blocking read waits for the next append (the Durable Object answers at once: its readers poll)', async () => {
    const store = await open();
    await store.logAppend('log', ['a'], { maxLen: 10, ttlMs: 60_000 });
    const [a] = await store.logRead('log', '0', { count: 10, blockMs: 0 });
    const started = Date.now();
    const empty = await store.logRead('log', a?.id ?? '', { count: 10, blockMs: 150 });
    expect(empty).toEqual([]);
    if (store.kind === 'durable-object') return;
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const next = store.logRead('log', a?.id ?? '', { count: 10, blockMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    await store.logAppend('log', ['b'], { maxLen: 10, ttlMs: 60_000 });
    const read = await next;
    expect(read.map((e) => e.value)).toEqual(['b']);
    // Blocking reads do not hold up other commands: a get answers while three of them wait.
    let waited = false;
    const waiting = Promise.all(Array.from({ length: 3 }, () => store.logRead('log', read[0]?.id ?? '', { count: 1, blockMs: 300 }))).then((r) => {
      waited = true;
      return r;
    });
    expect(await store.get('missing')).toBeNull();
    expect(waited).toBe(false);
    expect(await waiting).toEqual([[], [], []]);
  });
});

describe('credit account rules (memory and Durable Object stores; redis-scripts.ts mirrors them)', () => {
  it('forgets a given-back reservation after EXPIRED_RESERVATION_MEMORY_MS: a settlement later than that bills nothing', () => {
    const a = emptyAccount();
    applyTopUp(a, 100);
    const t0 = 1_000_000;
    expect(applyReserve(a, 'kept', 10, 50, t0)).toBe(true);
    expect(applyReserve(a, 'forgotten', 10, 50, t0)).toBe(true);
    expect(applyReserve(a, 'sweep', 1, 50, t0 + 100)).toBe(true);
    expect(applySettle(a, 'kept', 7)).toBe(7);
    expect(applyReserve(a, 'sweep-later', 1, 50, t0 + 100 + EXPIRED_RESERVATION_MEMORY_MS)).toBe(true);
    expect(applySettle(a, 'forgotten', 7)).toBeNull();
    expect(a).toMatchObject({ available: 100 - 7 - 1, reserved: 1, spent: 7 });
  });
});

describe('redis store namespaces', () => {
  it('keeps two prefixes apart on one server', async () => {
    const a = await createRedisStore({ url: REDIS_URL, prefix: `test:${randomUUID()}:` });
    const b = await createRedisStore({ url: REDIS_URL, prefix: `test:${randomUUID()}:` });
    try {
      await a.set('k', 'from-a');
      expect(await b.get('k')).toBeNull();
      expect(await a.get('k')).toBe('from-a');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('redis store when the server is unreachable', () => {
  it('reports down and fails fast instead of hanging', async () => {
    const store = await createRedisStore({ url: 'redis://127.0.0.1:1', connectWaitMs: 200 });
    try {
      expect(store.state()).toBe('down');
      const started = Date.now();
      await expect(store.get('x')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await store.close();
    }
  });
});
