/**
 * The rules of a prepaid account, as pure steps on its state: the memory
 * store keeps accounts in a Map, the Durable Object store keeps them as SQL
 * rows, and both call these, so they cannot drift apart. The Redis store
 * runs the same rules in Lua (redis-scripts.ts); test/store.test.ts holds
 * all three to one suite.
 */
import type { CreditBalance } from './store.js';

export interface CreditAccount {
  available: number;
  reserved: number;
  spent: number;
  toppedUp: number;
  /** reservation id → amount and expiry (ms since epoch). */
  readonly reservations: Map<string, { amount: number; expiresAt: number }>;
}

export function emptyAccount(): CreditAccount {
  return { available: 0, reserved: 0, spent: 0, toppedUp: 0, reservations: new Map() };
}

export function balanceOf(a: CreditAccount | undefined): CreditBalance {
  return a ? { available: a.available, reserved: a.reserved, spent: a.spent, toppedUp: a.toppedUp } : { available: 0, reserved: 0, spent: 0, toppedUp: 0 };
}

/** Adds credit; the caller has checked that the idempotency key is new. */
export function applyTopUp(a: CreditAccount, amount: number): void {
  a.available += amount;
  a.toppedUp += amount;
}

/** Holds `amount` if that much is available, after giving back what requests of a dead gateway still hold. */
export function applyReserve(a: CreditAccount, reservationId: string, amount: number, ttlMs: number, now: number): boolean {
  for (const [rid, r] of a.reservations) {
    if (r.expiresAt > now) continue;
    a.reservations.delete(rid);
    a.reserved -= r.amount;
    a.available += r.amount;
  }
  if (amount > a.available) return false;
  a.available -= amount;
  a.reserved += amount;
  a.reservations.set(reservationId, { amount, expiresAt: now + ttlMs });
  return true;
}

/** Spends min(charge, held) and gives back the rest; null when no such reservation is held. */
export function applySettle(a: CreditAccount, reservationId: string, charge: number): number | null {
  const r = a.reservations.get(reservationId);
  if (!r) return null;
  const spent = Math.min(charge, r.amount);
  a.reservations.delete(reservationId);
  a.reserved -= r.amount;
  a.available += r.amount - spent;
  a.spent += spent;
  return spent;
}

/** Spends without a reservation; the caller has checked that the charge id is new. */
export function applyCharge(a: CreditAccount, amount: number): void {
  a.available -= amount;
  a.spent += amount;
}
