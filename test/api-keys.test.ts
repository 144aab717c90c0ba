import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { ApiKeyRegistry, hashApiKey, KEY_PREFIX } from '../src/metering/api-keys.js';
import { createMemoryStore } from '../src/store/memory.js';
import { createRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: Store[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

async function registry(store: Store) {
  opened.push(store);
  const keys = new ApiKeyRegistry(store, silentLogger());
  await keys.start();
  return keys;
}

const stores: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => createMemoryStore()],
  ['redis', () => createRedisStore({ url: REDIS_URL, prefix: `test:${randomUUID()}:` })],
];

describe.each(stores)('api keys on the %s store', (_name, open) => {
  it('creates a key, stores only its hash, and authenticates it', async () => {
    const store = await open();
    const keys = await registry(store);
    const { key, record } = await keys.create({ name: 'alice', creditsUsd: 12.5, rpm: 60 });
    expect(key.startsWith(KEY_PREFIX)).toBe(true);
    expect(record.creditsMicroUsd).toBe(12_500_000);
    const fields = await store.hgetall(`key:${record.id}`);
    expect(fields.hash).toBe(hashApiKey(key));
    expect(Object.values(fields)).not.toContain(key);
    expect((await keys.authenticate(key))?.id).toBe(record.id);
    expect(await keys.authenticate(`${key}x`)).toBeNull();
    expect(await keys.authenticate('not-a-key')).toBeNull();
    expect((await keys.list()).map((r) => r.id)).toContain(record.id);
  });

  it('refuses credits beyond micro-dollars instead of rounding them', async () => {
    const store = await open();
    const keys = await registry(store);
    await expect(keys.create({ name: 'sub-micro', creditsUsd: 0.1234567 })).rejects.toThrow(/credits_usd.*6 decimals/);
    expect(await keys.list()).toEqual([]);
    expect((await keys.create({ name: 'micro', creditsUsd: 0.123456 })).record.creditsMicroUsd).toBe(123_456);
  });

    it('revocation takes effect at once', async () => {
    const keys = await registry(await open());
    const { key, record } = await keys.create({ name: 'bob' });
    expect(await keys.authenticate(key)).not.toBeNull();
    const revoked = await keys.revoke(record.id);
    expect(revoked?.revokedAt).toBeGreaterThan(0);
    expect(await keys.authenticate(key)).toBeNull();
    expect((await keys.get(record.id))?.revokedAt).toBe(revoked?.revokedAt);
    expect(await keys.revoke('key_unknown')).toBeNull();
  });
});

describe('revocation across replicas sharing Redis', () => {
  it('a key cached by another replica stops working when one replica revokes it', async () => {
    const prefix = `test:${randomUUID()}:`;
    const replicaA = await registry(await createRedisStore({ url: REDIS_URL, prefix }));
    const replicaB = await registry(await createRedisStore({ url: REDIS_URL, prefix }));
    const { key, record } = await replicaA.create({ name: 'shared' });
    // B caches the key in-process on first use.
    expect((await replicaB.authenticate(key))?.id).toBe(record.id);
    await replicaA.revoke(record.id);
    await expect.poll(() => replicaB.authenticate(key), { timeout: 2000 }).toBeNull();
  });
});

describe('keys CLI', () => {
  it('creates and revokes a key in Redis', async () => {
    const prefix = `test:${randomUUID()}:`;
    const env = { ...process.env, REDIS_URL, REDIS_PREFIX: prefix };
    const run = promisify(execFile);
    const created = await run('npx', ['tsx', 'src/metering/keys-cli.ts', 'create', '--name', 'cli', '--rpm', '30'], { env });
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
    const keys = await registry(await createRedisStore({ url: REDIS_URL, prefix }));
    expect((await keys.authenticate(key))?.rpm).toBe(30);
    await run('npx', ['tsx', 'src/metering/keys-cli.ts', 'revoke', id], { env });
    expect(await keys.authenticate(key)).toBeNull();
    const bad = await run('npx', ['tsx', 'src/metering/keys-cli.ts', 'create'], { env }).catch((e: { stderr: string; code: number }) => e);
    expect((bad as { stderr: string }).stderr).toMatch(/--name is required/);
  });

  it('validates create flags with the admin API schema: refuses what POST /admin/keys refuses, naming the flag', async () => {
    const prefix = `test:${randomUUID()}:`;
    const env = { ...process.env, REDIS_URL, REDIS_PREFIX: prefix };
    const run = promisify(execFile);
    const create = (...flags: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/metering/keys-cli.ts', 'create', '--name', 'cli-checked', ...flags], { env }).then(
        (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const refused = await Promise.all([
      create('--rpm', '0'),
      create('--tpm', '1000.5'),
      create('--tpm', ''),
      create('--credits-usd', '0.1234567'),
      create('--credits-usd=-1'),
    ]);
    const messages = refused.map((r) => {
      expect(r.code).toBe(1);
      return r.stderr.trim();
    });
    expect(messages).toEqual([
      '--rpm: Too small: expected number to be >0 (got "0")',
      '--tpm: Invalid input: expected int, received number (got "1000.5")',
      '--tpm: Invalid input: expected number, received NaN (got "")',
      '--credits-usd: has more than 6 decimals (micro-dollars are the smallest unit) (got "0.1234567")',
      '--credits-usd: Too small: expected number to be >=0 (got "-1")',
    ]);
    const keys = await registry(await createRedisStore({ url: REDIS_URL, prefix }));
    expect(await keys.list()).toEqual([]);

    const ok = await create('--credits-usd', '1.000001', '--rpm', '60', '--tpm', '5000', '--private', '--trusted-scorer');
    expect(ok.code).toBe(0);
    const { id } = JSON.parse(ok.stdout) as { id: string };
    expect(await keys.get(id)).toMatchObject({ creditsMicroUsd: 1_000_001, rpm: 60, tpm: 5000, private: true, trustedScorer: true });
  }, 60_000);
});
