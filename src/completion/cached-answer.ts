/**
 * Answers a request from the response cache: a stored answer (in the shape
 * the client asked for: JSON, or replayed as chunks through the same relay
 * and encoders as a live stream), or the live stream of an identical
 * request already running. Hits keep naming the upstream and subnet model
 * that first served the answer, are billed as cached hits, and their
 * receipts say so. Private requests never get here.
 */
import type { Upstream } from '../../providers/provider.js';
import { chunksOf, completionOf, type CacheEntry, type EntrySnapshot } from '../cache/cache-entry.js';
import { CACHE_STATUS_HEADER } from '../cache/cache-policy.js';
import { createChunkRelay, type RelayOutcome, type RelaySource } from '../openai/chunk-relay.js';
import { answerText, type Usage } from '../openai/responses.js';
import { ROUTE_POLICY_HEADER } from '../router/candidate-policy.js';
import type { CompletionContext, CompletionResult } from './completion-types.js';
import { streamFinalFields } from './stream-receipt.js';

/** Where a cached answer came from. */
interface Origin {
  readonly upstream: Upstream;
  readonly servedModel: string;
  readonly snapshot: EntrySnapshot;
}

/** A stored stream, handed to the relay one event at a time as if it were arriving. */
function replay(events: readonly string[]): RelaySource {
  async function* replayed(): AsyncGenerator<string, void, undefined> {
    yield* events;
  }
  return { events: replayed(), cancel: () => undefined };
}

function hitHeaders(ctx: CompletionContext, origin: Origin, ageS: number): Record<string, string> {
  const headers: Record<string, string> = {
    ...ctx.admission.headers,
    'x-taogate-miner': origin.upstream.id,
    'x-taogate-served-model': origin.servedModel,
    [CACHE_STATUS_HEADER]: 'HIT',
    age: String(ageS),
  };
  if (ctx.policy) headers[ROUTE_POLICY_HEADER] = ctx.policy;
  return headers;
}

/** A relay over `source` billed as a cached hit; `usage` is the answer's when the client got all of it. */
function cachedStream(ctx: CompletionContext, source: RelaySource, origin: Origin, usage: (o: RelayOutcome) => Usage | null) {
  const { call, admission } = ctx;
  const bill = (o: RelayOutcome) => admission.completeFromCache({ ...origin, usage: usage(o), completionText: o.deliveredText });
  const clientWantsUsage = call.request.stream_options?.include_usage === true;
  return createChunkRelay(source, {
    requestedModel: call.request.model,
    clientWantsUsage,
    finalFields: streamFinalFields(bill, clientWantsUsage),
    onEnd: bill,
  });
}

export function answerFromEntry(ctx: CompletionContext, entry: CacheEntry, coalesced: boolean): CompletionResult {
  const { call, admission } = ctx;
  const { upstream, servedModel } = entry;
  // A follower's answer is as fresh as the leader's.
  const headers = hitHeaders(ctx, entry, coalesced ? 0 : Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)));
  const base = { upstream, servedModel, private: false, cache: 'HIT' } as const;
  if (call.request.stream) {
    // A client that left mid-replay is billed for what it got, like any stream.
    const relay = cachedStream(ctx, replay(chunksOf(entry)), entry, (o) => (o.completed ? entry.usage : null));
    return { ...base, kind: 'stream', relay, headers };
  }
  const completion = completionOf(entry);
  const { receipt } = admission.completeFromCache({
    upstream,
    servedModel,
    snapshot: entry.snapshot,
    usage: entry.usage,
    completionText: entry.usage ? '' : answerText(completion),
  });
  return { ...base, kind: 'json', payload: { ...completion, model: call.request.model }, headers: { ...headers, 'x-taogate-receipt': receipt } };
}

/** Reads the live stream of the identical request this one followed, from its first chunk. */
export function followLiveStream(ctx: CompletionContext, live: Origin & { readonly source: RelaySource }): CompletionResult {
  const relay = cachedStream(ctx, live.source, live, (o) => o.usage);
  return { kind: 'stream', upstream: live.upstream, servedModel: live.servedModel, private: false, cache: 'HIT', relay, headers: hitHeaders(ctx, live, 0) };
}
