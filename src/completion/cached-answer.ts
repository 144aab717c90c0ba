/**
 * Answers a request from the response cache: a stored answer (in the shape
 * the client asked for: JSON, or replayed as chunks through the same relay
 * and encoders as a live stream), or the live stream of an identical
 * request already running. Hits keep naming the miner that first served the
 * answer, are billed as cached hits, and their receipts say so.
 */
import type { Upstream } from '../../providers/provider.js';
import { chunksOf, completionOf, type CacheEntry, type EntrySnapshot } from '../cache/cache-entry.js';
import { CACHE_STATUS_HEADER } from '../cache/cache-policy.js';
import type { ServedOutcome } from '../metering/admission.js';
import { createChunkRelay, type RelayOutcome, type RelaySource } from '../openai/chunk-relay.js';
import type { Usage } from '../openai/responses.js';
import { answerText } from '../openai/responses.js';
import type { CompletionContext, CompletionResult } from './completion-types.js';

/** A stored stream, handed to the relay one event at a time as if it were arriving. */
function replay(events: readonly string[]): RelaySource {
  async function* replayed(): AsyncGenerator<string, void, undefined> {
    yield* events;
  }
  return { events: replayed(), cancel: () => undefined };
}

function hitHeaders(ctx: CompletionContext, upstream: Upstream, ageS: number): Record<string, string> {
  return { ...ctx.admission.headers, 'x-taogate-miner': upstream.id, [CACHE_STATUS_HEADER]: 'HIT', age: String(ageS) };
}

/** A relay over `source` billed as a cached hit; `usage` is the answer's when the client got all of it. */
function cachedStream(ctx: CompletionContext, source: RelaySource, upstream: Upstream, snapshot: EntrySnapshot, usage: (o: RelayOutcome) => Usage | null) {
  const { call, admission } = ctx;
  const bill = (o: RelayOutcome) => admission.completeFromCache({ upstream, snapshot, usage: usage(o), completionText: o.deliveredText });
  return createChunkRelay(source, {
    requestedModel: call.request.model,
    clientWantsUsage: call.request.stream_options?.include_usage === true,
    finalFields: (o) => ({ taogate_receipt: bill(o).receipt }),
    onEnd: bill,
  });
}

export function answerFromEntry(ctx: CompletionContext, entry: CacheEntry, coalesced: boolean): CompletionResult {
  const { call, admission } = ctx;
  const { upstream, snapshot } = entry;
  // A follower's answer is as fresh as the leader's.
  const headers = hitHeaders(ctx, upstream, coalesced ? 0 : Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)));
  if (call.request.stream) {
    // A client that left mid-replay is billed for what it got, like any stream.
    const relay = cachedStream(ctx, replay(chunksOf(entry)), upstream, snapshot, (o) => (o.completed ? entry.usage : null));
    return { kind: 'stream', upstream, relay, headers, cache: 'HIT' };
  }
  const completion = completionOf(entry);
  const served: ServedOutcome = { upstream, snapshot, usage: entry.usage, completionText: entry.usage ? '' : answerText(completion) };
  const { receipt } = admission.completeFromCache(served);
  return {
    kind: 'json',
    upstream,
    payload: { ...completion, model: call.request.model },
    headers: { ...headers, 'x-taogate-receipt': receipt },
    cache: 'HIT',
  };
}

/** Reads the live stream of the identical request this one followed, from its first chunk. */
export function followLiveStream(ctx: CompletionContext, live: { source: RelaySource; upstream: Upstream; snapshot: EntrySnapshot }): CompletionResult {
  const relay = cachedStream(ctx, live.source, live.upstream, live.snapshot, (o) => o.usage);
  return { kind: 'stream', upstream: live.upstream, relay, headers: hitHeaders(ctx, live.upstream, 0), cache: 'HIT' };
}
