/**
 * The Store's semantics over SQLite, for the Durable Object that is the
 * store on Cloudflare Workers (src/worker/store-object.ts). Every method is
 * synchronous: a Durable Object runs one event at a time and SQLite calls
 * return before anything else can run, so each method is atomic without
 * locks or transactions, like a Lua script in Redis. The rules of rate
 * buckets and credit accounts are the shared ones (gcra.ts,
 * credit-account.ts), so memory, Redis and this engine answer alike.
 */
import { applyCharge, applyReserve, applySettle, applyTopUp, balanceOf, emptyAccount, type CreditAccount } from './credit-account.js';
import { gcraState, gcraStep } from './gcra.js';
import type { CreditBalance, HashIncrement, HashIncrOptions, LogAppendOptions, LogEntry, RateBucket, RateDecision, SetOptions, TopUpResult } from './store.js';

/** The part of Cloudflare's SqlStorage this engine uses (node:sqlite-like in tests would fit too). */
export interface SqlExec {
  exec(query: string, ...bindings: Array<string | number | null>): { toArray(): Array<Record<string, unknown>> };
}

const SCHEMA = [
  // Plain values; expires_at in ms since epoch, NULL = never.
  'CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER)',
  'CREATE TABLE IF NOT EXISTS hash (k TEXT NOT NULL, f TEXT NOT NULL, v TEXT NOT NULL, PRIMARY KEY (k, f))',
  // Hashes written with a ttl (hincrby's option), whole-hash expiry like Redis PEXPIRE.
  'CREATE TABLE IF NOT EXISTS hash_expiry (k TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS sets (k TEXT NOT NULL, m TEXT NOT NULL, PRIMARY KEY (k, m))',
  // Ids of applied batches and charges, remembered until expires_at; apart from kv so no user key collides.
  'CREATE TABLE IF NOT EXISTS applied (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)',
  // Rate buckets: theoretical arrival time (GCRA), dropped once the bucket is full again.
  'CREATE TABLE IF NOT EXISTS rate (k TEXT PRIMARY KEY, tat REAL NOT NULL, expires_at INTEGER NOT NULL)',
  // Balances and held reservations as one JSON row per account: read and written whole, atomically.
  'CREATE TABLE IF NOT EXISTS credit_accounts (account TEXT PRIMARY KEY, state TEXT NOT NULL)',
  // Append-only logs (Redis Streams' role): values by increasing id, whole-log expiry like a hash's.
  'CREATE TABLE IF NOT EXISTS log (k TEXT NOT NULL, id INTEGER NOT NULL, v TEXT NOT NULL, PRIMARY KEY (k, id))',
  'CREATE TABLE IF NOT EXISTS log_expiry (k TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS credit_topups (account TEXT NOT NULL, idem TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (account, idem))',
];

const EXPIRING_TABLES = ['kv', 'applied', 'rate', 'hash_expiry', 'log_expiry'] as const;

interface StoredAccount {
  readonly available: number;
  readonly reserved: number;
  readonly spent: number;
  readonly toppedUp: number;
  readonly reservations: Array<[string, { amount: number; expiresAt: number }]>;
  /** Absent from rows written before expired reservations were remembered. */
  readonly expired?: Array<[string, { amount: number; forgetAt: number }]>;
}

export class SqlStoreEngine {
  constructor(
    private readonly sql: SqlExec,
    private readonly now: () => number = Date.now,
  ) {
    for (const statement of SCHEMA) sql.exec(statement);
  }

  get(key: string): string | null {
    const row = this.sql.exec('SELECT v FROM kv WHERE k = ? AND (expires_at IS NULL OR expires_at > ?)', key, this.now()).toArray()[0];
    return row ? String(row.v) : null;
  }

  set(key: string, value: string, options: SetOptions = {}): boolean {
    if (options.onlyIfAbsent && this.get(key) !== null) return false;
    const expiresAt = options.ttlMs !== undefined ? this.now() + options.ttlMs : null;
    this.sql.exec('INSERT OR REPLACE INTO kv (k, v, expires_at) VALUES (?, ?, ?)', key, value, expiresAt);
    return true;
  }

  del(key: string): void {
    this.sql.exec('DELETE FROM kv WHERE k = ?', key);
    this.dropHash(key);
    this.sql.exec('DELETE FROM sets WHERE k = ?', key);
    this.sql.exec('DELETE FROM log WHERE k = ?', key);
    this.sql.exec('DELETE FROM log_expiry WHERE k = ?', key);
  }

  compareAndDelete(key: string, expected: string): boolean {
    if (this.get(key) !== expected) return false;
    this.sql.exec('DELETE FROM kv WHERE k = ?', key);
    return true;
  }

  compareAndExpire(key: string, expected: string, ttlMs: number): boolean {
    if (this.get(key) !== expected) return false;
    this.sql.exec('UPDATE kv SET expires_at = ? WHERE k = ?', this.now() + ttlMs, key);
    return true;
  }

