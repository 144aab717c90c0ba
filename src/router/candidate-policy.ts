/**
 * Orders the (subnet, model) candidates of an alias or `auto` before the
 * route is planned: the first candidate that can be routed serves, the next
 * ones are where the request fails over to when a whole subnet is down.
 *
 * - `order`: as configured (an alias's list, `auto`'s subnet order).
 * - `price`: cheapest first, by prompt + completion price per 1M tokens.
 * - `latency`: fastest first, by the subnet's typical time to answer as the
 *   health registry measured it.
 * - `quality`: best first, by the leaderboard's score, when one is plugged
 *   in (`QualityScores`); without it, or without any score yet, `order`.
 *
 * Candidates a policy knows nothing about (no latency sample yet, no score)
 * keep their configured order after the ones it does know. Sorting is
 * stable, so ties keep the configured order too.
 */
import type { ModelTarget } from '../catalog/model-catalog.js';
import { invalidRequest } from '../errors.js';

export const ROUTE_POLICIES = ['order', 'price', 'latency', 'quality'] as const;
export type RoutePolicy = (typeof ROUTE_POLICIES)[number];

/** Clients may order alias and `auto` candidates themselves. */
export const ROUTE_POLICY_HEADER = 'x-taogate-route-policy';

export function parseRoutePolicy(value: string | undefined): RoutePolicy | null {
  if (value === undefined || value === '') return null;
  if ((ROUTE_POLICIES as readonly string[]).includes(value)) return value as RoutePolicy;
  throw invalidRequest(`${ROUTE_POLICY_HEADER} must be one of ${ROUTE_POLICIES.join(', ')}, got "${value}"`, ROUTE_POLICY_HEADER, 'invalid_header');
}

/**
 * Observed answer quality, e.g. from the compare leaderboard. Optional:
 * the gateway routes without it, and plugs it in when one exists.
 */
export interface QualityScores {
  /** Mean quality of a subnet's model ("sn64/deepseek-v3"), higher is better, or null while unknown. */
  scoreOf(netuid: number, modelId: string): number | null;
}

export interface PolicyInputs {
  /** A candidate's price: prompt + completion micro-USD per 1M tokens. */
  readonly priceOf: (target: ModelTarget) => number;
  /** A subnet's typical time to answer in ms, NaN while unmeasured. */
  readonly latencyOf: (netuid: number) => number;
  readonly quality: QualityScores | null;
}

export interface RankedCandidates {
  readonly targets: readonly ModelTarget[];
  /** The policy that decided the order (`order` when `quality` had nothing to go on). */
  readonly applied: RoutePolicy;
}

/** Smaller is better; NaN = unknown. */
function keyFor(policy: RoutePolicy, inputs: PolicyInputs): ((t: ModelTarget) => number) | null {
  switch (policy) {
    case 'price':
      return inputs.priceOf;
    case 'latency':
      return (t) => inputs.latencyOf(t.netuid);
    case 'quality': {
      const quality = inputs.quality;
      if (!quality) return null;
      return (t) => -(quality.scoreOf(t.netuid, t.id) ?? Number.NaN);
    }
    default:
      return null;
  }
}

export function rankCandidates(targets: readonly ModelTarget[], policy: RoutePolicy, inputs: PolicyInputs): RankedCandidates {
  const key = keyFor(policy, inputs);
  const keyed = key ? targets.map((target, index) => ({ target, index, value: key(target) })) : [];
  // Without a quality source, or before its first score, the configured order stands.
  if (!key || keyed.every((k) => Number.isNaN(k.value))) return { targets, applied: policy === 'quality' ? 'order' : policy };
  keyed.sort((a, b) => {
    const aKnown = !Number.isNaN(a.value);
    const bKnown = !Number.isNaN(b.value);
    if (aKnown !== bKnown) return aKnown ? -1 : 1;
    if (aKnown && a.value !== b.value) return a.value - b.value;
    return a.index - b.index;
  });
  return { targets: keyed.map((k) => k.target), applied: policy };
}
