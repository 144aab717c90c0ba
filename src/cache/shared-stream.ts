/**
 * One miner stream read by several clients at once (a request and the
 * identical requests that arrived while it was running), recorded as it
 * passes so the finished answer can be cached. Every reader gets its own
 * relay over its own view, so model rewriting, the usage chunk, receipts
 * and billing stay per client.
 *
 * The fastest reader pulls the upstream; slower ones read the log behind
 * it, so nothing is added to the leader's latency. The log is the
 * recording: it is kept while the answer may still be cached, and once it
 * grows past the entry cap recording stops, the log keeps only what some
 * reader has not read yet, and no new reader may join (its start is gone).
 */
import type { RelaySource } from '../openai/chunk-relay.js';
import type { OpenedStream } from '../router/dispatch.js';
import { ClientDisconnected } from '../router/request-deadline.js';
import type { StreamTap } from './stream-publisher.js';

export interface SharedStreamOptions {
  /** Recording stops once the events exceed this many characters (the answer is then too large to keep). */
  readonly maxRecordChars: number;
  /** Asked when no reader is left: true while someone on this replica waits for the whole answer (of use while it is recorded). */
  readonly awaitsWholeAnswer: () => boolean;
  /**
   * Once, when the upstream is over: every event when it finished and all
   * were recorded, else null. A reader that pulled the end sees it only once
   * what this returns has settled (on Workers the answer is stored before
   * the last chunk leaves, since a request must not end first; on Node the
   * store write runs behind and this settles at once).
   */
  readonly onEnd: (events: string[] | null) => Promise<void> | void;
  /** Told every event as it is pulled, and how the stream ended (a leader relaying it to other replicas). */
  readonly tap?: StreamTap | null;
}

interface Reader {
  /** Index in the stream of the next event this reader gets. */
  position: number;
}

export class SharedStream {
  private readonly log: string[] = [];
  /** Stream index of log[0]: events every reader has passed are dropped once recording stopped. */
  private base = 0;
  private recordedChars = 0;
  private recording = true;
  private readonly readers = new Set<Reader>();
  private pulling: Promise<void> | null = null;
  private state: 'open' | 'completed' | 'failed' = 'open';
  private failure: unknown = null;
  private draining = false;

  constructor(
    private readonly upstream: OpenedStream,
    private readonly options: SharedStreamOptions,
  ) {}

  /** A source for one more reader, from the first event; null once the start is no longer held or the stream failed. */
  attach(): RelaySource | null {
    if (this.base > 0 || this.state === 'failed') return null;
    const reader: Reader = { position: 0 };
    this.readers.add(reader);
    return { events: this.read(reader), cancel: () => this.detach(reader) };
  }

  private async *read(reader: Reader): AsyncGenerator<string, void, undefined> {
    try {
      for (;;) {
        while (reader.position < this.base + this.log.length) {
          const event = this.log[reader.position - this.base] as string;
          reader.position++;
          if (!this.recording) this.trim();
          yield event;
        }
        if (this.state === 'completed') return;
        if (this.state === 'failed') throw this.failure;
        await this.pull();
      }
    } finally {
      this.detach(reader);
    }
  }

  /** One upstream read at a time, whoever asks first; the others wait for the same read. */
  private pull(): Promise<void> {
    this.pulling ??= this.upstream.events.next().then(
      (next) => {
        this.pulling = null;
        if (next.done || next.value === '[DONE]') return this.end('completed', null);
        this.log.push(next.value);
        this.options.tap?.event(next.value);
        if (!this.recording) return;
        this.recordedChars += next.value.length;
        if (this.recordedChars > this.options.maxRecordChars) {
          this.recording = false;
          this.trim();
        }
      },
      (err: unknown) => {
        this.pulling = null;
        return this.end('failed', err);
      },
    );
    return this.pulling;
  }

  private detach(reader: Reader): void {
    if (!this.readers.delete(reader)) return;
    if (this.state !== 'open' || this.readers.size > 0) {
      if (!this.recording) this.trim();
      return;
    }
    if (this.wanted()) return this.drain();
    // Nobody reads and nobody waits: stop the miner's work at once.
    this.upstream.cancel();
    void this.upstream.events.return(undefined);
    this.end('failed', new ClientDisconnected('every client reading this stream went away'));
  }

  /**
   * Whether the rest of the stream is still of use with no reader here: it
   * is recorded for someone waiting for the whole answer, or relayed to a
   * replica that follows it. Otherwise the miner's work stops at once.
   */
  private wanted(): boolean {
    return (this.recording && this.options.awaitsWholeAnswer()) || this.options.tap?.followed === true;
  }

  /** Reads on with no reader, for clients waiting for the whole answer (here or on other replicas); stops when nobody can use it. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      while (this.state === 'open' && this.wanted() && this.readers.size === 0) await this.pull();
      this.draining = false;
      if (this.state === 'open' && this.readers.size === 0) {
        this.upstream.cancel();
        void this.upstream.events.return(undefined);
        this.end('failed', new ClientDisconnected('nobody reads the stream or waits for it any more'));
      }
    })();
  }

  private trim(): void {
    let lowest = this.base + this.log.length;
    for (const reader of this.readers) if (reader.position < lowest) lowest = reader.position;
    if (lowest <= this.base) return;
    this.log.splice(0, lowest - this.base);
    this.base = lowest;
  }

  private end(state: 'completed' | 'failed', failure: unknown): Promise<void> | void {
    if (this.state !== 'open') return;
    this.state = state;
    this.failure = failure;
    const completed = state === 'completed';
    this.options.tap?.end(completed ? null : failure);
    // The miner's health hears once how its stream ended, whoever was reading it.
    this.upstream.settle({
      completed,
      usage: null,
      chunksDelivered: this.base + this.log.length,
      deliveredText: '',
      error: completed ? null : failure instanceof Error ? failure.message : String(failure),
      clientAborted: failure instanceof ClientDisconnected,
    });
    return this.options.onEnd(completed && this.recording ? [...this.log] : null);
  }
}
