/**
 * The Durable Object behind the Store on Cloudflare Workers (binding STORE).
 * One object per store namespace (REDIS_PREFIX's role): every isolate of the
 * Worker, in every location, talks to the same single-threaded object, so
 * rate limits, credit reservations and idempotent batches are strongly
 * consistent, as they are with one Redis primary. Its SQLite storage is
 * durable; expired rows are swept by an alarm.
 *
 * Each public method is an RPC method of the object and runs one synchronous
 * step of SqlStoreEngine, which is what makes it atomic.
 */
import { DurableObject } from 'cloudflare:workers';
import type { StoreObjectApi } from '../store/durable-object.js';
import { SqlStoreEngine } from '../store/sql-store-engine.js';
import type { HashIncrement, HashIncrOptions, LogAppendOptions, LogReadOptions, RateBucket, SetOptions } from '../store/store.js';

/** The object's methods run synchronously; its stubs (StoreObjectApi) see them as async. */
type Synchronous<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never };

/** The sweep never runs more often than this: expiry is also checked on every read. */
const MIN_SWEEP_DELAY_MS = 60_000;

export class StoreObject extends DurableObject implements Synchronous<StoreObjectApi> {
  private readonly engine: SqlStoreEngine;
  private sweepAt: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.engine = new SqlStoreEngine(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.sweepAt = await ctx.storage.getAlarm();
    });
  }

  get(key: string) {
    return this.engine.get(key);
  }
  set(key: string, value: string, options?: SetOptions) {
    const written = this.engine.set(key, value, options);
    if (options?.ttlMs !== undefined) this.sweepLater();
    return written;
  }
  del(key: string) {
    this.engine.del(key);
  }
  compareAndDelete(key: string, expected: string) {
    return this.engine.compareAndDelete(key, expected);
  }
  compareAndExpire(key: string, expected: string, ttlMs: number) {
    const renewed = this.engine.compareAndExpire(key, expected, ttlMs);
    if (renewed) this.sweepLater();
    return renewed;
  }
  hgetall(key: string) {
    return this.engine.hgetall(key);
  }
  hgetallMany(keys: readonly string[]) {
    return this.engine.hgetallMany(keys);
  }
  hset(key: string, fields: Record<string, string>) {
    this.engine.hset(key, fields);
  }
  hincrby(key: string, increments: Record<string, number>, options?: HashIncrOptions) {
    const result = this.engine.hincrby(key, increments, options);
    if (options?.ttlMs !== undefined) this.sweepLater();
    return result;
  }
  hincrbyOnce(opId: string, increments: readonly HashIncrement[], ttlMs: number) {
    const applied = this.engine.hincrbyOnce(opId, increments, ttlMs);
    this.sweepLater();
    return applied;
  }
  sadd(key: string, member: string) {
    this.engine.sadd(key, member);
  }
  srem(key: string, member: string) {
    this.engine.srem(key, member);
  }
  smembers(key: string) {
    return this.engine.smembers(key);
  }
  logAppend(key: string, values: readonly string[], options: LogAppendOptions) {
    this.engine.logAppend(key, values, options);
    if (values.length > 0) this.sweepLater();
  }
  logRead(key: string, after: string, options: LogReadOptions) {
    return this.engine.logRead(key, after, options.count);
  }
  rateLimit(buckets: readonly RateBucket[]) {
    const decision = this.engine.rateLimit(buckets);
    this.sweepLater();
    return decision;
  }
  rateLimitAdjust(bucket: RateBucket) {
    this.engine.rateLimitAdjust(bucket);
    this.sweepLater();
  }
  creditTopUp(account: string, amount: number, idempotencyKey: string) {
    return this.engine.creditTopUp(account, amount, idempotencyKey);
  }
  creditReserve(account: string, reservationId: string, amount: number, ttlMs: number) {
    return this.engine.creditReserve(account, reservationId, amount, ttlMs);
  }
  creditSettle(account: string, reservationId: string, charge: number) {
    return this.engine.creditSettle(account, reservationId, charge);
  }
  creditCharge(account: string, chargeId: string, amount: number, ttlMs: number) {
    const charged = this.engine.creditCharge(account, chargeId, amount, ttlMs);
    this.sweepLater();
    return charged;
  }
  creditBalance(account: string) {
    return this.engine.creditBalance(account);
  }

  override async alarm(): Promise<void> {
    this.sweepAt = null;
    const next = this.engine.sweep();
    if (next !== null) this.armSweep(next);
  }

  /** Something that expires was written: make sure a sweep is coming. */
  private sweepLater(): void {
    if (this.sweepAt === null) this.armSweep(Date.now());
  }

  private armSweep(at: number): void {
    this.sweepAt = Math.max(at, Date.now() + MIN_SWEEP_DELAY_MS);
    void this.ctx.storage.setAlarm(this.sweepAt);
  }
}
