/**
 * The rules of a prepaid account, as pure steps on its state: the memory
 * store keeps accounts in a Map, the Durable Object store keeps them as SQL
 * rows, and both call these, so they cannot drift apart. The Redis store
 * runs the same rules in Lua (redis-scripts.ts); test/store.test.ts holds
 * all three to one suite.
 */
import type { CreditBalance } from './store.js';

/**
 * How long a reservation given back unsettled is remembered, so that its
 * settlement still bills the request if it arrives late: a gateway's usage
 * journal holds settlements through a store outage of any length, and its
 * batch ids are deduplicated for 7 days (ONCE_TTL_MS); this is well beyond
 * both. A settlement later than this is not billed.
 */
export const EXPIRED_RESERVATION_MEMORY_MS = 30 * 24 * 3600 * 1000;

export interface CreditAccount {
  available: number;
  reserved: number;
  spent: number;
  toppedUp: number;
  /** reservation id → amount and expiry (ms since epoch). */
  readonly reservations: Map<string, { amount: number; expiresAt: number }>;
  /** Reservations given back unsettled: id → amount held and when to forget it (ms since epoch). */
  readonly expired: Map<string, { amount: number; forgetAt: number }>;
}

export function emptyAccount(): CreditAccount {
  return { available: 0, reserved: 0, spent: 0, toppedUp: 0, reservations: new Map(), expired: new Map() };
}

export function balanceOf(a: CreditAccount | undefined): CreditBalance {
  return a ? { available: a.available, reserved: a.reserved, spent: a.spent, toppedUp: a.toppedUp } : { available: 0, reserved: 0, spent: 0, toppedUp: 0 };
}

/** Adds credit; the caller has checked that the idempotency key is new. */
export function applyTopUp(a: CreditAccount, amount: number): void {
  a.available += amount;
  a.toppedUp += amount;
}

/**
 * Holds `amount` if that much is available, after giving back what requests
 * past their deadline still hold (their gateway died, or their settlement is
 * stuck behind a store outage: each is remembered, see applySettle).
 */
export function applyReserve(a: CreditAccount, reservationId: string, amount: number, ttlMs: number, now: number): boolean {
  for (const [rid, r] of a.expired) if (r.forgetAt <= now) a.expired.delete(rid);
  for (const [rid, r] of a.reservations) {
    if (r.expiresAt > now) continue;
    a.reservations.delete(rid);
    a.reserved -= r.amount;
    a.available += r.amount;
    a.expired.set(rid, { amount: r.amount, forgetAt: now + EXPIRED_RESERVATION_MEMORY_MS });
  }
  if (amount > a.available) return false;
  a.available -= amount;
  a.reserved += amount;
  a.reservations.set(reservationId, { amount, expiresAt: now + ttlMs });
  return true;
}

/**
 * Spends min(charge, held) and gives back the rest. A reservation already
 * given back (expired before its settlement arrived) is billed all the same:
 * min(charge, what it held) comes out of `available`, even below zero, since
 * the request was served and the reservation is the most its key agreed it
 * could cost. Returns what was spent; null when the id is neither held nor
 * remembered (settled already, or never reserved here). Either way the id is
 * then gone, so a settlement is applied once.
 */
export function applySettle(a: CreditAccount, reservationId: string, charge: number): number | null {
  const r = a.reservations.get(reservationId);
  if (r) {
    const spent = Math.min(charge, r.amount);
    a.reservations.delete(reservationId);
    a.reserved -= r.amount;
    a.available += r.amount - spent;
    a.spent += spent;
    return spent;
  }
  const given = a.expired.get(reservationId);
  if (!given) return null;
  const spent = Math.min(charge, given.amount);
  a.expired.delete(reservationId);
  a.available -= spent;
  a.spent += spent;
  return spent;
}

/** Spends without a reservation; the caller has checked that the charge id is new. */
export function applyCharge(a: CreditAccount, amount: number): void {
  a.available -= amount;
  a.spent += amount;
}
