/**
 * GET /healthz: the process is up. GET /readyz: a served subnet can take a
 * request — one served by its own API, or a snapshot with at least one
 * routable miner — what a load balancer should wait for before sending traffic.
 */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { HealthSchema } from '../src/openapi/response-schemas.js';

export function healthRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  app.get(
    '/healthz',
    describeRoute({ summary: 'The process is up', tags: ['Health'], auth: 'public', responses: { 200: { description: 'Up', json: { name: 'Health', schema: HealthSchema } } } }),
    (c) => c.json({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    describeRoute({
      summary: 'Ready for traffic: a subnet API is configured, or a snapshot has at least one routable miner on a served subnet',
      tags: ['Health'],
      auth: 'public',
      responses: {
        200: { description: 'Ready', json: { name: 'Health', schema: HealthSchema } },
        503: { description: 'Not ready, with the reason', json: { name: 'Health', schema: HealthSchema } },
      },
    }),
    (c) => {
      const snapshot = gw.metagraph.current();
      const status = gw.metagraph.status();
      const apiSubnets = gw.catalog.netuids.filter((n) => gw.providerFor(n).source === 'config');
      // A subnet API can take traffic without any snapshot.
      if (apiSubnets.length > 0) {
        const miners = gw.catalog.netuids.reduce((sum, n) => sum + (snapshot?.subnets.get(n)?.ranked.length ?? 0), 0);
        return c.json({ status: 'ready', source: snapshot?.source ?? null, api_subnets: apiSubnets, routable_miners: miners });
      }
      if (!snapshot) {
        return c.json({ status: 'not_ready', reason: `no metagraph yet from ${status.endpoint} (${status.state})`, error: status.error }, 503);
      }
      const served = gw.catalog.netuids.map((n) => snapshot.subnets.get(n)).filter((s) => s !== undefined);
      const routable = served.reduce((sum, s) => sum + s.ranked.length, 0);
      if (routable === 0) {
        const reasons = served.map((s) => s.noRouteReason).filter(Boolean);
        return c.json({ status: 'not_ready', reason: reasons.join('; ') || 'no served subnet is in the snapshot' }, 503);
      }
      return c.json({ status: 'ready', source: snapshot.source, version: snapshot.version, block: snapshot.block, routable_miners: routable });
    },
  );
  return app;
}
