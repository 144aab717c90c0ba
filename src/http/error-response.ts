/**
 * Turns anything thrown in a handler into the OpenAI error envelope. A store
 * that did not answer is a 503 store_unavailable with retry-after; unknown
 * errors become a generic 500 (logged with the request id) so internals never
 * leak to clients.
 */
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { GatewayError, storeUnavailable } from '../errors.js';
import type { Logger } from '../log.js';
import { StoreUnavailableError } from '../store/store.js';
import type { GatewayEnv } from './gateway-env.js';

export function errorResponse(c: Context, error: GatewayError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(error.toEnvelope(), error.status);
}

/** What the client is told about anything thrown: a GatewayError as is, anything unknown as a logged 500. */
export function asGatewayError(err: Error, c: Context<GatewayEnv>, logger: Logger): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof HTTPException) {
    const status = err.status;
    const type = status === 401 ? 'authentication_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
    return new GatewayError(status as GatewayError['status'], err.message || 'request failed', type, null);
  }
  if (err instanceof StoreUnavailableError) {
    logger.warn({ requestId: c.get('requestId'), detail: err.message }, 'store unavailable: answered 503');
    return storeUnavailable();
  }
  logger.error({ requestId: c.get('requestId'), err }, 'unhandled error');
  return new GatewayError(500, 'internal error; see the gateway logs for this request id', 'server_error', 'internal_error');
}

export function onGatewayError(logger: Logger): ErrorHandler<GatewayEnv> {
  return (err, c) => errorResponse(c, asGatewayError(err, c, logger));
}
