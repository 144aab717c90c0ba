/**
 * One miner call that identical requests share (single-flight). The first
 * request leads: it calls the miner and completes the flight with the
 * answer. Requests that arrive meanwhile follow: a stream follower joins
 * the leader's live stream as soon as it has started, anyone else waits for
 * the whole answer. If the leader fails, or its answer cannot be kept, the
 * followers are told so and each calls a miner itself.
 *
 * The miner call belongs to the flight, not to the leader's client: it is
 * stopped only when every client that waits for it has gone. A follower
 * waits no longer than its own request's deadline.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import type { RelaySource } from '../openai/chunk-relay.js';
import type { CompletionLikeRequest } from '../openai/requests.js';
import { ClientDisconnected, type FixedDeadline } from '../router/request-deadline.js';
import type { CacheEntry, EntrySnapshot } from './cache-entry.js';
import type { CacheDirective } from './cache-policy.js';
import type { HeldClaim } from './replica-claim.js';

export interface CacheTicket {
  /** SHA-256 of the normalized request (base64url). */
  readonly key: string;
  /** The subnet model the key was computed for; an answer another subnet served after failover is not stored under it. */
  readonly model: string;
  /** How long the answer is kept. */
  readonly ttlS: number;
}

/** What a completion brings to the response cache (ResponseCache.ticket). */
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
  /** The request's deadline, fixed at its arrival: no wait outlasts it. */
  readonly deadline: FixedDeadline;
}

export type Acquired =
  /** A stored answer, or one a flight this request followed has shared. */
  | { readonly kind: 'hit'; readonly entry: CacheEntry; readonly coalesced: boolean }
  /** The live stream of an identical request (here, or relayed from another replica), read from its first chunk. */
  | { readonly kind: 'live'; readonly source: RelaySource; readonly upstream: Upstream; readonly servedModel: string; readonly snapshot: EntrySnapshot }
  /** Nothing to share: this request calls a miner and completes the flight with its answer. */
  | { readonly kind: 'lead'; readonly flight: Flight };

export interface LiveStream {
  /** The leader's stream (SharedStream), or another replica's relayed to this one (ReplicaStream). */
  readonly stream: { attach(): RelaySource | null };
  readonly upstream: Upstream;
  readonly servedModel: string;
  readonly snapshot: EntrySnapshot;
}

export type FlightOutcome =
  | { readonly kind: 'entry'; readonly entry: CacheEntry }
  | ({ readonly kind: 'live' } & LiveStream)
  /** No answer to share: the leader failed, or its answer could not be kept. */
  | { readonly kind: 'none' };

const NONE: FlightOutcome = Object.freeze({ kind: 'none' });

export class Flight {
  /** This replica's claim on the key across replicas, when it holds one (released when the flight completes). */
  claim: HeldClaim | null = null;
  /** True while this flight waits for another replica's answer instead of calling a miner (a stream does not wait with it). */
  awaitsReplica = false;
  private participants = 0;
  private readonly controller = new AbortController();
  private live: LiveStream | null = null;
  private final: FlightOutcome | null = null;
  private readonly listeners = new Set<() => void>();
  private entryWaiters = 0;

  constructor(
    readonly ticket: CacheTicket,
    /**
     * Stores the leader's answer and releases the claim; called once, before
     * followers are woken. Resolves when the answer may leave: on Workers
     * once the shared store has it, on Node at once (the write runs behind).
     */
    private readonly record: (flight: Flight, entry: CacheEntry | null) => Promise<void>,
  ) {}

  /** Aborts once every client waiting for this answer has gone: the miner call's signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get done(): boolean {
    return this.final !== null;
  }

  /** True while some follower waits for the whole answer (so a stream is read to its end even if its readers left). */
  get awaitsWholeAnswer(): boolean {
    return this.entryWaiters > 0;
  }

  /**
   * Counts a client in; its leaving (its client gone, or the returned
   * function called: it stopped waiting) stops the miner call only if it
   * was the last one.
   */
  join(clientSignal: AbortSignal): () => void {
    this.participants++;
    let gone = false;
    const leave = () => {
      if (gone) return;
      gone = true;
      clientSignal.removeEventListener('abort', leave);
      // A stream another replica follows goes on for its clients (SharedStream reads it on while one does).
      if (--this.participants === 0 && this.final === null && !this.claim?.followed) this.controller.abort(new ClientDisconnected('every client waiting for this answer went away'));
    };
    if (clientSignal.aborted) leave();
    else clientSignal.addEventListener('abort', leave, { once: true });
    return leave;
  }

  /** The leader's stream has started: stream followers may read it from now on. */
  goLive(live: LiveStream): void {
    this.live = live;
    this.notify();
  }

  /**
   * The leader's answer (null: none to share). Kept first, then followers
   * are woken; resolves when the answer may leave (a Worker's request must
   * not end before the shared store has it and the claim is let go; on
   * Node both finish behind the answer).
   */
  complete(entry: CacheEntry | null): Promise<void> {
    if (this.final !== null) return Promise.resolve();
    const written = this.record(this, entry);
    this.settle(entry);
    return written;
  }

  /** Ends the flight without recording (an answer that came from elsewhere, e.g. another replica). */
  settle(entry: CacheEntry | null): void {
    if (this.final !== null) return;
    this.final = entry ? { kind: 'entry', entry } : NONE;
    this.notify();
  }

  /**
   * What a follower gets: the live stream (stream followers, once it
   * started) or the final outcome. Rejects with DeadlineExceeded when the
   * follower's own deadline passes first.
   */
  wait(wantsStream: boolean, clientSignal: AbortSignal, deadline: FixedDeadline): Promise<FlightOutcome> {
    const ready = (): FlightOutcome | null => this.final ?? (wantsStream && this.live ? { kind: 'live', ...this.live } : null);
    const now = ready();
    if (now) return Promise.resolve(now);
    if (clientSignal.aborted) return Promise.reject(new ClientDisconnected('the client closed the connection'));
    const leftMs = deadline.leftMs();
    if (leftMs <= 0) return Promise.reject(deadline.exceeded());
    return new Promise<FlightOutcome>((resolve, reject) => {
      const waitsForEntry = !wantsStream;
      if (waitsForEntry) this.entryWaiters++;
      const stop = () => {
        this.listeners.delete(onChange);
        clientSignal.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        if (waitsForEntry) this.entryWaiters--;
      };
      const timer = setTimeout(() => {
        stop();
        reject(deadline.exceeded());
      }, leftMs);
      const onChange = () => {
        const outcome = ready();
        if (!outcome) return;
        stop();
        resolve(outcome);
      };
      const onAbort = () => {
        stop();
        reject(new ClientDisconnected('the client closed the connection while waiting for an identical request'));
      };
      this.listeners.add(onChange);
      clientSignal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
