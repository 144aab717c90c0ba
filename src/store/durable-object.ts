/**
 * The Store on Cloudflare Workers: every operation is one RPC call to the
 * store's Durable Object (src/worker/store-object.ts), which runs it as one
 * atomic step over its SQLite storage. Strongly consistent across every
 * isolate and location, like one Redis primary for Node replicas.
 *
 * What it cannot do is push: a Worker isolate holds no connection between
 * requests, so publish() reaches only subscribers in this isolate
 * (`broadcast: 'this-isolate'`). Readers that must see other isolates'
 * writes at once (API key revocation) read through instead of caching.
 */
import type { CreditBalance, HashIncrement, RateBucket, RateDecision, SetOptions, Store, StoreState, TopUpResult } from './store.js';

/** The RPC surface of the store's Durable Object; src/worker/store-object.ts implements it. */
export interface StoreObjectApi {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(key: string): Promise<void>;
  hgetall(key: string): Promise<Record<string, string>>;
  hset(key: string, fields: Record<string, string>): Promise<void>;
  hincrby(key: string, increments: Record<string, number>): Promise<Record<string, number>>;
  hincrbyOnce(opId: string, increments: HashIncrement[], ttlMs: number): Promise<boolean>;
  sadd(key: string, member: string): Promise<void>;
  srem(key: string, member: string): Promise<void>;
  smembers(key: string): Promise<string[]>;
  rateLimit(buckets: RateBucket[]): Promise<RateDecision>;
  rateLimitAdjust(bucket: RateBucket): Promise<void>;
  creditTopUp(account: string, amount: number, idempotencyKey: string): Promise<TopUpResult>;
  creditReserve(account: string, reservationId: string, amount: number, ttlMs: number): Promise<{ ok: boolean; balance: CreditBalance }>;
  creditSettle(account: string, reservationId: string, charge: number): Promise<number | null>;
  creditCharge(account: string, chargeId: string, amount: number, ttlMs: number): Promise<boolean>;
  creditBalance(account: string): Promise<CreditBalance>;
}

/** A Durable Object namespace binding whose stubs offer the store's RPC methods. */
export interface StoreObjectNamespace {
  idFromName(name: string): unknown;
  get(id: never): StoreObjectApi;
}

export interface DurableObjectStoreOptions {
  /** Which object: one per namespace, e.g. "taogate:" (REDIS_PREFIX's role on Node). */
  readonly name: string;
  /** A call slower than this fails, so callers can fail open or closed instead of hanging a request. */
  readonly callTimeoutMs?: number;
}

class StoreCallTimeout extends Error {
  override readonly name = 'StoreCallTimeout';
}

export function createDurableObjectStore(namespace: StoreObjectNamespace, options: DurableObjectStoreOptions): Store {
  const timeoutMs = options.callTimeoutMs ?? 2_000;
  const handlers = new Map<string, Set<(message: string) => void>>();
  const stateListeners = new Set<(state: StoreState) => void>();
  let state: StoreState = 'up';

  function setState(next: StoreState): void {
    if (next === state) return;
    state = next;
    for (const listener of stateListeners) listener(next);
  }

  /**
   * A fresh stub per call: a stub made while serving one request must not be
   * used by another on Workers, and making one is a local, cheap operation.
   */
  async function call<T>(op: (object: StoreObjectApi) => Promise<T>): Promise<T> {
    const object = namespace.get(namespace.idFromName(options.name) as never);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreCallTimeout(`store object did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([op(object), timeout]);
      setState('up');
      return result;
    } catch (err) {
      setState('down');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind: 'durable-object',
    broadcast: 'this-isolate',
    get: (key) => call((o) => o.get(key)),
    set: (key, value, opts) => call((o) => o.set(key, value, opts ? { ...opts } : undefined)),
    del: (key) => call((o) => o.del(key)),
    hgetall: (key) => call((o) => o.hgetall(key)),
    async hset(key, fields) {
      if (Object.keys(fields).length > 0) await call((o) => o.hset(key, { ...fields }));
    },
    hincrby: (key, increments) => call((o) => o.hincrby(key, { ...increments })),
    hincrbyOnce: (opId, increments, ttlMs) => call((o) => o.hincrbyOnce(opId, [...increments], ttlMs)),
    sadd: (key, member) => call((o) => o.sadd(key, member)),
    srem: (key, member) => call((o) => o.srem(key, member)),
    smembers: (key) => call((o) => o.smembers(key)),
    rateLimit: (buckets) => call((o) => o.rateLimit([...buckets])),
    rateLimitAdjust: (bucket) => call((o) => o.rateLimitAdjust({ ...bucket })),
    creditTopUp: (account, amount, key) => call((o) => o.creditTopUp(account, amount, key)),
    creditReserve: (account, id, amount, ttlMs) => call((o) => o.creditReserve(account, id, amount, ttlMs)),
    creditSettle: (account, id, charge) => call((o) => o.creditSettle(account, id, charge)),
    creditCharge: (account, id, amount, ttlMs) => call((o) => o.creditCharge(account, id, amount, ttlMs)),
    creditBalance: (account) => call((o) => o.creditBalance(account)),
    async publish(channel, message) {
      // Asynchronous like a real broker, so publishers never re-enter handlers.
      const set = handlers.get(channel);
      if (set) queueMicrotask(() => set.forEach((handler) => handler(message)));
    },
    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(handler);
      return async () => {
        set.delete(handler);
      };
    },
    state: () => state,
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    async close() {
      handlers.clear();
      stateListeners.clear();
    },
  };
}
