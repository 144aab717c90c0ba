/**
 * The one storage interface of the gateway. Three implementations: memory
 * (single process, the default without REDIS_URL), Redis (shared by Node
 * replicas) and a Durable Object (shared by every Worker isolate). Keys are
 * plain strings; each implementation keeps its own namespace (a key prefix,
 * an object per name) so tests and deployments never collide.
 *
 * Every method may reject when the backing service is down, with a
 * StoreUnavailableError; callers decide whether to fail open (cache) or
 * closed (credits). A request that can do neither answers 503
 * store_unavailable (src/http/error-response.ts), never a 500.
 */

/** The store did not do what it was asked: unreachable, timed out, or it refused the command. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`store ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface SetOptions {
  /** Expire after this many milliseconds. */
  readonly ttlMs?: number;
  /** Only set when the key does not exist (a lock); returns false otherwise. */
  readonly onlyIfAbsent?: boolean;
}

export type StoreState = 'up' | 'down';

/**
 * One rate-limit bucket (GCRA): at most `limit` units per `periodMs`, with a
 * burst of the whole limit. `cost` is what this request takes (1 for
 * requests, a token estimate for tokens).
 */
export interface RateBucket {
  readonly key: string;
  readonly limit: number;
  readonly periodMs: number;
  readonly cost: number;
}

export interface RateBucketState {
  readonly limit: number;
  /** Units still available right now, after this request if it was allowed. */
  readonly remaining: number;
  /** Until the bucket is full again (ms). */
  readonly resetMs: number;
}

export interface RateDecision {
  /** All buckets had room; each was charged. Otherwise none was. */
  readonly allowed: boolean;
  /** When refused: how long until it would pass (ms); -1 if it never can (cost > limit). */
  readonly retryAfterMs: number;
  /** One per bucket, in the order given. */
  readonly buckets: readonly RateBucketState[];
}

export interface HashIncrOptions {
  /** (Re)sets the hash's expiry to this many milliseconds from now. */
  readonly ttlMs?: number;
}

/** One field increment of an idempotent batch. */
export interface HashIncrement {
  readonly key: string;
  readonly field: string;
  readonly by: number;
}

/** A prepaid account, micro-dollars. */
export interface CreditBalance {
  /** Spendable now: top-ups minus spent minus reserved. */
  readonly available: number;
  /** Held by requests in flight. */
  readonly reserved: number;
  readonly spent: number;
  readonly toppedUp: number;
}

export interface TopUpResult {
  /** False when this idempotency key was used before (nothing added this time). */
  readonly applied: boolean;
  /** The amount recorded under this idempotency key (the first call's). */
  readonly amount: number;
  readonly balance: CreditBalance;
}

/** One value of an append-only log (a Redis Stream), with the id a reader passes back to read on after it. */
export interface LogEntry {
  readonly id: string;
  readonly value: string;
}

export interface LogAppendOptions {
  /** Only the newest this many values are kept. */
  readonly maxLen: number;
  /** (Re)sets the whole log's expiry to this many milliseconds from now. */
  readonly ttlMs: number;
}

export interface LogReadOptions {
  /** At most this many values. */
  readonly count: number;
  /**
   * With nothing to return yet, wait this long for a value to be appended
   * (0: answer at once). Redis blocks on a connection of its own; memory
   * waits in-process; the Durable Object answers at once (its readers poll).
   */
  readonly blockMs: number;
}

export interface Store {
  readonly kind: 'memory' | 'redis' | 'durable-object';
  /**
   * Who receives publish(): 'all-clients' when every client of this store
   * hears it (one process for memory, every replica for Redis);
   * 'this-isolate' when only subscribers in this isolate do (Workers hold no
   * connection between requests). Caches invalidated by messages must read
   * through when it is 'this-isolate'.
   */
  readonly broadcast: 'all-clients' | 'this-isolate';

