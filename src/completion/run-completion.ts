/**
 * One completion, from a validated request to an answer, independent of the
 * wire API the client spoke: resolve the model to candidate subnets, order
 * them by policy, plan the route, admit (limits, credit), then answer from
 * the response cache or send (failing over across miners, then across
 * subnets), and bill what was served. The request's deadline
 * (REQUEST_TIMEOUT_MS) is fixed here, at its arrival: waiting on an
 * identical request in flight comes out of it, and the miner call gets what
 * is left. Chat completions, legacy completions,
 * the Responses and Messages APIs and /v1/compare all come through here, so
 * they share routing, reliability, caching, metering and receipts.
 */
import { BYPASS_CACHE, USE_CACHE } from '../cache/cache-policy.js';
import type { ModelTarget } from '../catalog/model-catalog.js';
import { requireSnapshot } from '../chain/require-snapshot.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { rankCandidates } from '../router/candidate-policy.js';
import { privateTargets } from '../router/private-routing.js';
import { ClientDisconnected, DeadlineExceeded, FixedDeadline } from '../router/request-deadline.js';
import { planRoute, type RouteLeg } from '../router/route-plan.js';
import { answerFromEntry, followLiveStream } from './cached-answer.js';
import type { CompletionCall, CompletionResult } from './completion-types.js';
import { answerFromUpstreams } from './upstream-answer.js';

export type { CompletionCall, CompletionResult, JsonCompletion, StreamCompletion } from './completion-types.js';

/** Prompt + completion price per 1M tokens: what the `price` policy compares. */
function priceOf(gw: Gateway, target: ModelTarget): number {
  const p = gw.metering.prices.priceFor(target.id);
  return p.promptMicroUsdPer1M + p.completionMicroUsdPer1M;
}

/**
 * A model's candidate subnets on the current snapshot: a 404 for an unknown
 * model. Miners come from the snapshot, so before the first one only subnet
 * APIs can serve: `servable` is a 503 naming the source when none of the
 * candidates it is given is one. Every route that resolves a model (the
 * Messages API's count_tokens too) answers alike.
 */
export function resolveModel(gw: Gateway, model: string) {
  const snapshot = gw.metagraph.current();
  const resolution = gw.catalog.resolve(model, snapshot);
  const servable = (targets: readonly ModelTarget[] = resolution.targets): void => {
    if (!snapshot && targets.every((t) => gw.providerFor(t.netuid).source === 'metagraph')) requireSnapshot(gw.metagraph);
  };
  return { snapshot, resolution, servable };
}

/** Which subnets may serve, in order, and by which upstreams. */
function routeFor(gw: Gateway, call: CompletionCall, isPrivate: boolean) {
  const { request } = call;
  // Candidates in configured order (404 for an unknown model).
  const { snapshot, resolution, servable } = resolveModel(gw, request.model);
  // Private mode: only subnets marked private (503 when none of the candidates is).
  const allowed = isPrivate ? privateTargets(gw.catalog, resolution.targets, request.model) : resolution.targets;
  // Without a snapshot, only subnet APIs can serve (503 naming the source otherwise).
  servable(allowed);
  // Alias and auto candidates ordered by price, latency or quality.
  const ranked =
    resolution.kind === 'subnet'
      ? null
      : rankCandidates(allowed, call.routePolicy ?? resolution.policy ?? gw.routePolicy, {
          priceOf: (t) => priceOf(gw, t),
          latencyOf: (netuid) => gw.reliability.health.subnet(netuid).typicalServedMs,
          quality: gw.quality,
        });
  // Which subnets and which upstreams, in order (503 when none is routable).
  const plan = planRoute(snapshot, ranked?.targets ?? allowed, {
    providerFor: (netuid) => gw.providerFor(netuid),
    topK: gw.config.ROUTER_TOP_K,
    maxAttempts: gw.config.MAX_ATTEMPTS,
    maxSubnets: gw.config.MAX_SUBNETS,
    pinnedUids: call.pinnedUids,
    exclude: call.exclude,
    health: gw.reliability.health,
    stream: request.stream === true,
    reweight: gw.blend.reweight,
  });
  return { snapshot, plan, policy: ranked?.applied ?? null };
}

async function complete(gw: Gateway, call: CompletionCall, isPrivate: boolean): Promise<CompletionResult> {
  const { request } = call;
  const started = performance.now();
  const deadline = new FixedDeadline(gw.config.REQUEST_TIMEOUT_MS, started, gw.config.FIRST_BYTE_TIMEOUT_MS);
  const { snapshot, plan, policy } = routeFor(gw, call, isPrivate);
  const first = (plan.legs[0] as RouteLeg).target.id;

  // Whether the cache may answer and record this request (null: BYPASS). Private requests never touch it.
  const ticket = gw.cache.ticket({
    endpoint: call.endpoint,
    request,
    key: call.key,
    pinned: call.pinnedUids !== null,
    directive: isPrivate ? BYPASS_CACHE : (call.cache ?? USE_CACHE),
    model: first,
  });

  // Limits and credit: 429 over RPM/TPM, 402 without credit for the worst case (at the dearest candidate's price).
  // A postpaid key without limits passes without a store round trip. Hits are admitted too: they count against RPM.
  const admission = await gw.metering.admit({
    key: call.key,
    request,
    requestId: call.requestId,
    requestedModel: request.model,
    servedModel: first,
    candidateModels: plan.legs.map((l) => l.target.id),
  });
  const ctx = { gw, call, snapshot, plan, policy, isPrivate, admission, started, deadline };
  if (!ticket) return answerFromUpstreams(ctx, null);

  // A stored answer, an identical request in flight to follow, or the lead of a new flight.
  // The client's signal is read only if the request has to wait or call (a hit never does).
  const client = {
    get clientSignal() {
      return call.clientSignal;
    },
    deadline,
  };
  const found = await gw.cache.acquire(ticket, client, request.stream === true).catch((err: unknown) => {
    admission.cancel();
    // A client that left while following an identical request: nobody reads this answer.
    if (err instanceof ClientDisconnected) throw new GatewayError(504, err.message, 'server_error', 'client_closed');
    // The request's own deadline passed while it waited for an identical request: the deadline's 504, as if it had called.
    if (err instanceof DeadlineExceeded) throw new GatewayError(504, `${err.message} while waiting for an identical request`, 'server_error', 'deadline_exceeded');
    throw err;
  });
  if (found.kind === 'hit') return answerFromEntry(ctx, found.entry, found.coalesced);
  if (found.kind === 'live') return followLiveStream(ctx, found);
  const { flight } = found;
  return answerFromUpstreams(ctx, flight).catch((err: unknown) => {
    // Whatever failed, followers must not wait for an answer that will never come (a no-op if already told).
    flight.complete(null);
    throw err;
  });
}

/** A private request's answer and errors say so in their headers: the routes' markPrivateResponses does that for every response. */
export function runCompletion(gw: Gateway, call: CompletionCall): Promise<CompletionResult> {
  return complete(gw, call, call.private === true || call.key.private);
}
