/**
 * One request's passage through metering: admitted (limits charged, credit
 * reserved) before it is sent, then either billed once from what was
 * actually served, or cancelled when nothing was. Billing computes the cost,
 * queues usage and the credit settlement (never awaited), and signs the
 * receipt.
 */
import type { Upstream } from '../../providers/provider.js';
import type { Usage } from '../openai/responses.js';
import type { ApiKeyRecord } from './api-keys.js';
import type { CreditHold, CreditLedger } from './credit-ledger.js';
import type { ModelPrice } from './metering-config.js';
import { costMicroUsd } from './pricing.js';
import type { LimitGrant, RateLimiter } from './rate-limiter.js';
import type { ReceiptSigner } from './receipts.js';
import type { UsageJournal } from './usage-journal.js';

export interface ServedOutcome {
  readonly upstream: Upstream;
  /** The subnet model that served, when failover moved the request off the one it was admitted for. */
  readonly servedModel?: string;
  readonly snapshot: { readonly version: string; readonly block: number | null };
  /** The miner's usage, when it reported one. */
  readonly usage: Usage | null;
  /** Text delivered to the client: counted with the tokenizer when usage is missing. */
  readonly completionText: string;
}

export interface Bill {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Counted by the gateway's tokenizer, not reported by the miner. */
  readonly estimated: boolean;
  readonly costMicroUsd: number;
  readonly receipt: string;
}

export interface AdmissionParts {
  readonly key: ApiKeyRecord;
  readonly requestId: string;
  readonly requestedModel: string;
  readonly servedModel: string;
  /** The price the credit reservation was computed with (the dearest candidate's). */
  readonly reservePrice: ModelPrice;
  /** The prompt's token count by the gateway's tokenizer (memoized by the caller). */
  readonly promptEstimate: () => number;
  readonly limits: LimitGrant | null;
  readonly hold: CreditHold | null;
  /** What an answer served from the response cache costs, in percent of the model's price (CACHE_HIT_PRICE_PCT). */
  readonly cacheHitPricePercent: number;
  readonly deps: { readonly limiter: RateLimiter; readonly ledger: CreditLedger; readonly journal: UsageJournal; readonly receipts: ReceiptSigner; readonly countText: (text: string) => number; readonly priceOf: (servedModel: string) => ModelPrice };
}

export class Admission {
  private bill: Bill | null = null;
  private cancelled = false;

  constructor(private readonly parts: AdmissionParts) {}

  /** x-ratelimit-* headers (empty for keys without limits). */
  get headers(): Readonly<Record<string, string>> {
    return this.parts.limits?.headers ?? {};
  }

  /** Bills what an upstream served. Called again (a stream's final chunk, then its end), it returns the first bill. */
  complete(outcome: ServedOutcome): Bill {
    return this.bill ?? this.settle(outcome, false);
  }

  /**
   * Bills an answer served from the response cache (the outcome names the
   * miner and subnet model that first served it): counted as a request and
   * a cached hit, charged CACHE_HIT_PRICE_PCT of the model's price (default
   * nothing), and its tokens do not count against the key's TPM (no miner
   * worked for them); the request still counted against RPM when admitted.
   */
  completeFromCache(outcome: ServedOutcome): Bill {
    return this.bill ?? this.settle(outcome, true);
  }

  private settle(outcome: ServedOutcome, cached: boolean): Bill {
    const { key, deps, hold, limits } = this.parts;
    const servedModel = outcome.servedModel ?? this.parts.servedModel;
    const price = deps.priceOf(servedModel);
    const reported = outcome.usage;
    const promptTokens = reported ? reported.prompt_tokens : this.parts.promptEstimate();
    const completionTokens = reported ? reported.completion_tokens : deps.countText(outcome.completionText);
    const fullCost = costMicroUsd(price, promptTokens, completionTokens);
    const cost = cached ? Math.ceil((fullCost * this.parts.cacheHitPricePercent) / 100) : fullCost;
    // A prepaid request is never charged more than it reserved.
    const charged = hold ? deps.ledger.settle(hold, cost) : cost;
    if (limits?.tokens) {
      const used = cached ? 0 : promptTokens + completionTokens;
      deps.limiter.adjust(limits.tokens.bucket, used - limits.tokens.precharged);
    }
    const estimated = reported === null;
    deps.journal.add(key.id, servedModel, {
      requests: 1,
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      cost_micro_usd: charged,
      estimated: estimated ? 1 : 0,
      cached_hits: cached ? 1 : 0,
    });
    const { upstream, snapshot } = outcome;
    const receipt = deps.receipts.sign({
      request_id: this.parts.requestId,
      key_id: key.id,
      model: this.parts.requestedModel,
      served_model: servedModel,
      miner: { netuid: upstream.netuid, uid: upstream.uid, hotkey: upstream.hotkey },
      snapshot: { version: snapshot.version, block: snapshot.block },
      tokens: { prompt: promptTokens, completion: completionTokens, estimated },
      cost_micro_usd: charged,
      time: new Date().toISOString(),
      ...(cached ? { cached: true as const } : {}),
    });
    this.bill = { promptTokens, completionTokens, estimated, costMicroUsd: charged, receipt };
    return this.bill;
  }

  /** Nothing was served (every upstream failed, or the client left first): give back the credit and the token estimate. */
  cancel(): void {
    if (this.bill || this.cancelled) return;
    this.cancelled = true;
    const { deps, hold, limits } = this.parts;
    if (hold) deps.ledger.release(hold);
    if (limits?.tokens) deps.limiter.adjust(limits.tokens.bucket, -limits.tokens.precharged);
  }
}
