/**
 * The one storage interface of the gateway. Two implementations: memory
 * (single process, the default without REDIS_URL) and Redis (shared by
 * replicas). Keys are plain strings; each implementation adds its own
 * namespace prefix so tests and deployments never collide.
 *
 * Every method may reject when the backing service is down; callers decide
 * whether to fail open (cache) or closed (credits).
 */

export interface SetOptions {
  /** Expire after this many milliseconds. */
  readonly ttlMs?: number;
  /** Only set when the key does not exist (a lock); returns false otherwise. */
  readonly onlyIfAbsent?: boolean;
}

export type StoreState = 'up' | 'down';

export interface Store {
  readonly kind: 'memory' | 'redis';

  get(key: string): Promise<string | null>;
  /** Returns true when the value was written. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(key: string): Promise<void>;

  hgetall(key: string): Promise<Record<string, string>>;
  hset(key: string, fields: Readonly<Record<string, string>>): Promise<void>;
  /** Atomically adds each increment to its field; returns the new values. */
  hincrby(key: string, increments: Readonly<Record<string, number>>): Promise<Record<string, number>>;

  sadd(key: string, member: string): Promise<void>;
  srem(key: string, member: string): Promise<void>;
  smembers(key: string): Promise<string[]>;

  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; the result unsubscribes. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;

  /** Current reachability, and a listener for changes (called once per change). */
  state(): StoreState;
  onStateChange(listener: (state: StoreState) => void): () => void;

  close(): Promise<void>;
}
