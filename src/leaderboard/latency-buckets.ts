/**
 * Fixed latency buckets for the leaderboard: counts add up across time
 * buckets and replicas (a store increment each), which EWMAs and t-digests do
 * not, and percentiles read back within a bucket's width.
 */

/** Upper bounds (ms) of each bucket; the last one is open-ended. */
export const LATENCY_BOUNDS_MS: readonly number[] = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, Number.POSITIVE_INFINITY];

export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i < 0 ? LATENCY_BOUNDS_MS.length - 1 : i;
}

/** The q-quantile (0..1) of bucket counts, interpolated linearly inside its bucket; null without samples. */
export function latencyQuantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const target = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    if (count > 0 && seen + count >= target) {
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const upper = LATENCY_BOUNDS_MS[i] as number;
      // The open last bucket has no width to interpolate in: report its floor.
      if (!Number.isFinite(upper)) return lower;
      return Math.round(lower + ((target - seen) / count) * (upper - lower));
    }
    seen += count;
  }
  return null;
}
