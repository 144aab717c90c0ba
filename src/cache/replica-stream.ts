/**
 * A leading stream relayed to followers on other replicas as it comes
 * (Redis only: SharedTier.relaysStreams). The leader appends its events to
 * its claim's log (stream-publisher.ts, relay-log.ts). A follower that finds
 * the log's header tells the leader it follows, reads the log from its
 * start, blocking on it between events, and hands the events to its
 * clients' relays as if they came from a miner; finished within the entry
 * cap, they are also the answer its JSON followers get. Past the cap it
 * keeps only what some reader has not read yet, as SharedStream does.
 *
 * The leader lets go of its claim only once every append landed, so a
 * follower that sees the claim gone without an end marker knows the leader
 * stopped without one (it died, or the store failed it) and ends its
 * streams with an error: a stream cut after its first bytes cannot be
 * retried. A store that is slow or fails once is asked again; only one
 * silent for STORE_RETRY_MS ends the streams.
 */
import type { RelaySource } from '../openai/chunk-relay.js';
import { ClientDisconnected } from '../router/request-deadline.js';
import { entryFromChunks, type CacheEntry } from './cache-entry.js';
import type { Flight } from './flight.js';
import { decodeValue, END, endFailure, EVENT, HEADER, type StreamOrigin } from './relay-log.js';
import type { SharedTier } from './shared-tier.js';

/** How long a follower blocks on the log before it checks that the leader still holds its claim. */
const READ_BLOCK_MS = 1_000;
/** How long a follower goes on asking a store that does not answer before it ends its streams with an error. */
const STORE_RETRY_MS = 5_000;
/** Pause between those attempts. */
const STORE_RETRY_PAUSE_MS = 100;
/** Values read at once. */
const READ_COUNT = 256;

/** A leader's stream a follower found: the claim it belongs to and who serves it. */
export interface FoundStream {
  readonly token: string;
  readonly origin: StreamOrigin;
}

/** The stream the claim `token` holds on `key` relays, once its leader appended the first event; null before. */
export async function findStream(tier: SharedTier, key: string, token: string): Promise<FoundStream | null> {
  const first = await tier.readStream(key, token, '0', 2, 0);
  // The header is appended together with the first event: both, or nothing yet.
  const header = first && first.length >= 2 && first[0] ? decodeValue(first[0].value) : null;
  if (header?.kind !== HEADER) return null;
  try {
    return { token, origin: JSON.parse(header.body) as StreamOrigin };
  } catch {
    return null;
  }
}

export interface FollowOptions {
  /** Aborts once every client of this replica waiting for the answer has gone: reading stops. */
  readonly signal: AbortSignal;
  /** How long the answer is kept (the entry handed to onEnd). */
  readonly ttlS: number;
  /** The entry cap (CACHE_MAX_ENTRY_BYTES): past it the answer cannot be kept, and events every reader passed are dropped. */
  readonly maxKeepChars: number;
  /** Once: the whole answer when the stream finished within the entry cap, else null. */
  readonly onEnd: (entry: CacheEntry | null) => void;
}

interface Reader {
  /** Index in the stream of the next event this reader gets. */
  position: number;
}

