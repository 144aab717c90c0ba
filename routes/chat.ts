/** POST /v1/chat/completions */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody } from '../src/http/read-json-body.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { ChatCompletionRequestSchema } from '../src/openai/requests.js';
import { completionHandler } from './completion-handler.js';

export function chatRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().post(
    '/v1/chat/completions',
    requireApiKey(gw.keys),
    limitBody(gw.config.MAX_BODY_BYTES),
    completionHandler(gw, 'chat', ChatCompletionRequestSchema),
  );
}
