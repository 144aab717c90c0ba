/**
 * The one small interface every subnet adapter implements: which upstreams
 * a subnet offers, how to call one, and what an upstream's error means.
 * Adapters are data plus small transforms; routing, retries and metering
 * live outside them.
 */
import type { SubnetSnapshot } from '../src/chain/snapshot.js';
import type { GatewayError } from '../src/errors.js';
import type { UpstreamReply, UpstreamTimeouts } from '../src/transport/http-transport.js';

export type CompletionEndpoint = 'chat' | 'completions';

/** One callable target: a miner's axon, or a subnet's own API. */
export interface Upstream {
  /** Stable id used in headers, logs and health tracking: "<netuid>/<uid>/<hotkey>". */
  readonly id: string;
  readonly netuid: number;
  readonly uid: number | null;
  readonly hotkey: string | null;
  /** "http://203.0.113.7:8091" */
  readonly origin: string;
  /** Routing weight from the rank policy; the routable set sums to 1. */
  readonly weight: number;
  /** 1-based position in the rank policy's order. */
  readonly rank: number;
}

export interface UpstreamRequest {
  readonly endpoint: CompletionEndpoint;
  /** The JSON body as it will be sent (model already set to the upstream's name). */
  readonly body: string;
  readonly upstream: Upstream;
  readonly signal: AbortSignal;
  readonly timeouts: UpstreamTimeouts;
}

export interface FailureMapping {
  /** Whether another upstream may be tried. */
  readonly retryable: boolean;
  /** What the client sees if this was the last word. */
  readonly error: GatewayError;
}

export interface Provider {
  readonly kind: string;
  /** Callable upstreams of a subnet, best first. */
  upstreams(subnet: SubnetSnapshot): readonly Upstream[];
  send(request: UpstreamRequest): Promise<UpstreamReply>;
  /** Interprets a non-2xx reply. */
  mapError(status: number, bodyText: string, upstream: Upstream): FailureMapping;
}
