/**
 * A leading stream relayed to followers on other replicas as it comes
 * (Redis only: SharedTier.relaysStreams). The replica that holds a key's
 * claim appends each event its miner sends to a log of that claim (a Redis
 * Stream, kept a while past its claim's renewals), after a header naming who
 * serves it, and ends it with a marker: finished, or failed with the error
 * its own client got. A follower that finds the header reads the log from
 * its start, blocking on it between events, and hands the events to its
 * clients' relays as if they came from a miner; finished, they are also the
 * answer its JSON followers get.
 *
 * Appends run one at a time behind the leader's own relay (queued events go
 * together), so the leader waits for none of them. The claim is let go only
 * once every append landed, so a follower that sees the claim gone without
 * an end marker knows the leader stopped without one (it died, or the store
 * failed it) and ends its streams with an error: a stream cut after its
 * first bytes cannot be retried.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import type { RelaySource } from '../openai/chunk-relay.js';
import { ClientDisconnected, DeadlineExceeded } from '../router/request-deadline.js';
import { entryFromChunks, type CacheEntry, type EntrySnapshot } from './cache-entry.js';
import type { Flight } from './flight.js';
import { MAX_RELAYED_EVENTS, type SharedTier } from './shared-tier.js';

/** Who serves a relayed stream: what its followers' receipts and entry name. */
export interface StreamOrigin {
  readonly endpoint: CompletionEndpoint;
  readonly upstream: Upstream;
  readonly servedModel: string;
  readonly snapshot: EntrySnapshot;
}

/** How a relayed stream ended. */
type EndMarker = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly deadline: boolean };

const HEADER = 'h';
const EVENT = 'e';
const END = 'x';

/**
 * One value of the log: its kind, its place in the stream, its body. An
 * append that timed out may have landed all the same, and its retry then
 * repeats it: readers skip what they have had by its place.
 */
interface LogValue {
  readonly kind: string;
  readonly seq: number;
  readonly body: string;
}

const encodeValue = (kind: string, seq: number, body: string) => `${kind}${seq}:${body}`;

function decodeValue(value: string): LogValue | null {
  const colon = value.indexOf(':');
  const seq = Number(value.slice(1, colon));
  return colon > 1 && Number.isSafeInteger(seq) ? { kind: value.slice(0, 1), seq, body: value.slice(colon + 1) } : null;
}

/** How long a follower blocks on the log before it checks that the leader still holds its claim. */
const READ_BLOCK_MS = 1_000;
/** How long a follower goes on asking a store that does not answer before it ends its streams with an error. */
const STORE_RETRY_MS = 5_000;
/** Pause between those attempts. */
const STORE_RETRY_PAUSE_MS = 100;
/** Values read at once. */
const READ_COUNT = 256;
/**
 * Characters a relayed stream may carry. Far above the entry cap: the log is
 * transient (it expires with its claim), and a long answer that is too big to
 * keep must still reach the other replicas' clients whole (a follower cut
 * here gets an error after its first bytes); only a runaway answer stops.
 */
const MAX_RELAYED_CHARS = 32 * 1024 * 1024;

/** What a SharedStream tells about the stream it reads (src/cache/shared-stream.ts). */
export interface StreamTap {
  /** Still passing events on (false once it ended, e.g. a runaway answer or a store failure). */
  readonly relaying: boolean;
  /** Some replica reads the relayed stream now: only then is it read on after this replica's own clients left. */
  readonly followed: boolean;
  event(event: string): void;
  /** null: finished; else why it failed. */
  end(failure: unknown): void;
}

/** The leader's side: appends the events of the stream it relays to its claim's log. */
export class StreamPublisher implements StreamTap {
  private readonly queue: string[];
  private flushing: Promise<void> | null = null;
  private chars = 0;
  private events = 0;
  private ended = false;
  private announced = false;
  private followers = 0;
  /** Place of the next value in the log (the header is 0). */
  private seq = 1;
  private readonly unwatch: () => void;
  private readonly maxChars: number;

  constructor(
    private readonly tier: SharedTier,
    private readonly key: string,
    private readonly token: string,
    origin: StreamOrigin,
    private readonly ttlMs: number,
    /** The entry cap (CACHE_MAX_ENTRY_BYTES): relaying allows MAX_RELAYED_CHARS when that is more. */
    entryMaxChars: number,
    /** Takes secrets out of an error before other replicas' clients see it (the provider's `redact`). */
    private readonly redact: (text: string) => string,
  ) {
    this.queue = [encodeValue(HEADER, 0, JSON.stringify(origin))];
    this.maxChars = Math.max(entryMaxChars, MAX_RELAYED_CHARS);
    this.unwatch = tier.watchFollowers(key, token, (change) => {
      this.followers = Math.max(0, this.followers + change);
    });
  }

