/**
 * The leader's side of a relayed stream (replica-stream.ts): the replica
 * that holds a key's claim appends each event its miner sends to the
 * claim's log (relay-log.ts), after a header naming who serves it, and ends
 * it with a marker.
 *
 * Appends run one at a time behind the leader's own relay (queued events go
 * together), so the leader waits for none of them. The claim is let go only
 * once every append landed. Followers announce themselves: the leader reads
 * on after its own clients left only while one follows.
 */
import { ClientDisconnected, DeadlineExceeded } from '../router/request-deadline.js';
import { encodeValue, END, EVENT, HEADER, type EndMarker, type StreamOrigin } from './relay-log.js';
import { MAX_RELAYED_EVENTS, type SharedTier } from './shared-tier.js';

/**
 * Characters a relayed stream may carry. Far above the entry cap: the log is
 * transient (it expires with its claim), and a long answer that is too big to
 * keep must still reach the other replicas' clients whole (a follower cut
 * here gets an error after its first bytes); only a runaway answer stops.
 */
const MAX_RELAYED_CHARS = 32 * 1024 * 1024;

/** What a SharedStream tells about the stream it reads (src/cache/shared-stream.ts). */
export interface StreamTap {
  /** Still relaying, and some replica reads the relayed stream now: only then is it read on after this replica's own clients left. */
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
  /** Place of the next value in the log (the header is 0). */
  private seq = 1;
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
    /** Whether a replica follows the claim now (HeldClaim counts them). */
    private readonly isFollowed: () => boolean,
  ) {
    this.queue = [encodeValue(HEADER, 0, JSON.stringify(origin))];
    this.maxChars = Math.max(entryMaxChars, MAX_RELAYED_CHARS);
  }

  get followed(): boolean {
    return !this.ended && this.isFollowed();
  }

  /** Still passing events on (false once it ended: finished, a runaway answer or a store failure). */
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
