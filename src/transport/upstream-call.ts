/**
 * One upstream request as an undici dispatch handler, and the UpstreamReply
 * it resolves to once the status and headers are in. The body is a queue of
 * the chunks undici hands over: text() joins them at the end, the async
 * iterator yields them as they come and pauses the socket while more than
 * HIGH_WATER bytes wait unread. Cheaper per call than undici's `request`
 * (an async resource and a Node Readable per response) on a path that runs
 * once per proxied request.
 *
 * Aborting the signal, discard(), or leaving the body iterator early while
 * the answer is still arriving abort the request, which closes its socket: a
 * miner that is still writing must not keep a pooled connection busy with an
 * answer nobody reads.
 */
import type { Dispatcher } from 'undici';
import type { UpstreamReply, UpstreamTimeouts } from './http-transport.js';

/** Unread body bytes beyond which the socket is paused until the reader catches up. */
const HIGH_WATER = 64 * 1024;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Turns whatever undici failed with into the transport's own error. */
export type Classify = (err: unknown, signal: AbortSignal, timeouts: UpstreamTimeouts) => Error;

type ResponseHeaders = Record<string, string | string[] | undefined>;

export class UpstreamCall implements Dispatcher.DispatchHandler {
  /** Resolves with the reply at the response headers; rejects if the request fails before them. */
  readonly reply: Promise<UpstreamReply>;
  private headers: ResponseHeaders = {};
  private resolveReply!: (reply: UpstreamReply) => void;
  private rejectReply!: (err: Error) => void;
  private controller: Dispatcher.DispatchController | null = null;
  private headersIn = false;
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | null = null;
  /** Set once nobody will read the body: its end or failure no longer matters. */
  private dropped = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly signal: AbortSignal,
    private readonly timeouts: UpstreamTimeouts,
    private readonly classifyError: Classify,
  ) {
    this.reply = new Promise<UpstreamReply>((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    // 1xx informational answers precede the real one.
    if (statusCode < 200 || this.headersIn) return;
    this.headersIn = true;
    this.headers = headers;
    // A plain object of own functions: providers spread replies ({ ...reply, body }) and pass
    // reply.header around unbound, so nothing here may live on a prototype or need `this`.
    this.resolveReply({
      status: statusCode,
      contentType: this.header('content-type') ?? '',
      firstByteAt: performance.now(),
      header: (name) => this.header(name),
      body: { [Symbol.asyncIterator]: () => this.chunksAsTheyCome() },
      text: () => this.text(),
      discard: () => this.discard(),
    });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.dropped) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER) controller.pause();
    this.notify();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.failure = err;
    this.finish();
    if (!this.headersIn) this.rejectReply(this.classify(err));
  }

  private header(name: string): string | null {
    const value = this.headers[name];
    return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
  }

  private classify(err: unknown): Error {
    return this.classifyError(err, this.signal, this.timeouts);
  }

  private readonly onAbort = () => {
    // Before undici started the request there is nothing to abort yet: onRequestStart does it.
    this.controller?.abort(this.signal.reason);
  };

  private finish(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private waitForMore(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private async text(): Promise<string> {
    while (!this.ended) {
      if (this.failure) throw this.classify(this.failure);
      await this.waitForMore();
    }
    const bytes = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    this.queued = 0;
    // As undici's own text(): a UTF-8 byte order mark is not part of the text.
    const bom = bytes.length >= 3 && UTF8_BOM.every((b, i) => bytes[i] === b);
    return bytes.toString('utf8', bom ? 3 : 0);
  }

  private async *chunksAsTheyCome(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for (;;) {
        const chunk = this.chunks.shift();
        if (chunk) {
          this.queued -= chunk.length;
          if (this.queued <= HIGH_WATER) this.controller?.resume();
          yield chunk;
          continue;
        }
        if (this.failure) throw this.classify(this.failure);
        if (this.ended) return;
        await this.waitForMore();
      }
    } finally {
      // Left early (the reader stopped at [DONE], or failed): stop the rest.
      if (!this.ended) this.discard();
    }
  }

  private discard(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.chunks.length = 0;
    this.queued = 0;
    if (!this.ended && !this.failure) this.controller?.abort(new Error('upstream body discarded'));
  }
}
