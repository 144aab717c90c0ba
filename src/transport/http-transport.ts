/**
 * How the gateway reaches an upstream over HTTP. Node uses undici's pooled
 * keep-alive dispatcher; a Workers build plugs in fetch. Providers only see
 * this interface, so they run unchanged on both.
 */

export interface UpstreamTimeouts {
  /** TCP (and TLS) connect. */
  readonly connectMs: number;
  /** From request sent to response headers (time to first byte). */
  readonly firstByteMs: number;
  /** Longest silence between two body chunks (and between the headers and the first one). */
  readonly idleMs: number;
}

export interface PostOptions {
  readonly signal: AbortSignal;
  readonly timeouts: UpstreamTimeouts;
}

/** An upstream answer whose body has not been read yet. */
export interface UpstreamReply {
  readonly status: number;
  readonly contentType: string;
  /**
   * `performance.now()` when the status line and headers arrived: the
   * upstream's first byte. Health and hedging time a JSON answer's first
   * byte by it, apart from the time its whole body took.
   */
  readonly firstByteAt: number;
  /** A response header by lower-case name (the first, if repeated), or null. */
  header(name: string): string | null;
  /** The body as it arrives. Iterate it once, or call text() once. */
  readonly body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  /** Drops the body and releases the connection (or closes it). */
  discard(): void;
}

export interface HttpTransport {
  post(origin: string, path: string, headers: Record<string, string>, body: Uint8Array, options: PostOptions): Promise<UpstreamReply>;
  close(): Promise<void>;
}

/** Thrown by transports; `phase` tells the router what kind of failure it was. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly phase: 'connect' | 'first_byte' | 'body' | 'too_large' | 'aborted' | 'blocked',
  ) {
    super(message);
  }
}
