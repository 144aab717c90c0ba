/**
 * Private mode on the completion and compare routes: every response to a
 * private request (a private key, or `x-taogate-private: 1`) says
 * `x-taogate-private: 1` and `cache-control: no-store`, the answer and every
 * error alike (a 413 body or a 400 from validation included). Placed right
 * after requireApiKey, this middleware is the one place that marks them.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { PRIVATE_HEADER, PRIVATE_RESPONSE_HEADERS, parsePrivateHeader } from '../router/private-routing.js';
import type { GatewayEnv } from './gateway-env.js';

/** Whether the request is private: its key always is when created so; otherwise the header says (a bad value is the header's 400). */
export function isPrivateRequest(c: Context<GatewayEnv>): boolean {
  return c.get('apiKey').private || parsePrivateHeader(c.req.header(PRIVATE_HEADER));
}

export function markPrivateResponses(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const isPrivate = isPrivateRequest(c);
    // Hono has already turned anything thrown further on into c.res (in the route's own envelope).
    await next();
    // Only private responses are touched: rewriting headers copies the response, which the hot path avoids.
    if (!isPrivate) return;
    for (const [name, value] of Object.entries(PRIVATE_RESPONSE_HEADERS)) c.header(name, value);
  };
}