  get followed(): boolean {
    return this.followers > 0;
  }

  /** Stops counting followers (the claim is let go). */
  stopWatching(): void {
    this.unwatch();
  }

  get relaying(): boolean {
    return !this.ended;
  }

  event(event: string): void {
    if (this.ended) return;
    this.chars += event.length;
    // Past MAX_RELAYED_CHARS the answer is a runaway; past the event cap the log would lose its start.
    if (this.chars > this.maxChars || ++this.events >= MAX_RELAYED_EVENTS - 1) {
      this.close({ ok: false, error: 'the answer grew too large to relay to other replicas', deadline: false });
      return;
    }
    this.push(EVENT, event);
  }

  end(failure: unknown): void {
    if (this.ended) return;
    if (failure === null) return this.close({ ok: true });
    const message = failure instanceof ClientDisconnected ? 'every client of the replica serving it went away' : failure instanceof Error ? failure.message : String(failure);
    this.close({ ok: false, error: this.redact(message), deadline: failure instanceof DeadlineExceeded });
  }

  /** Keeps the log while its claim is held. */
  renew(): void {
    void this.tier.appendStream(this.key, this.token, [], this.ttlMs);
  }

  /** Resolves once every append so far has landed (or failed). */
  drained(): Promise<void> {
    return this.flushing ?? Promise.resolve();
  }

  private close(marker: EndMarker): void {
    this.push(END, JSON.stringify(marker));
    this.ended = true;
  }

  private push(kind: string, body: string): void {
    this.queue.push(encodeValue(kind, this.seq++, body));
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      // One retry: a batch lost for good cuts every follower's stream (one that landed late is repeated, and readers skip it).
      if (!(await this.tier.appendStream(this.key, this.token, batch, this.ttlMs)) && !(await this.tier.appendStream(this.key, this.token, batch, this.ttlMs))) {
        // The store failed: followers see the claim go without an end marker and end with an error.
        this.queue.length = 0;
        this.ended = true;
        break;
      }
      if (!this.announced) {
        this.announced = true;
        void this.tier.announceStream(this.key);
      }
    }
    this.flushing = null;
  }
}

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
  /** Once: the whole answer when the stream finished, else null. */
  readonly onEnd: (entry: CacheEntry | null) => void;
}

/** The follower's side: reads the log into memory as it grows; each of this replica's stream clients reads it from the start. */
export class ReplicaStream {
  private readonly log: string[] = [];
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

  /** A source for one more reader, from the first event; null once the stream failed. */
  attach(): RelaySource | null {
    if (this.state === 'failed') return null;
    let cancelled = false;
    const read = async function* (this: ReplicaStream): AsyncGenerator<string, void, undefined> {
      for (let position = 0; ; ) {
        while (position < this.log.length) yield this.log[position++] as string;
        if (this.state === 'completed') return;
        if (this.state === 'failed') throw this.failure;
        if (cancelled) return;
        await new Promise<void>((wake) => this.wakers.add(wake));
      }
    };
    return {
      events: read.call(this),
      cancel: () => {
        cancelled = true;
        this.wake();
      },
    };
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
        if (value.kind === EVENT) this.log.push(value.body);
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
    this.options.onEnd(failure ? null : entryFromChunks({ endpoint, upstream, servedModel, snapshot, ttlS: this.options.ttlS }, this.log));
  }

  private wake(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }
}

/** Makes `flight` go live with another replica's stream; `onEnd` ends the flight with its answer (or none). */
export async function followRelayed(tier: SharedTier, flight: Flight, found: FoundStream, onEnd: (entry: CacheEntry | null) => void): Promise<'relayed'> {
  // The leader reads on for this replica after its own clients left only once it heard of it: told before any byte goes out.
  await tier.announceFollowing(flight.ticket.key, found.token, true);
  const stream = new ReplicaStream(tier, flight.ticket.key, found, { signal: flight.signal, ttlS: flight.ticket.ttlS, onEnd });
  const { upstream, servedModel, snapshot } = found.origin;
  flight.goLive({ stream, upstream, servedModel, snapshot });
  return 'relayed';
}

/** The error a follower's clients get: the one the leader's client got. */
function endFailure(body: string): Error | null {
  let marker: EndMarker;
  try {
    marker = JSON.parse(body) as EndMarker;
  } catch {
    return new Error('the replica serving this stream sent an unreadable end');
  }
  if (marker.ok) return null;
  return marker.deadline ? new DeadlineExceeded(marker.error) : new Error(marker.error);
}
