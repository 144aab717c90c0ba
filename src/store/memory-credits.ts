/**
 * Prepaid credit accounts for the memory store: the same rules as the Redis
 * Lua scripts (redis-scripts.ts). Every method runs synchronously to its
 * end, which is what makes it atomic in one process.
 */
import type { CreditBalance, TopUpResult } from './store.js';

interface Account {
  available: number;
  reserved: number;
  spent: number;
  toppedUp: number;
  /** reservation id → amount and expiry (ms since epoch). */
  readonly reservations: Map<string, { amount: number; expiresAt: number }>;
  /** idempotency key → amount. */
  readonly topUps: Map<string, number>;
}

export class MemoryCredits {
  private readonly accounts = new Map<string, Account>();
  /** charge id → forget after (ms since epoch). */
  private readonly charges = new Map<string, number>();

  private account(id: string): Account {
    let account = this.accounts.get(id);
    if (!account) {
      account = { available: 0, reserved: 0, spent: 0, toppedUp: 0, reservations: new Map(), topUps: new Map() };
      this.accounts.set(id, account);
    }
    return account;
  }

  balance(id: string): CreditBalance {
    const a = this.accounts.get(id);
    return a ? { available: a.available, reserved: a.reserved, spent: a.spent, toppedUp: a.toppedUp } : { available: 0, reserved: 0, spent: 0, toppedUp: 0 };
  }

  topUp(id: string, amount: number, idempotencyKey: string): TopUpResult {
    const a = this.account(id);
    const previous = a.topUps.get(idempotencyKey);
    if (previous !== undefined) return { applied: false, amount: previous, balance: this.balance(id) };
    a.topUps.set(idempotencyKey, amount);
    a.available += amount;
    a.toppedUp += amount;
    return { applied: true, amount, balance: this.balance(id) };
  }

  reserve(id: string, reservationId: string, amount: number, ttlMs: number): { ok: boolean; balance: CreditBalance } {
    const a = this.account(id);
    const now = Date.now();
    // Give back what requests of a dead gateway still hold.
    for (const [rid, r] of a.reservations) {
      if (r.expiresAt > now) continue;
      a.reservations.delete(rid);
      a.reserved -= r.amount;
      a.available += r.amount;
    }
    if (amount > a.available) return { ok: false, balance: this.balance(id) };
    a.available -= amount;
    a.reserved += amount;
    a.reservations.set(reservationId, { amount, expiresAt: now + ttlMs });
    return { ok: true, balance: this.balance(id) };
  }

  settle(id: string, reservationId: string, charge: number): number | null {
    const a = this.accounts.get(id);
    const r = a?.reservations.get(reservationId);
    if (!a || !r) return null;
    const spent = Math.min(charge, r.amount);
    a.reservations.delete(reservationId);
    a.reserved -= r.amount;
    a.available += r.amount - spent;
    a.spent += spent;
    return spent;
  }

  charge(id: string, chargeId: string, amount: number, ttlMs: number): boolean {
    const now = Date.now();
    const forgetAt = this.charges.get(chargeId);
    if (forgetAt !== undefined && forgetAt > now) return false;
    this.charges.set(chargeId, now + ttlMs);
    const a = this.account(id);
    a.available -= amount;
    a.spent += amount;
    return true;
  }
}
