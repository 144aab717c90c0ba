/**
 * Answers a request from upstreams: send with failover (miners, then
 * subnets) and hedging, bill what was served, and, when the request leads a
 * cache flight, hand the answer to the flight so it is stored and shared
 * with identical requests waiting for it. A led stream is read through a
 * SharedStream: recorded as it passes, readable by followers from its first
 * chunk, with no added latency.
 */
import type { Upstream } from '../../providers/provider.js';
import { entryFromChunks, entryFromCompletion, type EntrySnapshot } from '../cache/cache-entry.js';
import { CACHE_STATUS_HEADER } from '../cache/cache-policy.js';
import type { Flight } from '../cache/flight.js';
import { SharedStream } from '../cache/shared-stream.js';
import { createChunkRelay, type RelayOutcome, type RelaySource } from '../openai/chunk-relay.js';
import { answerText } from '../openai/responses.js';
import { ROUTE_POLICY_HEADER, type RoutePolicy } from '../router/candidate-policy.js';
import { dispatchJsonAcross, dispatchStreamAcross, type LegToSend, type Served } from '../router/subnet-failover.js';
import type { CompletionContext, CompletionResult } from './completion-types.js';
import { streamFinalFields, withBilledUsage } from './stream-receipt.js';

/** Seconds since `started` (a performance.now() reading). */
const secondsSince = (started: number) => (performance.now() - started) / 1000;

function servedHeaders(served: Served<{ upstream: Upstream }>, policy: RoutePolicy | null): Record<string, string> {
  const headers: Record<string, string> = { 'x-taogate-miner': served.value.upstream.id, 'x-taogate-served-model': served.leg.target.id };
  if (served.failedLegs.length > 0) headers['x-taogate-failover'] = served.failedLegs.map((f) => f.leg.target.id).join(',');
  if (policy) headers[ROUTE_POLICY_HEADER] = policy;
  return headers;
}

/** `flight` is null for a request the cache stays out of (BYPASS); otherwise this request leads it (MISS). */
export async function answerFromUpstreams(ctx: CompletionContext, flight: Flight | null): Promise<CompletionResult> {
  const { gw, call, snapshot, plan, policy, isPrivate, admission, started } = ctx;
  const { request } = call;
  const cache = flight ? 'MISS' : 'BYPASS';

  // Each subnet's own body (its upstream's model name and API quirks) and timeouts.
  const legs: LegToSend[] = plan.legs.map((leg) => ({
    ...leg,
    body: leg.provider.encodeRequest(request, leg.target.upstreamModel, call.endpoint),
    timeouts: gw.timeoutsFor(leg.target.netuid),
  }));
  // A led call serves every client waiting for it, so it stops only once all of them left.
  // It has what is left of the request's deadline (a wait for an identical request took the rest);
  // with nothing left, the signal is aborted already and the deadline's 504 comes before anything is sent.
  const deadline = ctx.deadline.start(flight?.signal ?? call.clientSignal);
  // MAX_ATTEMPTS is the request's, shared by its subnets.
  const failover = { legs, endpoint: call.endpoint, signal: deadline.signal, reliability: gw.reliability, maxAttempts: gw.config.MAX_ATTEMPTS };
  const failed = async (err: unknown): Promise<never> => {
    deadline.release();
    admission.cancel();
    // Followers are told there is nothing to share (and, on Workers, the claim is let go before this request ends).
    await flight?.complete(null);
    throw err;
  };
  const receiptSnapshot: EntrySnapshot = { version: snapshot?.version ?? 'none', block: snapshot?.block ?? null };
  const recorded = (upstream: Upstream, servedModel: string) => ({ endpoint: call.endpoint, upstream, servedModel, snapshot: receiptSnapshot, ttlS: flight?.ticket.ttlS ?? 0 });

  if (request.stream) {
    // Committed to an upstream once its first valid chunk arrived; relayed as it comes.
    const served = await dispatchStreamAcross(failover).catch(failed);
    const opened = served.value;
    const servedModel = served.leg.target.id;
    // Latency is labelled with the subnet model that served it (an alias or `auto` says less).
    gw.metrics.firstToken(servedModel, 'stream', secondsSince(started));
    let source: RelaySource = opened;
    if (flight) {
      // Holding the key's claim: followers on other replicas read this stream as it comes (Redis only).
      const origin = { endpoint: call.endpoint, upstream: opened.upstream, servedModel, snapshot: receiptSnapshot };
      const tap = flight.claim?.relayStream(origin, gw.cache.maxEntryBytes, served.leg.provider.redact) ?? null;
      const shared = new SharedStream(opened, {
        maxRecordChars: gw.cache.maxEntryBytes,
        awaitsWholeAnswer: () => flight.awaitsWholeAnswer,
        tap,
        onEnd: (events) => {
          deadline.release();
          // Only a stream that finished with every chunk recorded is an answer to keep.
          return flight.complete(events && entryFromChunks(recorded(opened.upstream, servedModel), events));
        },
      });
      flight.goLive({ stream: shared, upstream: opened.upstream, servedModel, snapshot: receiptSnapshot });
      source = shared.attach() as RelaySource; // the first reader: the start is always held
    }
    // Billed once: prompt plus what was delivered, from the upstream's usage or else the tokenizer.
    const bill = (o: RelayOutcome) => admission.complete({ upstream: opened.upstream, servedModel, snapshot: receiptSnapshot, usage: o.usage, completionText: o.deliveredText });
    const clientWantsUsage = request.stream_options?.include_usage === true;
    const relay = createChunkRelay(source, {
      requestedModel: request.model,
      clientWantsUsage,
      redact: served.leg.provider.redact,
      // Headers are gone by the end of a stream: the receipt rides on its final chunk.
      finalFields: streamFinalFields(bill, clientWantsUsage),
      onEnd: (o) => {
        if (!flight) deadline.release();
        bill(o);
        gw.metrics.completionEnded(servedModel, 'stream', o.completed ? 'ok' : o.clientAborted ? 'client_gone' : 'interrupted', secondsSince(started));
      },
    });
    const headers = { ...admission.headers, ...servedHeaders(served, policy), [CACHE_STATUS_HEADER]: cache };
    return { kind: 'stream', upstream: opened.upstream, servedModel, private: isPrivate, relay, headers, cache };
  }

  const served = await dispatchJsonAcross(failover).catch(failed);
  deadline.release();
  const answer = served.value;
  const servedModel = served.leg.target.id;
  const elapsed = secondsSince(started);
  gw.metrics.firstToken(servedModel, 'json', elapsed);
  gw.metrics.completionEnded(servedModel, 'json', 'ok', elapsed);
  const bill = admission.complete({
    upstream: answer.upstream,
    servedModel,
    snapshot: receiptSnapshot,
    usage: answer.payload.usage ?? null,
    completionText: answerText(answer.payload),
  });
  // Kept, and followers woken. On Workers also stored and the claim let go before the answer leaves (a request
  // must not end with the write pending); on Node that runs behind the answer (ResponseCacheOptions.writeBehind).
  await flight?.complete(entryFromCompletion(recorded(answer.upstream, servedModel), answer.payload));
  return {
    kind: 'json',
    upstream: answer.upstream,
    servedModel,
    private: isPrivate,
    // Without the miner's usage, the count it was billed by (Responses and Messages report it too).
    payload: { ...withBilledUsage(answer.payload, bill), model: request.model },
    headers: { ...admission.headers, ...servedHeaders(served, policy), 'x-taogate-receipt': bill.receipt, [CACHE_STATUS_HEADER]: cache },
    cache,
  };
}
