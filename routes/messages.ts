/**
 * POST /v1/messages and POST /v1/messages/count_tokens: the Anthropic
 * Messages API (Claude Code, Cline, the Anthropic SDK), translated to a chat
 * completion and back around the shared completion path, so it gets the
 * same routing, reliability, metering, limits, receipts and headers as
 * /v1/chat/completions. The key comes as `x-api-key` or `Authorization:
 * Bearer`; every error here is in Anthropic's envelope.
 */
import { Hono } from 'hono';
import { resolveModel, runCompletion } from '../src/completion/run-completion.js';
import type { Gateway } from '../src/gateway.js';
import { onAnthropicError } from '../src/http/anthropic-error.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody, readJsonBody } from '../src/http/read-json-body.js';
import { markPrivateResponses } from '../src/http/private-responses.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { CountTokensResponseSchema, MessagesResponseSchema } from '../src/openapi/response-schemas.js';
import { namedEventStream } from '../src/translate/event-stream.js';
import { MessagesCountTokensRequestSchema, MessagesRequestSchema, conversationToChat, messagesToChat } from '../src/translate/messages-request.js';
import { chatToMessage } from '../src/translate/messages-response.js';
import { MessagesStreamEncoder } from '../src/translate/messages-stream.js';
import { SSE_HEADERS, completionCall } from './completion-handler.js';
import { COMPLETION_ERRORS, COMPLETION_HEADERS_DOC } from './completion-docs.js';

export function messagesRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  app.onError(onAnthropicError(gw.logger));

  app.post(
    '/v1/messages',
    describeRoute({
      summary: 'Create a message (Anthropic Messages API)',
      description:
        'system, messages with text, image, tool_use and tool_result blocks, client tools, tool_choice, max_tokens (required), ' +
        'stop_sequences. Translated to a chat completion for the miners and back. The key may be sent as x-api-key.',
      tags: ['Messages API'],
      auth: 'api-key',
      headers: COMPLETION_HEADERS_DOC,
      body: { name: 'MessagesRequest', schema: MessagesRequestSchema },
      responses: {
        200: {
          description: 'The message; with stream: true, its events',
          json: { name: 'Message', schema: MessagesResponseSchema },
          eventStream:
            'message_start, ping, content_block_start / content_block_delta (text_delta, input_json_delta) / content_block_stop per block, ' +
            'message_delta with stop_reason, usage and taogate_receipt, message_stop; a failure after the start ends with an error event.',
        },
      },
      errors: COMPLETION_ERRORS,
      errorEnvelope: 'anthropic',
    }),
    requireApiKey(gw.keys),
    markPrivateResponses(),
    limitBody(gw.config.MAX_BODY_BYTES),
    async (c) => {
      // 1. Validated (400 names the field) and translated to a chat completion request.
      const request = await readJsonBody(c, MessagesRequestSchema);
      const chat = messagesToChat(request);

      // 2. Route, admit, send, bill: the same path as chat completions.
      const result = await runCompletion(gw, completionCall(c, 'chat', chat));
      c.set('upstreamId', result.upstream.id);

      // 3. Back as Messages events as chunks arrive, or as one message.
      let inputTokens: number | undefined;
      const ctx = {
        id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
        request,
        inputTokens: () => (inputTokens ??= gw.metering.promptTokens(chat)),
      };
      if (result.kind === 'stream') {
        return c.body(namedEventStream(result.relay, new MessagesStreamEncoder(ctx)), 200, { ...SSE_HEADERS, ...result.headers });
      }
      return c.json(chatToMessage(result.payload, ctx), 200, result.headers);
    },
  );

  app.post(
    '/v1/messages/count_tokens',
    describeRoute({
      summary: 'Count the input tokens of a message request',
      description:
        'The prompt as the gateway meters it (cl100k_base BPE with chat framing, tools included). Subnet models have their own tokenizers, so this is an estimate.',
      tags: ['Messages API'],
      auth: 'api-key',
      body: { name: 'MessagesCountTokensRequest', schema: MessagesCountTokensRequestSchema },
      responses: { 200: { description: 'The count', json: { name: 'MessageTokensCount', schema: CountTokensResponseSchema } } },
      errors: [400, 404, 413, 503],
      errorEnvelope: 'anthropic',
    }),
    requireApiKey(gw.keys),
    markPrivateResponses(),
    limitBody(gw.config.MAX_BODY_BYTES),
    async (c) => {
      const request = await readJsonBody(c, MessagesCountTokensRequestSchema);
      // An unknown model is a 404 here too, and one nothing can serve yet a 503, as for the message itself.
      resolveModel(gw, request.model).servable();
      return c.json({ input_tokens: gw.metering.promptTokens(conversationToChat(request)) });
    },
  );
  return app;
}
