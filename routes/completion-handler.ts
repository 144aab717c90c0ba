/**
 * The whole path of a completion request (chat or legacy), top to bottom:
 * validate → resolve model → plan route → send → relay. Chat and legacy
 * completions differ only in their schema and upstream endpoint.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { CompletionEndpoint } from '../providers/provider.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { readJsonBody } from '../src/http/read-json-body.js';
import type { CompletionLikeRequest } from '../src/openai/requests.js';
import { relayStream } from '../src/openai/stream-relay.js';
import { dispatchJson, dispatchStream } from '../src/router/dispatch.js';
import { requestDeadline } from '../src/router/request-deadline.js';
import { PIN_HEADER, parsePinnedUids } from '../src/router/pinned-uids.js';
import { planRoute } from '../src/router/route-plan.js';
import { requireSnapshot } from './snapshot-guard.js';

export function completionHandler(gw: Gateway, endpoint: CompletionEndpoint, schema: z.ZodType<CompletionLikeRequest>) {
  return async (c: Context<GatewayEnv>) => {
    // 1. The body, parsed and validated once (400 names the field).
    const request = await readJsonBody(c, schema);

    // 2. The snapshot this request keeps to the end, and what the model resolves to (404).
    const snapshot = requireSnapshot(gw);
    const targets = gw.catalog.resolve(request.model, snapshot);

    // 3. Which subnet and which miners, in order (503 when none is routable).
    const plan = planRoute(snapshot, targets, {
      providerFor: (netuid) => gw.providerFor(netuid),
      topK: gw.config.ROUTER_TOP_K,
      maxAttempts: gw.config.MAX_ATTEMPTS,
      pinnedUids: parsePinnedUids(c.req.header(PIN_HEADER)),
      health: gw.reliability.health,
      stream: request.stream === true,
    });

    // 4. The upstream body: the client's, unknown fields included, with the upstream's model name.
    const body = JSON.stringify({ ...request, model: plan.target.upstreamModel });
    const deadline = requestDeadline(c.req.raw.signal, gw.config.REQUEST_TIMEOUT_MS);
    const dispatch = { provider: plan.provider, endpoint, body, attempts: plan.attempts, signal: deadline.signal, timeouts: gw.timeouts,
      reliability: gw.reliability, bypassBreaker: plan.bypassBreaker };

    // 5a. Streamed: commit to a miner once its first valid chunk arrived, then relay as it comes.
    if (request.stream) {
      const opened = await dispatchStream(dispatch).catch((err: unknown) => {
        deadline.release();
        throw err;
      });
      c.set('upstreamId', opened.upstream.id);
      const stream = relayStream(opened, { requestedModel: request.model, onEnd: deadline.release });
      return c.body(stream, 200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-taogate-miner': opened.upstream.id,
      });
    }

    // 5b. Not streamed: the first valid answer, with `model` as the client asked.
    const answer = await dispatchJson(dispatch).finally(deadline.release);
    c.set('upstreamId', answer.upstream.id);
    c.header('x-taogate-miner', answer.upstream.id);
    return c.json({ ...answer.payload, model: request.model });
  };
}
