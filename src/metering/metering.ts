/**
 * Metering, limits, prepaid credit and receipts behind one entry point for
 * the request path (`admit`); the admission it returns bills the answer,
 * whether a miner served it or the response cache did. Postpaid keys without
 * RPM/TPM pass `admit` without any store round trip; everything written
 * after a response is queued in the usage journal and never awaited.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ChatCompletionRequest, CompletionLikeRequest } from '../openai/requests.js';
import type { Store } from '../store/store.js';
import { Admission } from './admission.js';
import type { ApiKeyRecord } from './api-keys.js';
import { CreditLedger, type CreditHold } from './credit-ledger.js';
import type { ModelPrice } from './metering-config.js';
import { costMicroUsd, PriceBook } from './pricing.js';
import { RateLimiter } from './rate-limiter.js';
import { createReceiptSigner, parseSeed, type ReceiptSigner } from './receipts.js';
import { TokenCounter } from './token-counter.js';
import { creditView, readUsage } from './usage-report.js';
import { UsageJournal } from './usage-journal.js';

/**
 * Credit reserved for the prompt: the gateway's count plus a margin, since a
 * subnet model's own tokenizer and chat template may count more. A miner
 * that reports more than was reserved is charged the reservation, no more.
 */
const PROMPT_RESERVE_PERCENT = 125;
const PROMPT_RESERVE_EXTRA_TOKENS = 16;
/** A reservation outlives its request's deadline by this much before a later request gives it back. */
const RESERVATION_GRACE_MS = 5 * 60_000;

/** A price's weight for picking the dearest candidate: prompt and completion per 1M tokens together. */
const unitCost = (p: ModelPrice) => p.promptMicroUsdPer1M + p.completionMicroUsdPer1M;

export interface AdmitInput {
  readonly key: ApiKeyRecord;
  readonly request: CompletionLikeRequest;
  readonly requestId: string;
  /** What the client asked for, and the subnet model it resolved to (priced first). */
  readonly requestedModel: string;
  readonly servedModel: string;
  /**
   * Every subnet model the request may fail over to (servedModel first).
   * Credit is reserved at the dearest of them; the bill uses the one that served.
   */
  readonly candidateModels?: readonly string[];
}

export class Metering {
  private constructor(
    readonly prices: PriceBook,
    readonly receipts: ReceiptSigner,
    private readonly tokens: TokenCounter,
    private readonly limiter: RateLimiter,
    private readonly ledger: CreditLedger,
    private readonly journal: UsageJournal,
    private readonly store: Store,
    private readonly reserveCompletionTokens: number,
    private readonly cacheHitPricePercent: number,
  ) {}

  static async create(config: Config, store: Store, logger: Logger): Promise<Metering> {
    const receipts = createReceiptSigner(config.RECEIPT_SIGNING_KEY ? parseSeed(config.RECEIPT_SIGNING_KEY) : null);
    if (receipts.ephemeral) {
      logger.warn(
        { kid: receipts.kid },
        'RECEIPT_SIGNING_KEY is unset: receipts are signed with an ephemeral key that changes on every start, so receipts issued before a restart can no longer be checked against GET /v1/receipts/public-key',
      );
    }
    const journal = new UsageJournal(store, logger, { flushMs: config.METERING_FLUSH_MS, maxCounters: config.METERING_JOURNAL_MAX });
    journal.start();
    const ledger = new CreditLedger(store, journal, logger, {
      onStoreDown: config.CREDITS_ON_STORE_DOWN,
      reservationTtlMs: config.REQUEST_TIMEOUT_MS + RESERVATION_GRACE_MS,
    });
    return new Metering(
      new PriceBook(config.MODEL_PRICES ?? {}, config.DEFAULT_PRICE_USD_PER_1M),
      receipts,
      await TokenCounter.load(),
      new RateLimiter(store, logger),
      ledger,
      journal,
      store,
      config.CREDIT_RESERVE_MAX_COMPLETION_TOKENS,
      config.CACHE_HIT_PRICE_PCT,
    );
  }

  /** Charges the key's limits and reserves its credit: throws 429, 402 or 503; otherwise the request may go. */
  async admit(input: AdmitInput): Promise<Admission> {
    const { key, request } = input;
    const priceOf = (model: string) => this.prices.priceFor(model, input.requestedModel);
    const candidates = input.candidateModels ?? [input.servedModel];
    const price = candidates.map(priceOf).reduce((dearest, p) => (unitCost(p) > unitCost(dearest) ? p : dearest), priceOf(input.servedModel));
    let prompt: number | undefined;
    const promptEstimate = () => (prompt ??= this.tokens.prompt(request));
    const maxCompletion = (request as ChatCompletionRequest).max_completion_tokens ?? request.max_tokens ?? null;

    const limits = await this.limiter.check(key, () => promptEstimate() + (maxCompletion ?? 0));
    let hold: CreditHold | null = null;
    if (key.creditsMicroUsd !== null) {
      const reservePrompt = Math.ceil((promptEstimate() * PROMPT_RESERVE_PERCENT) / 100) + PROMPT_RESERVE_EXTRA_TOKENS;
      const worstCase = costMicroUsd(price, reservePrompt, maxCompletion ?? this.reserveCompletionTokens);
      try {
        hold = await this.ledger.reserve(key.id, worstCase);
      } catch (err) {
        // Refused for credit: the tokens it was going to use are not used.
        if (limits?.tokens) this.limiter.adjust(limits.tokens.bucket, -limits.tokens.precharged);
        throw err;
      }
    }
    return new Admission({
      key,
      requestId: input.requestId,
      requestedModel: input.requestedModel,
      servedModel: input.servedModel,
      reservePrice: price,
      promptEstimate,
      limits,
      hold,
      cacheHitPricePercent: this.cacheHitPricePercent,
      deps: { limiter: this.limiter, ledger: this.ledger, journal: this.journal, receipts: this.receipts, countText: (t) => this.tokens.text(t), priceOf },
    });
  }

  /** A prompt's tokens by the gateway's tokenizer: count_tokens, and what a stream states before the miner reports usage. */
  promptTokens(request: CompletionLikeRequest): number {
    return this.tokens.prompt(request);
  }

  /** A key's usage (what reached the store; this replica's last METERING_FLUSH_MS may still be on its way). */
  async usage(key: ApiKeyRecord) {
    const report = await readUsage(this.store, key.id);
    const credits = key.creditsMicroUsd === null ? null : creditView(await this.ledger.balance(key.id));
    return { key_id: key.id, billing: key.creditsMicroUsd === null ? 'postpaid' : 'prepaid', ...report, credits };
  }

  topUp(keyId: string, amountMicroUsd: number, idempotencyKey: string) {
    return this.ledger.topUp(keyId, amountMicroUsd, idempotencyKey);
  }

  /** Writes everything queued so far (tests, shutdown). */
  flush(): Promise<void> {
    return this.journal.flush();
  }

  pending() {
    return this.journal.pending();
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
