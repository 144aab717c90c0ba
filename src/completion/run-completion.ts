/**
 * One completion, from a validated request to an answer, independent of the
 * wire API the client spoke: resolve the model to candidate subnets, order
 * them by policy, plan the route, admit (limits, credit), send (failing over
 * across miners, then across subnets), and bill what was served. Chat
 * completions, legacy completions, the Responses and Messages APIs and
 * /v1/compare all come through here, so they share routing, reliability,
 * metering and receipts.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import type { ModelTarget } from '../catalog/model-catalog.js';
import { requireSnapshot } from '../chain/require-snapshot.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import { createChunkRelay, type ChunkRelay, type RelayOutcome } from '../openai/chunk-relay.js';
import type { CompletionLikeRequest } from '../openai/requests.js';
import { answerText, type CompletionResponse } from '../openai/responses.js';
import { rankCandidates, ROUTE_POLICY_HEADER, type RoutePolicy } from '../router/candidate-policy.js';
import { PRIVATE_HEADER, privateTargets } from '../router/private-routing.js';
import { requestDeadline } from '../router/request-deadline.js';
import { planRoute } from '../router/route-plan.js';
import { dispatchJsonAcross, dispatchStreamAcross, type LegToSend, type Served } from '../router/subnet-failover.js';

export interface CompletionCall {
  readonly endpoint: CompletionEndpoint;
  /** The client's validated request; unknown fields are passed through to the upstream. */
  readonly request: CompletionLikeRequest;
  readonly key: ApiKeyRecord;
  readonly requestId: string;
  /** uids from `x-taogate-uids`, or null. */
  readonly pinnedUids: readonly number[] | null;
  /** Aborts when the client goes away. */
  readonly clientSignal: AbortSignal;
  /**
   * Private mode asked for by the request (`x-taogate-private: 1`); a key
   * created private is always in private mode. A private completion goes
   * only to private subnets, must never be cached, and its body must never
   * be logged, archived or scored (see `CompletionResult.private`).
   */
  readonly private?: boolean;
  /** The request's own order for alias and `auto` candidates (`x-taogate-route-policy`). */
  readonly routePolicy?: RoutePolicy | null;
}

interface ResultBase {
  readonly upstream: Upstream;
  /** The subnet model that served ("sn64/deepseek-v3"); differs from the request after failover. */
  readonly servedModel: string;
  /** Private mode was in effect: callers must not cache, log, archive or score this completion. */
  readonly private: boolean;
  /** x-taogate-* headers, x-taogate-receipt (JSON) and the key's x-ratelimit-* headers. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface JsonCompletion extends ResultBase {
  readonly kind: 'json';
  /** The upstream's answer with `model` set to the id the client asked for. */
  readonly payload: CompletionResponse & { model: string };
}

export interface StreamCompletion extends ResultBase {
  readonly kind: 'stream';
  /** Chunks as they arrive; the last one carries `taogate_receipt`. */
  readonly relay: ChunkRelay;
}

export type CompletionResult = JsonCompletion | StreamCompletion;

/** Prompt + completion price per 1M tokens: what the `price` policy compares. */
function priceOf(gw: Gateway, target: ModelTarget): number {
  const p = gw.metering.prices.priceFor(target.id);
  return p.promptMicroUsdPer1M + p.completionMicroUsdPer1M;
}

/** Which subnets may serve, in order, and what each is sent. */
function routeFor(gw: Gateway, call: CompletionCall, isPrivate: boolean) {
  const { request } = call;
  const snapshot = gw.metagraph.current();
  // Candidates in configured order (404 for an unknown model).
  const resolution = gw.catalog.resolve(request.model, snapshot);
  // Private mode: only subnets marked private (503 when none of the candidates is).
  const allowed = isPrivate ? privateTargets(gw.catalog, resolution.targets, request.model) : resolution.targets;
  // Miners come from the snapshot; without one, only subnet APIs can serve (503 naming the source otherwise).
  if (!snapshot && allowed.every((t) => gw.providerFor(t.netuid).source === 'metagraph')) requireSnapshot(gw.metagraph);
  // Alias and auto candidates ordered by price, latency or quality.
  const ranked =
    resolution.kind === 'subnet'
      ? null
      : rankCandidates(allowed, call.routePolicy ?? resolution.policy ?? gw.routePolicy, {
          priceOf: (t) => priceOf(gw, t),
          latencyOf: (netuid) => gw.reliability.health.subnet(netuid).typicalTtfbMs,
          quality: gw.quality,
        });
  // Which subnets and which upstreams, in order (503 when none is routable).
  const plan = planRoute(snapshot, ranked?.targets ?? allowed, {
    providerFor: (netuid) => gw.providerFor(netuid),
    topK: gw.config.ROUTER_TOP_K,
    maxAttempts: gw.config.MAX_ATTEMPTS,
    maxSubnets: gw.config.MAX_SUBNETS,
    pinnedUids: call.pinnedUids,
    health: gw.reliability.health,
    stream: request.stream === true,
    reweight: gw.blend.reweight,
  });
  // Each subnet's own body (its upstream's model name and API quirks) and timeouts.
  const legs: LegToSend[] = plan.legs.map((leg) => ({
    ...leg,
    body: leg.provider.encodeRequest(request, leg.target.upstreamModel, call.endpoint),
    timeouts: gw.timeoutsFor(leg.target.netuid),
  }));
  return { snapshot, legs, policy: ranked?.applied ?? null };
}

