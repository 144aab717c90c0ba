/**
 * The cache's side of the shared store (Redis for Node replicas, the
 * Durable Object for Worker isolates): entries every replica can read,
 * claims so that only one replica calls the miner for a key, and, where the
 * store broadcasts to every client (Redis), a notice when a claimed answer
 * is in. Without such a broadcast (Workers) waiting replicas poll. Where
 * the store can also block a read until a value comes (Redis), a leading
 * stream is relayed to followers on other replicas through a log
 * (replica-stream.ts); on Workers it is not (see replica-claim.ts).
 *
 * The cache is an optimization, so it fails open: every call is bounded by
 * CACHE_STORE_TIMEOUT_MS, and an error or timeout is a miss (or, for the
 * claim, "go ahead"). Nothing is tried while the store is known to be down.
 * Availability is logged once per change, and failures are counted.
 */
import type { Logger } from '../log.js';
import type { LogEntry, Store } from '../store/store.js';
import { decodeEntry, type CacheEntry } from './cache-entry.js';

const entryKey = (key: string) => `cache:v1:${key}`;
const claimKey = (key: string) => `cache:claim:${key}`;
/** A stream's events as its leader relays them, per claim (a new holder never appends to an old holder's log). */
const streamKey = (key: string, token: string) => `cache:stream:${key}:${token}`;
const FILLED_CHANNEL = 'cache:filled';
/** At most this many events per relayed stream (and 32 MiB of them: replica-stream.ts). */
export const MAX_RELAYED_EVENTS = 100_000;
/** Slack past a blocking read's wait for its empty answer to arrive through a busy event loop. */
const BLOCKED_READ_GRACE_MS = 250;
/**
 * The least time a relayed stream's append may take: far past
 * CACHE_STORE_TIMEOUT_MS (made for lookups a request waits on), since one
 * append that gives up too soon cuts every follower's stream, and the
 * leader's own client never waits for it.
 */
const MIN_APPEND_TIMEOUT_MS = 1_000;

/** How one call is bounded. */
interface CallLimits<T> {
  /** Instead of CACHE_STORE_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** What running out of time answers when it is no failure of the store (a blocking read: nothing came, read again). */
  readonly onTimeout?: { readonly value: T };
}

/** An entry as read back, with the size of its stored form. */
export interface StoredEntry {
  readonly entry: CacheEntry;
  readonly bytes: number;
}

class CacheStoreTimeout extends Error {
  override readonly name = 'CacheStoreTimeout';
}

export class SharedTier {
  private available: boolean;
  private failures = 0;
  private readonly waiters = new Map<string, Set<(filled: boolean | null) => void>>();
  /** Notices arrive (the store broadcasts to every client); otherwise waiting is polling alone. */
  private readonly hearsNotices: boolean;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** Per relayed stream this replica leads (its log's key): told when a follower on another replica starts (+1) or stops (-1) reading it. */
  private readonly followerWatchers = new Map<string, (change: 1 | -1) => void>();
  private readonly unwatch: () => void;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {
    this.available = store.state() === 'up';
    this.unwatch = store.onStateChange((state) => this.setAvailable(state === 'up', state === 'up' ? null : 'the store is down'));
    // A store that only reaches this isolate (Workers) would carry notices from one request to another, which workerd forbids, and to no other isolate.
    this.hearsNotices = store.broadcast === 'all-clients';
    if (!this.hearsNotices) return;
    // Not awaited: with Redis down at start-up a subscription waits for it, and serving must not.
    store.subscribe(FILLED_CHANNEL, (message) => this.onNotice(message)).then(
      (unsubscribe) => {
        this.unsubscribe = unsubscribe;
      },
      () => undefined,
    );
  }

  /** Reachable as far as the cache knows (a failed call marks it unreachable until the next success). */
  get up(): boolean {
    return this.available && this.store.state() === 'up';
  }

  /** Calls that failed or timed out. */
  get errors(): number {
    return this.failures;
  }

  async get(key: string): Promise<StoredEntry | null> {
    const text = await this.call(() => this.store.get(entryKey(key)), null);
    const entry = text === null ? null : decodeEntry(text);
    return entry ? { entry, bytes: Buffer.byteLength(text as string) } : null;
  }

  /** Resolves once written (or failed): a Worker must finish its writes before its request ends. */
  async put(key: string, encoded: string, ttlMs: number): Promise<void> {
    await this.call(() => this.store.set(entryKey(key), encoded, { ttlMs }), false);
  }

  /** True when this replica may call the miner: it took the claim with `token`, or the store cannot say. */
  claim(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.call(() => this.store.set(claimKey(key), token, { ttlMs, onlyIfAbsent: true }), true);
  }

  /** Extends this replica's own claim; false once the claim is no longer `token`'s (it ran out, another replica may hold it). */
  renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.call(() => this.store.compareAndExpire(claimKey(key), token, ttlMs), true);
  }

  /** Whether some replica holds the key's claim (false when the store cannot say: nothing to wait for then). */
  async claimed(key: string): Promise<boolean> {
    return ((await this.holder(key)) ?? null) !== null;
  }

  /** The token of the key's claim: null when none is held, undefined when the store did not answer. */
  holder(key: string): Promise<string | null | undefined> {
    return this.call<string | null | undefined>(() => this.store.get(claimKey(key)), undefined);
  }

  /**
   * True where a leading stream is relayed to other replicas as it comes:
   * the store broadcasts notices and blocks reads (Redis). A Worker holds no
   * connection to block on, and would poll the object for every chunk.
   */
  get relaysStreams(): boolean {
    return this.hearsNotices;
  }

