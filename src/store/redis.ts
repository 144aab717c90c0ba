/**
 * Redis store (ioredis), shared by replicas. Commands fail fast while Redis
 * is unreachable (no offline queue, bounded command time) so that callers can
 * fail open or closed instead of hanging a client request on a dead socket.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { EXPIRED_RESERVATION_MEMORY_MS } from './credit-account.js';
import { mapStoreRejections } from './failure-counting-store.js';
import { registerScripts } from './redis-scripts.js';
import { StoreUnavailableError, type CreditBalance, type LogEntry, type SetOptions, type Store, type StoreState } from './store.js';

export interface RedisStoreOptions {
  readonly url: string;
  /** Namespace for every key and channel, e.g. "taogate:". */
  readonly prefix?: string;
  /** A command slower than this fails (the caller decides what that means). */
  readonly commandTimeoutMs?: number;
  /** How long start-up waits for a first connection before serving without it. */
  readonly connectWaitMs?: number;
  readonly logger?: Logger;
}

function connectionOptions(options: RedisStoreOptions): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Keep trying forever, but never faster than every 2 s once it is down.
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    lazyConnect: true,
  };
}

/** Where a prepaid account's parts live; braces keep them in one cluster slot. */
const creditKeys = (account: string) => ({
  account: `credits:{${account}}`,
  reservations: `credits:{${account}}:resv`,
  expiries: `credits:{${account}}:resv_exp`,
  /** Reservations given back unsettled (id → held), and when each is forgotten. */
  givenBack: `credits:{${account}}:resv_gone`,
  givenBackForget: `credits:{${account}}:resv_gone_exp`,
  topUps: `credits:{${account}}:topups`,
});

const reservationKeys = (k: ReturnType<typeof creditKeys>) => [k.account, k.reservations, k.expiries, k.givenBack, k.givenBackForget];

const onceKey = (opId: string) => `once:${opId}`;

function toBalance(values: readonly unknown[]): CreditBalance {
  const [available, reserved, spent, toppedUp] = values.map(Number);
  return { available: available ?? 0, reserved: reserved ?? 0, spent: spent ?? 0, toppedUp: toppedUp ?? 0 };
}

/** Blocking log reads kept connected for the next one; more at once each get a connection that is closed after. */
const IDLE_BLOCKING_CONNECTIONS = 8;

type XReadReply = Array<[string, Array<[string, string[]]>]> | null;

function logEntries(reply: XReadReply): LogEntry[] {
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, fields]) => ({ id, value: fields[1] ?? '' }));
}

