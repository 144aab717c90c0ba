/**
 * Node transport: one undici Agent with keep-alive pools per origin. It
 * drives undici's dispatch API directly (not fetch, not even `request`), so
 * a reply is a plain object over a queue of body chunks: no WHATWG streams,
 * no Node Readable, no async resource per call (upstream-call.ts). It never
 * follows redirects (no redirect interceptor is installed), caps response
 * size at the socket, and, for chain-published upstreams, refuses blocked
 * addresses when it connects.
 */
import tls from 'node:tls';
import { Agent, errors } from 'undici';
import type { AddressPolicy } from '../router/address-guard.js';
import { BlockedAddressError, addressGuardedConnector } from './address-guarded-connector.js';
import { TransportError, type HttpTransport, type UpstreamTimeouts } from './http-transport.js';
import { UpstreamCall } from './upstream-call.js';

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
    post(origin, path, headers, body, { signal, timeouts }) {
      const call = new UpstreamCall(signal, timeouts, classify);
      agent.dispatch(
        { origin, path, method: 'POST', headers, body, headersTimeout: timeouts.firstByteMs, bodyTimeout: timeouts.idleMs },
        call,
      );
      return call.reply;
    },
    async close() {
      await agent.destroy();
    },
  };
}
