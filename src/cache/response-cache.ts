/**
 * The response cache: exact-match answers by SHA-256 of the normalized
 * request, kept in this process's memory (LRU by bytes) and, with Redis, in
 * the shared store for every replica; identical requests in flight at once
 * share one miner call, in this process and across replicas.
 *
 * The completion path asks for a ticket (null = BYPASS), then `acquire`s:
 * a stored answer (HIT), a running flight to follow (HIT once served), or
 * the lead of a new flight (MISS), whose answer the leader hands back with
 * `flight.complete` to be stored.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import type { Logger } from '../log.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import type { RelaySource } from '../openai/chunk-relay.js';
import type { CompletionLikeRequest } from '../openai/requests.js';
import type { Store } from '../store/store.js';
import { ByteLru } from './byte-lru.js';
import type { CacheSettings } from './cache-config.js';
import { encodeEntry, type CacheEntry, type EntrySnapshot } from './cache-entry.js';
import { cacheKey } from './cache-key.js';
import { effectiveTtlS, uncacheableReason, type CacheDirective } from './cache-policy.js';
import { Flight, type CacheTicket } from './flight.js';
import { SharedTier, type StoredEntry } from './shared-tier.js';

export interface TicketInput {
  readonly endpoint: CompletionEndpoint;
  readonly request: CompletionLikeRequest;
  readonly key: ApiKeyRecord;
  readonly pinned: boolean;
  readonly directive: CacheDirective;
  /** The canonical model id the request resolved to. */
  readonly model: string;
}

/** Whoever asks: a completion call. */
export interface Client {
  /** Aborts when the client goes away. */
  readonly clientSignal: AbortSignal;
}

export type Acquired =
  /** A stored answer, or one a flight this request followed has shared. */
  | { readonly kind: 'hit'; readonly entry: CacheEntry; readonly coalesced: boolean }
  /** The live stream of an identical request, read from its first chunk. */
  | { readonly kind: 'live'; readonly source: RelaySource; readonly upstream: Upstream; readonly servedModel: string; readonly snapshot: EntrySnapshot }
  /** Nothing to share: this request calls a miner and completes the flight with its answer. */
  | { readonly kind: 'lead'; readonly flight: Flight };

export interface CacheStats {
  readonly enabled: boolean;
  /** Answers served without a miner call of their own (coalesced followers included). */
  readonly hits: number;
  /** Cacheable requests that called a miner. */
  readonly misses: number;
  /** Requests the cache stayed out of (not deterministic, no-store, private mode, pinned, compare, cache off). */
  readonly bypasses: number;
  /** Hits that were followers of an identical request in flight, here or on another replica. */
  readonly coalesced: number;
  readonly stored: number;
  /** Answers not kept because their entry was over CACHE_MAX_ENTRY_BYTES. */
  readonly tooLarge: number;
  /** Shared store calls that failed or timed out (each one failed open). */
  readonly errors: number;
  readonly evictions: number;
  readonly memoryEntries: number;
  readonly memoryBytes: number;
  readonly inFlight: number;
  /** `none` without Redis. */
  readonly shared: 'up' | 'down' | 'none';
}

export class ResponseCache {
  private readonly memory: ByteLru<CacheEntry>;
  private readonly flights = new Map<string, Flight>();
  private readonly counts = { hits: 0, misses: 0, bypasses: 0, coalesced: 0, stored: 0, tooLarge: 0 };
  private readonly shared: SharedTier | null;

  constructor(
    private readonly settings: CacheSettings,
    store: Store | null,
    logger: Logger,
  ) {
    this.memory = new ByteLru(settings.CACHE_MEMORY_MAX_BYTES);
    this.shared = settings.CACHE_ENABLED && store?.kind === 'redis' ? new SharedTier(store, logger, settings.CACHE_STORE_TIMEOUT_MS) : null;
  }

  /** Characters a stream may have and still be recorded (a string's length never exceeds its UTF-8 bytes). */
  get maxEntryBytes(): number {
    return this.settings.CACHE_MAX_ENTRY_BYTES;
  }

  /** The key and TTL of a request the cache may answer and record; null (counted as a bypass) otherwise. */
  ticket(input: TicketInput): CacheTicket | null {
    const s = this.settings;
    if (!s.CACHE_ENABLED || input.directive.mode === 'bypass' || uncacheableReason(input.request, input.pinned) !== null) {
      this.counts.bypasses++;
      return null;
    }
    const scope = s.CACHE_SCOPE === 'key' ? input.key.id : null;
    return {
      key: cacheKey({ endpoint: input.endpoint, model: input.model, request: input.request, scope }),
      model: input.model,
      ttlS: effectiveTtlS(input.directive, s.CACHE_DEFAULT_TTL_S, s.CACHE_MAX_TTL_S),
    };
  }

