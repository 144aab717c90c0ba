/** The response cache's counters: `gateway.cache.stats()`, GET /admin/cache and the cache metrics. */
export interface CacheStats {
  readonly enabled: boolean;
  /** Answers served without a miner call of their own (coalesced followers included). */
  readonly hits: number;
  /** Cacheable requests that called a miner. */
  readonly misses: number;
  /** Requests the cache stayed out of (not deterministic, no-store, private mode, pinned, compare, cache off). */
  readonly bypasses: number;
  /** Hits that were followers of an identical request in flight, here or on another replica. */
  readonly coalesced: number;
  readonly stored: number;
  /** Answers not kept because their entry was over CACHE_MAX_ENTRY_BYTES. */
  readonly tooLarge: number;
  /** Shared store calls that failed or timed out (each one failed open). */
  readonly errors: number;
  readonly evictions: number;
  readonly memoryEntries: number;
  readonly memoryBytes: number;
  readonly inFlight: number;
  /** `none` with the memory store (no Redis on Node). */
  readonly shared: 'up' | 'down' | 'none';
}
