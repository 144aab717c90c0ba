/**
 * The Hono app, built from a Gateway. The Node server and the Workers entry
 * both call this, so both serve exactly the same routes and middleware.
 */
import { Hono } from 'hono';
import { adminRoutes } from '../routes/admin.js';
import { cacheRoutes } from '../routes/cache.js';
import { chatRoutes } from '../routes/chat.js';
import { completionsRoutes } from '../routes/completions.js';
import { healthRoutes } from '../routes/health.js';
import { metricsRoutes } from '../routes/metrics.js';
import { modelsRoutes } from '../routes/models.js';
import { subnetsRoutes } from '../routes/subnets.js';
import { usageRoutes } from '../routes/usage.js';
import type { Gateway } from './gateway.js';
import { onGatewayError, onNotFound } from './http/error-response.js';
import type { GatewayEnv } from './http/gateway-env.js';
import { requestIdAndAccessLog } from './http/request-id.js';
import { requestMetrics } from './http/request-metrics.js';

export function buildApp(gw: Gateway): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.use('*', requestIdAndAccessLog(gw.logger));
  app.use('*', requestMetrics(gw.metrics));
  app.onError(onGatewayError(gw.logger));
  app.notFound(onNotFound);
  app.route('/', healthRoutes(gw));
  app.route('/', chatRoutes(gw));
  app.route('/', completionsRoutes(gw));
  app.route('/', modelsRoutes(gw));
  app.route('/', subnetsRoutes(gw));
  app.route('/', usageRoutes(gw));
  app.route('/', adminRoutes(gw));
  app.route('/', cacheRoutes(gw));
  app.route('/', metricsRoutes(gw));
  return app;
}
