/**
 * POST /v1/chat/completions and /v1/completions speak the OpenAI wire format
 * around the shared completion path (src/completion/run-completion.ts):
 * validate the body, run the completion, answer as JSON or as chat SSE.
 * The two endpoints differ only in their schema and upstream endpoint.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { CompletionEndpoint } from '../providers/provider.js';
import { cacheDirectiveFromHeaders } from '../src/cache/cache-policy.js';
import { runCompletion, type CompletionCall } from '../src/completion/run-completion.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { jsonResponse, streamResponse } from '../src/http/plain-headers-response.js';
import { readJsonBody } from '../src/http/read-json-body.js';
import { chatSseStream } from '../src/openai/chat-sse.js';
import type { CompletionLikeRequest } from '../src/openai/requests.js';
import { ROUTE_POLICY_HEADER, parseRoutePolicy } from '../src/router/candidate-policy.js';
import { PIN_HEADER, parsePinnedUids } from '../src/router/pinned-uids.js';
import { PRIVATE_HEADER, parsePrivateHeader } from '../src/router/private-routing.js';

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

/**
 * The completion this HTTP request asks for: its key, request id, pinned
 * miners, private mode (`x-taogate-private`), candidate policy
 * (`x-taogate-route-policy`), what it asks of the response cache
 * (`cache-control: no-store`, `x-taogate-cache-ttl`,
 * `x-taogate-cache-nondeterministic`) and abort signal. Also
 * labels the request's metrics with its model, whichever wire API it came in by.
 */
export function completionCall(c: Context<GatewayEnv>, endpoint: CompletionEndpoint, request: CompletionCall['request']): CompletionCall {
  c.set('model', request.model);
  return {
    endpoint,
    request,
    key: c.get('apiKey'),
    requestId: c.get('requestId'),
    pinnedUids: parsePinnedUids(c.req.header(PIN_HEADER)),
    // Made only when read: a cache hit never needs it, and building it costs on the hot path.
    get clientSignal() {
      return c.req.raw.signal;
    },
    private: parsePrivateHeader(c.req.header(PRIVATE_HEADER)),
    routePolicy: parseRoutePolicy(c.req.header(ROUTE_POLICY_HEADER)),
    cache: cacheDirectiveFromHeaders((name) => c.req.header(name)),
  };
}

export function completionHandler(gw: Gateway, endpoint: CompletionEndpoint, schema: z.ZodType<CompletionLikeRequest>) {
  return async (c: Context<GatewayEnv>) => {
    // 1. The body, parsed and validated once (400 names the field).
    const request = await readJsonBody(c, schema);

    // 2. Route, admit, answer from the cache or send, bill (404 model, 503 no route,
    //    429/402 limits or upstream, 502 upstreams).
    const result = await runCompletion(gw, completionCall(c, endpoint, request));
    c.set('upstreamId', result.upstream.id);

    // 3. Streamed as chat SSE chunk by chunk, or the whole answer as JSON.
    // A private answer's no-store wins over the SSE default.
    if (result.kind === 'stream') return streamResponse(chatSseStream(result.relay), 200, { ...SSE_HEADERS, ...result.headers });
    return jsonResponse(result.payload, 200, result.headers);
  };
}
