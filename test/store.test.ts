import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/store/memory.js';
import { createRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const factories: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => createMemoryStore()],
  ['redis', () => createRedisStore({ url: REDIS_URL, prefix: `test:${randomUUID()}:` })],
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

  it('expires values after their ttl', async () => {
    const store = await open();
    await store.set('short', 'v', { ttlMs: 40 });
    expect(await store.get('short')).toBe('v');
    await new Promise((r) => setTimeout(r, 80));
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
