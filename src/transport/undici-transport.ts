/**
 * Node transport: one undici Agent with keep-alive pools per origin. The
 * request API (not global fetch) skips WHATWG stream wrapping on the hot path,
 * never follows redirects (no redirect interceptor is installed), caps
 * response size at the socket, and, for chain-published upstreams, refuses
 * blocked addresses when it connects.
 */
import tls from 'node:tls';
import { Agent, errors } from 'undici';
import type { AddressPolicy } from '../router/address-guard.js';
import { BlockedAddressError, addressGuardedConnector } from './address-guarded-connector.js';
import { TransportError, type HttpTransport, type UpstreamReply, type UpstreamTimeouts } from './http-transport.js';

export interface UndiciTransportOptions {
  /** Largest upstream body accepted; bigger answers are cut off as failures. */
  readonly maxResponseBytes: number;
  readonly connectTimeoutMs: number;
  /** Per-origin socket pool size. */
  readonly connectionsPerOrigin?: number;
  /**
   * Set for upstreams published on chain: connections to blocked address
   * classes are refused. Leave unset only for operator-configured (trusted) upstreams.
   */
  readonly addressPolicy?: AddressPolicy;
  /** Extra trusted CA certificates (PEM) for https upstreams, e.g. a private CA; the system roots stay trusted. */
  readonly extraCaPem?: string;
}

function classify(err: unknown, signal: AbortSignal, timeouts: UpstreamTimeouts): TransportError {
  if (err instanceof TransportError) return err;
  // Our own cancellation (hedge lost, client gone, deadline): whatever undici wrapped it in.
  if (signal.aborted) return new TransportError('request aborted', 'aborted');
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BlockedAddressError) return new TransportError(message, 'blocked');
  if (err instanceof errors.ConnectTimeoutError) return new TransportError(`connect timeout after ${timeouts.connectMs} ms`, 'connect');
  if (err instanceof errors.HeadersTimeoutError) return new TransportError(`no response headers within ${timeouts.firstByteMs} ms`, 'first_byte');
  if (err instanceof errors.BodyTimeoutError) return new TransportError(`no data for ${timeouts.idleMs} ms`, 'body');
  if (err instanceof errors.ResponseExceededMaxSizeError) return new TransportError('response larger than MAX_RESPONSE_BYTES', 'too_large');
  if (err instanceof errors.RequestAbortedError || (err instanceof Error && err.name === 'AbortError'))
    return new TransportError('request aborted', 'aborted');
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'UND_ERR_SOCKET')
    return new TransportError(`${code}: ${message}`, code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' ? 'body' : 'connect');
  return new TransportError(message, 'connect');
}

const ignoreError = () => {};

export function createUndiciTransport(options: UndiciTransportOptions): HttpTransport {
  // undici's `ca` replaces the default roots, so an extra CA is added to them, not instead of them.
  const ca = options.extraCaPem ? [...tls.rootCertificates, options.extraCaPem] : undefined;
  const connectOptions = { timeout: options.connectTimeoutMs, ...(ca && { ca }) };
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 128,
    keepAliveTimeout: 30_000,
    connect: options.addressPolicy ? addressGuardedConnector(options.addressPolicy, connectOptions) : connectOptions,
    maxResponseSize: options.maxResponseBytes,
  });

  return {
    async post(origin, path, headers, body, { signal, timeouts }) {
      let response;
      try {
        response = await agent.request({
          origin,
          path,
          method: 'POST',
          headers,
          body,
          signal,
          headersTimeout: timeouts.firstByteMs,
          bodyTimeout: timeouts.idleMs,
        });
      } catch (err) {
        throw classify(err, signal, timeouts);
      }
      const { body: stream } = response;
      const { headers: responseHeaders } = response;
      const header = (name: string): string | null => {
        const value = responseHeaders[name];
        return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
      };
      const reply: UpstreamReply = {
        status: response.statusCode,
        contentType: header('content-type') ?? '',
        header,
        body: {
          async *[Symbol.asyncIterator]() {
            try {
              for await (const chunk of stream) yield chunk as Uint8Array;
            } catch (err) {
              throw classify(err, signal, timeouts);
            }
          },
        },
        async text() {
          try {
            return await stream.text();
          } catch (err) {
            throw classify(err, signal, timeouts);
          }
        },
        discard() {
          // Destroying closes the socket; a miner that is still writing must not
          // keep a pooled connection busy with an answer nobody reads. undici
          // emits 'error' (aborted) when an unread body is destroyed: with no
          // listener that would be an uncaught exception taking the process down.
          if (stream.destroyed) return;
          stream.on('error', ignoreError);
          stream.destroy();
        },
      };
      return reply;
    },
    async close() {
      await agent.destroy();
    },
  };
}