  /** Appends to the stream log of the claim `token` holds on `key` (no values: renews it); false when it failed. */
  appendStream(key: string, token: string, values: readonly string[], ttlMs: number): Promise<boolean> {
    const run = async () => {
      await this.store.logAppend(streamKey(key, token), values, { maxLen: MAX_RELAYED_EVENTS, ttlMs });
      return true;
    };
    return this.call(run, false, { timeoutMs: Math.max(MIN_APPEND_TIMEOUT_MS, 10 * this.timeoutMs) });
  }

  /**
   * Values of that log after `after`, waiting up to `blockMs` for one; null
   * when the store failed or is down. A blocked read that outlasts its wait
   * answers none: the caller reads again.
   */
  readStream(key: string, token: string, after: string, count: number, blockMs: number): Promise<LogEntry[] | null> {
    const run = () => this.store.logRead(streamKey(key, token), after, { count, blockMs });
    if (blockMs <= 0) return this.call(run, null);
    // A blocked read answers when its wait ends: CACHE_STORE_TIMEOUT_MS starts counting a little after that.
    return this.call<LogEntry[] | null>(run, null, { timeoutMs: blockMs + BLOCKED_READ_GRACE_MS + this.timeoutMs, onTimeout: { value: [] } });
  }

  /** Wakes replicas waiting on the key: its leader's stream has started. */
  async announceStream(key: string): Promise<void> {
    await this.call(() => this.store.publish(FILLED_CHANNEL, `2${key}`), undefined);
  }

  /**
   * Tells the replica relaying the claim `token`'s stream that one more
   * follower reads it (or one fewer): it reads on for them after its own
   * clients left only while some follower does.
   */
  async announceFollowing(key: string, token: string, following: boolean): Promise<void> {
    // Nobody would hear it where notices reach only this isolate (Workers: nothing is relayed there).
    if (!this.hearsNotices) return;
    await this.call(() => this.store.publish(FILLED_CHANNEL, `${following ? 3 : 4}${token} ${key}`), undefined);
  }

  /** Calls `onChange` as followers of this replica's relayed stream come and go; returns the function that stops it. */
  watchFollowers(key: string, token: string, onChange: (change: 1 | -1) => void): () => void {
    const watched = streamKey(key, token);
    this.followerWatchers.set(watched, onChange);
    return () => {
      if (this.followerWatchers.get(watched) === onChange) this.followerWatchers.delete(watched);
    };
  }

  /** Gives this replica's claim back (never another's) and tells waiting replicas whether an entry is there to read. */
  async release(key: string, token: string, filled: boolean): Promise<void> {
    await this.call(async () => {
      await this.store.compareAndDelete(claimKey(key), token);
      if (this.hearsNotices) await this.store.publish(FILLED_CHANNEL, `${filled ? 1 : 0}${key}`);
    }, undefined);
  }

  /**
   * Resolves with the next notice for the key (true: filled, false: nothing
   * to share), or null after `ms`, once `signal` aborts, or when the
   * holder's stream started. Without notices, just waits.
   */
  nextNotice(key: string, ms: number, signal: AbortSignal): Promise<boolean | null> {
    return new Promise((resolve) => {
      const waiters = this.hearsNotices ? this.waitersOf(key) : null;
      const done = (filled: boolean | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (waiters) {
          waiters.delete(done);
          if (waiters.size === 0) this.waiters.delete(key);
        }
        resolve(filled);
      };
      const onAbort = () => done(null);
      const timer = setTimeout(onAbort, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      waiters?.add(done);
    });
  }

  async close(): Promise<void> {
    this.unwatch();
    await this.unsubscribe?.().catch(() => undefined);
  }

  private waitersOf(key: string): Set<(filled: boolean | null) => void> {
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    return set;
  }

  private onNotice(message: string): void {
    if (message.startsWith('3') || message.startsWith('4')) {
      const space = message.indexOf(' ');
      const watcher = this.followerWatchers.get(streamKey(message.slice(space + 1), message.slice(1, space)));
      watcher?.(message.startsWith('3') ? 1 : -1);
      return;
    }
    const waiters = this.waiters.get(message.slice(1));
    const notice = message.startsWith('2') ? null : message.startsWith('1');
    if (waiters) for (const wake of [...waiters]) wake(notice);
  }

  /**
   * Runs one store call within its time (CACHE_STORE_TIMEOUT_MS unless
   * `limits` says otherwise); on failure returns `fallback` (fail open) and
   * marks the store unreachable. A blocking read that runs out of time
   * answers nothing instead (see readStream).
   */
  private async call<T>(run: () => Promise<T>, fallback: T, limits: CallLimits<T> = {}): Promise<T> {
    if (this.store.state() !== 'up') return fallback;
    const timeoutMs = limits.timeoutMs ?? this.timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CacheStoreTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.setAvailable(true, null);
      return result;
    } catch (err) {
      if (limits.onTimeout && err instanceof CacheStoreTimeout) return limits.onTimeout.value;
      this.failures++;
      this.setAvailable(false, err instanceof Error ? err.message : String(err));
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  private setAvailable(available: boolean, detail: string | null): void {
    if (available === this.available) return;
    this.available = available;
    const store = this.store.kind;
    if (available) this.logger.info({ cache: store }, 'response cache: the shared store answers again; hits and coalescing span replicas again');
    else this.logger.warn({ cache: store, detail }, 'response cache: the shared store is failing or slow; requests go on without it (this replica\'s memory only)');
  }
}
