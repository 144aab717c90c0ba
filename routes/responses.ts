/**
 * POST /v1/responses: the OpenAI Responses API (Codex CLI, new OpenAI SDK
 * code), translated to a chat completion and back around the shared
 * completion path, so it gets the same routing, reliability, metering,
 * limits, receipts and headers as /v1/chat/completions. Errors are in the
 * OpenAI envelope.
 */
import { Hono } from 'hono';
import { runCompletion } from '../src/completion/run-completion.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody, readJsonBody } from '../src/http/read-json-body.js';
import { markPrivateResponses } from '../src/http/private-responses.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { ResponsesResponseSchema } from '../src/openapi/response-schemas.js';
import { namedEventStream } from '../src/translate/event-stream.js';
import { ResponsesRequestSchema, responsesToChat } from '../src/translate/responses-request.js';
import { chatToResponse } from '../src/translate/responses-response.js';
import { ResponsesStreamEncoder } from '../src/translate/responses-stream.js';
import { SSE_HEADERS, completionCall } from './completion-handler.js';
import { COMPLETION_ERRORS, COMPLETION_HEADERS_DOC } from './completion-docs.js';

export function responsesRoutes(gw: Gateway) {
  return new Hono<GatewayEnv>().post(
    '/v1/responses',
    describeRoute({
      summary: 'Create a model response (OpenAI Responses API)',
      description:
        'Input as a string or items (messages, function_call, function_call_output), instructions, function tools, tool_choice, ' +
        'max_output_tokens, text.format. Translated to a chat completion for the miners and back. previous_response_id and ' +
        'conversation are refused (400): responses are not stored, so send the whole conversation in input.',
      tags: ['Responses API'],
      auth: 'api-key',
      headers: COMPLETION_HEADERS_DOC,
      body: { name: 'ResponsesRequest', schema: ResponsesRequestSchema },
      responses: {
        200: {
          description: 'The response; with stream: true, its events',
          json: { name: 'Response', schema: ResponsesResponseSchema },
          eventStream:
            'response.created, response.in_progress, response.output_item.added, response.content_part.added, response.output_text.delta…, ' +
            'response.output_text.done, response.content_part.done, response.function_call_arguments.delta…/.done, response.output_item.done, ' +
            'response.completed (or response.incomplete) with usage and taogate_receipt; a failure after the start ends with error and response.failed.',
        },
      },
      errors: COMPLETION_ERRORS,
    }),
    requireApiKey(gw.keys),
    markPrivateResponses(),
    limitBody(gw.config.MAX_BODY_BYTES),
    async (c) => {
      // 1. Validated (400 names the field) and translated to a chat completion request.
      const request = await readJsonBody(c, ResponsesRequestSchema);
      const chat = responsesToChat(request);

      // 2. Route, admit, send, bill: the same path as chat completions.
      const result = await runCompletion(gw, completionCall(c, 'chat', chat));
      c.set('upstreamId', result.upstream.id);

      // 3. Back as Responses events as chunks arrive, or as one response object.
      const ctx = { id: `resp_${crypto.randomUUID().replaceAll('-', '')}`, createdAt: Math.floor(Date.now() / 1000), request };
      if (result.kind === 'stream') {
        return c.body(namedEventStream(result.relay, new ResponsesStreamEncoder(ctx)), 200, { ...SSE_HEADERS, ...result.headers });
      }
      return c.json(chatToResponse(result.payload, ctx), 200, result.headers);
    },
  );
}
