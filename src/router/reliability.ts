/**
 * The reliability settings (hedging, circuit breakers) as environment
 * variables, and the per-process parts they configure. config.ts spreads
 * `reliabilityEnv` into its schema, so a bad value stops start-up like any
 * other variable.
 */
import { z } from 'zod';
import { envPositiveInt } from '../env-values.js';
import type { BreakerOptions } from './circuit-breaker.js';
import { HealthRegistry } from './health-registry.js';
import { HEDGE_BURST, HedgePolicy } from './hedge-policy.js';

const positiveInt = envPositiveInt;

const ReliabilityEnvSchema = z.object({
  /** Which requests may be hedged: `all` (default), `non-stream`, or `off`. */
  HEDGE_MODE: z.enum(['off', 'non-stream', 'all']).default('all'),
  /** Quantile of a subnet's time to first byte (JSON: response headers; stream: first chunk) after which a second miner is started. */
  HEDGE_QUANTILE: z.coerce.number().min(0.5).max(0.999).default(0.95),
  HEDGE_MIN_DELAY_MS: positiveInt.default(100),
  /** Hedge delay until a subnet has enough answers for its own quantile. */
  HEDGE_DEFAULT_DELAY_MS: positiveInt.default(2_000),
  /** At most this many hedges per 100 requests, on average. */
  HEDGE_BUDGET_PCT: z.coerce.number().min(0).max(100).default(10),
  /** Consecutive failures that open a miner's circuit breaker. */
  BREAKER_FAILURES: positiveInt.max(100).default(3),
  /** Error rate over a miner's last 20 outcomes (at least 10) that opens its breaker. */
  BREAKER_ERROR_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  /** First cool-down of an open breaker; doubles on each failed probe or forced attempt, up to the max. */
  BREAKER_COOLDOWN_MS: positiveInt.default(10_000),
  BREAKER_MAX_COOLDOWN_MS: positiveInt.default(300_000),
});

export const reliabilityEnv = ReliabilityEnvSchema.shape;

export type ReliabilitySettings = z.infer<typeof ReliabilityEnvSchema> & { readonly REQUEST_TIMEOUT_MS: number };

/** The process-wide health registry and hedge policy, shared by every request. */
export interface Reliability {
  readonly health: HealthRegistry;
  readonly hedge: HedgePolicy;
}

/** Outcomes a breaker's error-rate rule waits for. */
const BREAKER_MIN_SAMPLES = 10;

export function createReliability(settings: ReliabilitySettings): Reliability {
  const breaker: BreakerOptions = {
    failureThreshold: settings.BREAKER_FAILURES,
    errorRateThreshold: settings.BREAKER_ERROR_RATE,
    minSamples: BREAKER_MIN_SAMPLES,
    cooldownMs: settings.BREAKER_COOLDOWN_MS,
    maxCooldownMs: Math.max(settings.BREAKER_COOLDOWN_MS, settings.BREAKER_MAX_COOLDOWN_MS),
    // Every attempt ends with its request, so a probe older than that has been lost.
    probeTimeoutMs: settings.REQUEST_TIMEOUT_MS + 1_000,
  };
  const hedge = new HedgePolicy({
    mode: settings.HEDGE_MODE,
    quantile: settings.HEDGE_QUANTILE,
    minDelayMs: settings.HEDGE_MIN_DELAY_MS,
    defaultDelayMs: settings.HEDGE_DEFAULT_DELAY_MS,
    budgetPercent: settings.HEDGE_BUDGET_PCT,
  });
  return { health: new HealthRegistry(breaker, HEDGE_BURST), hedge };
}
