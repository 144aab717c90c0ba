/**
 * API keys: created by an admin, stored only as SHA-256, checked on every
 * request. Lookups are cached in-process (the hot path must not wait on
 * Redis) and invalidated through the store's pub/sub when a key is revoked
 * on any replica. Where pub/sub does not reach every client (the Durable
 * Object store on Workers), every lookup reads the strongly consistent
 * store instead, so a revocation holds at once in every isolate.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { usdToMicro } from './metering-config.js';

export const KEY_PREFIX = 'sk-tao-';
const REVOKED_CHANNEL = 'keys:revoked';
/** Safety net if a revocation message is lost (pub/sub is at-most-once). */
const BROADCAST_CACHE_TTL_MS = 30_000;

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** Prepaid credit granted at creation (the live balance is in the credit ledger); null = postpaid. Micro-dollars. */
  readonly creditsMicroUsd: number | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
  /** Requests on this key only go to private subnets and are never cached. */
  readonly private: boolean;
  /**
   * Comparisons made with this key count for routing (RANK_BY=blend's quality
   * and the `quality` candidate policy). Any key can compare, and its checks
   * and rubric are its own: without this flag, what it scores is shown on the
   * leaderboard but cannot move traffic.
   */
  readonly trustedScorer: boolean;
}

export interface NewKeyInput {
  readonly name: string;
  readonly creditsUsd?: number | null;
  readonly rpm?: number | null;
  readonly tpm?: number | null;
  readonly private?: boolean;
  readonly trustedScorer?: boolean;
}

export function hashApiKey(key: string): string {
  // Once per request: the one-shot crypto.hash (Node >= 20.12) where there is one.
  return typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash('sha256', key, 'hex') : createHash('sha256').update(key).digest('hex');
}

/** Compares two secrets in time independent of where they differ or their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

const recordKey = (id: string) => `key:${id}`;
const hashIndexKey = (hash: string) => `keyhash:${hash}`;
const ALL_KEYS = 'keys';

function toFields(record: ApiKeyRecord, hash: string): Record<string, string> {
  return {
    id: record.id,
    name: record.name,
    hash,
    created_at: String(record.createdAt),
    revoked_at: record.revokedAt === null ? '' : String(record.revokedAt),
    credits_micro_usd: record.creditsMicroUsd === null ? '' : String(record.creditsMicroUsd),
    rpm: record.rpm === null ? '' : String(record.rpm),
    tpm: record.tpm === null ? '' : String(record.tpm),
    private: record.private ? '1' : '0',
    trusted_scorer: record.trustedScorer ? '1' : '0',
  };
}

function fromFields(fields: Record<string, string>): ApiKeyRecord | null {
  if (!fields.id) return null;
  const optionalNumber = (v: string | undefined) => (v ? Number(v) : null);
  return Object.freeze({
    id: fields.id,
    name: fields.name ?? '',
    createdAt: Number(fields.created_at),
    revokedAt: optionalNumber(fields.revoked_at),
    creditsMicroUsd: optionalNumber(fields.credits_micro_usd),
    rpm: optionalNumber(fields.rpm),
    tpm: optionalNumber(fields.tpm),
    private: fields.private === '1',
    trustedScorer: fields.trusted_scorer === '1',
  });
}

export class ApiKeyRegistry {
  private readonly cache = new Map<string, { record: ApiKeyRecord; cachedAt: number }>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private unwatchStore: (() => void) | null = null;
  /** 0: always read the store; the cached record then only serves while the store is down. */
  private readonly cacheTtlMs: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.cacheTtlMs = store.broadcast === 'all-clients' ? BROADCAST_CACHE_TTL_MS : 0;
  }

  /** Subscribes to revocations from every replica. */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(REVOKED_CHANNEL, (hash) => this.cache.delete(hash));
    // Messages sent while we were disconnected are lost: forget everything.
    this.unwatchStore = this.store.onStateChange((state) => {
      if (state === 'up') this.cache.clear();
    });
  }

  async stop(): Promise<void> {
    this.unwatchStore?.();
    await this.unsubscribe?.();
  }

  /** Throws on credits beyond micro-dollars (the admin API and CLI refuse those first, by field name). */
  async create(input: NewKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    const creditsMicroUsd = input.creditsUsd == null ? null : usdToMicro(input.creditsUsd);
    if (input.creditsUsd != null && creditsMicroUsd === null) {
      throw new RangeError('credits_usd must be 0..1,000,000 USD with at most 6 decimals (micro-dollars are the smallest unit)');
    }
    const key = KEY_PREFIX + randomBytes(24).toString('base64url');
    const id = `key_${randomBytes(8).toString('hex')}`;
    const record: ApiKeyRecord = Object.freeze({
      id,
      name: input.name,
      createdAt: Date.now(),
      revokedAt: null,
      creditsMicroUsd,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      private: input.private ?? false,
      trustedScorer: input.trustedScorer ?? false,
    });
    const hash = hashApiKey(key);
    // A prepaid key's balance lives in the credit ledger, funded before the key can be used.
    if (record.creditsMicroUsd !== null) await this.store.creditTopUp(id, record.creditsMicroUsd, 'initial-grant');
    await this.store.hset(recordKey(id), toFields(record, hash));
    await this.store.set(hashIndexKey(hash), id);
    await this.store.sadd(ALL_KEYS, id);
    this.logger.info({ keyId: id, name: input.name }, 'api key created');
    return { key, record };
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    return fromFields(await this.store.hgetall(recordKey(id)));
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.store.smembers(ALL_KEYS);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter((r): r is ApiKeyRecord => r !== null).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Revokes at once here, and on every replica through pub/sub. Returns the record, or null if unknown. */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    const fields = await this.store.hgetall(recordKey(id));
    const record = fromFields(fields);
    if (!record) return null;
    if (record.revokedAt !== null) return record;
    const revokedAt = Date.now();
    await this.store.hset(recordKey(id), { revoked_at: String(revokedAt) });
    const hash = fields.hash ?? '';
    await this.store.del(hashIndexKey(hash));
    this.cache.delete(hash);
    await this.store.publish(REVOKED_CHANNEL, hash);
    this.logger.info({ keyId: id }, 'api key revoked');
    return { ...record, revokedAt };
  }

  /** The live record for a presented key, or null when unknown or revoked. */
  async authenticate(presented: string): Promise<ApiKeyRecord | null> {
    if (!presented.startsWith(KEY_PREFIX)) return null;
    const hash = hashApiKey(presented);
    const cached = this.cache.get(hash);
    const now = Date.now();
    if (cached && now - cached.cachedAt < this.cacheTtlMs) return cached.record;
    let record: ApiKeyRecord | null;
    try {
      const id = await this.store.get(hashIndexKey(hash));
      record = id ? await this.get(id) : null;
    } catch (err) {
      // Store down: a key we have seen keeps working (serving beats refusing
      // paying users); an unseen key cannot be checked, so the caller fails.
      if (cached) return cached.record;
      throw err;
    }
    if (!record || record.revokedAt !== null) {
      this.cache.delete(hash);
      return null;
    }
    this.cache.set(hash, { record, cachedAt: now });
    return record;
  }
}
