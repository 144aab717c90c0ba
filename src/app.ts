/**
 * The Hono app, built from a Gateway. The Node server and the Workers entry
 * both call this, so both serve exactly the same routes and middleware.
 *
 * Adding a route: put `describeRoute({...})` first in its handler chain
 * (src/openapi/describe-route.ts); /openapi.json and /docs pick it up, and
 * test/openapi.test.ts fails for a registered route without one.
 */
import { Hono } from 'hono';
import { adminRoutes } from '../routes/admin.js';
import { cacheRoutes } from '../routes/cache.js';
import { chatRoutes } from '../routes/chat.js';
import { compareRoutes } from '../routes/compare.js';
import { dashboardRoutes } from '../routes/dashboard.js';
import { completionsRoutes } from '../routes/completions.js';
import { healthRoutes } from '../routes/health.js';
import { leaderboardRoutes } from '../routes/leaderboard.js';
import { messagesRoutes } from '../routes/messages.js';
import { metagraphAdminRoutes } from '../routes/metagraph-admin.js';
import { metricsRoutes } from '../routes/metrics.js';
import { modelsRoutes } from '../routes/models.js';
import { openApiRoutes } from '../routes/openapi.js';
import { responsesRoutes } from '../routes/responses.js';
import { subnetsRoutes } from '../routes/subnets.js';
import { usageRoutes } from '../routes/usage.js';
import type { Gateway } from './gateway.js';
import { onGatewayError } from './http/error-response.js';
import type { GatewayEnv } from './http/gateway-env.js';
import { requestIdAndAccessLog } from './http/request-id.js';
import { requestMetrics } from './http/request-metrics.js';
import { onUnmatchedRequest } from './http/unmatched-request.js';

export function buildApp(gw: Gateway): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.use('*', requestIdAndAccessLog(gw.logger));
  app.use('*', requestMetrics(gw.metrics));
  app.onError(onGatewayError(gw.logger));
  // Read at the first unmatched request: a known path with the wrong method is a 405, not a 404.
  app.notFound(onUnmatchedRequest(() => app.routes));
  app.route('/', healthRoutes(gw));
  app.route('/', chatRoutes(gw));
  app.route('/', completionsRoutes(gw));
  app.route('/', compareRoutes(gw));
  app.route('/', leaderboardRoutes(gw));
  app.route('/', responsesRoutes(gw));
  app.route('/', messagesRoutes(gw));
  app.route('/', modelsRoutes(gw));
  app.route('/', subnetsRoutes(gw));
  app.route('/', usageRoutes(gw));
  app.route('/', adminRoutes(gw));
  app.route('/', metagraphAdminRoutes(gw));
  app.route('/', cacheRoutes(gw));
  app.route('/', dashboardRoutes(gw));
  app.route('/', metricsRoutes(gw));
  // Last: it describes every route registered above (read at its first request).
  app.route('/', openApiRoutes(() => app.routes));
  return app;
}
