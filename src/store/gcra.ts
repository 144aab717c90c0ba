/**
 * The generic cell rate algorithm, one bucket at a time. The memory store
 * calls this; the Redis store runs the same arithmetic in Lua
 * (redis-scripts.ts), so both stores answer alike and are tested alike.
 *
 * State is one number per bucket: the theoretical arrival time (TAT), the
 * moment the bucket would be empty again. A bucket of `limit` per `periodMs`
 * refills one unit every periodMs/limit and holds at most `limit` (a burst
 * of the whole limit, like OpenAI's per-minute limits).
 */
import type { RateBucket, RateBucketState } from './store.js';

export interface GcraStep {
  readonly allowed: boolean;
  /** The TAT to store when every bucket of the request is allowed. */
  readonly nextTat: number;
  /** ms until this bucket would allow the cost; -1 when it never can. */
  readonly retryAfterMs: number;
}

export function gcraStep(storedTat: number, now: number, bucket: RateBucket): GcraStep {
  const interval = bucket.periodMs / bucket.limit;
  const tat = Math.max(storedTat, now);
  const nextTat = tat + bucket.cost * interval;
  if (bucket.cost > bucket.limit) return { allowed: false, nextTat, retryAfterMs: -1 };
  const allowAt = nextTat - bucket.periodMs;
  if (allowAt > now) return { allowed: false, nextTat, retryAfterMs: Math.ceil(allowAt - now) };
  return { allowed: true, nextTat, retryAfterMs: 0 };
}

/** What a bucket looks like at `now` given its TAT. */
export function gcraState(tat: number, now: number, bucket: RateBucket): RateBucketState {
  const interval = bucket.periodMs / bucket.limit;
  const used = Math.max(tat, now) - now;
  return {
    limit: bucket.limit,
    // The epsilon keeps float noise (59.9999…) from costing a whole unit.
    remaining: Math.max(0, Math.floor((bucket.periodMs - used) / interval + 1e-9)),
    resetMs: Math.ceil(used),
  };
}
