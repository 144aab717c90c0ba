/** POST /v1/completions: legacy completions, including `suffix` for fill-in-the-middle coding. */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody } from '../src/http/read-json-body.js';
import { markPrivateResponses } from '../src/http/private-responses.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { CompletionRequestSchema } from '../src/openai/requests.js';
import { TextCompletionSchema } from '../src/openai/responses.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { COMPLETION_ERRORS, COMPLETION_HEADERS_DOC } from './completion-docs.js';
import { completionHandler } from './completion-handler.js';

export function completionsRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().post(
    '/v1/completions',
    describeRoute({
      summary: 'Create a completion (legacy; suffix for fill-in-the-middle)',
      tags: ['OpenAI'],
      auth: 'api-key',
      headers: COMPLETION_HEADERS_DOC,
      body: { name: 'CompletionRequest', schema: CompletionRequestSchema },
      responses: {
        200: {
          description: 'The completion; with stream: true, text_completion events',
          json: { name: 'TextCompletion', schema: TextCompletionSchema },
          eventStream: 'data: <text_completion chunk> per chunk (the last carries taogate_receipt), then data: [DONE]',
        },
      },
      errors: COMPLETION_ERRORS,
    }),
    requireApiKey(gw.keys),
    markPrivateResponses(),
    limitBody(gw.config.MAX_BODY_BYTES),
    completionHandler(gw, 'completions', CompletionRequestSchema),
  );
}
