/**
 * What a request no route handles is told: a path the gateway serves, asked
 * with the wrong method (GET /v1/chat/completions), is a 405 with `Allow`
 * listing the methods it does take, so the client learns its mistake rather
 * than concluding the endpoint does not exist; any other path is a 404
 * unknown_url. Both in the OpenAI envelope.
 */
import type { NotFoundHandler } from 'hono';
import { METHOD_NAME_ALL } from 'hono/router';
import { TrieRouter } from 'hono/router/trie-router';
import type { RouterRoute } from 'hono/types';
import { GatewayError, notFound } from '../errors.js';
import { errorResponse } from './error-response.js';
import type { GatewayEnv } from './gateway-env.js';

/** Which methods each registered path answers, looked up with Hono's own path matching. */
function methodsByPath(routes: readonly RouterRoute[]): (path: string) => string[] {
  const router = new TrieRouter<string>();
  // Middleware (app.use) is registered as ALL and handles nothing by itself.
  for (const route of routes) if (route.method !== METHOD_NAME_ALL) router.add(METHOD_NAME_ALL, route.path, route.method);
  return (path) => {
    const methods = new Set(router.match(METHOD_NAME_ALL, path)[0].map(([method]) => method));
    // Hono answers HEAD with the GET handler.
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/** `routes` is read at the first unmatched request, once every route is registered. */
export function onUnmatchedRequest(routes: () => readonly RouterRoute[]): NotFoundHandler<GatewayEnv> {
  let allowedFor: ((path: string) => string[]) | null = null;
  return (c) => {
    allowedFor ??= methodsByPath(routes());
    const allowed = allowedFor(c.req.path);
    if (allowed.length === 0) return errorResponse(c, notFound(`no route for ${c.req.method} ${c.req.path}`, 'unknown_url'));
    const message = `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(', ')}.`;
    return errorResponse(c, new GatewayError(405, message, 'invalid_request_error', 'method_not_allowed', null, { allow: allowed.join(', ') }));
  };
}
