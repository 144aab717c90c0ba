/** POST /v1/completions: legacy completions, including `suffix` for fill-in-the-middle coding. */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody } from '../src/http/read-json-body.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { CompletionRequestSchema } from '../src/openai/requests.js';
import { completionHandler } from './completion-handler.js';

export function completionsRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().post(
    '/v1/completions',
    requireApiKey(gw.keys),
    limitBody(gw.config.MAX_BODY_BYTES),
    completionHandler(gw, 'completions', CompletionRequestSchema),
  );
}
