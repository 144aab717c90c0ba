/**
 * What a request costs. Prices are integers (micro-USD per 1M tokens) and
 * costs integers (micro-USD), computed with BigInt so that no float and no
 * overflow ever touches money. A request's cost is rounded up once, to the
 * next whole micro-dollar.
 */
import type { ModelPrice } from './metering-config.js';

export class PriceBook {
  constructor(
    private readonly prices: Readonly<Record<string, ModelPrice>>,
    private readonly fallback: ModelPrice,
  ) {}

  /** The first configured price among the ids (served model first, then what the client asked for), else the default. */
  priceFor(...modelIds: readonly string[]): ModelPrice & { readonly isDefault: boolean } {
    for (const id of modelIds) {
      const price = this.prices[id];
      if (price) return { ...price, isDefault: false };
    }
    return { ...this.fallback, isDefault: true };
  }

  /** How /v1/models shows a price: USD per 1M tokens. */
  static view(price: ModelPrice & { readonly isDefault: boolean }) {
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
