/**
 * Answers a request from miners: send with failover and hedging, bill what
 * was served, and, when the request leads a cache flight, hand the answer to
 * the flight so it is stored and shared with identical requests waiting for
 * it. A led stream is read through a SharedStream: recorded as it passes,
 * readable by followers from its first chunk, with no added latency.
 */
import { entryFromChunks, entryFromCompletion, type EntrySnapshot } from '../cache/cache-entry.js';
import { CACHE_STATUS_HEADER } from '../cache/cache-policy.js';
import type { Flight } from '../cache/flight.js';
import { SharedStream } from '../cache/shared-stream.js';
import { createChunkRelay, type RelayOutcome, type RelaySource } from '../openai/chunk-relay.js';
import { withStreamUsage } from '../openai/requests.js';
import { answerText } from '../openai/responses.js';
import { dispatchJson, dispatchStream } from '../router/dispatch.js';
import { requestDeadline } from '../router/request-deadline.js';
import type { CompletionContext, CompletionResult } from './completion-types.js';

/** Seconds since `started` (a performance.now() reading). */
const secondsSince = (started: number) => (performance.now() - started) / 1000;

/** `flight` is null for a request the cache stays out of (BYPASS); otherwise this request leads it (MISS). */
export async function answerFromMiners(ctx: CompletionContext, flight: Flight | null): Promise<CompletionResult> {
  const { gw, call, snapshot, plan, admission, started } = ctx;
  const { request } = call;
  const cache = flight ? 'MISS' : 'BYPASS';
  // Latency is labelled with the subnet model that served it (an alias or `auto` says less).
  const model = plan.target.id;

  // The upstream body: the client's, unknown fields included, with the upstream's
  // model name; streams always ask the miner for usage (metering needs it).
  const body = JSON.stringify(withStreamUsage({ ...request, model: plan.target.upstreamModel }));
  // A led call serves every client waiting for it, so it stops only once all of them left.
  const deadline = requestDeadline(flight?.signal ?? call.clientSignal, gw.config.REQUEST_TIMEOUT_MS);
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
    // Followers are told there is nothing to share; each then calls a miner itself.
    flight?.complete(null);
    throw err;
  };
  const servedOn: EntrySnapshot = { version: snapshot.version, block: snapshot.block };
  const recorded = (upstream: CompletionResult['upstream']) => ({ endpoint: call.endpoint, upstream, snapshot: servedOn, ttlS: flight?.ticket.ttlS ?? 0 });

  if (request.stream) {
    // Committed to a miner once its first valid chunk arrived; relayed as it comes.
    const opened = await dispatchStream(dispatch).catch(failed);
    gw.metrics.firstToken(model, 'stream', secondsSince(started));
    let source: RelaySource = opened;
    if (flight) {
      const shared = new SharedStream(opened, {
        maxRecordChars: gw.cache.maxEntryBytes,
        keepReading: () => flight.awaitsWholeAnswer,
        onEnd: (events) => {
          deadline.release();
          // Only a stream that finished with every chunk recorded is an answer to keep.
          flight.complete(events && entryFromChunks(recorded(opened.upstream), events));
        },
      });
      flight.goLive({ stream: shared, upstream: opened.upstream, snapshot: servedOn });
      source = shared.attach() as RelaySource; // the first reader: the start is always held
    }
    // Billed once: prompt plus what was delivered, from the miner's usage or else the tokenizer.
    const bill = (o: RelayOutcome) => admission.complete({ upstream: opened.upstream, snapshot, usage: o.usage, completionText: o.deliveredText });
    const relay = createChunkRelay(source, {
      requestedModel: request.model,
      clientWantsUsage: request.stream_options?.include_usage === true,
      // Headers are gone by the end of a stream: the receipt rides on its final chunk.
      finalFields: (o) => ({ taogate_receipt: bill(o).receipt }),
      onEnd: (o) => {
        if (!flight) deadline.release();
        bill(o);
        gw.metrics.completionEnded(model, 'stream', o.completed ? 'ok' : o.clientAborted ? 'client_gone' : 'interrupted', secondsSince(started));
      },
    });
    const headers = { ...admission.headers, 'x-taogate-miner': opened.upstream.id, [CACHE_STATUS_HEADER]: cache };
    return { kind: 'stream', upstream: opened.upstream, relay, headers, cache };
  }

  const answer = await dispatchJson(dispatch).catch(failed);
  deadline.release();
  const elapsed = secondsSince(started);
  gw.metrics.firstToken(model, 'json', elapsed);
  gw.metrics.completionEnded(model, 'json', 'ok', elapsed);
  const { receipt } = admission.complete({
    upstream: answer.upstream,
    snapshot,
    usage: answer.payload.usage ?? null,
    completionText: answerText(answer.payload),
  });
  flight?.complete(entryFromCompletion(recorded(answer.upstream), answer.payload));
  return {
    kind: 'json',
    upstream: answer.upstream,
    payload: { ...answer.payload, model: request.model },
    headers: { ...admission.headers, 'x-taogate-miner': answer.upstream.id, 'x-taogate-receipt': receipt, [CACHE_STATUS_HEADER]: cache },
    cache,
  };
}
