/** GET /admin/cache: the response cache's counters (hits, misses, bypasses, coalesced, errors, memory use). */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { requireAdmin } from '../src/http/require-admin.js';

export function cacheRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().get('/admin/cache', requireAdmin(gw.config.ADMIN_TOKEN), (c) => c.json(gw.cache.stats()));
}
