/**
 * The hedge delay and budget as configured: HEDGE_QUANTILE picks the
 * quantile of a subnet's time to answer (LatencyHistogram, log buckets
 * ×1.25, so a quantile is the upper bound of its bucket: at most 25 % above
 * the true value, never below it), HEDGE_BUDGET_PCT caps hedges at a share
 * of requests. Built from the environment as the gateway builds it.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { SubnetStats } from '../src/router/health-registry.js';
import { HEDGE_BURST, HedgePolicy } from '../src/router/hedge-policy.js';
import { LatencyHistogram } from '../src/router/latency-histogram.js';
import { createReliability, type Reliability } from '../src/router/reliability.js';

/** A subnet that answered once in each of 1, 2, …, 100 ms (non-stream). */
function subnetAnswering1To100(reliability: Reliability): { stats: SubnetStats; hedge: HedgePolicy } {
  const stats = reliability.health.subnet(4);
  for (let ms = 1; ms <= 100; ms++) stats.jsonTtfb.record(ms);
  return { stats, hedge: reliability.hedge };
}

/** The bucket rule: the reported quantile is the true one rounded up to the next bucket bound, so within ×1.25 above it. */
function expectWithinBucketOf(value: number, truth: number): void {
  expect(value).toBeGreaterThanOrEqual(truth);
  expect(value).toBeLessThan(truth * 1.25);
}

describe('LatencyHistogram.quantile', () => {
  it('is the upper bound of the bucket the quantile falls in', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.95)).toBeNaN();
    for (let ms = 1; ms <= 100; ms++) histogram.record(ms);
    expect(histogram.samples).toBe(100);
    expectWithinBucketOf(histogram.quantile(0.95), 95);
    expectWithinBucketOf(histogram.quantile(0.5), 50);
    expectWithinBucketOf(histogram.quantile(0.99), 99);
    expect(histogram.quantile(0.5)).toBeLessThan(histogram.quantile(0.95));
  });
});

describe('the hedge delay', () => {
  // The floor (HEDGE_MIN_DELAY_MS, default 100) is lowered so it cannot stand in for the quantile.
  it('is the subnet’s p95 by default (HEDGE_QUANTILE=0.95)', () => {
    const { stats, hedge } = subnetAnswering1To100(createReliability(loadConfig({ HEDGE_MIN_DELAY_MS: '1' })));
    expectWithinBucketOf(hedge.delayMs(stats, false), 95);
  });

  it('follows HEDGE_QUANTILE', () => {
    const { stats, hedge } = subnetAnswering1To100(createReliability(loadConfig({ HEDGE_QUANTILE: '0.5', HEDGE_MIN_DELAY_MS: '1' })));
    expectWithinBucketOf(hedge.delayMs(stats, false), 50);
  });

  it('is HEDGE_DEFAULT_DELAY_MS until the subnet has 20 answers of the request’s kind, and never below HEDGE_MIN_DELAY_MS', () => {
    const reliability = createReliability(loadConfig({ HEDGE_DEFAULT_DELAY_MS: '1500', HEDGE_MIN_DELAY_MS: '120' }));
    const stats = reliability.health.subnet(5);
    for (let i = 0; i < 19; i++) stats.jsonTtfb.record(10);
    expect(reliability.hedge.delayMs(stats, false)).toBe(1500);
    stats.jsonTtfb.record(10);
    // 20 answers of ~10 ms: their p95 is below the floor.
    expect(reliability.hedge.delayMs(stats, false)).toBe(120);
    // Streams are measured apart: none yet.
    expect(reliability.hedge.delayMs(stats, true)).toBe(1500);
  });
});

describe('the hedge budget (HEDGE_BUDGET_PCT)', () => {
  it('refuses a hedge once the subnet’s budget is used, and earns it back per request', () => {
    const { stats, hedge } = subnetAnswering1To100(createReliability(loadConfig({ HEDGE_BUDGET_PCT: '25' })));
    // A subnet starts with a burst's worth.
    for (let i = 0; i < HEDGE_BURST; i++) expect(hedge.spend(stats)).toBe(true);
    expect(hedge.spend(stats)).toBe(false);
    // 25 per 100 requests: three requests earn 0.75 of a hedge, the fourth the whole one.
    for (let i = 0; i < 3; i++) hedge.earn(stats);
    expect(hedge.spend(stats)).toBe(false);
    hedge.earn(stats);
    expect(hedge.spend(stats)).toBe(true);
    expect(hedge.spend(stats)).toBe(false);
  });

  it('never saves up more than a burst', () => {
    const hedge = new HedgePolicy({ mode: 'all', quantile: 0.95, minDelayMs: 100, defaultDelayMs: 2000, budgetPercent: 100 });
    const stats = new SubnetStats(0);
    for (let i = 0; i < 1000; i++) hedge.earn(stats);
    let spent = 0;
    while (hedge.spend(stats)) spent++;
    expect(spent).toBe(HEDGE_BURST);
  });

  it('HEDGE_BUDGET_PCT=0 earns nothing back', () => {
    const hedge = new HedgePolicy({ mode: 'all', quantile: 0.95, minDelayMs: 100, defaultDelayMs: 2000, budgetPercent: 0 });
    const stats = new SubnetStats(0);
    for (let i = 0; i < 1000; i++) hedge.earn(stats);
    expect(hedge.spend(stats)).toBe(false);
  });
});
