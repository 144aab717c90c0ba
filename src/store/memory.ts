/**
 * In-process store: the default without REDIS_URL, and the twin the Redis
 * store is tested against. Single process only: replicas need Redis.
 */
import { EventEmitter } from 'node:events';
import { gcraState, gcraStep } from './gcra.js';
import { MemoryCredits } from './memory-credits.js';
import type { LogEntry, SetOptions, Store, StoreState } from './store.js';

interface Entry<T> {
  value: T;
  /** ms since epoch, or Infinity. */
  expiresAt: number;
}

export function createMemoryStore(): Store {
  const values = new Map<string, Entry<string>>();
  const hashes = new Map<string, Map<string, string>>();
  /** Expiry (ms since epoch) of hashes written with a ttl; the rest never expire. */
  const hashExpiries = new Map<string, number>();
  const sets = new Map<string, Set<string>>();
  /** Rate buckets: key → TAT (ms since epoch). */
  const tats = new Map<string, number>();
  /** Append-only logs: entries with increasing numeric ids, the next id, and when the log expires. */
  const logs = new Map<string, { entries: LogEntry[]; nextId: number; expiresAt: number }>();
  const credits = new MemoryCredits();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  function live(key: string): Entry<string> | undefined {
    const entry = values.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      values.delete(key);
      return undefined;
    }
    return entry;
  }

  function liveLog(key: string) {
    const log = logs.get(key);
    if (log && log.expiresAt <= Date.now()) {
      logs.delete(key);
      return undefined;
    }
    return log;
  }

  function logAfter(key: string, after: string, count: number): LogEntry[] {
    const from = Number(after);
    return (liveLog(key)?.entries ?? []).filter((e) => Number(e.id) > from).slice(0, count);
  }

  function hash(key: string, create: true): Map<string, string>;
  function hash(key: string, create: false): Map<string, string> | undefined;
  function hash(key: string, create: boolean): Map<string, string> | undefined {
    const expiresAt = hashExpiries.get(key);
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      hashes.delete(key);
      hashExpiries.delete(key);
    }
    let h = hashes.get(key);
    if (!h && create) {
      h = new Map();
      hashes.set(key, h);
    }
    return h;
  }

  return {
    kind: 'memory',
    broadcast: 'all-clients',
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, options: SetOptions = {}) {
      if (options.onlyIfAbsent && live(key)) return false;
      const expiresAt = options.ttlMs !== undefined ? Date.now() + options.ttlMs : Infinity;
      values.set(key, { value, expiresAt });
      return true;
    },
    async del(key) {
      values.delete(key);
      hashes.delete(key);
      hashExpiries.delete(key);
      sets.delete(key);
      logs.delete(key);
    },
    async compareAndDelete(key, expected) {
      if (live(key)?.value !== expected) return false;
      values.delete(key);
      return true;
    },
    async compareAndExpire(key, expected, ttlMs) {
      const entry = live(key);
      if (entry?.value !== expected) return false;
      entry.expiresAt = Date.now() + ttlMs;
      return true;
    },
    async hgetall(key) {
      return Object.fromEntries(hash(key, false) ?? []);
    },
    async hgetallMany(keys) {
      return keys.map((key) => Object.fromEntries(hash(key, false) ?? []));
    },
    async hset(key, fields) {
      const h = hash(key, true);
      for (const [field, value] of Object.entries(fields)) h.set(field, value);
    },
    async hincrby(key, increments, options = {}) {
      const h = hash(key, true);
      if (options.ttlMs !== undefined) hashExpiries.set(key, Date.now() + options.ttlMs);
      const result: Record<string, number> = {};
      for (const [field, by] of Object.entries(increments)) {
        const next = Number(h.get(field) ?? '0') + by;
        h.set(field, String(next));
        result[field] = next;
      }
      return result;
    },
    async hincrbyOnce(opId, increments, ttlMs) {
      if (live(`once:${opId}`)) return false;
      values.set(`once:${opId}`, { value: '1', expiresAt: Date.now() + ttlMs });
      for (const { key, field, by } of increments) {
        const h = hash(key, true);
        h.set(field, String(Number(h.get(field) ?? '0') + by));
      }
      return true;
    },
    async rateLimit(buckets) {
      const now = Date.now();
      const steps = buckets.map((b) => gcraStep(tats.get(b.key) ?? 0, now, b));
      const allowed = steps.every((s) => s.allowed);
      if (allowed) steps.forEach((s, i) => tats.set((buckets[i] as (typeof buckets)[number]).key, s.nextTat));
      const refused = steps.filter((s) => !s.allowed);
      const retryAfterMs = refused.some((s) => s.retryAfterMs < 0) ? -1 : Math.max(0, ...refused.map((s) => s.retryAfterMs));
      return { allowed, retryAfterMs, buckets: buckets.map((b) => gcraState(tats.get(b.key) ?? 0, now, b)) };
    },
    async rateLimitAdjust(bucket) {
      const now = Date.now();
      const tat = Math.max(tats.get(bucket.key) ?? 0, now) + (bucket.cost * bucket.periodMs) / bucket.limit;
      tats.set(bucket.key, Math.max(tat, now));
    },
    async creditTopUp(account, amount, idempotencyKey) {
      return credits.topUp(account, amount, idempotencyKey);
    },
    async creditReserve(account, reservationId, amount, ttlMs) {
      return credits.reserve(account, reservationId, amount, ttlMs);
    },
    async creditSettle(account, reservationId, charge) {
      return credits.settle(account, reservationId, charge);
    },
    async creditCharge(account, chargeId, amount, ttlMs) {
      return credits.charge(account, chargeId, amount, ttlMs);
    },
    async creditBalance(account) {
      return credits.balance(account);
    },
    async sadd(key, member) {
      let s = sets.get(key);
      if (!s) sets.set(key, (s = new Set()));
      s.add(member);
    },
    async srem(key, member) {
      sets.get(key)?.delete(member);
    },
    async smembers(key) {
      return [...(sets.get(key) ?? [])];
    },
    async logAppend(key, appended, options) {
      let log = liveLog(key);
      if (appended.length === 0) {
        if (log) log.expiresAt = Date.now() + options.ttlMs;
        return;
      }
      if (!log) logs.set(key, (log = { entries: [], nextId: 1, expiresAt: 0 }));
      for (const value of appended) log.entries.push({ id: String(log.nextId++), value });
      if (log.entries.length > options.maxLen) log.entries.splice(0, log.entries.length - options.maxLen);
      log.expiresAt = Date.now() + options.ttlMs;
      bus.emit(`log:${key}`);
    },
    async logRead(key, after, options) {
      const ready = logAfter(key, after, options.count);
      if (ready.length > 0 || options.blockMs <= 0) return ready;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          bus.off(`log:${key}`, done);
          resolve();
        };
        const timer = setTimeout(done, options.blockMs);
        bus.on(`log:${key}`, done);
      });
      return logAfter(key, after, options.count);
    },
    async publish(channel, message) {
      // Asynchronous like a real broker, so publishers never re-enter handlers.
      queueMicrotask(() => bus.emit(channel, message));
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
      return async () => {
        bus.off(channel, handler);
      };
    },
    state(): StoreState {
      return 'up';
    },
    onStateChange() {
      return () => {};
    },
    async close() {
      bus.removeAllListeners();
    },
  };
}
