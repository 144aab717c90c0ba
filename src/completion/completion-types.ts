/** What goes into the shared completion path and what comes out of it, whatever wire API the client spoke. */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import type { CacheDirective, CacheStatus } from '../cache/cache-policy.js';
import type { MetagraphSnapshot } from '../chain/snapshot.js';
import type { Gateway } from '../gateway.js';
import type { Admission } from '../metering/admission.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import type { ChunkRelay } from '../openai/chunk-relay.js';
import type { CompletionLikeRequest } from '../openai/requests.js';
import type { CompletionResponse } from '../openai/responses.js';
import type { RoutePolicy } from '../router/candidate-policy.js';
import type { FixedDeadline } from '../router/request-deadline.js';
import type { ExcludedUpstreams, RoutePlan } from '../router/route-plan.js';

export interface CompletionCall {
  readonly endpoint: CompletionEndpoint;
  /** The client's validated request; unknown fields are passed through to the upstream. */
  readonly request: CompletionLikeRequest;
  readonly key: ApiKeyRecord;
  readonly requestId: string;
  /** uids from `x-taogate-uids`, or null. */
  readonly pinnedUids: readonly number[] | null;
  /** Upstreams this call must not be routed to (a comparison's judge: the compared miners). */
  readonly exclude?: ExcludedUpstreams;
  /** Aborts when the client goes away (a getter may build it on first read: cache hits never read it). */
  readonly clientSignal: AbortSignal;
  /**
   * Private mode asked for by the request (`x-taogate-private: 1`); a key
   * created private is always in private mode. A private completion goes
   * only to private subnets, is never read from or written to the response
   * cache, and its body must never be logged, archived or scored (see
   * `CompletionResult.private`).
   */
  readonly private?: boolean;
  /** The request's own order for alias and `auto` candidates (`x-taogate-route-policy`). */
  readonly routePolicy?: RoutePolicy | null;
  /**
   * What the client's headers ask of the response cache (cacheDirectiveFromHeaders);
   * default: use it. `{ mode: 'bypass' }` keeps the call out of the cache entirely.
   */
  readonly cache?: CacheDirective;
}

interface ResultBase {
  /** The upstream that served the answer (for a cache hit: the one that first served it). */
  readonly upstream: Upstream;
  /** The subnet model that served ("sn64/deepseek-v3"); differs from the request after failover. */
  readonly servedModel: string;
  /** Private mode was in effect: callers must not cache, log, archive or score this completion. */
  readonly private: boolean;
  /** x-taogate-* headers (x-taogate-cache, and `age` on hits), x-taogate-receipt (JSON) and the key's x-ratelimit-* headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly cache: CacheStatus;
}

export interface JsonCompletion extends ResultBase {
  readonly kind: 'json';
  /** The answer with `model` set to the id the client asked for. */
  readonly payload: CompletionResponse & { model: string };
}

export interface StreamCompletion extends ResultBase {
  readonly kind: 'stream';
  /** Chunks as they arrive (or replayed from the cache); the last one carries `taogate_receipt`. */
  readonly relay: ChunkRelay;
}

export type CompletionResult = JsonCompletion | StreamCompletion;

/** One request once routed and admitted: what the ways of answering it share. */
export interface CompletionContext {
  readonly gw: Gateway;
  readonly call: CompletionCall;
  readonly snapshot: MetagraphSnapshot | null;
  readonly plan: RoutePlan;
  /** The candidate policy that ordered an alias or `auto`, or null. */
  readonly policy: RoutePolicy | null;
  readonly isPrivate: boolean;
  readonly admission: Admission;
  /** performance.now() when the completion started (for latency metrics). */
  readonly started: number;
  /** REQUEST_TIMEOUT_MS from `started`: time spent waiting on the cache comes out of it. */
  readonly deadline: FixedDeadline;
}
