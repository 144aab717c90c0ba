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
/** Request header: 1 caches this request even though its sampling is not deterministic; 0 refuses it even when CACHE_NONDETERMINISTIC=1. */
export const CACHE_NONDETERMINISTIC_HEADER = 'x-taogate-cache-nondeterministic';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/**
 * What the caller wants of the cache for one completion. `bypass` means the
 * answer is neither read from nor written to the cache (no-store, private
 * mode, comparisons); `use` reads and writes, with `ttlS` when the client set one,
 * and `nondeterministic` when the client said whether a sampled (not
 * deterministic) request may be cached (absent: CACHE_NONDETERMINISTIC decides).
 */
export interface CacheDirective {
  readonly mode: 'use' | 'bypass';
  readonly ttlS?: number;
  readonly nondeterministic?: boolean;
}

export const USE_CACHE: CacheDirective = Object.freeze({ mode: 'use' });
export const BYPASS_CACHE: CacheDirective = Object.freeze({ mode: 'bypass' });

const WHOLE_SECONDS = /^\d{1,10}$/;

/**
 * From request headers: `cache-control: no-store` bypasses; `x-taogate-cache-ttl: <s>`
 * sets the TTL (0 = do not store, which bypasses too); `x-taogate-cache-nondeterministic: 1|0`
 * opts a sampled request in (or out). A TTL that is not a whole number of seconds,
 * or an opt-in that is not 1/0, is a 400, so a typo does not silently keep an answer
 * for an hour or silently leave a request uncached. The opt-in is checked even under
 * no-store, so the same typo is a 400 whatever else the request says.
 */
export function cacheDirectiveFromHeaders(header: (name: string) => string | undefined): CacheDirective {
  const nondeterministic = parseNondeterministicHeader(header(CACHE_NONDETERMINISTIC_HEADER));
  const control = header('cache-control');
  if (control && /(?:^|[\s,])no-store(?:$|[\s,;=])/i.test(control)) return BYPASS_CACHE;
  const ttl = header(CACHE_TTL_HEADER);
  let ttlS: number | undefined;
  if (ttl !== undefined) {
    const text = ttl.trim();
    if (!WHOLE_SECONDS.test(text)) {
      throw invalidRequest(`Invalid ${CACHE_TTL_HEADER} header: expected a whole number of seconds, got ${JSON.stringify(ttl.slice(0, 40))}.`, CACHE_TTL_HEADER, 'invalid_cache_ttl');
    }
    ttlS = Number(text);
    if (ttlS === 0) return BYPASS_CACHE;
  }
  if (ttlS === undefined && nondeterministic === undefined) return USE_CACHE;
  return { mode: 'use', ...(ttlS !== undefined && { ttlS }), ...(nondeterministic !== undefined && { nondeterministic }) };
}

/** 1/true/yes or 0/false/no (any case); no header: undefined (the configuration decides). */
function parseNondeterministicHeader(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  throw invalidRequest(
    `Invalid ${CACHE_NONDETERMINISTIC_HEADER} header: expected 1 or 0, got ${JSON.stringify(value.slice(0, 40))}.`,
    CACHE_NONDETERMINISTIC_HEADER,
    'invalid_header',
  );
}

/**
 * Why this request must not be cached, or null when it may be. By default
 * only deterministic-enough sampling is cached: temperature 0, or a seed
 * (OpenAI's default temperature is 1, so leaving it out is not 0);
 * `cacheNondeterministic` (the request's opt-in, else CACHE_NONDETERMINISTIC)
 * lifts that rule: the caller accepts one sampled answer served again.
 * Private mode and no-store are the caller's to say, with a bypass directive.
 */
export function uncacheableReason(request: CompletionLikeRequest, pinned: boolean, cacheNondeterministic = false): string | null {
  // A pin asks for particular miners: another miner's stored answer is not what was asked for.
  if (pinned) return 'pinned to miners';
  if (cacheNondeterministic) return null;
  if (request.temperature !== 0 && (request.seed === undefined || request.seed === null)) return 'not deterministic';
  return null;
}

/** The TTL an entry gets: the request's ask, else the default, never more than the maximum. */
export function effectiveTtlS(directive: CacheDirective, defaultS: number, maxS: number): number {
  return Math.min(directive.ttlS ?? defaultS, maxS);
}
