/**
 * In-process store: the default without REDIS_URL, and the twin the Redis
 * store is tested against. Single process only: replicas need Redis.
 */
import { EventEmitter } from 'node:events';
import type { SetOptions, Store, StoreState } from './store.js';

interface Entry<T> {
  value: T;
  /** ms since epoch, or Infinity. */
  expiresAt: number;
}

export function createMemoryStore(): Store {
  const values = new Map<string, Entry<string>>();
  const hashes = new Map<string, Map<string, string>>();
  const sets = new Map<string, Set<string>>();
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

  function hash(key: string, create: true): Map<string, string>;
  function hash(key: string, create: false): Map<string, string> | undefined;
  function hash(key: string, create: boolean): Map<string, string> | undefined {
    let h = hashes.get(key);
    if (!h && create) {
      h = new Map();
      hashes.set(key, h);
    }
    return h;
  }

  return {
    kind: 'memory',
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
      sets.delete(key);
    },
    async hgetall(key) {
      return Object.fromEntries(hash(key, false) ?? []);
    },
    async hset(key, fields) {
      const h = hash(key, true);
      for (const [field, value] of Object.entries(fields)) h.set(field, value);
    },
    async hincrby(key, increments) {
      const h = hash(key, true);
      const result: Record<string, number> = {};
      for (const [field, by] of Object.entries(increments)) {
        const next = Number(h.get(field) ?? '0') + by;
        h.set(field, String(next));
        result[field] = next;
      }
      return result;
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
