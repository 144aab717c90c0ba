/**
 * GET /healthz: the process is up. GET /readyz: a served subnet can take a
 * request — one served by its own API, or a snapshot with at least one
 * routable miner — what a load balancer should wait for before sending traffic.
 * Not ready is a 503 whose body is both readable at a glance (`status`,
 * `reason`) and the OpenAI error envelope.
 */
import { Hono, type Context } from 'hono';
import { noSnapshotReason } from '../src/chain/require-snapshot.js';
import { GatewayError } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { HealthSchema, NotReadySchema } from '../src/openapi/response-schemas.js';

function notReady(c: Context<GatewayEnv>, reason: string) {
  const envelope = new GatewayError(503, `not ready: ${reason}`, 'server_error', 'not_ready').toEnvelope();
  return c.json({ status: 'not_ready' as const, reason, ...envelope }, 503);
}

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
        503: { description: 'Not ready, with the reason, also in the OpenAI error envelope', json: { name: 'NotReady', schema: NotReadySchema } },
      },
    }),
    (c) => {
      const snapshot = gw.metagraph.current();
      const apiSubnets = gw.catalog.netuids.filter((n) => gw.providerFor(n).source === 'config');
      // A subnet API can take traffic without any snapshot.
      if (apiSubnets.length > 0) {
        const miners = gw.catalog.netuids.reduce((sum, n) => sum + (snapshot?.subnets.get(n)?.ranked.length ?? 0), 0);
        return c.json({ status: 'ready', source: snapshot?.source ?? null, api_subnets: apiSubnets, routable_miners: miners });
      }
      if (!snapshot) return notReady(c, noSnapshotReason(gw.metagraph));
      const served = gw.catalog.netuids.map((n) => snapshot.subnets.get(n)).filter((s) => s !== undefined);
      const routable = served.reduce((sum, s) => sum + s.ranked.length, 0);
      if (routable === 0) {
        const reasons = served.map((s) => s.noRouteReason).filter(Boolean);
        return notReady(c, reasons.join('; ') || 'no served subnet is in the snapshot');
      }
      return c.json({ status: 'ready', source: snapshot.source, version: snapshot.version, block: snapshot.block, routable_miners: routable });
    },
  );
  return app;
}
