/**
 * Per-key RPM and TPM, shared by every replica through the store's atomic
 * GCRA (one Lua call checks and charges both buckets, all or nothing). While
 * the store is unreachable each replica limits on its own, so the limit a
 * key sees is per replica until the store is back: serving beats refusing.
 *
 * TPM is charged up front with the prompt estimate plus max_tokens (as
 * OpenAI does), then corrected to the real count once the answer is in.
 */
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { createMemoryStore } from '../store/memory.js';
import type { RateBucket, RateDecision, Store } from '../store/store.js';
import type { ApiKeyRecord } from './api-keys.js';

const MINUTE_MS = 60_000;

export interface LimitGrant {
  /** x-ratelimit-* headers for the response. */
  readonly headers: Readonly<Record<string, string>>;
  /** The token bucket and what was charged to it up front, when the key has a TPM limit. */
  readonly tokens: { readonly bucket: RateBucket; readonly precharged: number } | null;
}

/** OpenAI's duration style: "20ms", "1s", "1.5s", "6m0s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const totalSeconds = ms / 1000;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = Math.round((totalSeconds - minutes * 60) * 1000) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

function headersFor(names: readonly ('requests' | 'tokens')[], decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  names.forEach((name, i) => {
    const state = decision.buckets[i];
    if (!state) return;
    headers[`x-ratelimit-limit-${name}`] = String(state.limit);
    headers[`x-ratelimit-remaining-${name}`] = String(state.remaining);
    headers[`x-ratelimit-reset-${name}`] = formatDuration(state.resetMs);
  });
  return headers;
}

export class RateLimiter {
  /** Per-replica limits while the shared store is unreachable. */
  private readonly local = createMemoryStore();
  private warnedDown = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /**
   * Charges the key's buckets or throws a 429 with retry-after. Null for keys
   * without limits (no store round trip at all). `tokens` is only called for
   * keys with a TPM limit: it is the up-front token estimate.
   */
  async check(key: ApiKeyRecord, tokens: () => number): Promise<LimitGrant | null> {
    if (key.rpm === null && key.tpm === null) return null;
    const names: Array<'requests' | 'tokens'> = [];
    const buckets: RateBucket[] = [];
    if (key.rpm !== null) {
      names.push('requests');
      buckets.push({ key: `ratelimit:{${key.id}}:requests`, limit: key.rpm, periodMs: MINUTE_MS, cost: 1 });
    }
    let tokenBucket: RateBucket | null = null;
    if (key.tpm !== null) {
      names.push('tokens');
      tokenBucket = { key: `ratelimit:{${key.id}}:tokens`, limit: key.tpm, periodMs: MINUTE_MS, cost: tokens() };
      buckets.push(tokenBucket);
    }
    const decision = await this.decide(buckets);
    const headers = headersFor(names, decision);
    if (!decision.allowed) throw this.refusal(names, buckets, decision, headers);
    return { headers, tokens: tokenBucket ? { bucket: tokenBucket, precharged: tokenBucket.cost } : null };
  }

  /** Moves a bucket after the fact (real tokens minus the estimate); best effort, never awaited by a response. */
  adjust(bucket: RateBucket, delta: number): void {
    if (delta === 0) return;
    const moved = { ...bucket, cost: delta };
    const target = this.store.state() === 'down' ? this.local : this.store;
    target.rateLimitAdjust(moved).catch(() => this.local.rateLimitAdjust(moved));
  }

  private async decide(buckets: readonly RateBucket[]): Promise<RateDecision> {
    if (this.store.state() !== 'down') {
      try {
        const decision = await this.store.rateLimit(buckets);
        this.warnedDown = false;
        return decision;
      } catch (err) {
        this.warnDown(err);
      }
    } else {
      this.warnDown(null);
    }
    return this.local.rateLimit(buckets);
  }

  private warnDown(err: unknown): void {
    if (this.warnedDown) return;
    this.warnedDown = true;
    const detail = err instanceof Error ? err.message : 'store is down';
    this.logger.warn({ detail }, 'rate limits fall back to per-replica limits until the store is back');
  }

  private refusal(names: readonly string[], buckets: readonly RateBucket[], decision: RateDecision, headers: Record<string, string>): GatewayError {
    // The bucket that refused: the one without room for its cost.
    const i = Math.max(0, buckets.findIndex((b, j) => (decision.buckets[j]?.remaining ?? 0) < b.cost));
    const bucket = buckets[i] as RateBucket;
    const unit = names[i] === 'tokens' ? 'tokens per min (TPM)' : 'requests per min (RPM)';
    if (decision.retryAfterMs < 0) {
      return new GatewayError(
        429,
        `Request too large: it needs ${bucket.cost} tokens but this key's ${unit} limit is ${bucket.limit}. Reduce the prompt or max_tokens.`,
        'rate_limit_error',
        'request_too_large_for_limit',
        null,
        headers,
      );
    }
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    return new GatewayError(
      429,
      `Rate limit reached on ${unit}: limit ${bucket.limit}, requested ${bucket.cost}. Please try again in ${formatDuration(decision.retryAfterMs)}.`,
      'rate_limit_error',
      'rate_limit_exceeded',
      null,
      { ...headers, 'retry-after': String(seconds), 'retry-after-ms': String(decision.retryAfterMs) },
    );
  }
}
