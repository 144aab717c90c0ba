/**
 * Counts and times every request by the route pattern it matched
 * ("/v1/subnets/:netuid/miners", never the raw path, so a client cannot mint
 * series by varying the URL), its method, status and model.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { GatewayEnv } from './gateway-env.js';

/** A request no route handles (only `use` middleware matched it): one label, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The most specific pattern that matched: the last route registered for a
 * method. Middleware mounted with `use` (method ALL, e.g. "/admin/*") is
 * skipped, so a request refused by it still counts under its route.
 */
function routeOf(c: Context<GatewayEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    if (route && route.method !== 'ALL') return route.path;
  }
  return UNMATCHED_ROUTE;
}

export function requestMetrics(metrics: GatewayMetrics): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
    metrics.requestServed(routeOf(c), method, c.get('model'), c.res.status, (performance.now() - started) / 1000);
  };
}
