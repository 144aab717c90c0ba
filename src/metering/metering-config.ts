/**
 * The environment variables of metering, limits, credits and receipts,
 * merged into the gateway's EnvSchema (src/config.ts). Prices are parsed to
 * integers here, so no float ever reaches money arithmetic.
 */
import { z } from 'zod';
import { envJson, envPositiveInt } from '../env-values.js';

/** USD with at most 6 decimals as integer micro-USD (a price per 1M tokens becomes micro-USD per 1M tokens). */
export function usdToMicro(usd: number): number | null {
  if (!Number.isFinite(usd) || usd < 0 || usd > 1_000_000) return null;
  const micro = Math.round(usd * 1_000_000);
  // 0.1234567 would be silently rounded: refuse rather than guess.
  return Math.abs(micro - usd * 1_000_000) < 1e-6 ? micro : null;
}

export interface ModelPrice {
  /** Micro-USD per 1M prompt tokens (= USD per 1M × 1e6). */
  readonly promptMicroUsdPer1M: number;
  readonly completionMicroUsdPer1M: number;
}

const priceNumber = z.number().transform((usd, ctx) => {
  const micro = usdToMicro(usd);
  if (micro === null) {
    ctx.addIssue({ code: 'custom', message: `${usd} is not a price in USD per 1M tokens (0..1e6, at most 6 decimals)` });
    return z.NEVER;
  }
  return micro;
});

/** {"prompt":p,"completion":c} or [p, c]; the pair form is turned into the object first so errors name the bad number. */
export const PriceSchema = z
  .preprocess(
    (v) => (Array.isArray(v) && v.length === 2 ? { prompt: v[0], completion: v[1] } : v),
    z.strictObject({ prompt: priceNumber, completion: priceNumber }, { error: 'a price is {"prompt":p,"completion":c} or [p, c], USD per 1M tokens' }),
  )
  .transform((p): ModelPrice => ({ promptMicroUsdPer1M: p.prompt, completionMicroUsdPer1M: p.completion }));

const modelPrices = envJson('{"sn4/llama-3.1-8b":{"prompt":0.2,"completion":0.6}}').pipe(z.record(z.string().min(1), PriceSchema));

const defaultPrice = z
  .string()
  .transform((text) => text.split(',').map((s) => Number(s.trim())))
  .pipe(z.tuple([priceNumber, priceNumber], { error: 'must be "<prompt>,<completion>" in USD per 1M tokens' }))
  .transform((p): ModelPrice => ({ promptMicroUsdPer1M: p[0], completionMicroUsdPer1M: p[1] }));

const positiveInt = envPositiveInt;

export const MeteringEnvShape = {
  /** Per model id (sn<netuid>/<model> or an alias): USD per 1M tokens, {"prompt":p,"completion":c} or [p, c]. */
  MODEL_PRICES: modelPrices.optional(),
  /** Models without a price: "<prompt>,<completion>" USD per 1M tokens; non-zero so nothing is free by accident. */
  DEFAULT_PRICE_USD_PER_1M: defaultPrice.default({ promptMicroUsdPer1M: 500_000, completionMicroUsdPer1M: 1_500_000 }),
  /** Prepaid keys while the store is unreachable: deny (503) or allow (charged when it is back). */
  CREDITS_ON_STORE_DOWN: z.enum(['deny', 'allow']).default('deny'),
  /** Completion tokens reserved for a prepaid request that sets no max_tokens. */
  CREDIT_RESERVE_MAX_COMPLETION_TOKENS: positiveInt.default(4096),
  /** ed25519 seed that signs receipts: 32 bytes as 64 hex characters or base64. */
  RECEIPT_SIGNING_KEY: z
    .string()
    .refine((s) => /^[0-9a-fA-F]{64}$/.test(s) || Buffer.from(s, 'base64').length === 32, 'must be a 32-byte seed: 64 hex characters or base64')
    .optional(),
  /** How often metered usage is written to the store, coalesced. */
  METERING_FLUSH_MS: positiveInt.default(500),
  /** Most distinct usage counters held locally while the store is down; beyond that new usage is dropped (and logged). */
  METERING_JOURNAL_MAX: positiveInt.default(100_000),
};
