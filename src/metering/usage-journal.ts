/**
 * Where metered usage and credit settlements wait on their way to the store.
 * Nothing here is awaited by a response: requests add to a local aggregate
 * (one counter per key, day, model and metric), and a timer writes it as one
 * idempotent batch. While the store is down the aggregate keeps growing (it
 * is bounded: METERING_JOURNAL_MAX distinct counters) and is written once it
 * is back; a batch whose write may or may not have landed keeps its id, so a
 * retry is applied exactly once.
 *
 * Credit operations (settling a reservation, a fail-open charge) are
 * idempotent by their own ids: each is tried at once and, if the store does
 * not answer, queued and retried with the next flush.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { HashIncrement, Store } from '../store/store.js';

export const USAGE_METRICS = ['requests', 'prompt_tokens', 'completion_tokens', 'cached_hits', 'estimated', 'cost_micro_usd'] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];
export type UsageIncrement = Partial<Record<UsageMetric, number>>;

export type CreditOp =
  | { readonly kind: 'settle'; readonly account: string; readonly reservationId: string; readonly charge: number }
  | { readonly kind: 'charge'; readonly account: string; readonly chargeId: string; readonly amount: number };

export const usageHashKey = (keyId: string) => `usage:{${keyId}}`;
/** `<day>|<model>|<metric>`; the model sits in the middle because only it may contain anything. */
export const usageField = (day: string, model: string, metric: UsageMetric) => `${day}|${model}|${metric}`;

/** How long a batch or charge id is remembered, i.e. the longest a retry may be late and still be deduplicated. */
export const ONCE_TTL_MS = 7 * 24 * 3600 * 1000;
/** Increments per store call: one Lua script should not run for long. */
const BATCH_SIZE = 500;

interface Batch {
  readonly id: string;
  readonly increments: readonly HashIncrement[];
}

export interface JournalOptions {
  readonly flushMs: number;
  readonly maxCounters: number;
}

export class UsageJournal {
  /** `<hash key>\n<field>` → amount not yet sealed into a batch. */
  private open = new Map<string, number>();
  /** Sealed batches, oldest first; each keeps its id across retries. */
  private sealed: Batch[] = [];
  private creditQueue: CreditOp[] = [];
  private readonly creditAttempts = new Set<Promise<void>>();
  private chain: Promise<void> = Promise.resolve();
  private flushing = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private unwatch: (() => void) | null = null;
  private dropped = 0;
  /** The UTC day of the last add, so the date string is built once a day rather than per request. */
  private day = { index: -1, text: '' };
  private lastFailureLog = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: JournalOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.flushing) void this.flush();
    }, this.options.flushMs);
    // Workers' timers have no unref, and one set while serving a request dies
    // with it: the Worker entry flushes after every response instead.
    this.timer.unref?.();
    // Back from an outage: write what waited, now rather than at the next tick.
    this.unwatch = this.store.onStateChange((state) => {
      if (state === 'up') void this.flush();
    });
  }

  /** Counts usage for a key; synchronous and allocation-light, it runs on every request. */
  add(keyId: string, model: string, usage: UsageIncrement, at = Date.now()): void {
    const index = Math.floor(at / 86_400_000);
    if (index !== this.day.index) this.day = { index, text: new Date(at).toISOString().slice(0, 10) };
    // `<hash key>\n<day>|<model>|` + metric, as usageField() spells it.
    const prefix = `${usageHashKey(keyId)}\n${usageField(this.day.text, model, '' as UsageMetric)}`;
    for (const metric of USAGE_METRICS) {
      const by = usage[metric];
      if (!by) continue;
      const slot = prefix + metric;
      const current = this.open.get(slot);
      if (current === undefined && this.open.size >= this.options.maxCounters) {
        this.drop(1);
        continue;
      }
      this.open.set(slot, (current ?? 0) + by);
    }
  }

  /** Applies a credit operation now, or queues it for the next flush if the store does not answer. */
  credit(op: CreditOp): void {
    const attempt = this.applyCredit(op).then(
      () => undefined,
      () => this.queueCredit(op),
    );
    this.creditAttempts.add(attempt);
    void attempt.finally(() => this.creditAttempts.delete(attempt));
  }

  /** Writes everything waiting; resolves when written or when the store failed (it stays queued). */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.flushOnce());
    return this.chain;
  }

  /** Counters and credit operations not yet in the store, and counters dropped because the journal was full. */
  pending(): { counters: number; batches: number; creditOps: number; dropped: number } {
    return { counters: this.open.size, batches: this.sealed.length, creditOps: this.creditQueue.length + this.creditAttempts.size, dropped: this.dropped };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    await this.flush();
    const left = this.pending();
    if (left.counters + left.batches + left.creditOps > 0) this.logger.error(left, 'metering journal not fully written at shutdown; usage in it is lost');
  }

  private async flushOnce(): Promise<void> {
    this.flushing = true;
    try {
      await Promise.all(this.creditAttempts);
      // Seal only when nothing older is waiting: the open aggregate absorbs
      // everything meanwhile, so an outage costs memory per counter, not per request.
      if (this.sealed.length === 0 && this.open.size > 0) this.seal();
      while (this.sealed.length > 0) {
        const batch = this.sealed[0] as Batch;
        await this.store.hincrbyOnce(batch.id, batch.increments, ONCE_TTL_MS);
        this.sealed.shift();
      }
      const ops = this.creditQueue;
      this.creditQueue = [];
      const results = await Promise.allSettled(ops.map((op) => this.applyCredit(op)));
      results.forEach((r, i) => {
        if (r.status === 'rejected') this.queueCredit(ops[i] as CreditOp);
      });
    } catch (err) {
      this.logFailure(err);
    } finally {
      this.flushing = false;
    }
  }

  private seal(): void {
    const increments: HashIncrement[] = [];
    for (const [slot, by] of this.open) {
      const cut = slot.indexOf('\n');
      increments.push({ key: slot.slice(0, cut), field: slot.slice(cut + 1), by });
    }
    this.open = new Map();
    for (let i = 0; i < increments.length; i += BATCH_SIZE) {
      this.sealed.push({ id: `usage:${randomUUID()}`, increments: increments.slice(i, i + BATCH_SIZE) });
    }
  }

  private async applyCredit(op: CreditOp): Promise<void> {
    if (op.kind === 'charge') {
      await this.store.creditCharge(op.account, op.chargeId, op.amount, ONCE_TTL_MS);
      return;
    }
    const spent = await this.store.creditSettle(op.account, op.reservationId, op.charge);
    if (spent === null) {
      // A retry whose first attempt landed unanswered ends here too; anything else is a request not billed.
      this.logger.warn(
        { keyId: op.account, reservationId: op.reservationId, charge: op.charge },
        'credit settlement found no reservation held or remembered: already settled, or given back too long ago to bill',
      );
    }
  }

  private queueCredit(op: CreditOp): void {
    if (this.creditQueue.length >= this.options.maxCounters) {
      // A dropped settlement's reservation is given back when it expires: the key is not charged.
      this.creditQueue.shift();
      this.drop(1);
    }
    this.creditQueue.push(op);
  }

  private drop(n: number): void {
    if (this.dropped === 0) this.logger.error({ max: this.options.maxCounters }, 'metering journal is full: dropping usage until the store is back');
    this.dropped += n;
  }

  private logFailure(err: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.logger.warn({ detail: err instanceof Error ? err.message : String(err), pending: this.pending() }, 'metering writes wait in the local journal');
  }
}
