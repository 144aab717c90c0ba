/**
 * The response cache: exact-match answers by SHA-256 of the normalized
 * request, kept in this process's memory (LRU by bytes) and, with Redis or
 * on Workers (the store's Durable Object), in the shared store for every
 * replica or isolate; identical requests in flight at once share one miner
 * call, in this process and across replicas (a stream's chunks reach other
 * replicas as they come: replica-stream.ts). On Workers a request may not
 * wait on another's I/O: there requests share calls through the store only.
 *
 * The completion path asks for a ticket (null = BYPASS), then `acquire`s:
 * a stored answer (HIT), a running flight to follow (HIT once served), or
 * the lead of a new flight (MISS), whose answer the leader hands back with
 * `flight.complete` to be stored. Waiting for another request's answer, here
 * or on another replica, comes out of the waiting request's own deadline
 * (fixed at its arrival): it never waits past it, and what it has left is
 * all its own miner call gets. A wait on another replica's claim also keeps
 * back time for that call (FIRST_BYTE_TIMEOUT_MS, at most half of what is
 * left): a bounded wait, then its own call.
 */
import type { Logger } from '../log.js';
import type { FixedDeadline } from '../router/request-deadline.js';
import type { Store } from '../store/store.js';
import { ByteLru } from './byte-lru.js';
import type { CacheSettings } from './cache-config.js';
import { encodeEntry, type CacheEntry } from './cache-entry.js';
import { cacheKey } from './cache-key.js';
import { effectiveTtlS, uncacheableReason } from './cache-policy.js';
import { Flight, type Acquired, type CacheTicket, type Client, type TicketInput } from './flight.js';
import { coordinate } from './replica-claim.js';
import { followRelayed } from './replica-stream.js';
import type { CacheStats } from './cache-stats.js';
import { SharedTier, type StoredEntry } from './shared-tier.js';
import { WritesBehind } from './writes-behind.js';

/** Flights a request follows before it calls a miner alone, when each ended without an answer for it. */
const MAX_FLIGHTS_FOLLOWED = 2;

export interface ResponseCacheOptions {
  /**
   * Identical requests of this process follow one flight (Node). Off where
   * one request may not wait on another's I/O (Workers: GatewayParts.crossRequestIo):
   * there each request that finds no entry coordinates through the store alone.
   */
  readonly coalesceInProcess: boolean;
  /**
   * A miss's shared-store write and claim release finish behind its answer
   * (Node: the process outlives the request, so the JSON answer or a
   * stream's final chunk leaves at once). Off where a request's I/O must be
   * done before the request ends (Workers): there the answer waits for both.
   */
  readonly writeBehind: boolean;
}

export class ResponseCache {
  private readonly memory: ByteLru<CacheEntry>;
  /** Flights of this process by key; always empty without in-process coalescing. */
  private readonly flights = new Map<string, Flight>();
  private readonly counts = { hits: 0, misses: 0, bypasses: 0, coalesced: 0, stored: 0, tooLarge: 0 };
  private readonly shared: SharedTier | null;
  /** Shared-store writes and claim releases running behind answers that already left; null where answers wait for them. */
  private readonly behind: WritesBehind | null;

  constructor(
    private readonly settings: CacheSettings,
    store: Store | null,
    logger: Logger,
    private readonly options: ResponseCacheOptions,
  ) {
    this.memory = new ByteLru(settings.CACHE_MEMORY_MAX_BYTES);
    this.behind = options.writeBehind ? new WritesBehind(logger) : null;
    // A store every replica shares (Redis for Node replicas, the Durable Object for Worker isolates); the memory store is this process's own.
    const sharedStore = settings.CACHE_ENABLED && store !== null && store.kind !== 'memory';
    this.shared = sharedStore ? new SharedTier(store, logger, settings.CACHE_STORE_TIMEOUT_MS) : null;
  }

  /** Characters a stream may have and still be recorded (a string's length never exceeds its UTF-8 bytes). */
  get maxEntryBytes(): number {
    return this.settings.CACHE_MAX_ENTRY_BYTES;
  }

