/**
 * The response cache's counters, read at scrape time from the cache's own
 * running totals (`stats()`), so a lookup costs the metrics nothing.
 */
import { Counter, type Registry } from 'prom-client';
import type { CacheStats } from '../cache/cache-stats.js';

const EVENTS = { hit: 'hits', miss: 'misses', bypass: 'bypasses', error: 'errors', coalesced: 'coalesced' } as const satisfies Record<string, keyof CacheStats>;

export class CacheCounters {
  private readonly events: Counter<'event'>;

  constructor(
    registry: Registry,
    private readonly stats: () => CacheStats,
  ) {
    this.events = new Counter({ name: 'taogate_cache_events_total', help: 'Response cache lookups by result: hit, miss, bypass, error, coalesced', labelNames: ['event'], registers: [registry] });
  }

  refresh(): void {
    const stats = this.stats();
    this.events.reset();
    for (const [event, field] of Object.entries(EVENTS)) this.events.inc({ event }, stats[field]);
  }
}
