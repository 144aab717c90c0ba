/**
 * The cache's side of the shared store (Redis): entries every replica can
 * read, a short claim so that only one replica calls the miner for a key,
 * and a notice when the claimed answer is in.
 *
 * The cache is an optimization, so it fails open: every call is bounded by
 * CACHE_STORE_TIMEOUT_MS, and an error or timeout is a miss (or, for the
 * claim, "go ahead"). Nothing is tried while the store is known to be down.
 * Availability is logged once per change, and failures are counted.
 */
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { decodeEntry, type CacheEntry } from './cache-entry.js';

const entryKey = (key: string) => `cache:v1:${key}`;
const claimKey = (key: string) => `cache:claim:${key}`;
const FILLED_CHANNEL = 'cache:filled';
/** While waiting on another replica's claim: how often the entry and the claim are looked at, in case a notice is lost. */
const POLL_MS = 100;

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
  private readonly waiters = new Map<string, Set<(filled: boolean) => void>>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly unwatch: () => void;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {
    this.available = store.state() === 'up';
    this.unwatch = store.onStateChange((state) => this.setAvailable(state === 'up', state === 'up' ? null : 'the store is down'));
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

  put(key: string, encoded: string, ttlMs: number): void {
    void this.call(() => this.store.set(entryKey(key), encoded, { ttlMs }), false);
  }

  /** True when this replica may call the miner: it took the claim, or the store cannot say. */
  async claim(key: string, ttlMs: number): Promise<boolean> {
    return this.call(() => this.store.set(claimKey(key), '1', { ttlMs, onlyIfAbsent: true }), true);
  }

  /** Gives the claim back and tells waiting replicas whether an entry is there to read. */
  release(key: string, filled: boolean): void {
    void this.call(async () => {
      await this.store.del(claimKey(key));
      await this.store.publish(FILLED_CHANNEL, `${filled ? 1 : 0}${key}`);
    }, undefined);
  }

  /**
   * Waits for the replica holding the claim: its entry, or null when it had
   * none to share, its claim went away without one, or `maxWaitMs` passed.
   */
  async awaitAnswer(key: string, maxWaitMs: number): Promise<StoredEntry | null> {
    const until = Date.now() + maxWaitMs;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0 || !this.up) return null;
      const notice = await this.nextNotice(key, Math.min(POLL_MS, left));
      if (notice === false) return null;
      const entry = await this.get(key);
      if (entry) return entry;
      if (notice === true) return null;
      const claimed = await this.call(() => this.store.get(claimKey(key)), null);
      if (claimed === null) return null;
    }
  }

  async close(): Promise<void> {
    this.unwatch();
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** Resolves with the next notice for the key (true: filled, false: nothing to share), or null after `ms`. */
  private nextNotice(key: string, ms: number): Promise<boolean | null> {
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const waiters = set;
      const done = (filled: boolean | null) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(key);
        resolve(filled);
      };
      const timer = setTimeout(() => done(null), ms);
      waiters.add(done);
    });
  }

  private onNotice(message: string): void {
    const waiters = this.waiters.get(message.slice(1));
    if (waiters) for (const wake of [...waiters]) wake(message.startsWith('1'));
  }

  /** Runs one store call within the timeout; on failure returns `fallback` (fail open) and marks the store unreachable. */
  private async call<T>(run: () => Promise<T>, fallback: T): Promise<T> {
    if (this.store.state() !== 'up') return fallback;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CacheStoreTimeout(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      this.setAvailable(true, null);
      return result;
    } catch (err) {
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
    if (available) this.logger.info({ cache: 'redis' }, 'response cache: the shared store answers again; hits and coalescing span replicas again');
    else this.logger.warn({ cache: 'redis', detail }, 'response cache: the shared store is failing or slow; requests go on without it (this replica\'s memory only)');
  }
}
