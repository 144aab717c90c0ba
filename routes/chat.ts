/** POST /v1/chat/completions */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody } from '../src/http/read-json-body.js';
import { markPrivateResponses } from '../src/http/private-responses.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { ChatCompletionRequestSchema } from '../src/openai/requests.js';
import { ChatCompletionSchema } from '../src/openai/responses.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { COMPLETION_ERRORS, COMPLETION_HEADERS_DOC } from './completion-docs.js';
import { completionHandler } from './completion-handler.js';

export function chatRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().post(
    '/v1/chat/completions',
    describeRoute({
      summary: 'Create a chat completion (OpenAI wire format)',
      description: 'Routed to a miner of the subnet the model resolves to. Unknown fields pass through to the miner.',
      tags: ['OpenAI'],
      auth: 'api-key',
      headers: COMPLETION_HEADERS_DOC,
      body: { name: 'ChatCompletionRequest', schema: ChatCompletionRequestSchema },
      responses: {
        200: {
          description: 'The completion; with stream: true, chat.completion.chunk events',
          json: { name: 'ChatCompletion', schema: ChatCompletionSchema },
          eventStream: 'data: <chat.completion.chunk> per chunk (the last carries taogate_receipt), then data: [DONE]',
        },
      },
      errors: COMPLETION_ERRORS,
    }),
    requireApiKey(gw.keys),
    markPrivateResponses(),
    limitBody(gw.config.MAX_BODY_BYTES),
    completionHandler(gw, 'chat', ChatCompletionRequestSchema),
  );
}
