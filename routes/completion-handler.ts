/**
 * The whole path of a completion request (chat or legacy), top to bottom:
 * validate → resolve model → plan route → admit (limits, credit) → send →
 * relay → bill (usage, receipt). Chat and legacy
 * completions differ only in their schema and upstream endpoint.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { CompletionEndpoint } from '../providers/provider.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { readJsonBody } from '../src/http/read-json-body.js';
import { withStreamUsage, type CompletionLikeRequest } from '../src/openai/requests.js';
import { answerText } from '../src/openai/responses.js';
import { relayStream, type RelayOutcome } from '../src/openai/stream-relay.js';
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

    // 3b. Limits and credit: 429 over RPM/TPM, 402 without credit for the worst case.
    //     A postpaid key without limits passes without a store round trip.
    const admission = await gw.metering.admit({
      key: c.get('apiKey'),
      request,
      requestId: c.get('requestId'),
      requestedModel: request.model,
      servedModel: plan.target.id,
    });
    for (const [name, value] of Object.entries(admission.headers)) c.header(name, value);

    // 4. The upstream body: the client's, unknown fields included, with the upstream's model name;
    //    streams always ask the miner for usage.
    const body = JSON.stringify(withStreamUsage({ ...request, model: plan.target.upstreamModel }));
    const deadline = requestDeadline(c.req.raw.signal, gw.config.REQUEST_TIMEOUT_MS);
    const dispatch = { provider: plan.provider, endpoint, body, attempts: plan.attempts, signal: deadline.signal, timeouts: gw.timeouts,
      reliability: gw.reliability, bypassBreaker: plan.bypassBreaker };

    // 5a. Streamed: commit to a miner once its first valid chunk arrived, then relay as it comes.
    if (request.stream) {
      const opened = await dispatchStream(dispatch).catch((err: unknown) => {
        deadline.release();
        admission.cancel();
        throw err;
      });
      c.set('upstreamId', opened.upstream.id);
      // Billed once: prompt plus what was delivered, from the miner's usage or else the tokenizer.
      const bill = (o: RelayOutcome) =>
        admission.complete({ upstream: opened.upstream, snapshot, usage: o.usage, completionText: o.deliveredText });
      const stream = relayStream(opened, {
        requestedModel: request.model,
        clientWantsUsage: request.stream_options?.include_usage === true,
        // Headers are gone by the end of a stream: the receipt rides on its final chunk.
        finalFields: (o) => ({ taogate_receipt: bill(o).receipt }),
        onEnd: (o) => {
          deadline.release();
          bill(o);
        },
      });
      return c.body(stream, 200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-taogate-miner': opened.upstream.id,
      });
    }

    // 5b. Not streamed: the first valid answer, with `model` as the client asked.
    const answer = await dispatchJson(dispatch)
      .catch((err: unknown) => {
        admission.cancel();
        throw err;
      })
      .finally(deadline.release);
    c.set('upstreamId', answer.upstream.id);
    c.header('x-taogate-miner', answer.upstream.id);
    const { receipt } = admission.complete({ upstream: answer.upstream, snapshot, usage: answer.payload.usage ?? null, completionText: answerText(answer.payload) });
    c.header('x-taogate-receipt', receipt);
    return c.json({ ...answer.payload, model: request.model });
  };
}