function servedHeaders(served: Served<{ upstream: Upstream }>, isPrivate: boolean, policy: RoutePolicy | null): Record<string, string> {
  const headers: Record<string, string> = { 'x-taogate-miner': served.value.upstream.id, 'x-taogate-served-model': served.leg.target.id };
  if (served.failedLegs.length > 0) headers['x-taogate-failover'] = served.failedLegs.map((f) => f.leg.target.id).join(',');
  if (policy) headers[ROUTE_POLICY_HEADER] = policy;
  if (isPrivate) Object.assign(headers, { [PRIVATE_HEADER]: '1', 'cache-control': 'no-store' });
  return headers;
}

/** Seconds since `started` (a performance.now() reading). */
const secondsSince = (started: number) => (performance.now() - started) / 1000;

async function complete(gw: Gateway, call: CompletionCall, isPrivate: boolean): Promise<CompletionResult> {
  const { request } = call;
  const started = performance.now();
  const { snapshot, legs, policy } = routeFor(gw, call, isPrivate);

  // Limits and credit: 429 over RPM/TPM, 402 without credit for the worst case (at the dearest candidate's price).
  // A postpaid key without limits passes without a store round trip.
  const admission = await gw.metering.admit({
    key: call.key,
    request,
    requestId: call.requestId,
    requestedModel: request.model,
    servedModel: (legs[0] as LegToSend).target.id,
    candidateModels: legs.map((l) => l.target.id),
  });

  const deadline = requestDeadline(call.clientSignal, gw.config.REQUEST_TIMEOUT_MS);
  const failover = { legs, endpoint: call.endpoint, signal: deadline.signal, reliability: gw.reliability };
  const failed = (err: unknown): never => {
    deadline.release();
    admission.cancel();
    throw err;
  };
  const receiptSnapshot = { version: snapshot?.version ?? 'none', block: snapshot?.block ?? null };

  if (request.stream) {
    // Committed to an upstream once its first valid chunk arrived; relayed as it comes.
    const served = await dispatchStreamAcross(failover).catch(failed);
    const opened = served.value;
    const servedModel = served.leg.target.id;
    // Latency is labelled with the subnet model that served it (an alias or `auto` says less).
    gw.metrics.firstToken(servedModel, 'stream', secondsSince(started));
    // Billed once: prompt plus what was delivered, from the upstream's usage or else the tokenizer.
    const bill = (o: RelayOutcome) => admission.complete({ upstream: opened.upstream, servedModel, snapshot: receiptSnapshot, usage: o.usage, completionText: o.deliveredText });
    const clientWantsUsage = request.stream_options?.include_usage === true;
    const relay = createChunkRelay(opened, {
      requestedModel: request.model,
      clientWantsUsage,
      // Headers are gone by the end of a stream: the receipt rides on its final chunk, and so does
      // the gateway's own count when the client asked for usage and the upstream sent none.
      finalFields: (o) => {
        const b = bill(o);
        if (!clientWantsUsage || o.usage) return { taogate_receipt: b.receipt };
        const usage = { prompt_tokens: b.promptTokens, completion_tokens: b.completionTokens, total_tokens: b.promptTokens + b.completionTokens };
        return { taogate_receipt: b.receipt, usage };
      },
      onEnd: (o) => {
        deadline.release();
        bill(o);
        gw.metrics.completionEnded(servedModel, 'stream', o.completed ? 'ok' : o.clientAborted ? 'client_gone' : 'interrupted', secondsSince(started));
      },
    });
    const headers = { ...admission.headers, ...servedHeaders(served, isPrivate, policy) };
    return { kind: 'stream', upstream: opened.upstream, servedModel, private: isPrivate, relay, headers };
  }

  const served = await dispatchJsonAcross(failover).catch(failed);
  deadline.release();
  const answer = served.value;
  const servedModel = served.leg.target.id;
  const elapsed = secondsSince(started);
  gw.metrics.firstToken(servedModel, 'json', elapsed);
  gw.metrics.completionEnded(servedModel, 'json', 'ok', elapsed);
  const { receipt } = admission.complete({
    upstream: answer.upstream,
    servedModel,
    snapshot: receiptSnapshot,
    usage: answer.payload.usage ?? null,
    completionText: answerText(answer.payload),
  });
  return {
    kind: 'json',
    upstream: answer.upstream,
    servedModel,
    private: isPrivate,
    payload: { ...answer.payload, model: request.model },
    headers: { ...admission.headers, ...servedHeaders(served, isPrivate, policy), 'x-taogate-receipt': receipt },
  };
}

export async function runCompletion(gw: Gateway, call: CompletionCall): Promise<CompletionResult> {
  const isPrivate = call.private === true || call.key.private;
  if (!isPrivate) return complete(gw, call, false);
  try {
    return await complete(gw, call, true);
  } catch (err) {
    // A private request's errors say so too, and must not be stored by anything in between.
    if (!(err instanceof GatewayError)) throw err;
    throw new GatewayError(err.status, err.message, err.type, err.code, err.param, { ...err.headers, [PRIVATE_HEADER]: '1', 'cache-control': 'no-store' });
  }
}
