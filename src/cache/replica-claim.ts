/**
 * Single-flight across replicas (Node processes on one Redis, Worker
 * isolates on one Durable Object): the first replica to claim a key calls
 * the miner, the others wait for the entry it stores.
 *
 * A claim's value is a token of its own, so its holder renews and releases
 * only its own claim (compare-and-expire, compare-and-delete): one that ran
 * out and was taken by another replica is never released by the first.
 * The holder renews it every third of CACHE_CLAIM_TTL_MS while its call
 * runs, so an answer of any length keeps its followers waiting, and a
 * replica that died frees the key within one TTL. Followers wait while the
 * claim exists, but never past their own request's deadline (fixed at its
 * arrival) less a reserve for their own call, which they then make; a
 * claim let go without an entry (the leader failed) is taken by the first
 * follower to try, and the rest follow it.
 *
 * A stream whose key another replica holds follows the holder's stream as
 * it comes, through the store (replica-stream.ts), once the holder's first
 * event is in. A holder that answers JSON (its token says so) has no stream
 * to relay: its whole answer could take most of a deadline, and a stream
 * client must not wait that long for a first byte, so it calls at once.
 * Where the store cannot relay streams (Workers: an isolate holds no
 * connection to block on) it does not wait: its client would see nothing
 * until the whole answer was in. It calls the miner at once; its answer is
 * stored too.
 */
import { randomUUID } from 'node:crypto';
import { ClientDisconnected } from '../router/request-deadline.js';
import type { CacheEntry } from './cache-entry.js';
import type { StreamOrigin } from './relay-log.js';
import { findStream, type FoundStream } from './replica-stream.js';
import { StreamPublisher } from './stream-publisher.js';
import type { SharedTier, StoredEntry } from './shared-tier.js';

/** Starts the token of a claim taken for a JSON request: a stream request does not wait on it. */
const JSON_CLAIM = 'json-';

/** While waiting on another replica's claim: how often the entry and the claim are looked at (notices, where they arrive, wake sooner). */
const POLL_MS = 100;

/** This replica's claim on a key, renewed until released. */
export class HeldClaim {
  private readonly timer: ReturnType<typeof setInterval>;
  private publisher: StreamPublisher | null = null;
  /** Replicas that announced they follow this claim (a stream's followers, JSON requests waiting for its entry). */
  private followers = 0;
  private readonly unwatch: () => void;

  constructor(
    private readonly tier: SharedTier,
    readonly key: string,
    private readonly token: string,
    private readonly ttlMs: number,
  ) {
    this.timer = setInterval(() => {
      this.publisher?.renew();
      void this.tier.renew(key, token, ttlMs).then((held) => {
        // Gone (it ran out while the store was unreachable): renewing now could only prolong another replica's claim.
        if (!held) clearInterval(this.timer);
      });
    }, Math.max(1, Math.floor(ttlMs / 3)));
    // Counted from the start: a JSON request on another replica may announce itself before the stream's first byte.
    this.unwatch = tier.watchFollowers(key, token, (change) => {
      this.followers = Math.max(0, this.followers + change);
    });
  }

  /** True while this claim's stream is relayed and another replica follows it (so it goes on when this replica's clients left). */
  get followed(): boolean {
    return this.publisher?.followed === true;
  }

  /**
   * Relays the stream this replica leads to other replicas' followers, where
   * the store can (null elsewhere). Its log outlives the claim's renewals by
   * a TTL, so a follower reads its end after the claim went.
   */
  relayStream(origin: StreamOrigin, maxChars: number, redact: (text: string) => string): StreamPublisher | null {
    if (!this.tier.relaysStreams) return null;
    this.publisher ??= new StreamPublisher(this.tier, this.key, this.token, origin, 2 * this.ttlMs, maxChars, redact, () => this.followers > 0);
    return this.publisher;
  }

  /** Stops renewing and lets go (if still this claim's, after every relayed event landed), telling waiting replicas whether the entry is in. */
  async release(filled: boolean): Promise<void> {
    clearInterval(this.timer);
    this.unwatch();
    await this.publisher?.drained();
    return this.tier.release(this.key, this.token, filled);
  }
}