  hgetall(key: string): Record<string, string> {
    this.expireHash(key);
    const rows = this.sql.exec('SELECT f, v FROM hash WHERE k = ?', key).toArray();
    return Object.fromEntries(rows.map((r) => [String(r.f), String(r.v)]));
  }

  hgetallMany(keys: readonly string[]): Array<Record<string, string>> {
    return keys.map((key) => this.hgetall(key));
  }

  hset(key: string, fields: Readonly<Record<string, string>>): void {
    this.expireHash(key);
    for (const [field, value] of Object.entries(fields)) this.sql.exec('INSERT OR REPLACE INTO hash (k, f, v) VALUES (?, ?, ?)', key, field, value);
  }

  hincrby(key: string, increments: Readonly<Record<string, number>>, options: HashIncrOptions = {}): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [field, by] of Object.entries(increments)) result[field] = this.increment(key, field, by);
    if (options.ttlMs !== undefined) this.sql.exec('INSERT OR REPLACE INTO hash_expiry (k, expires_at) VALUES (?, ?)', key, this.now() + options.ttlMs);
    return result;
  }

  hincrbyOnce(opId: string, increments: readonly HashIncrement[], ttlMs: number): boolean {
    if (!this.markApplied(opId, ttlMs)) return false;
    for (const { key, field, by } of increments) this.increment(key, field, by);
    return true;
  }

  sadd(key: string, member: string): void {
    this.sql.exec('INSERT OR IGNORE INTO sets (k, m) VALUES (?, ?)', key, member);
  }

  srem(key: string, member: string): void {
    this.sql.exec('DELETE FROM sets WHERE k = ? AND m = ?', key, member);
  }

  smembers(key: string): string[] {
    return this.sql.exec('SELECT m FROM sets WHERE k = ?', key).toArray().map((r) => String(r.m));
  }

  logAppend(key: string, values: readonly string[], options: LogAppendOptions): void {
    const expiresAt = this.now() + options.ttlMs;
    if (values.length === 0) {
      this.sql.exec('UPDATE log_expiry SET expires_at = ? WHERE k = ? AND expires_at > ?', expiresAt, key, this.now());
      return;
    }
    this.expireLog(key);
    const row = this.sql.exec('SELECT MAX(id) AS last FROM log WHERE k = ?', key).toArray()[0];
    let id = row?.last === null || row?.last === undefined ? 0 : Number(row.last);
    for (const value of values) this.sql.exec('INSERT INTO log (k, id, v) VALUES (?, ?, ?)', key, ++id, value);
    this.sql.exec('DELETE FROM log WHERE k = ? AND id <= ?', key, id - options.maxLen);
    this.sql.exec('INSERT OR REPLACE INTO log_expiry (k, expires_at) VALUES (?, ?)', key, expiresAt);
  }

  /** Never waits (the object must not hold a call open for one client): its readers poll. */
  logRead(key: string, after: string, count: number): LogEntry[] {
    this.expireLog(key);
    const rows = this.sql.exec('SELECT id, v FROM log WHERE k = ? AND id > ? ORDER BY id LIMIT ?', key, Number(after), count).toArray();
    return rows.map((r) => ({ id: String(r.id), value: String(r.v) }));
  }

  rateLimit(buckets: readonly RateBucket[]): RateDecision {
    const now = this.now();
    const tats = buckets.map((b) => this.tat(b.key, now));
    const steps = buckets.map((b, i) => gcraStep(tats[i] ?? 0, now, b));
    const allowed = steps.every((s) => s.allowed);
    if (allowed) steps.forEach((s, i) => this.saveTat((buckets[i] as RateBucket).key, s.nextTat, now));
    const refused = steps.filter((s) => !s.allowed);
    const retryAfterMs = refused.some((s) => s.retryAfterMs < 0) ? -1 : Math.max(0, ...refused.map((s) => s.retryAfterMs));
    return { allowed, retryAfterMs, buckets: buckets.map((b, i) => gcraState(allowed ? (steps[i]?.nextTat ?? 0) : (tats[i] ?? 0), now, b)) };
  }

  rateLimitAdjust(bucket: RateBucket): void {
    const now = this.now();
    const tat = Math.max(this.tat(bucket.key, now), now) + (bucket.cost * bucket.periodMs) / bucket.limit;
    if (tat <= now) this.sql.exec('DELETE FROM rate WHERE k = ?', bucket.key);
    else this.saveTat(bucket.key, tat, now);
  }

  creditTopUp(account: string, amount: number, idempotencyKey: string): TopUpResult {
    const previous = this.sql.exec('SELECT amount FROM credit_topups WHERE account = ? AND idem = ?', account, idempotencyKey).toArray()[0];
    if (previous) return { applied: false, amount: Number(previous.amount), balance: this.creditBalance(account) };
    this.sql.exec('INSERT INTO credit_topups (account, idem, amount) VALUES (?, ?, ?)', account, idempotencyKey, amount);
    return { applied: true, amount, balance: this.withAccount(account, (a) => (applyTopUp(a, amount), balanceOf(a))) };
  }

  creditReserve(account: string, reservationId: string, amount: number, ttlMs: number): { ok: boolean; balance: CreditBalance } {
    return this.withAccount(account, (a) => ({ ok: applyReserve(a, reservationId, amount, ttlMs, this.now()), balance: balanceOf(a) }));
  }

  creditSettle(account: string, reservationId: string, charge: number): number | null {
    if (!this.loadAccount(account)) return null;
    return this.withAccount(account, (a) => applySettle(a, reservationId, charge));
  }

  creditCharge(account: string, chargeId: string, amount: number, ttlMs: number): boolean {
    if (!this.markApplied(chargeId, ttlMs)) return false;
    this.withAccount(account, (a) => applyCharge(a, amount));
    return true;
  }

  creditBalance(account: string): CreditBalance {
    return balanceOf(this.loadAccount(account) ?? undefined);
  }

  /** Deletes what has expired; returns the next expiry still ahead (ms since epoch), or null when nothing expires. */
  sweep(): number | null {
    const now = this.now();
    let next: number | null = null;
    this.sql.exec('DELETE FROM hash WHERE k IN (SELECT k FROM hash_expiry WHERE expires_at <= ?)', now);
    this.sql.exec('DELETE FROM log WHERE k IN (SELECT k FROM log_expiry WHERE expires_at <= ?)', now);
    for (const table of EXPIRING_TABLES) {
      this.sql.exec(`DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ?`, now);
      const row = this.sql.exec(`SELECT MIN(expires_at) AS next FROM ${table} WHERE expires_at IS NOT NULL`).toArray()[0];
      const at = row?.next === null || row?.next === undefined ? null : Number(row.next);
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }

  /** A hash whose ttl has passed is gone, as in Redis, before anything reads or writes it. */
  private expireHash(key: string): void {
    const row = this.sql.exec('SELECT expires_at FROM hash_expiry WHERE k = ?', key).toArray()[0];
    if (row && Number(row.expires_at) <= this.now()) this.dropHash(key);
  }

  private expireLog(key: string): void {
    const row = this.sql.exec('SELECT expires_at FROM log_expiry WHERE k = ?', key).toArray()[0];
    if (!row || Number(row.expires_at) > this.now()) return;
    this.sql.exec('DELETE FROM log WHERE k = ?', key);
    this.sql.exec('DELETE FROM log_expiry WHERE k = ?', key);
  }

  private dropHash(key: string): void {
    this.sql.exec('DELETE FROM hash WHERE k = ?', key);
    this.sql.exec('DELETE FROM hash_expiry WHERE k = ?', key);
  }

  private increment(key: string, field: string, by: number): number {
    this.expireHash(key);
    const row = this.sql.exec('SELECT v FROM hash WHERE k = ? AND f = ?', key, field).toArray()[0];
    const next = Number(row?.v ?? 0) + by;
    this.sql.exec('INSERT OR REPLACE INTO hash (k, f, v) VALUES (?, ?, ?)', key, field, String(next));
    return next;
  }

  /** Records an operation id; false when it was applied before and is still remembered. */
  private markApplied(id: string, ttlMs: number): boolean {
    const now = this.now();
    const row = this.sql.exec('SELECT expires_at FROM applied WHERE id = ?', id).toArray()[0];
    if (row && Number(row.expires_at) > now) return false;
    this.sql.exec('INSERT OR REPLACE INTO applied (id, expires_at) VALUES (?, ?)', id, now + ttlMs);
    return true;
  }

  private tat(key: string, now: number): number {
    const row = this.sql.exec('SELECT tat FROM rate WHERE k = ? AND expires_at > ?', key, now).toArray()[0];
    return row ? Number(row.tat) : 0;
  }

  private saveTat(key: string, tat: number, now: number): void {
    // Kept until the bucket is full again, like the Redis key's PX.
    this.sql.exec('INSERT OR REPLACE INTO rate (k, tat, expires_at) VALUES (?, ?, ?)', key, tat, Math.ceil(tat - now) + 1 + now);
  }

  private loadAccount(account: string): CreditAccount | null {
    const row = this.sql.exec('SELECT state FROM credit_accounts WHERE account = ?', account).toArray()[0];
    if (!row) return null;
    const stored = JSON.parse(String(row.state)) as StoredAccount;
    return { ...stored, reservations: new Map(stored.reservations), expired: new Map(stored.expired ?? []) };
  }

  /** Applies one step of the credit rules to an account and writes it back. */
  private withAccount<T>(account: string, step: (a: CreditAccount) => T): T {
    const a = this.loadAccount(account) ?? emptyAccount();
    const result = step(a);
    const stored: StoredAccount = {
      available: a.available,
      reserved: a.reserved,
      spent: a.spent,
      toppedUp: a.toppedUp,
      reservations: [...a.reservations],
      expired: [...a.expired],
    };
    this.sql.exec('INSERT OR REPLACE INTO credit_accounts (account, state) VALUES (?, ?)', account, JSON.stringify(stored));
    return result;
  }
}
