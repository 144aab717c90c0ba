/**
 * One completion, from a validated request to an answer, independent of the
 * wire API the client spoke: resolve the model, plan the route, admit
 * (limits, credit), then answer from the response cache or from miners, and
 * bill. Chat completions, legacy completions, the Responses and Messages
 * APIs and /v1/compare all come through here, so they share routing,
 * reliability, caching, metering and receipts.
 */
import { USE_CACHE } from '../cache/cache-policy.js';
import { requireSnapshot } from '../chain/require-snapshot.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { ClientDisconnected } from '../router/request-deadline.js';
import { planRoute } from '../router/route-plan.js';
import { answerFromEntry, followLiveStream } from './cached-answer.js';
import type { CompletionCall, CompletionResult } from './completion-types.js';
import { answerFromMiners } from './miner-answer.js';

export type { CompletionCall, CompletionResult, JsonCompletion, StreamCompletion } from './completion-types.js';

export async function runCompletion(gw: Gateway, call: CompletionCall): Promise<CompletionResult> {
  const { request } = call;
  const started = performance.now();

  // The snapshot this request keeps to the end, and what the model resolves to (404).
  const snapshot = requireSnapshot(gw.metagraph);
  const targets = gw.catalog.resolve(request.model, snapshot);

  // Which subnet and which miners, in order (503 when none is routable).
  const plan = planRoute(snapshot, targets, {
    providerFor: (netuid) => gw.providerFor(netuid),
    topK: gw.config.ROUTER_TOP_K,
    maxAttempts: gw.config.MAX_ATTEMPTS,
    pinnedUids: call.pinnedUids,
    health: gw.reliability.health,
    stream: request.stream === true,
  });

  // Whether the cache may answer and record this request (null: BYPASS).
  const ticket = gw.cache.ticket({
    endpoint: call.endpoint,
    request,
    key: call.key,
    pinned: call.pinnedUids !== null,
    directive: call.cache ?? USE_CACHE,
    model: plan.target.id,
  });

  // Limits and credit: 429 over RPM/TPM, 402 without credit for the worst case.
  // A postpaid key without limits passes without a store round trip. Hits are
  // admitted too: they count against RPM.
  const admission = await gw.metering.admit({
    key: call.key,
    request,
    requestId: call.requestId,
    requestedModel: request.model,
    servedModel: plan.target.id,
  });
  const ctx = { gw, call, snapshot, plan, admission, started };
  if (!ticket) return answerFromMiners(ctx, null);

  // A stored answer, an identical request in flight to follow, or the lead of a new flight.
  const found = await gw.cache.acquire(ticket, call, request.stream === true).catch((err: unknown) => {
    admission.cancel();
    // A client that left while following an identical request: nobody reads this answer.
    if (err instanceof ClientDisconnected) throw new GatewayError(504, err.message, 'server_error', 'client_closed');
    throw err;
  });
  if (found.kind === 'hit') return answerFromEntry(ctx, found.entry, found.coalesced);
  if (found.kind === 'live') return followLiveStream(ctx, found);
  const { flight } = found;
  return answerFromMiners(ctx, flight).catch((err: unknown) => {
    // Whatever failed, followers must not wait for an answer that will never come (a no-op if already told).
    flight.complete(null);
    throw err;
  });
}