  /** The key and TTL of a request the cache may answer and record; null (counted as a bypass) otherwise. */
  ticket(input: TicketInput): CacheTicket | null {
    const s = this.settings;
    const nondeterministic = input.directive.nondeterministic ?? s.CACHE_NONDETERMINISTIC;
    if (!s.CACHE_ENABLED || input.directive.mode === 'bypass' || uncacheableReason(input.request, input.pinned, nondeterministic) !== null) {
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

  /**
   * `client.clientSignal` is read only when the request has to wait or call a
   * miner (a hit never does). Rejects with DeadlineExceeded when the request's
   * deadline passes while it follows a flight of this process; a wait on
   * another replica's claim ends earlier, keeping back time for the
   * request's own call, which it then makes (see FixedDeadline.replicaWaitMs).
   */
  async acquire(ticket: CacheTicket, client: Client, wantsStream: boolean): Promise<Acquired> {
    const key = ticket.key;
    const kept = this.memory.get(key);
    if (kept) return this.hit(kept, false);
    let flight = this.running(key);
    if (flight) return this.follow(flight, ticket, client, wantsStream);

    const fromShared = this.shared ? await this.shared.get(key) : null;
    if (fromShared) return this.hit(this.keep(key, fromShared), false);
    // While the store was asked, this process may have started a flight for the key, or even finished one.
    const arrived = this.memory.get(key);
    if (arrived) return this.hit(arrived, false);
    flight = this.running(key);
    if (flight) return this.follow(flight, ticket, client, wantsStream);

    const opened = this.open(ticket, client.clientSignal);
    const answer = this.shared?.up
      ? await this.acrossReplicas(opened, wantsStream, client.deadline).catch((err: unknown) => {
          this.land(opened, null);
          throw err;
        })
      : null;
    if (!answer) return this.leading(opened);
    // Another replica's stream, relayed to this flight: read like a leader's here.
    if (answer === 'relayed') return this.follow(opened, ticket, client, wantsStream);
    this.land(opened, answer);
    return this.hit(answer, true);
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

  /** Resolves once every shared-store write behind an answer that already left is done (or failed open). */
  async settled(): Promise<void> {
    await this.behind?.settled();
  }

  /** Lets the writes behind answers finish first (each is bounded by CACHE_STORE_TIMEOUT_MS), so a shutdown does not drop them. */
  async close(): Promise<void> {
    await this.settled();
    await this.shared?.close();
  }

  /** The flight of this process an identical request may follow, if any. */
  private running(key: string): Flight | undefined {
    return this.options.coalesceInProcess ? this.flights.get(key) : undefined;
  }

  /** A new flight for the key, which identical requests of this process follow from now on. */
  private open(ticket: CacheTicket, clientSignal: AbortSignal): Flight {
    const flight = new Flight(ticket, this.record);
    if (this.options.coalesceInProcess) this.flights.set(ticket.key, flight);
    flight.join(clientSignal);
    return flight;
  }

  /** This request calls a miner: a miss. */
  private leading(flight: Flight): Acquired {
    this.counts.misses++;
    return { kind: 'lead', flight };
  }

  /** Ends a flight with an answer that came from elsewhere (or none), without recording it. */
  private land(flight: Flight, entry: CacheEntry | null): void {
    if (this.flights.get(flight.ticket.key) === flight) this.flights.delete(flight.ticket.key);
    flight.settle(entry);
  }

  /**
   * Across replicas (src/cache/replica-claim.ts): takes the key's claim, or
   * waits for the replica that holds it. Returns the answer when one came
   * from another replica, 'relayed' when the flight went live with its
   * stream, null when this replica calls the miner.
   */
  private async acrossReplicas(flight: Flight, wantsStream: boolean, deadline: FixedDeadline): Promise<CacheEntry | 'relayed' | null> {
    const key = flight.ticket.key;
    const outcome = await coordinate(this.shared as SharedTier, key, {
      wantsStream,
      claimTtlMs: this.settings.CACHE_CLAIM_TTL_MS,
      maxWaitMs: deadline.replicaWaitMs(),
      signal: flight.signal,
      inMemory: () => this.memory.get(key) ?? null,
      onWaiting: () => {
        flight.awaitsReplica = true;
      },
    }).finally(() => {
      flight.awaitsReplica = false;
    });
    if (outcome.kind === 'lead') {
      flight.claim = outcome.claim;
      return null;
    }
    if (outcome.kind === 'relayed') return followRelayed(this.shared as SharedTier, flight, outcome.found, this.maxEntryBytes, (entry) => this.land(flight, entry));
    return outcome.kind === 'memory' ? outcome.entry : this.keep(key, outcome.stored);
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

  /** `round`: how many flights this request followed before this one (each ended without an answer for it). */
  private async follow(flight: Flight, ticket: CacheTicket, client: Client, wantsStream: boolean, round = 0): Promise<Acquired> {
    const { clientSignal } = client;
    // Where streams are not relayed, a stream does not wait for another replica's whole answer (replica-claim.ts): it leads here.
    if (wantsStream && flight.awaitsReplica && !this.shared?.relaysStreams) return this.leading(this.open(ticket, clientSignal));
    const leave = flight.join(clientSignal);
    const outcome = await flight.wait(wantsStream, clientSignal, client.deadline).catch((err: unknown) => {
      // Out of time (or its client gone): it no longer waits, so it no longer keeps the call going.
      leave();
      throw err;
    });
    if (outcome.kind === 'entry') return this.hit(outcome.entry, true);
    if (outcome.kind === 'live') {
      const source = outcome.stream.attach();
      if (source) {
        this.counts.hits++;
        this.counts.coalesced++;
        return { kind: 'live', source, upstream: outcome.upstream, servedModel: outcome.servedModel, snapshot: outcome.snapshot };
      }
    }
    // Nothing to share (the leader failed, or its answer cannot be kept). The first follower to get here
    // leads a new flight and the rest follow it, rather than all calling at once; after a second flight
    // without an answer (the miners are likely failing for everyone), each calls alone.
    const next = this.running(ticket.key);
    if (next && next !== flight) return round + 1 < MAX_FLIGHTS_FOLLOWED ? this.follow(next, ticket, client, wantsStream, round + 1) : this.solo(ticket, clientSignal);
    return this.leading(this.open(ticket, clientSignal));
  }

  /** Calls a miner without making others wait on it (its answer is still recorded). */
  private solo(ticket: CacheTicket, clientSignal: AbortSignal): Acquired {
    const flight = new Flight(ticket, this.record);
    flight.join(clientSignal);
    return this.leading(flight);
  }

  /**
   * A leader's answer: kept in memory and in the shared store when it fits
   * and was served by the model the key names (after failover to another
   * subnet it is only shared with the flight's followers); the claim is
   * released either way, after the entry is written. Resolves when the
   * answer may leave: at once with write-behind, else once both are done.
   */
  private readonly record = (flight: Flight, entry: CacheEntry | null): Promise<void> => {
    const stored = this.store(flight, entry);
    // Without a shared store there is nothing to wait for.
    if (!this.behind || !this.shared) return stored;
    // Memory has the entry now and this process's followers are woken with it; other replicas wait
    // on the claim, which still goes only once the entry is in the shared store.
    this.behind.add(stored);
    return Promise.resolve();
  };

  /** Keeps the entry (memory now, shared store next) and lets go of the claim; resolves once the shared store has it. */
  private store(flight: Flight, entry: CacheEntry | null): Promise<void> {
    const key = flight.ticket.key;
    if (this.flights.get(key) === flight) this.flights.delete(key);
    let written: Promise<void> | undefined;
    if (entry && entry.servedModel === flight.ticket.model) {
      const encoded = encodeEntry(entry);
      const bytes = Buffer.byteLength(encoded);
      if (bytes <= this.settings.CACHE_MAX_ENTRY_BYTES) {
        this.memory.set(key, entry, bytes, entry.expiresAt);
        written = this.shared?.put(key, encoded, entry.expiresAt - Date.now()) ?? Promise.resolve();
        this.counts.stored++;
      } else {
        this.counts.tooLarge++;
      }
    }
    const claim = flight.claim;
    flight.claim = null;
    if (!claim) return written ?? Promise.resolve();
    // Stored before the claim goes: a replica that sees the claim gone finds the entry.
    return (written ?? Promise.resolve()).then(() => claim.release(written !== undefined));
  }
}
