/**
 * POST /v1/compare: one prompt to several subnets or miners at once, scored
 * by checks and an LLM judge (src/compare/). Each target is an ordinary
 * request through runCompletion, so each is routed, admitted against the
 * key's limits and credit, billed and receipted on its own.
 */
import { Hono } from 'hono';
import { prepareComparison, runComparison } from '../src/compare/compare.js';
import { CompareRequestSchema } from '../src/compare/compare-request.js';
import { compareSseStream } from '../src/compare/compare-sse.js';
import type { Gateway } from '../src/gateway.js';
import { isPrivateRequest, markPrivateResponses } from '../src/http/private-responses.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody, readJsonBody } from '../src/http/read-json-body.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { ComparisonSchema } from '../src/openapi/response-schemas.js';
import { SSE_HEADERS } from './completion-handler.js';

export function compareRoutes(gw: Gateway) {
  const doc = describeRoute({
    summary: 'Compare answers: one prompt to several subnets or miners at once, scored by checks and an LLM judge',
    description:
      'Each target is an ordinary request (routed, metered, rate-limited, receipted). Targets: `sn4`, `sn4/<model>`, `sn4/uid:12`, `sn4/<model>/uid:12`, `auto`, an alias; or `top_n` with `subnet` (which may be left out when the gateway serves miners on one subnet only).',
    tags: ['Compare'],
    auth: 'api-key',
    body: { name: 'CompareRequest', schema: CompareRequestSchema },
    responses: {
      200: {
        description: 'The scored comparison',
        json: { name: 'Comparison', schema: ComparisonSchema },
        eventStream: 'With `stream: true`: `event: entry` per target as it finishes, then `event: comparison` (the whole result), then `data: [DONE]`; `event: error` if it failed after starting.',
      },
    },
    errors: [400, 401, 404, 413, 503],
  });
  return new Hono<GatewayEnv>().post('/v1/compare', doc, requireApiKey(gw.keys), markPrivateResponses(), limitBody(gw.config.MAX_BODY_BYTES), async (c) => {
    // 1. Private mode: a private key, or `x-taogate-private: 1`. Its targets and judge go to private
    //    subnets only, nothing of it is stored, and every response says so (markPrivateResponses).
    const key = c.get('apiKey');
    const isPrivate = isPrivateRequest(c);

    // 2. The body, validated (400 names the field).
    const request = await readJsonBody(c, CompareRequestSchema);

    // 3. Targets, checks and judge checked before anything is sent (400 unknown target/bad check, 404 judge).
    //    A stream that is cancelled aborts every target's request.
    const aborter = new AbortController();
    const signal = AbortSignal.any([c.req.raw.signal, aborter.signal]);
    const prepared = await prepareComparison(gw, {
      request,
      key,
      requestId: c.get('requestId'),
      signal,
      // The one place the call's privacy and scorer trust reach the leaderboard.
      flags: { private: isPrivate, trustedScorer: key.trustedScorer },
    });

    // 4. Every entry as it finishes, then the scored comparison; or the whole comparison as JSON.
    if (request.stream) {
      const stream = compareSseStream((onEntry) => runComparison(gw, prepared, { onEntry }), () => aborter.abort(), gw.logger);
      return c.body(stream, 200, SSE_HEADERS);
    }
    return c.json(await runComparison(gw, prepared), 200);
  });
}