export type Coordinated =
  /** The answer, from this replica's memory (its own leader stored it meanwhile) or from the store. */
  | { readonly kind: 'memory'; readonly entry: CacheEntry }
  | { readonly kind: 'stored'; readonly stored: StoredEntry }
  /** Another replica's stream, relayed through the store (a stream request only). */
  | { readonly kind: 'relayed'; readonly found: FoundStream }
  /** Call the miner: holding the claim, or without one (a stream, the store unreachable, the wait too long). */
  | { readonly kind: 'lead'; readonly claim: HeldClaim | null };

export interface CoordinateOptions {
  readonly wantsStream: boolean;
  readonly claimTtlMs: number;
  /** The longest a follower waits for the holder's answer: its request's deadline less a reserve for its own call (FixedDeadline.replicaWaitMs). */
  readonly maxWaitMs: number;
  /** Aborts when every client waiting for this answer has gone. */
  readonly signal: AbortSignal;
  /** An entry this replica holds in memory, looked at before the store on every poll. */
  readonly inMemory: () => CacheEntry | null;
  /** Called when this replica starts waiting on another's claim. */
  readonly onWaiting?: () => void;
}

/** Takes the key's claim, or waits for the replica that holds it. */
export async function coordinate(tier: SharedTier, key: string, options: CoordinateOptions): Promise<Coordinated> {
  const until = Date.now() + options.maxWaitMs;
  for (;;) {
    const token = (options.wantsStream ? 'stream-' : JSON_CLAIM) + randomUUID();
    if (await tier.claim(key, token, options.claimTtlMs)) {
      const claim = new HeldClaim(tier, key, token, options.claimTtlMs);
      // Another replica may have stored the answer and let go of its claim between our read and our claim.
      const late = await tier.get(key);
      if (!late) return { kind: 'lead', claim };
      await claim.release(true);
      return { kind: 'stored', stored: late };
    }
    if (options.wantsStream && !tier.relaysStreams) return { kind: 'lead', claim: null };
    options.onWaiting?.();
    const waited = await awaitHolder(tier, key, until, options);
    if (waited !== 'free') return waited;
    // Let go without an answer: try to take it (the first follower to try leads, the rest follow it).
  }
}

/** The holder's answer, 'free' once its claim went away without one, or lead (without a claim) when waiting is no use. */
async function awaitHolder(tier: SharedTier, key: string, until: number, options: CoordinateOptions): Promise<Coordinated | 'free'> {
  // A JSON request tells the holder it waits, so that a stream it leads is read on for it once the holder's own clients left.
  let announced: string | null = null;
  const announce = (token: string | null) => {
    if (token === announced) return;
    if (announced !== null) void tier.announceFollowing(key, announced, false);
    announced = token;
    if (token !== null) void tier.announceFollowing(key, token, true);
  };
  try {
    return await awaitHolderAnnouncing(tier, key, until, options, announce);
  } finally {
    announce(null);
  }
}

async function awaitHolderAnnouncing(tier: SharedTier, key: string, until: number, options: CoordinateOptions, announce: (token: string | null) => void): Promise<Coordinated | 'free'> {
  const { signal, inMemory } = options;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0 || !tier.up) return { kind: 'lead', claim: null };
    const notice = await tier.nextNotice(key, Math.min(POLL_MS, left), signal);
    if (signal.aborted) throw new ClientDisconnected('every client waiting for an identical request on another replica went away');
    const here = inMemory();
    if (here) return { kind: 'memory', entry: here };
    const stored = await tier.get(key);
    if (stored) return { kind: 'stored', stored };
    if (notice === false) return 'free';
    const holder = await tier.holder(key);
    // The store did not answer: look again on the next round (or lead once it is known down).
    if (holder === undefined) continue;
    if (options.wantsStream && holder?.startsWith(JSON_CLAIM)) return { kind: 'lead', claim: null };
    if (!options.wantsStream && holder !== null && !holder.startsWith(JSON_CLAIM)) announce(holder);
    const found = holder !== null && options.wantsStream ? await findStream(tier, key, holder) : null;
    if (found) return { kind: 'relayed', found };
    if (holder === null) {
      // The holder stores its entry before it lets go: read once more in case that happened since the read above.
      const late = await tier.get(key);
      return late ? { kind: 'stored', stored: late } : 'free';
    }
  }
}
