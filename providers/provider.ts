/**
 * The one small interface every subnet adapter implements: which models and
 * upstreams a subnet offers, what body they are sent, how to call one, and
 * what an upstream's error means. Adapters are data plus small transforms; routing,
 * retries and metering live outside them.
 */
import type { SubnetSnapshot } from '../src/chain/snapshot.js';
import type { GatewayError } from '../src/errors.js';
import type { CompletionLikeRequest } from '../src/openai/requests.js';
import type { UpstreamReply, UpstreamTimeouts } from '../src/transport/http-transport.js';

export type CompletionEndpoint = 'chat' | 'completions';

/** One callable target: a miner's axon, or a subnet's own API. */
export interface Upstream {
  /** Stable id used in headers, logs and health tracking: "<netuid>/<uid>/<hotkey>", or "<netuid>/api/<kind>" for a subnet API. */
  readonly id: string;
  readonly netuid: number;
  readonly uid: number | null;
  readonly hotkey: string | null;
  /** "http://203.0.113.7:8091" or "https://llm.chutes.ai" */
  readonly origin: string;
  /** Routing weight from the rank policy; the routable set sums to 1. */
  readonly weight: number;
  /** 1-based position in the rank policy's order. */
  readonly rank: number;
}

export interface UpstreamRequest {
  readonly endpoint: CompletionEndpoint;
  /** The JSON body as it will be sent (from `encodeRequest`). */
  readonly body: string;
  /** Whether the body asks for a stream (some APIs label their answers wrongly; adapters repair them). */
  readonly stream: boolean;
  readonly upstream: Upstream;
  readonly signal: AbortSignal;
  readonly timeouts: UpstreamTimeouts;
}

/** A non-2xx reply, as read for mapping. */
export interface UpstreamFailure {
  readonly status: number;
  readonly bodyText: string;
  /** A response header by lower-case name, or null. */
  header(name: string): string | null;
}

export interface FailureMapping {
  /** Whether another upstream may be tried. */
  readonly retryable: boolean;
  /** What the client sees if this was the last word. */
  readonly error: GatewayError;
}

export interface Provider {
  readonly kind: string;
  /**
   * Where a subnet's upstreams come from: `metagraph` — the ranked miners of
   * its snapshot; `config` — operator-configured upstreams that need no
   * snapshot (a subnet's own API).
   */
  readonly source: 'metagraph' | 'config';
  /**
   * Model names the subnet offers right now (`subnet` is undefined when the
   * snapshot lacks it): the config file's when it lists them, else the
   * snapshot's. Empty means no list: any name goes through to the upstreams,
   * which decide. The catalog asks this, so /v1/models and model resolution
   * agree with the provider.
   */
  models(subnet: SubnetSnapshot | undefined): readonly string[];
  /** Callable upstreams of a subnet, best first (`subnet` is undefined when the snapshot lacks it). */
  upstreams(subnet: SubnetSnapshot | undefined): readonly Upstream[];
  /** The upstream body for a client's request: unknown fields pass through, `model` is the upstream's name. */
  encodeRequest(request: CompletionLikeRequest, upstreamModel: string, endpoint: CompletionEndpoint): string;
  /** Resolves once the upstream's status and headers are in; a reshaped reply keeps the transport's `firstByteAt`. */
  send(request: UpstreamRequest): Promise<UpstreamReply>;
  /** Interprets a non-2xx reply (its message already redacted). */
  mapError(failure: UpstreamFailure, upstream: Upstream): FailureMapping;
  /**
   * Removes what the client must never see from upstream text before it
   * enters an error message (an error in a 200 body, an error event in a
   * stream): the gateway's own key for a subnet API. Identity for miners,
   * which are sent no secret.
   */
  redact(text: string): string;
}
