/**
 * Prepaid credit accounts for the memory store. The rules are the shared
 * steps of credit-account.ts; every method runs synchronously to its end,
 * which is what makes it atomic in one process.
 */
import { applyCharge, applyReserve, applySettle, applyTopUp, balanceOf, emptyAccount, type CreditAccount } from './credit-account.js';
import type { CreditBalance, TopUpResult } from './store.js';

export class MemoryCredits {
  private readonly accounts = new Map<string, CreditAccount>();
  /** account → idempotency key → amount. */
  private readonly topUps = new Map<string, Map<string, number>>();
  /** charge id → forget after (ms since epoch). */
  private readonly charges = new Map<string, number>();

  private account(id: string): CreditAccount {
    let account = this.accounts.get(id);
    if (!account) {
      account = emptyAccount();
      this.accounts.set(id, account);
    }
    return account;
  }

  balance(id: string): CreditBalance {
    return balanceOf(this.accounts.get(id));
  }

  topUp(id: string, amount: number, idempotencyKey: string): TopUpResult {
    let seen = this.topUps.get(id);
    if (!seen) this.topUps.set(id, (seen = new Map()));
    const previous = seen.get(idempotencyKey);
    if (previous !== undefined) return { applied: false, amount: previous, balance: this.balance(id) };
    seen.set(idempotencyKey, amount);
    applyTopUp(this.account(id), amount);
    return { applied: true, amount, balance: this.balance(id) };
  }

  reserve(id: string, reservationId: string, amount: number, ttlMs: number): { ok: boolean; balance: CreditBalance } {
    const ok = applyReserve(this.account(id), reservationId, amount, ttlMs, Date.now());
    return { ok, balance: this.balance(id) };
  }

  settle(id: string, reservationId: string, charge: number): number | null {
    const a = this.accounts.get(id);
    return a ? applySettle(a, reservationId, charge) : null;
  }

  charge(id: string, chargeId: string, amount: number, ttlMs: number): boolean {
    const now = Date.now();
    const forgetAt = this.charges.get(chargeId);
    if (forgetAt !== undefined && forgetAt > now) return false;
    this.charges.set(chargeId, now + ttlMs);
    applyCharge(this.account(id), amount);
    return true;
  }
}