export async function createRedisStore(options: RedisStoreOptions): Promise<Store> {
  const prefix = options.prefix ?? 'taogate:';
  const base = connectionOptions(options);
  const client = new Redis(options.url, { ...base, keyPrefix: prefix });
  // A subscriber connection can only subscribe; it needs the offline queue so
  // subscriptions made while down are replayed on reconnect.
  const subscriber = new Redis(options.url, { ...base, enableOfflineQueue: true, autoResubscribe: true });
  const run = registerScripts(client);
  const handlers = new Map<string, Set<(message: string) => void>>();
  const stateListeners = new Set<(state: StoreState) => void>();
  let state: StoreState = 'down';

  function setState(next: StoreState, detail?: string): void {
    if (next === state) return;
    state = next;
    const log = options.logger;
    if (next === 'up') log?.info({ store: 'redis', state: next }, 'redis store is up');
    else log?.warn({ store: 'redis', state: next, detail }, 'redis store is down');
    for (const listener of stateListeners) listener(next);
  }
  client.on('ready', () => setState('up'));
  client.on('close', () => setState('down', 'connection closed'));
  client.on('error', (err: Error) => setState('down', err.message));
  subscriber.on('error', () => {
    // Reported once through the command client's state; nothing to add here.
  });
  subscriber.on('message', (channel: string, message: string) => {
    const set = handlers.get(channel.slice(prefix.length));
    if (set) for (const handler of set) handler(message);
  });

  /**
   * XREAD BLOCK holds its connection until a value comes or the wait ends:
   * each blocking read borrows a connection of its own, never the command
   * client's. Bounded by the wait plus the command timeout; a read that
   * outlasts it has its connection dropped.
   */
  const idleBlocking: Redis[] = [];
  const commandTimeoutMs = options.commandTimeoutMs ?? 500;
  let closed = false;
  async function blockingRead(key: string, after: string, count: number, blockMs: number): Promise<LogEntry[]> {
    const connection = idleBlocking.pop() ?? new Redis(options.url, { ...base, keyPrefix: prefix, commandTimeout: undefined });
    connection.on('error', () => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let healthy = false;
    try {
      const read = (async () => {
        if (connection.status === 'wait') await connection.connect();
        return (await connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, after)) as XReadReply;
      })();
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${blockMs + commandTimeoutMs} ms`)), blockMs + commandTimeoutMs);
      });
      const reply = await Promise.race([read, limit]);
      healthy = true;
      return logEntries(reply);
    } finally {
      clearTimeout(timer);
      connection.removeAllListeners('error');
      if (healthy && !closed && connection.status === 'ready' && idleBlocking.length < IDLE_BLOCKING_CONNECTIONS) {
        connection.on('error', () => undefined);
        idleBlocking.push(connection);
      } else connection.disconnect();
    }
  }

  const connectWait = options.connectWaitMs ?? 2000;
  await Promise.race([
    Promise.allSettled([client.connect(), subscriber.connect()]),
    new Promise((resolve) => setTimeout(resolve, connectWait).unref()),
  ]);

  const store: Store = {
    kind: 'redis',
    broadcast: 'all-clients',
    async get(key) {
      return client.get(key);
    },
    async set(key, value, opts: SetOptions = {}) {
      const result =
        opts.ttlMs !== undefined
          ? opts.onlyIfAbsent
            ? await client.set(key, value, 'PX', opts.ttlMs, 'NX')
            : await client.set(key, value, 'PX', opts.ttlMs)
          : opts.onlyIfAbsent
            ? await client.set(key, value, 'NX')
            : await client.set(key, value);
      return result === 'OK';
    },
    async del(key) {
      await client.del(key);
    },
    async compareAndDelete(key, expected) {
      return (await run('taogateCompareAndDelete', [key], [expected])) === 1;
    },
    async compareAndExpire(key, expected, ttlMs) {
      return (await run('taogateCompareAndExpire', [key], [expected, ttlMs])) === 1;
    },
    async hgetall(key) {
      return client.hgetall(key);
    },
    async hgetallMany(keys) {
      if (keys.length === 0) return [];
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.hgetall(key);
      const replies = (await pipeline.exec()) ?? [];
      return keys.map((_, i) => {
        const [err, value] = replies[i] ?? [new Error('missing reply'), null];
        if (err) throw err;
        return value as Record<string, string>;
      });
    },
    async hset(key, fields) {
      if (Object.keys(fields).length > 0) await client.hset(key, fields);
    },
    async hincrby(key, increments, opts = {}) {
      const fields = Object.entries(increments);
      const multi = client.multi();
      for (const [field, by] of fields) multi.hincrby(key, field, by);
      if (opts.ttlMs !== undefined) multi.pexpire(key, opts.ttlMs);
      const replies = (await multi.exec()) ?? [];
      const result: Record<string, number> = {};
      fields.forEach(([field], i) => {
        const [err, value] = replies[i] ?? [new Error('missing reply'), null];
        if (err) throw err;
        result[field] = Number(value);
      });
      return result;
    },
    async hincrbyOnce(opId, increments, ttlMs) {
      const keys = [onceKey(opId), ...increments.map((i) => i.key)];
      const args = [ttlMs, ...increments.flatMap((i) => [i.field, i.by])];
      return (await run('taogateHincrbyOnce', keys, args)) === 1;
    },
    async rateLimit(buckets) {
      const args = buckets.flatMap((b) => [b.limit, b.periodMs, b.cost]);
      const out = ((await run('taogateRateLimit', buckets.map((b) => b.key), args)) as string[]).map(Number);
      return {
        allowed: out[0] === 1,
        retryAfterMs: out[1] ?? 0,
        buckets: buckets.map((b, i) => ({ limit: b.limit, remaining: out[2 + i * 2] ?? 0, resetMs: out[3 + i * 2] ?? 0 })),
      };
    },
    async rateLimitAdjust(bucket) {
      await run('taogateRateAdjust', [bucket.key], [bucket.limit, bucket.periodMs, bucket.cost]);
    },
    async creditTopUp(account, amount, idempotencyKey) {
      const k = creditKeys(account);
      const out = (await run('taogateCreditTopUp', [k.account, k.topUps], [amount, idempotencyKey])) as string[];
      return { applied: out[0] === '1', amount: Number(out[1]), balance: toBalance(out.slice(2)) };
    },
    async creditReserve(account, reservationId, amount, ttlMs) {
      const k = creditKeys(account);
      const args = [reservationId, amount, ttlMs, EXPIRED_RESERVATION_MEMORY_MS];
      const out = (await run('taogateCreditReserve', reservationKeys(k), args)) as string[];
      return { ok: out[0] === '1', balance: toBalance(out.slice(1)) };
    },
    async creditSettle(account, reservationId, charge) {
      const k = creditKeys(account);
      const spent = Number(await run('taogateCreditSettle', reservationKeys(k), [reservationId, charge]));
      return spent < 0 ? null : spent;
    },
    async creditCharge(account, chargeId, amount, ttlMs) {
      return (await run('taogateCreditCharge', [onceKey(chargeId), creditKeys(account).account], [amount, ttlMs])) === 1;
    },
    async creditBalance(account) {
      return toBalance(await client.hmget(creditKeys(account).account, 'available', 'reserved', 'spent', 'topped_up'));
    },
    async sadd(key, member) {
      await client.sadd(key, member);
    },
    async srem(key, member) {
      await client.srem(key, member);
    },
    async smembers(key) {
      return client.smembers(key);
    },
    async logAppend(key, values, opts) {
      const multi = client.multi();
      for (const value of values) multi.xadd(key, 'MAXLEN', opts.maxLen, '*', 'v', value);
      multi.pexpire(key, opts.ttlMs);
      const replies = (await multi.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
    },
    async logRead(key, after, opts) {
      if (opts.blockMs > 0) return blockingRead(key, after, opts.count, opts.blockMs);
      return logEntries((await client.xread('COUNT', opts.count, 'STREAMS', key, after)) as XReadReply);
    },
    async publish(channel, message) {
      await client.publish(prefix + channel, message);
    },
    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        handlers.set(channel, (set = new Set()));
        await subscriber.subscribe(prefix + channel);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(channel);
          await subscriber.unsubscribe(prefix + channel).catch(() => undefined);
        }
      };
    },
    state() {
      return state;
    },
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    async close() {
      stateListeners.clear();
      closed = true;
      for (const connection of idleBlocking.splice(0)) connection.disconnect();
      client.disconnect();
      subscriber.disconnect();
    },
  };
  // Whatever ioredis rejected with (closed stream, command timeout, a reply error) reaches callers as one type.
  return mapStoreRejections(store, (operation, err) => new StoreUnavailableError(operation, err));
}
