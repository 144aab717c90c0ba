/**
 * When to hedge: if the miner a request went to has not produced its first
 * byte by the subnet's usual worst case (p95 of its time to first byte, by
 * default), a second miner is started and the first valid answer wins. A
 * JSON answer's first byte is its response headers, so the delay is taken
 * over those times and a miner whose reply has begun is never hedged for a
 * long body; a stream's is its first chunk with a choice. The delay never
 * drops below a floor, and before a subnet has enough samples a fixed
 * default is used.
 *
 * Streams are hedged too (HEDGE_MODE=all, the default): the race ends at the
 * first valid chunk and the loser is cancelled right then, so the duplicate
 * work is bounded by the time to first token, which is exactly the latency a
 * streaming user feels. HEDGE_MODE=non-stream or off narrows it.
 *
 * A budget caps hedges at a share of requests (token bucket per subnet), so
 * a subnet that slows down as a whole is not hit with up to twice the load
 * before its p95 catches up.
 */
import type { SubnetStats } from './health-registry.js';

export type HedgeMode = 'off' | 'non-stream' | 'all';

export interface HedgeOptions {
  readonly mode: HedgeMode;
  /** Quantile of the subnet's time to first byte after which a hedge starts (0.95 = p95). */
  readonly quantile: number;
  readonly minDelayMs: number;
  /** Used until the subnet has `minSamples` answers of the request's kind. */
  readonly defaultDelayMs: number;
  /** Hedges allowed per 100 requests, on average. */
  readonly budgetPercent: number;
}

/** Answers needed before the subnet's own quantile is trusted. */
const MIN_SAMPLES = 20;
/** Hedges a subnet may start in a burst (the bucket's size and its initial fill). */
export const HEDGE_BURST = 10;

export class HedgePolicy {
  private readonly earnPerRequest: number;

  constructor(readonly options: HedgeOptions) {
    this.earnPerRequest = options.budgetPercent / 100;
  }

  enabled(stream: boolean): boolean {
    return this.options.mode === 'all' || (this.options.mode === 'non-stream' && !stream);
  }

  /** How long to wait for the first miner's first byte before hedging, in ms. */
  delayMs(stats: SubnetStats, stream: boolean): number {
    const histogram = stream ? stats.streamTtfb : stats.jsonTtfb;
    if (histogram.samples < MIN_SAMPLES) return Math.max(this.options.minDelayMs, this.options.defaultDelayMs);
    return Math.max(this.options.minDelayMs, histogram.quantile(this.options.quantile));
  }

  /** Each request earns a fraction of a hedge for its subnet. */
  earn(stats: SubnetStats): void {
    stats.hedgeTokens = Math.min(HEDGE_BURST, stats.hedgeTokens + this.earnPerRequest);
  }

  /** Spends one hedge from the subnet's budget; false when it is used up. */
  spend(stats: SubnetStats): boolean {
    if (stats.hedgeTokens < 1) return false;
    stats.hedgeTokens -= 1;
    return true;
  }
}
