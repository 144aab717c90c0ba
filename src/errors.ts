/**
 * Every error a client sees is in OpenAI's envelope
 * `{ error: { message, type, code, param } }`, so stock SDKs surface the
 * message instead of a parse failure.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'upstream_error';

export interface ErrorEnvelope {
  error: { message: string; type: ErrorType; code: string | null; param: string | null };
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly type: ErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = 'invalid_request') =>
  new GatewayError(400, message, 'invalid_request_error', code, param);

export const unauthorized = (message: string, code = 'invalid_api_key') =>
  new GatewayError(401, message, 'authentication_error', code);

export const forbidden = (message: string, code = 'forbidden') => new GatewayError(403, message, 'permission_error', code);

export const notFound = (message: string, code = 'not_found') => new GatewayError(404, message, 'not_found_error', code);

export const modelNotFound = (model: string, why: string) =>
  new GatewayError(404, `The model \`${model}\` does not exist: ${why}`, 'invalid_request_error', 'model_not_found', 'model');

/**
 * The unread rest of the body is still on the socket: the client is told not
 * to reuse this connection, or its next request reads garbage.
 */
export const bodyTooLarge = (limit: number) =>
  new GatewayError(413, `Request body is larger than ${limit} bytes.`, 'invalid_request_error', 'request_too_large', null, { connection: 'close' });

export const noRoutableMiner = (message: string) =>
  new GatewayError(503, message, 'server_error', 'no_routable_miner');

/**
 * The store (Redis) did not answer: a 503 the client retries after a second,
 * not a 500, because nothing is wrong with the request and it will work once
 * the store is back.
 */
export const storeUnavailable = (message = 'The gateway store is unreachable right now; retry shortly.', code = 'store_unavailable') =>
  new GatewayError(503, message, 'server_error', code, null, { 'retry-after': '1' });

export const upstreamFailed = (message: string, code = 'upstream_error') =>
  new GatewayError(502, message, 'upstream_error', code);