  /** `client.clientSignal` is read only when the request has to wait or call a miner (a hit never does). */
  async acquire(ticket: CacheTicket, client: Client, wantsStream: boolean): Promise<Acquired> {
    const key = ticket.key;
    const kept = this.memory.get(key);
    if (kept) return this.hit(kept, false);
    let flight = this.flights.get(key);
    if (flight) return this.follow(flight, ticket, client.clientSignal, wantsStream);

    const fromShared = this.shared ? await this.shared.get(key) : null;
    if (fromShared) return this.hit(this.keep(key, fromShared), false);
    // While the store was asked, this process may have started a flight for the key, or even finished one.
    const arrived = this.memory.get(key);
    if (arrived) return this.hit(arrived, false);
    flight = this.flights.get(key);
    if (flight) return this.follow(flight, ticket, client.clientSignal, wantsStream);

    flight = new Flight(ticket, this.record);
    this.flights.set(key, flight);
    flight.join(client.clientSignal);
    if (this.shared?.up) {
      const answer = await this.coordinate(flight);
      if (answer) {
        this.flights.delete(key);
        flight.settle(answer);
        return this.hit(answer, true);
      }
    }
    this.counts.misses++;
    return { kind: 'lead', flight };
  }

  stats(): CacheStats {
    const shared = this.shared;
    return {
      enabled: this.settings.CACHE_ENABLED,
      ...this.counts,
      errors: shared?.errors ?? 0,
      evictions: this.memory.evictions,
      memoryEntries: this.memory.size,
      memoryBytes: this.memory.bytes,
      inFlight: this.flights.size,
      shared: shared ? (shared.up ? 'up' : 'down') : 'none',
    };
  }

  async close(): Promise<void> {
    await this.shared?.close();
  }

  /**
   * Across replicas: takes the key's claim, or waits (bounded) for the
   * replica that holds it. Returns the answer when one came from another
   * replica; null when this replica should call the miner.
   */
  private async coordinate(flight: Flight): Promise<CacheEntry | null> {
    const shared = this.shared as SharedTier;
    const key = flight.ticket.key;
    const wait = this.settings.CACHE_COALESCE_WAIT_MS;
    flight.claimed = await shared.claim(key, wait);
    if (flight.claimed) {
      // Another replica may have stored the answer and let go of its claim between our read and our claim.
      const late = await shared.get(key);
      if (!late) return null;
      flight.claimed = false;
      shared.release(key, true);
      return this.keep(key, late);
    }
    const answer = await shared.awaitAnswer(key, wait);
    return answer ? this.keep(key, answer) : null;
  }

  /** An entry read from the shared store, kept in memory too. */
  private keep(key: string, stored: StoredEntry): CacheEntry {
    this.memory.set(key, stored.entry, stored.bytes, stored.entry.expiresAt);
    return stored.entry;
  }

  private hit(entry: CacheEntry, coalesced: boolean): Acquired {
    this.counts.hits++;
    if (coalesced) this.counts.coalesced++;
    return { kind: 'hit', entry, coalesced };
  }

  private async follow(flight: Flight, ticket: CacheTicket, clientSignal: AbortSignal, wantsStream: boolean): Promise<Acquired> {
    flight.join(clientSignal);
    const outcome = await flight.wait(wantsStream, clientSignal);
    if (outcome.kind === 'entry') return this.hit(outcome.entry, true);
    if (outcome.kind === 'live') {
      const source = outcome.stream.attach();
      if (source) {
        this.counts.hits++;
        this.counts.coalesced++;
        return { kind: 'live', source, upstream: outcome.upstream, servedModel: outcome.servedModel, snapshot: outcome.snapshot };
      }
    }
    // Nothing to share: call a miner alone (its answer is still recorded), without making others wait on it.
    this.counts.misses++;
    const solo = new Flight(ticket, this.record);
    solo.join(clientSignal);
    return { kind: 'lead', flight: solo };
  }

  /**
   * A leader's answer: kept in memory and in the shared store when it fits
   * and was served by the model the key names (after failover to another
   * subnet it is only shared with the flight's followers); the claim is
   * released either way.
   */
  private readonly record = (flight: Flight, entry: CacheEntry | null): void => {
    const key = flight.ticket.key;
    if (this.flights.get(key) === flight) this.flights.delete(key);
    let stored = false;
    if (entry && entry.servedModel === flight.ticket.model) {
      const encoded = encodeEntry(entry);
      const bytes = Buffer.byteLength(encoded);
      if (bytes <= this.settings.CACHE_MAX_ENTRY_BYTES) {
        this.memory.set(key, entry, bytes, entry.expiresAt);
        this.shared?.put(key, encoded, entry.expiresAt - Date.now());
        this.counts.stored++;
        stored = true;
      } else {
        this.counts.tooLarge++;
      }
    }
    if (flight.claimed) this.shared?.release(key, stored);
  };
}
