/**
 * Prepaid credit: before a request, its worst-case cost is reserved
 * atomically in the store (never more than the balance, under any
 * concurrency); after it, the real cost is settled and the rest given back.
 *
 * When the store cannot be reached, CREDITS_ON_STORE_DOWN decides:
 * - deny (default): 503 credit_ledger_unavailable with retry-after. Not a 402:
 *   the key may well have credit, the gateway just cannot prove it.
 * - allow: the request is served unbacked and charged in full once the store
 *   is back (idempotent charge id); the balance may then go below zero.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CreditBalance, Store } from '../store/store.js';
import type { UsageJournal } from './usage-journal.js';

/** A held reservation, or a request served unbacked while the store was down (fail open). */
export type CreditHold =
  | { readonly kind: 'reserved'; readonly account: string; readonly reservationId: string; readonly amount: number }
  | { readonly kind: 'unbacked'; readonly account: string; readonly chargeId: string };

export interface CreditLedgerOptions {
  readonly onStoreDown: 'deny' | 'allow';
  /** A reservation nobody settles (its gateway died) is given back after this long. */
  readonly reservationTtlMs: number;
}

const usd = (micro: number) => `$${(micro / 1_000_000).toFixed(6)}`;

export class CreditLedger {
  constructor(
    private readonly store: Store,
    private readonly journal: UsageJournal,
    private readonly logger: Logger,
    private readonly options: CreditLedgerOptions,
  ) {}

  /** Holds `amount` micro-USD of the key's credit, or throws 402 (not enough) / 503 (store down, deny). */
  async reserve(account: string, amount: number): Promise<CreditHold> {
    const reservationId = randomUUID();
    let result;
    try {
      result = await this.store.creditReserve(account, reservationId, amount, this.options.reservationTtlMs);
    } catch (err) {
      if (this.options.onStoreDown === 'allow') {
        this.logger.warn({ keyId: account, detail: err instanceof Error ? err.message : String(err) }, 'credit store down: serving a prepaid request unbacked (CREDITS_ON_STORE_DOWN=allow)');
        return { kind: 'unbacked', account, chargeId: `charge:${reservationId}` };
      }
      throw new GatewayError(
        503,
        'The credit ledger is unreachable, so this prepaid request cannot be covered right now. Retry shortly.',
        'server_error',
        'credit_ledger_unavailable',
        null,
        { 'retry-after': '1' },
      );
    }
    if (!result.ok) {
      throw new GatewayError(
        402,
        `Insufficient credit: this request may cost up to ${usd(amount)} (its prompt plus max_tokens), and ${usd(result.balance.available)} is available. Top up the key, or lower max_tokens.`,
        'insufficient_quota',
        'insufficient_credits',
      );
    }
    return { kind: 'reserved', account, reservationId, amount };
  }

  /** Bills `cost` against a hold and returns what is charged: at most the reservation. Written asynchronously. */
  settle(hold: CreditHold, cost: number): number {
    if (hold.kind === 'reserved') {
      const charged = Math.min(cost, hold.amount);
      this.journal.credit({ kind: 'settle', account: hold.account, reservationId: hold.reservationId, charge: charged });
      return charged;
    }
    if (cost > 0) this.journal.credit({ kind: 'charge', account: hold.account, chargeId: hold.chargeId, amount: cost });
    return cost;
  }

  /** Nothing was served: give the whole reservation back. */
  release(hold: CreditHold): void {
    if (hold.kind === 'reserved') this.journal.credit({ kind: 'settle', account: hold.account, reservationId: hold.reservationId, charge: 0 });
  }

  balance(account: string): Promise<CreditBalance> {
    return this.store.creditBalance(account);
  }

  topUp(account: string, amount: number, idempotencyKey: string) {
    return this.store.creditTopUp(account, amount, idempotencyKey);
  }
}
