/**
 * A Store whose rejections pass through a function first: the Redis store
 * uses it to type every failure as StoreUnavailableError, and the gateway
 * to count every operation that rejected (Redis down, a command timing out,
 * a script error), including the ones a caller absorbs by failing open.
 * Callers still decide whether to fail open or closed.
 */
import type { Store } from './store.js';

/** The store's asynchronous operations: what a failure is reported as. */
export type StoreOperation = Exclude<keyof Store, 'kind' | 'broadcast' | 'state' | 'onStateChange' | 'close'>;

/** Every operation, so a new Store method that is not listed here fails to compile. */
const OPERATIONS: Readonly<Record<StoreOperation, true>> = {
  get: true,
  set: true,
  del: true,
  compareAndDelete: true,
  compareAndExpire: true,
  hgetall: true,
  hgetallMany: true,
  hset: true,
  hincrby: true,
  sadd: true,
  srem: true,
  smembers: true,
  hincrbyOnce: true,
  rateLimit: true,
  rateLimitAdjust: true,
  creditTopUp: true,
  creditReserve: true,
  creditSettle: true,
  creditCharge: true,
  creditBalance: true,
  logAppend: true,
  logRead: true,
  publish: true,
  subscribe: true,
};

export const STORE_OPERATIONS = Object.keys(OPERATIONS) as readonly StoreOperation[];

type AnyOperation = (...args: unknown[]) => Promise<unknown>;

/** `store` with each rejection replaced by what `onRejection` returns (it may return the error itself). */
export function mapStoreRejections(store: Store, onRejection: (operation: StoreOperation, err: unknown) => unknown): Store {
  const mapped = (operation: StoreOperation): AnyOperation => {
    const run = (store[operation] as AnyOperation).bind(store);
    return (...args) =>
      run(...args).catch((err: unknown) => {
        throw onRejection(operation, err);
      });
  };
  const operations = Object.fromEntries(STORE_OPERATIONS.map((operation) => [operation, mapped(operation)])) as Pick<Store, StoreOperation>;
  return {
    ...operations,
    kind: store.kind,
    broadcast: store.broadcast,
    state: () => store.state(),
    onStateChange: (listener) => store.onStateChange(listener),
    close: () => store.close(),
  };
}

export function countStoreFailures(store: Store, onFailure: (operation: StoreOperation) => void): Store {
  return mapStoreRejections(store, (operation, err) => {
    onFailure(operation);
    return err;
  });
}
