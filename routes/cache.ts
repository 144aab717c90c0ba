/** GET /admin/cache: the response cache's counters (hits, misses, bypasses, coalesced, errors, memory use). */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { requireAdmin } from '../src/http/require-admin.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { CacheStatsSchema } from '../src/openapi/response-schemas.js';

export function cacheRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().get(
    '/admin/cache',
    describeRoute({
      summary: "The response cache's counters since start: hits, misses, bypasses, coalesced followers, Redis errors, memory use",
      tags: ['Admin'],
      auth: 'admin',
      responses: { 200: { description: 'Counters', json: { name: 'CacheStats', schema: CacheStatsSchema } } },
      errors: [401, 403],
    }),
    requireAdmin(gw.config.ADMIN_TOKEN),
    (c) => c.json(gw.cache.stats()),
  );
}