/** The follower's side: reads the log into memory as it grows; each of this replica's stream clients reads it from the start. */
export class ReplicaStream {
  private readonly log: string[] = [];
  /** Stream index of log[0]: once the answer is past the entry cap, events every reader passed are dropped. */
  private base = 0;
  private keptChars = 0;
  /** The whole answer is held (within the entry cap): for JSON followers, and for readers that join late. */
  private keeping = true;
  private readonly readers = new Set<Reader>();
  private state: 'open' | 'completed' | 'failed' = 'open';
  private failure: Error | null = null;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly tier: SharedTier,
    private readonly key: string,
    private readonly found: FoundStream,
    private readonly options: FollowOptions,
  ) {
    void this.run();
  }

  /** A source for one more reader, from the first event; null once the start is no longer held or the stream failed. */
  attach(): RelaySource | null {
    if (this.base > 0 || this.state === 'failed') return null;
    const reader: Reader = { position: 0 };
    this.readers.add(reader);
    let cancelled = false;
    const read = async function* (this: ReplicaStream): AsyncGenerator<string, void, undefined> {
      try {
        for (;;) {
          while (reader.position < this.base + this.log.length) {
            const event = this.log[reader.position - this.base] as string;
            reader.position++;
            if (!this.keeping) this.trim();
            yield event;
          }
          if (this.state === 'completed') return;
          if (this.state === 'failed') throw this.failure;
          if (cancelled) return;
          await new Promise<void>((wake) => this.wakers.add(wake));
        }
      } finally {
        this.leave(reader);
      }
    };
    return {
      events: read.call(this),
      cancel: () => {
        cancelled = true;
        this.leave(reader);
        this.wake();
      },
    };
  }

  private leave(reader: Reader): void {
    if (this.readers.delete(reader) && !this.keeping) this.trim();
  }

  /** Drops the events every reader has passed (with no reader yet, none: the first one reads from the start). */
  private trim(): void {
    if (this.readers.size === 0) return;
    let lowest = this.base + this.log.length;
    for (const reader of this.readers) if (reader.position < lowest) lowest = reader.position;
    if (lowest <= this.base) return;
    this.log.splice(0, lowest - this.base);
    this.base = lowest;
  }

  private record(event: string): void {
    this.log.push(event);
    if (!this.keeping) return;
    this.keptChars += event.length;
    if (this.keptChars > this.options.maxKeepChars) {
      // Too large to keep: JSON followers get no answer (they call on their own, as on the leader's replica).
      this.keeping = false;
      this.trim();
    }
  }

  private async run(): Promise<void> {
    const { token } = this.found;
    let after = '0';
    let nextSeq = 0;
    // When the store last told something: one slow or failed call is asked again, a store silent for STORE_RETRY_MS ends the stream.
    let answered = Date.now();
    const silent = () => Date.now() - answered > STORE_RETRY_MS;
    const storeSilence = new Error('the shared store stopped answering while the stream was relayed from another replica');
    // Announced (by followRelayed) before this stream went live; told the leader again once it ends.
    while (this.state === 'open') {
      if (this.options.signal.aborted) return this.end(new ClientDisconnected('every client following this stream went away'));
      const entries = await this.tier.readStream(this.key, token, after, READ_COUNT, READ_BLOCK_MS);
      if (entries === null) {
        if (silent()) return this.end(storeSilence);
        await new Promise((resume) => setTimeout(resume, STORE_RETRY_PAUSE_MS));
        continue;
      }
      if (entries.length > 0) answered = Date.now();
      for (const entry of entries) {
        after = entry.id;
        const value = decodeValue(entry.value);
        if (!value || value.seq < nextSeq) continue;
        nextSeq = value.seq + 1;
        if (value.kind === EVENT) this.record(value.body);
        else if (value.kind === END) return this.end(endFailure(value.body));
      }
      this.wake();
      if (entries.length > 0) continue;
      // Nothing came for a while: the leader must still hold its claim (it appends everything before letting go).
      const holder = await this.tier.holder(this.key);
      if (holder === undefined) {
        if (silent()) return this.end(storeSilence);
        continue;
      }
      answered = Date.now();
      if (holder === token) continue;
      // Let go: whatever it appended before is in; read it (the next round), or end without an end marker.
      const last = await this.tier.readStream(this.key, token, after, READ_COUNT, 0);
      if (last?.length === 0) return this.end(new Error('the replica serving this stream stopped before it finished'));
    }
  }

  private end(failure: Error | null): void {
    if (this.state !== 'open') return;
    this.state = failure ? 'failed' : 'completed';
    this.failure = failure;
    this.wake();
    void this.tier.announceFollowing(this.key, this.found.token, false);
    const { endpoint, upstream, servedModel, snapshot } = this.found.origin;
    this.options.onEnd(failure || !this.keeping ? null : entryFromChunks({ endpoint, upstream, servedModel, snapshot, ttlS: this.options.ttlS }, this.log));
  }

  private wake(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }
}

/** Makes `flight` go live with another replica's stream; `onEnd` ends the flight with its answer (or none). */
export async function followRelayed(tier: SharedTier, flight: Flight, found: FoundStream, maxKeepChars: number, onEnd: (entry: CacheEntry | null) => void): Promise<'relayed'> {
  // The leader reads on for this replica after its own clients left only once it heard of it: told before any byte goes out.
  await tier.announceFollowing(flight.ticket.key, found.token, true);
  const stream = new ReplicaStream(tier, flight.ticket.key, found, { signal: flight.signal, ttlS: flight.ticket.ttlS, maxKeepChars, onEnd });
  const { upstream, servedModel, snapshot } = found.origin;
  flight.goLive({ stream, upstream, servedModel, snapshot });
  return 'relayed';
}
