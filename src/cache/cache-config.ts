/**
 * The response cache's environment variables, merged into the gateway's
 * EnvSchema (src/config.ts) like metering's and reliability's.
 */
import { z } from 'zod';
import { envFlag, envPositiveInt } from '../env-values.js';

const positiveInt = envPositiveInt;

const CacheEnvSchema = z.object({
  /** 0 turns the cache off: every answer is BYPASS. */
  CACHE_ENABLED: envFlag.default(true),
  /** `global`: one answer serves every key; `key`: each API key has its own entries. */
  CACHE_SCOPE: z.enum(['global', 'key']).default('global'),
  /**
   * 1 caches every otherwise cacheable request, sampled ones too (by default only
   * temperature 0 or a seed); a request's `x-taogate-cache-nondeterministic` overrides it.
   */
  CACHE_NONDETERMINISTIC: envFlag.default(false),
  /** How long an answer is kept when the request does not say (`x-taogate-cache-ttl`). */
  CACHE_DEFAULT_TTL_S: positiveInt.default(3600),
  /** The longest TTL a request may ask for; longer asks are cut to this. */
  CACHE_MAX_TTL_S: positiveInt.default(86_400),
  /** Answers whose stored form is larger are served but not kept. */
  CACHE_MAX_ENTRY_BYTES: positiveInt.default(1024 * 1024),
  /** This process's in-memory entries (the whole cache without REDIS_URL, a first tier in front of Redis with it), LRU by bytes. */
  CACHE_MEMORY_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** What a cache hit costs, as a percentage of the model's price for the same tokens (0 = free). */
  CACHE_HIT_PRICE_PCT: z.coerce.number().int().min(0).max(100).default(0),
  /**
   * Across replicas: how long one replica's claim on a request lasts unless
   * renewed. Its holder renews it every third of this while it runs, so
   * this is how soon a replica that died stops holding the others up.
   */
  CACHE_CLAIM_TTL_MS: positiveInt.default(5_000),
  /** A Redis cache read or write slower than this counts as a miss (fail open); never delays a request by more. */
  CACHE_STORE_TIMEOUT_MS: positiveInt.default(50),
});

export const CacheEnvShape = CacheEnvSchema.shape;

export type CacheSettings = z.infer<typeof CacheEnvSchema>;
