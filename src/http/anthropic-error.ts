/**
 * Errors on the Anthropic Messages routes, in Anthropic's envelope
 * `{"type":"error","error":{"type","message"},"request_id"}` with its error
 * type names, so the Anthropic SDK raises the right error class
 * (AuthenticationError, NotFoundError, RateLimitError, …) with our message.
 */
import type { ErrorHandler } from 'hono';
import type { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { asGatewayError } from './error-response.js';
import type { GatewayEnv } from './gateway-env.js';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

const TYPE_BY_STATUS: Readonly<Record<number, AnthropicErrorType>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  // No routable miner: capacity, which Anthropic calls overloaded.
  503: 'overloaded_error',
  504: 'timeout_error',
};

export function anthropicErrorType(status: number): AnthropicErrorType {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicErrorEnvelope(error: GatewayError, requestId: string | undefined) {
  return {
    type: 'error' as const,
    error: { type: anthropicErrorType(error.status), message: error.message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}

export function onAnthropicError(logger: Logger): ErrorHandler<GatewayEnv> {
  return (err, c) => {
    const error = asGatewayError(err, c, logger);
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(anthropicErrorEnvelope(error, c.get('requestId')), error.status);
  };
}
