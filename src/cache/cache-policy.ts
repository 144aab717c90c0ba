/**
 * Whether a request may be answered from, and recorded into, the cache.
 * Two parts: what the client's headers ask (read by the route handler into
 * a CacheDirective on the completion call), and whether the request itself
 * is deterministic enough that a stored answer is a fair answer.
 */
import { invalidRequest } from '../errors.js';
import type { CompletionLikeRequest } from '../openai/requests.js';

export const CACHE_STATUS_HEADER = 'x-taogate-cache';
export const CACHE_TTL_HEADER = 'x-taogate-cache-ttl';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/**
 * What the caller wants of the cache for one completion. `bypass` means the
 * answer is neither read from nor written to the cache (no-store, private
 * mode, comparisons); `use` reads and writes, with `ttlS` when the client set one.
 */
export interface CacheDirective {
  readonly mode: 'use' | 'bypass';
  readonly ttlS?: number;
}

export const USE_CACHE: CacheDirective = Object.freeze({ mode: 'use' });
export const BYPASS_CACHE: CacheDirective = Object.freeze({ mode: 'bypass' });

const WHOLE_SECONDS = /^\d{1,10}$/;

/**
 * From request headers: `cache-control: no-store` bypasses; `x-taogate-cache-ttl: <s>`
 * sets the TTL (0 = do not store, which bypasses too). A TTL that is not a whole
 * number of seconds is a 400, so a typo does not silently keep an answer for an hour.
 */
export function cacheDirectiveFromHeaders(header: (name: string) => string | undefined): CacheDirective {
  const control = header('cache-control');
  if (control && /(?:^|[\s,])no-store(?:$|[\s,;=])/i.test(control)) return BYPASS_CACHE;
  const ttl = header(CACHE_TTL_HEADER);
  if (ttl === undefined) return USE_CACHE;
  const text = ttl.trim();
  if (!WHOLE_SECONDS.test(text)) {
    throw invalidRequest(`Invalid ${CACHE_TTL_HEADER} header: expected a whole number of seconds, got ${JSON.stringify(ttl.slice(0, 40))}.`, CACHE_TTL_HEADER, 'invalid_cache_ttl');
  }
  const ttlS = Number(text);
  return ttlS === 0 ? BYPASS_CACHE : { mode: 'use', ttlS };
}

/**
 * Why this request must not be cached, or null when it may be. Only
 * deterministic-enough sampling is cached: temperature 0, or a seed
 * (OpenAI's default temperature is 1, so leaving it out is not 0).
 * Private mode is the caller's to say, with a bypass directive.
 */
export function uncacheableReason(request: CompletionLikeRequest, pinned: boolean): string | null {
  // A pin asks for particular miners: another miner's stored answer is not what was asked for.
  if (pinned) return 'pinned to miners';
  if (request.temperature !== 0 && (request.seed === undefined || request.seed === null)) return 'not deterministic';
  return null;
}

/** The TTL an entry gets: the request's ask, else the default, never more than the maximum. */
export function effectiveTtlS(directive: CacheDirective, defaultS: number, maxS: number): number {
  return Math.min(directive.ttlS ?? defaultS, maxS);
}
