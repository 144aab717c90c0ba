/**
 * One completion, from a validated request to an answer, independent of the
 * wire API the client spoke: resolve the model, plan the route, admit
 * (limits, credit), send to miners, and bill. Chat completions, legacy
 * completions, the Responses and Messages APIs and /v1/compare all come
 * through here, so they share routing, reliability, metering and receipts.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import { requireSnapshot } from '../chain/require-snapshot.js';
import type { Gateway } from '../gateway.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import { createChunkRelay, type ChunkRelay, type RelayOutcome } from '../openai/chunk-relay.js';
import { withStreamUsage, type CompletionLikeRequest } from '../openai/requests.js';
import { answerText, type CompletionResponse } from '../openai/responses.js';
import { dispatchJson, dispatchStream } from '../router/dispatch.js';
import { requestDeadline } from '../router/request-deadline.js';
import { planRoute } from '../router/route-plan.js';

export interface CompletionCall {
  readonly endpoint: CompletionEndpoint;
  /** The client's validated request; unknown fields are passed through to the miner. */
  readonly request: CompletionLikeRequest;
  readonly key: ApiKeyRecord;
  readonly requestId: string;
  /** uids from `x-taogate-uids`, or null. */
  readonly pinnedUids: readonly number[] | null;
  /** Aborts when the client goes away. */
  readonly clientSignal: AbortSignal;
}

export interface JsonCompletion {
  readonly kind: 'json';
  readonly upstream: Upstream;
  /** The subnet model that served it, "sn4/llama-3.1-8b" (the request may have named an alias or auto). */
  readonly servedModel: string;
  /** The miner's answer with `model` set to the id the client asked for. */
  readonly payload: CompletionResponse & { model: string };
  /** x-taogate-miner, x-taogate-receipt and the key's x-ratelimit-* headers. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface StreamCompletion {
  readonly kind: 'stream';
  readonly upstream: Upstream;
  readonly servedModel: string;
  /** Chunks as they arrive; the last one carries `taogate_receipt`. */
  readonly relay: ChunkRelay;
  readonly headers: Readonly<Record<string, string>>;
}

export type CompletionResult = JsonCompletion | StreamCompletion;

/** Seconds since `started` (a performance.now() reading). */
const secondsSince = (started: number) => (performance.now() - started) / 1000;

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
    reweight: gw.blend.reweight,
  });

  // Limits and credit: 429 over RPM/TPM, 402 without credit for the worst case.
  // A postpaid key without limits passes without a store round trip.
  const admission = await gw.metering.admit({
    key: call.key,
    request,
    requestId: call.requestId,
    requestedModel: request.model,
    servedModel: plan.target.id,
  });

  // The upstream body: the client's, unknown fields included, with the upstream's
  // model name; streams always ask the miner for usage (metering needs it).
  const body = JSON.stringify(withStreamUsage({ ...request, model: plan.target.upstreamModel }));
  const deadline = requestDeadline(call.clientSignal, gw.config.REQUEST_TIMEOUT_MS);
  const dispatch = {
    provider: plan.provider,
    endpoint: call.endpoint,
    body,
    attempts: plan.attempts,
    signal: deadline.signal,
    timeouts: gw.timeouts,
    reliability: gw.reliability,
    bypassBreaker: plan.bypassBreaker,
  };
  const failed = (err: unknown): never => {
    deadline.release();
    admission.cancel();
    throw err;
  };

  if (request.stream) {
    // Committed to a miner once its first valid chunk arrived; relayed as it comes.
    const opened = await dispatchStream(dispatch).catch(failed);
    // Latency is labelled with the subnet model that served it (an alias or `auto` says less).
    gw.metrics.firstToken(plan.target.id, 'stream', secondsSince(started));
    // Billed once: prompt plus what was delivered, from the miner's usage or else the tokenizer.
    const bill = (o: RelayOutcome) => admission.complete({ upstream: opened.upstream, snapshot, usage: o.usage, completionText: o.deliveredText });
    const relay = createChunkRelay(opened, {
      requestedModel: request.model,
      clientWantsUsage: request.stream_options?.include_usage === true,
      // Headers are gone by the end of a stream: the receipt rides on its final chunk.
      finalFields: (o) => ({ taogate_receipt: bill(o).receipt }),
      onEnd: (o) => {
        deadline.release();
        bill(o);
        gw.metrics.completionEnded(plan.target.id, 'stream', o.completed ? 'ok' : o.clientAborted ? 'client_gone' : 'interrupted', secondsSince(started));
      },
    });
    return { kind: 'stream', upstream: opened.upstream, servedModel: plan.target.id, relay, headers: { ...admission.headers, 'x-taogate-miner': opened.upstream.id } };
  }

  const answer = await dispatchJson(dispatch).catch(failed);
  deadline.release();
  const elapsed = secondsSince(started);
  gw.metrics.firstToken(plan.target.id, 'json', elapsed);
  gw.metrics.completionEnded(plan.target.id, 'json', 'ok', elapsed);
  const { receipt } = admission.complete({
    upstream: answer.upstream,
    snapshot,
    usage: answer.payload.usage ?? null,
    completionText: answerText(answer.payload),
  });
  return {
    kind: 'json',
    upstream: answer.upstream,
    servedModel: plan.target.id,
    payload: { ...answer.payload, model: request.model },
    headers: { ...admission.headers, 'x-taogate-miner': answer.upstream.id, 'x-taogate-receipt': receipt },
  };
}
