/**
 * GET /metrics: Prometheus text exposition of this gateway's metrics
 * (src/metrics/). Operator data: a bearer METRICS_TOKEN, or local clients
 * only when none is set (src/http/require-metrics-access.ts).
 */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { requireMetricsAccess } from '../src/http/require-metrics-access.js';
import { describeRoute } from '../src/openapi/describe-route.js';

export function metricsRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().get(
    '/metrics',
    describeRoute({
      summary: 'Prometheus metrics: requests by route, model and status, latency and time to first token, miner health, metagraph, store',
      tags: ['Operations'],
      auth: 'metrics',
      responses: { 200: { description: 'Prometheus text exposition', text: true } },
      errors: [403],
    }),
    requireMetricsAccess(gw.config.METRICS_TOKEN),
    async (c) => {
      const text = await gw.metrics.render();
      return c.body(text, 200, { 'content-type': gw.metrics.contentType, 'cache-control': 'no-store' });
    },
  );
}
