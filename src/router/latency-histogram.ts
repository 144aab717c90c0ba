/**
 * A latency distribution that costs O(1) per sample and forgets slowly, so
 * quantiles (the hedge delay is a subnet's p95) follow the subnet as it
 * changes. Buckets are log-spaced (×1.25), so a quantile is exact to within
 * 25 %, which is plenty for "when is this request unusually slow".
 */

const RATIO = 1.25;
const LOG_RATIO = Math.log(RATIO);
/** 1.25^80 ≈ 5.6e7 ms: anything slower lands in the last bucket. */
const BUCKETS = 80;
/** Every this many samples all counts are halved: the last ~2× this many dominate. */
const HALVE_EVERY = 512;
/** A cached quantile is reused for this many samples before it is recomputed. */
const RECOMPUTE_EVERY = 16;

function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  const b = Math.ceil(Math.log(ms) / LOG_RATIO);
  return b < BUCKETS ? b : BUCKETS - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  /** Sum of counts (decays with them). */
  private weight = 0;
  private sinceHalving = 0;
  private cachedQ = Number.NaN;
  private cachedValue = Number.NaN;
  private sinceCached = Number.POSITIVE_INFINITY;

  record(ms: number): void {
    this.counts[bucketOf(ms)]! += 1;
    this.weight += 1;
    this.sinceCached++;
    if (++this.sinceHalving >= HALVE_EVERY) {
      for (let i = 0; i < BUCKETS; i++) this.counts[i]! *= 0.5;
      this.weight *= 0.5;
      this.sinceHalving = 0;
    }
  }

  /** Samples currently weighing in (decayed): how much the quantile can be trusted. */
  get samples(): number {
    return this.weight;
  }

  /** Upper bound of the bucket holding quantile q (0..1), or NaN without samples. */
  quantile(q: number): number {
    if (this.weight === 0) return Number.NaN;
    if (q === this.cachedQ && this.sinceCached < RECOMPUTE_EVERY) return this.cachedValue;
    const target = q * this.weight;
    let seen = 0;
    let bucket = BUCKETS - 1;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) {
        bucket = i;
        break;
      }
    }
    this.cachedQ = q;
    this.cachedValue = RATIO ** bucket;
    this.sinceCached = 0;
    return this.cachedValue;
  }
}