  get(key: string): Promise<string | null>;
  /** Returns true when the value was written. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(key: string): Promise<void>;
  /**
   * Deletes the value only while it is still `expected`, atomically: a lock
   * holder lets go of its own lock, never of one another holder took after
   * its own expired. Returns whether it was deleted.
   */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** Sets the value's expiry to `ttlMs` from now only while it is still `expected` (a lock holder renewing its own lock), atomically. */
  compareAndExpire(key: string, expected: string, ttlMs: number): Promise<boolean>;

  hgetall(key: string): Promise<Record<string, string>>;
  /**
   * Every hash of `keys`, in their order, in one round trip (a pipeline on
   * Redis, one call to the Durable Object): what the leaderboard's window of
   * time buckets needs.
   */
  hgetallMany(keys: readonly string[]): Promise<Array<Record<string, string>>>;
  hset(key: string, fields: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Atomically adds each increment to its field; returns the new values.
   * With `ttlMs` the whole hash expires that long after this call (time
   * buckets of a rolling window, e.g. the leaderboard, clean themselves up).
   */
  hincrby(key: string, increments: Readonly<Record<string, number>>, options?: HashIncrOptions): Promise<Record<string, number>>;

  sadd(key: string, member: string): Promise<void>;
  srem(key: string, member: string): Promise<void>;
  smembers(key: string): Promise<string[]>;

  /**
   * Applies increments once per `opId` (a retried batch whose first attempt
   * did land is not applied twice). The id is remembered for `ttlMs`.
   * Returns false when it was already applied.
   */
  hincrbyOnce(opId: string, increments: readonly HashIncrement[], ttlMs: number): Promise<boolean>;

  /** Checks and charges every bucket atomically: all or none. */
  rateLimit(buckets: readonly RateBucket[]): Promise<RateDecision>;
  /** Moves a bucket by `cost` (negative gives back) after the fact; never below empty. */
  rateLimitAdjust(bucket: RateBucket): Promise<void>;

  /** Adds credit once per idempotency key. */
  creditTopUp(account: string, amount: number, idempotencyKey: string): Promise<TopUpResult>;
  /**
   * Holds `amount` if that much is available, atomically. A reservation not
   * settled within `ttlMs` (its gateway died, or its settlement waits out a
   * store outage) is given back on a later call, and remembered for
   * EXPIRED_RESERVATION_MEMORY_MS (credit-account.ts) so a late settlement
   * still bills it.
   */
  creditReserve(account: string, reservationId: string, amount: number, ttlMs: number): Promise<{ ok: boolean; balance: CreditBalance }>;
  /**
   * Spends min(charge, reserved) and gives back the rest. A reservation that
   * was already given back (expired) is billed min(charge, what it held) out
   * of `available`, even below zero: the request was served. Returns what
   * was spent, or null when the reservation is neither held nor remembered
   * (settled already, or expired longer ago than the store remembers).
   */
  creditSettle(account: string, reservationId: string, charge: number): Promise<number | null>;
  /**
   * Spends without a reservation, once per `chargeId` (remembered `ttlMs`):
   * the late bill of a request served while the store was down and credits
   * fail open. May take `available` below zero; that is the operator's choice.
   */
  creditCharge(account: string, chargeId: string, amount: number, ttlMs: number): Promise<boolean>;
  creditBalance(account: string): Promise<CreditBalance>;

  /**
   * Appends values, in order, to the log at `key` and sets its expiry; with
   * no values only renews the expiry of a log that exists. What the response
   * cache relays a stream through to other replicas.
   */
  logAppend(key: string, values: readonly string[], options: LogAppendOptions): Promise<void>;
  /** Values appended after the entry `after` ('0': from the start), oldest first; [] when none (the log may not exist). */
  logRead(key: string, after: string, options: LogReadOptions): Promise<LogEntry[]>;

  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; the result unsubscribes. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;

  /** Current reachability, and a listener for changes (called once per change). */
  state(): StoreState;
  onStateChange(listener: (state: StoreState) => void): () => void;

  close(): Promise<void>;
}
