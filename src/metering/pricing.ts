/**
 * What a request costs. Prices are integers (micro-USD per 1M tokens) and
 * costs integers (micro-USD), computed with BigInt so that no float and no
 * overflow ever touches money. A request's cost is rounded up once, to the
 * next whole micro-dollar.
 */
import type { ModelPrice } from './metering-config.js';

export type ResolvedPrice = ModelPrice & { readonly isDefault: boolean };

export class PriceBook {
  /** Built once: looking a price up on the request path allocates nothing. */
  private readonly prices: ReadonlyMap<string, ResolvedPrice>;
  private readonly fallback: ResolvedPrice;

  constructor(prices: Readonly<Record<string, ModelPrice>>, fallback: ModelPrice) {
    this.prices = new Map(Object.entries(prices).map(([id, p]) => [id, Object.freeze({ ...p, isDefault: false })]));
    this.fallback = Object.freeze({ ...fallback, isDefault: true });
  }

  /** The first configured price among the ids (served model first, then what the client asked for), else the default. */
  priceFor(...modelIds: readonly string[]): ResolvedPrice {
    for (const id of modelIds) {
      const price = this.prices.get(id);
      if (price) return price;
    }
    return this.fallback;
  }

  /** How /v1/models shows a price: USD per 1M tokens. */
  static view(price: ResolvedPrice) {
    return {
      prompt_usd_per_1m: price.promptMicroUsdPer1M / 1_000_000,
      completion_usd_per_1m: price.completionMicroUsdPer1M / 1_000_000,
      default: price.isDefault,
    };
  }
}

const MILLION = 1_000_000n;

/** ceil((prompt × promptPrice + completion × completionPrice) / 1M), in micro-USD. */
export function costMicroUsd(price: ModelPrice, promptTokens: number, completionTokens: number): number {
  const numerator = BigInt(promptTokens) * BigInt(price.promptMicroUsdPer1M) + BigInt(completionTokens) * BigInt(price.completionMicroUsdPer1M);
  const cost = (numerator + MILLION - 1n) / MILLION;
  return Number(cost);
}
