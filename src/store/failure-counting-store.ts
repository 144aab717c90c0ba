/**
 * A Store that reports every operation that rejected (Redis down, a command
 * timing out, a script error) before passing the rejection on unchanged.
 * Callers still decide whether to fail open or closed; this only makes the
 * failures countable, including the ones a caller absorbs by failing open.
 */
import type { Store } from './store.js';

/** The store's asynchronous operations: what a failure is reported as. */
export type StoreOperation = Exclude<keyof Store, 'kind' | 'state' | 'onStateChange' | 'close'>;

/** Every operation, so a new Store method that is not listed here fails to compile. */
const OPERATIONS: Readonly<Record<StoreOperation, true>> = {
  get: true,
  set: true,
  del: true,
  hgetall: true,
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
  publish: true,
  subscribe: true,
};

export const STORE_OPERATIONS = Object.keys(OPERATIONS) as readonly StoreOperation[];

type AnyOperation = (...args: unknown[]) => Promise<unknown>;

export function countStoreFailures(store: Store, onFailure: (operation: StoreOperation) => void): Store {
  const counted = (operation: StoreOperation): AnyOperation => {
    const run = (store[operation] as AnyOperation).bind(store);
    return (...args) =>
      run(...args).catch((err: unknown) => {
        onFailure(operation);
        throw err;
      });
  };
  const operations = Object.fromEntries(STORE_OPERATIONS.map((operation) => [operation, counted(operation)])) as Pick<Store, StoreOperation>;
  return {
    ...operations,
    kind: store.kind,
    state: () => store.state(),
    onStateChange: (listener) => store.onStateChange(listener),
    close: () => store.close(),
  };
}
