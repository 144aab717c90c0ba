/**
 * POST /v1/chat/completions and /v1/completions speak the OpenAI wire format
 * around the shared completion path (src/completion/run-completion.ts):
 * validate the body, run the completion, answer as JSON or as chat SSE.
 * The two endpoints differ only in their schema and upstream endpoint.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { CompletionEndpoint } from '../providers/provider.js';
import { runCompletion } from '../src/completion/run-completion.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { jsonResponse, streamResponse } from '../src/http/plain-headers-response.js';
import { readJsonBody } from '../src/http/read-json-body.js';
import { chatSseStream } from '../src/openai/chat-sse.js';
import type { CompletionLikeRequest } from '../src/openai/requests.js';
import { PIN_HEADER, parsePinnedUids } from '../src/router/pinned-uids.js';

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

export function completionHandler(gw: Gateway, endpoint: CompletionEndpoint, schema: z.ZodType<CompletionLikeRequest>) {
  return async (c: Context<GatewayEnv>) => {
    // 1. The body, parsed and validated once (400 names the field).
    const request = await readJsonBody(c, schema);
    c.set('model', request.model);

    // 2. Route, admit, send, bill (404 model, 503 no route, 429/402 limits, 502 miners).
    const result = await runCompletion(gw, {
      endpoint,
      request,
      key: c.get('apiKey'),
      requestId: c.get('requestId'),
      pinnedUids: parsePinnedUids(c.req.header(PIN_HEADER)),
      clientSignal: c.req.raw.signal,
    });
    c.set('upstreamId', result.upstream.id);

    // 3. Streamed as chat SSE chunk by chunk, or the whole answer as JSON.
    if (result.kind === 'stream') return streamResponse(chatSseStream(result.relay), 200, { ...result.headers, ...SSE_HEADERS });
    return jsonResponse(result.payload, 200, result.headers);
  };
}
