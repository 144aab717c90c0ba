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
import { STORE_OPERATIONS, type StoreOperation } from './failure-counting-store.js';
import type { Store, StoreState } from './store.js';

/** Every store operation but pub/sub, which cannot leave the isolate: what the Durable Object runs. */
export type StoreObjectOperation = Exclude<StoreOperation, 'publish' | 'subscribe'>;

/** The RPC surface of the store's Durable Object; src/worker/store-object.ts implements it. */
export type StoreObjectApi = Pick<Store, StoreObjectOperation>;

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

  type AnyOperation = (...args: unknown[]) => Promise<unknown>;
  const operations = Object.fromEntries(
    STORE_OPERATIONS.filter((op): op is StoreObjectOperation => op !== 'publish' && op !== 'subscribe').map((op) => [
      op,
      (...args: unknown[]) => call((o) => (o[op] as AnyOperation)(...args)),
    ]),
  ) as unknown as StoreObjectApi;

  return {
    kind: 'durable-object',
    broadcast: 'this-isolate',
    ...operations,
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
