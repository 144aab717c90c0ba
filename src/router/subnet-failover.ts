/**
 * Failover across subnets: a request's legs (route-plan.ts) are dispatched
 * one after another, each as its own attempt race (dispatch.ts: failover and
 * hedging among that subnet's upstreams). The next subnet is tried only when
 * every attempt of the previous one failed before the first byte reached the
 * client, so nothing is ever sent twice. All legs share the request's one
 * deadline (REQUEST_TIMEOUT_MS): when it passes, or the client leaves, no
 * further subnet is started.
 *
 * They share its attempt budget too: MAX_ATTEMPTS counts every attempt of
 * the request (hedges included), whichever subnet it went to. A leg may use
 * what is left of the budget except one attempt for each subnet after it,
 * so a subnet that is down still leaves the next one a try (failover across
 * subnets), and a leg that used fewer (a subnet API is one upstream; a
 * subnet skipped for its breakers uses none) leaves more to the next.
 *
 * Each leg has its own body (its upstream's model name and API quirks) and
 * its own timeouts (a subnet's API may take longer to first byte than a
 * miner).
 */
import type { CompletionEndpoint } from '../../providers/provider.js';
import { GatewayError, upstreamFailed } from '../errors.js';
import type { UpstreamTimeouts } from '../transport/http-transport.js';
import { dispatchJson, dispatchStream, type AttemptBudget, type DispatchRequest, type JsonAnswer, type OpenedStream } from './dispatch.js';
import type { Reliability } from './reliability.js';
import type { RouteLeg } from './route-plan.js';

export interface LegToSend extends RouteLeg {
  readonly body: string;
  readonly timeouts: UpstreamTimeouts;
}

export interface FailoverRequest {
  readonly legs: readonly LegToSend[];
  readonly endpoint: CompletionEndpoint;
  /** Aborted when the client goes away or the request's deadline passes. */
  readonly signal: AbortSignal;
  readonly reliability?: Reliability | null;
  /** Attempts the whole request may make across its legs (MAX_ATTEMPTS); default: each leg its own upstreams. */
  readonly maxAttempts?: number;
}

export interface LegFailure {
  readonly leg: LegToSend;
  readonly error: GatewayError;
}

export interface Served<T> {
  readonly value: T;
  /** The leg that answered. */
  readonly leg: LegToSend;
  /** Legs that failed before it, in order. */
  readonly failedLegs: readonly LegFailure[];
}

/** Statuses that say "this subnet could not serve", as opposed to an answer the client should see as is. */
const SUBNET_DOWN = new Set([502, 503, 504]);

/**
 * One subnet: its own error as is. Several, all with a client-facing verdict
 * (402, 429, 400): the last one. Otherwise a 502 naming each subnet's error.
 */
function finalError(failures: readonly LegFailure[], signal: AbortSignal): GatewayError {
  const last = failures[failures.length - 1]?.error;
  if (!last) return upstreamFailed('no subnet was tried', 'all_subnets_failed');
  if (failures.length === 1 || signal.aborted) return last;
  if (failures.every((f) => !SUBNET_DOWN.has(f.error.status))) return last;
  const detail = failures.map((f) => `${f.leg.target.id}: ${f.error.message}`).join('; ');
  return upstreamFailed(`no subnet answered: tried ${failures.length} subnets: ${detail}`, 'all_subnets_failed');
}

async function across<T>(request: FailoverRequest, run: (dispatch: DispatchRequest) => Promise<T>): Promise<Served<T>> {
  const failedLegs: LegFailure[] = [];
  const skipped: LegFailure[] = [];
  const { legs } = request;
  let attemptsLeft = request.maxAttempts ?? Number.POSITIVE_INFINITY;
  for (const [index, leg] of legs.entries()) {
    // Each later subnet keeps one attempt of the budget (route-plan.ts plans no more legs than MAX_ATTEMPTS).
    const budget: AttemptBudget = { limit: attemptsLeft - (legs.length - 1 - index), spent: 0 };
    if (budget.limit < 1) break;
    try {
      const value = await run({
        provider: leg.provider,
        endpoint: request.endpoint,
        body: leg.body,
        attempts: leg.attempts,
        budget,
        signal: request.signal,
        timeouts: leg.timeouts,
        reliability: request.reliability,
        bypassBreaker: leg.bypassBreaker,
        // A half-open subnet whose probe slot is taken is skipped when another subnet can serve.
        forceLastCandidate: index === legs.length - 1,
      });
      return { value, leg, failedLegs };
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      attemptsLeft -= budget.spent;
      // Nothing was sent to a skipped subnet: it is not a failover the client needs to hear about.
      (err.code === 'breaker_open' ? skipped : failedLegs).push({ leg, error: err });
      if (request.signal.aborted) break;
    }
  }
  throw finalError(failedLegs.length > 0 ? failedLegs : skipped, request.signal);
}

export function dispatchJsonAcross(request: FailoverRequest): Promise<Served<JsonAnswer>> {
  return across(request, dispatchJson);
}

/** A stream is committed to its subnet at the first chunk with a choice, like to its miner. */
export function dispatchStreamAcross(request: FailoverRequest): Promise<Served<OpenedStream>> {
  return across(request, dispatchStream);
}
