/**
 * The breaker state machine on its own, with explicit clock values: opening
 * on consecutive failures, on error rate, at once for visible failures;
 * half-open probing one at a time; doubling cool-downs; stale results.
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerOptions } from '../src/router/circuit-breaker.js';
import { MinerHealth } from '../src/router/miner-health.js';

const OPTIONS: BreakerOptions = {
  failureThreshold: 3,
  errorRateThreshold: 0.5,
  minSamples: 10,
  cooldownMs: 1_000,
  maxCooldownMs: 4_000,
  probeTimeoutMs: 10_000,
};

describe('circuit breaker', () => {
  it('opens after consecutive failures, probes once when half-open, closes on success', () => {
    const b = new CircuitBreaker(OPTIONS);
    const g = b.begin(0, false);
    expect(b.onFailure(g, 0, 0, 0, false)).toBe(false);
    expect(b.onFailure(g, 1, 0, 0, false)).toBe(false);
    expect(b.onFailure(g, 2, 0, 0, false)).toBe(true);
    expect(b.state(2)).toBe('open');
    expect(b.admits(500, true)).toBe(false);
    expect(b.begin(500, false)).toBe(-1);

    // Cool-down is 1 s ± 10 %: half-open by 1.2 s.
    expect(b.state(1_200)).toBe('half_open');
    expect(b.admits(1_200, true)).toBe(true);
    const probe = b.begin(1_200, false);
    expect(probe).toBeGreaterThan(g);
    // One probe at a time.
    expect(b.admits(1_201, true)).toBe(false);
    expect(b.begin(1_201, false)).toBe(-1);
    b.onSuccess(probe);
    expect(b.state(1_300)).toBe('closed');
    expect(b.begin(1_300, false)).toBeGreaterThan(probe);
  });

  it('a failed probe re-opens with a doubled cool-down, capped', () => {
    const b = new CircuitBreaker({ ...OPTIONS, failureThreshold: 1 });
    b.onFailure(b.begin(0, false), 0, 0, 0, false);
    const first = b.openWindow;
    expect(first).not.toBeNull();
    const cooldowns = [(first?.retryAt ?? 0) - (first?.openedAt ?? 0)];
    let now = first?.retryAt ?? 0;
    for (let i = 0; i < 4; i++) {
      const probe = b.begin(now, false);
      expect(probe).toBeGreaterThanOrEqual(0);
      expect(b.onFailure(probe, now, 0, 0, false)).toBe(true);
      const w = b.openWindow;
      cooldowns.push((w?.retryAt ?? 0) - (w?.openedAt ?? 0));
      now = w?.retryAt ?? 0;
    }
    // 1 s, 2 s, 4 s, 4 s, 4 s, each ± 10 %.
    const expected = [1_000, 2_000, 4_000, 4_000, 4_000];
    cooldowns.forEach((c, i) => {
      expect(c).toBeGreaterThanOrEqual((expected[i] ?? 0) * 0.9);
      expect(c).toBeLessThanOrEqual((expected[i] ?? 0) * 1.1);
    });
  });

  it('opens at once on a failure the client saw, and on a high error rate', () => {
    const visible = new CircuitBreaker(OPTIONS);
    expect(visible.onFailure(visible.begin(0, false), 0, 0.05, 1, true)).toBe(true);
    expect(visible.state(0)).toBe('open');

    const rate = new CircuitBreaker(OPTIONS);
    const g = rate.begin(0, false);
    // Alternating failures never reach 3 in a row; the rate rule needs 10 samples.
    expect(rate.onFailure(g, 0, 0.5, 9, false)).toBe(false);
    rate.onSuccess(g);
    expect(rate.onFailure(g, 0, 0.5, 10, false)).toBe(true);
  });

  it('ignores results of attempts that began in an earlier breaker period', () => {
    const b = new CircuitBreaker({ ...OPTIONS, failureThreshold: 1 });
    const before = b.begin(0, false);
    b.onFailure(before, 0, 0, 0, false);
    // A slow success that began before the breaker opened does not close it.
    b.onSuccess(before);
    expect(b.state(10)).toBe('open');
    const probe = b.begin(2_000, false);
    b.onSuccess(probe);
    // A late failure from before the recovery does not re-open it.
    expect(b.onFailure(before, 2_001, 0, 0, false)).toBe(false);
    expect(b.state(2_001)).toBe('closed');
  });

  it('offers a half-open miner to streams only after a second cool-down without a probe', () => {
    const b = new CircuitBreaker({ ...OPTIONS, failureThreshold: 1 });
    b.onFailure(b.begin(0, false), 0, 0, 0, false);
    const retryAt = b.openWindow?.retryAt ?? 0;
    expect(b.admits(retryAt, true)).toBe(true);
    expect(b.admits(retryAt, false)).toBe(false);
    expect(b.admits(retryAt + OPTIONS.cooldownMs, false)).toBe(true);
  });

  it('releases the probe slot when the probe ends without a verdict, and forgets a lost probe', () => {
    const b = new CircuitBreaker({ ...OPTIONS, failureThreshold: 1 });
    b.onFailure(b.begin(0, false), 0, 0, 0, false);
    const at = b.openWindow?.retryAt ?? 0;
    const probe = b.begin(at, false);
    expect(b.begin(at + 1, false)).toBe(-1);
    b.onNeutral(probe);
    expect(b.begin(at + 2, false)).toBe(probe);
    // Never reported: after probeTimeoutMs another probe may go.
    expect(b.begin(at + 3, false)).toBe(-1);
    expect(b.begin(at + 2 + OPTIONS.probeTimeoutMs, false)).toBe(probe);
  });

  it('forced attempts go through an open breaker; their failure re-opens it for longer, their success closes it', () => {
    const b = new CircuitBreaker({ ...OPTIONS, failureThreshold: 1 });
    b.onFailure(b.begin(0, false), 0, 0, 0, false);
    const cooldownOf = () => (b.openWindow?.retryAt ?? 0) - (b.openWindow?.openedAt ?? 0);
    const first = cooldownOf();
    // Open: a forced attempt is sent, and its failure opens the breaker again from now, for twice as long.
    const forced = b.begin(10, true);
    expect(forced).toBeGreaterThanOrEqual(0);
    expect(b.onFailure(forced, 10, 0, 0, false)).toBe(true);
    expect(b.openWindow?.openedAt).toBe(10);
    expect(cooldownOf()).toBeGreaterThan(first * 1.5);
    // Half-open: a forced attempt takes the probe slot (no other probe beside it) and its failure re-opens.
    const halfOpenAt = b.openWindow?.retryAt ?? 0;
    expect(b.state(halfOpenAt)).toBe('half_open');
    const again = b.begin(halfOpenAt, true);
    expect(b.admits(halfOpenAt + 1, true)).toBe(false);
    expect(b.begin(halfOpenAt + 1, false)).toBe(-1);
    expect(b.onFailure(again, halfOpenAt + 2, 0, 0, false)).toBe(true);
    expect(b.state(halfOpenAt + 2)).toBe('open');
    expect(cooldownOf()).toBeGreaterThanOrEqual(OPTIONS.maxCooldownMs * 0.9);
    // Concurrent forced attempts of one period re-open it once: the rest report for a stale period.
    const [x, y] = [b.begin(halfOpenAt + 3, true), b.begin(halfOpenAt + 3, true)];
    expect(b.onFailure(x, halfOpenAt + 4, 0, 0, false)).toBe(true);
    expect(b.onFailure(y, halfOpenAt + 4, 0, 0, false)).toBe(false);
    // Never refused, and a success closes it.
    b.onSuccess(b.begin(halfOpenAt + 5, true));
    expect(b.state(halfOpenAt + 5)).toBe('closed');
  });
});

describe('miner health', () => {
  it('routes less to a miner after failures and to one far slower than the subnet, never to zero', () => {
    const h = new MinerHealth(OPTIONS);
    expect(h.factor).toBe(1);
    const g = h.breaker.generation;
    h.recordFailure(g, 0, false, Number.NaN);
    const afterOne = h.factor;
    expect(afterOne).toBeLessThan(0.5);
    h.recordSuccess(g, 10, Number.NaN);
    expect(h.factor).toBeGreaterThan(afterOne);

    const slow = new MinerHealth(OPTIONS);
    // Loopback jitter (5 ms vs a 2 ms subnet) is not a reason to move traffic…
    slow.recordAnswer(5, 5, 2);
    expect(slow.factor).toBeGreaterThan(0.99);
    // …seconds slower than the subnet is.
    for (let i = 0; i < 20; i++) slow.recordAnswer(8_000, 8_000, 1_000);
    expect(slow.factor).toBeLessThan(0.3);
    expect(slow.factor).toBeGreaterThan(0);

    // Headers at once, the JSON body seconds later: the first byte looks fast, the routing weight follows the body.
    const earlyHeaders = new MinerHealth(OPTIONS);
    for (let i = 0; i < 20; i++) earlyHeaders.recordAnswer(3, 8_000, 1_000);
    expect(earlyHeaders.view(0).ewma_ttfb_ms).toBeLessThan(10);
    expect(earlyHeaders.factor).toBeLessThan(0.3);
    // A hedge loser that ran 8 s without finishing counts as at least that slow, whatever its headers said.
    const loser = new MinerHealth(OPTIONS);
    loser.recordAnswer(3, 900, 1_000);
    loser.recordHedgeLoss(loser.breaker.generation, 3, true, 8_000, 0, 1_000);
    expect(loser.ewmaServedMs).toBeGreaterThan(900);
    expect(loser.factor).toBeLessThan(1);
  });

  it('keeps the error rate over the last 20 outcomes', () => {
    const h = new MinerHealth({ ...OPTIONS, failureThreshold: 100, errorRateThreshold: 1 });
    const g = h.breaker.generation;
    for (let i = 0; i < 5; i++) h.recordFailure(g, 0, false, Number.NaN);
    expect(h.errorRate).toBe(1);
    for (let i = 0; i < 15; i++) h.recordSuccess(g, 1, Number.NaN);
    expect(h.errorRate).toBeCloseTo(5 / 20);
    for (let i = 0; i < 5; i++) h.recordSuccess(g, 1, Number.NaN);
    expect(h.errorRate).toBe(0);
  });
});
