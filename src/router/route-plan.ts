/**
 * Decides, before any network I/O, which subnet serves a request and which
 * upstreams it will try in what order. Everything here reads one immutable
 * snapshot, so a request's plan cannot change under it mid-flight; health
 * (what traffic taught us about each miner) scales the rank weights and
 * keeps miners with an open circuit breaker out.
 *
 * When every routable miner of the subnet is open, the plan falls back to
 * all of them, breakers bypassed: refusing would turn a blip that tripped
 * every breaker at once (the gateway's own network, a subnet-wide restart)
 * into a full outage for the whole cool-down, while a success closes the
 * breaker of the miner that served it.
 */
import type { Provider, Upstream } from '../../providers/provider.js';
import type { ModelTarget } from '../catalog/model-catalog.js';
import type { MetagraphSnapshot, SubnetSnapshot } from '../chain/snapshot.js';
import { noRoutableMiner } from '../errors.js';
import type { HealthRegistry } from './health-registry.js';
import { drawAttemptOrder, type Random } from './pick.js';
import { pinUpstreams } from './pinned-uids.js';

export interface RoutePlan {
  readonly target: ModelTarget;
  readonly subnet: SubnetSnapshot;
  readonly provider: Provider;
  /** Upstreams in the order they will be tried. */
  readonly attempts: readonly Upstream[];
  /** Send even to miners whose breaker is open: the request is pinned, or every miner is open. */
  readonly bypassBreaker: boolean;
}

export interface PlanOptions {
  readonly providerFor: (netuid: number) => Provider;
  readonly topK: number;
  readonly maxAttempts: number;
  /** uids from `x-taogate-uids`, or null. */
  readonly pinnedUids: readonly number[] | null;
  readonly random?: Random;
  /** Scales weights by health and skips open breakers; without it, rank weights alone. */
  readonly health?: HealthRegistry;
  /** A stream's failure after its first byte is visible, so half-open miners are not probed with it. */
  readonly stream?: boolean;
  /**
   * Re-weights and re-orders a subnet's upstreams (RANK_BY=blend, src/router/blend.ts),
   * or returns null to keep the rank policy's order. Re-weighted upstreams carry
   * health in their weight already, so it is not applied a second time.
   */
  readonly reweight?: (subnet: SubnetSnapshot, upstreams: readonly Upstream[]) => readonly Upstream[] | null;
}

/** The first target (in the catalog's order) that has a routable upstream. */
export function planRoute(snapshot: MetagraphSnapshot, targets: readonly ModelTarget[], options: PlanOptions): RoutePlan {
  const reasons: string[] = [];
  for (const target of targets) {
    const subnet = snapshot.subnets.get(target.netuid);
    if (!subnet) {
      reasons.push(`subnet ${target.netuid} is not in the metagraph snapshot (${snapshot.source} ${snapshot.version})`);
      continue;
    }
    const provider = options.providerFor(target.netuid);
    const ranked = provider.upstreams(subnet);
    const blended = options.reweight?.(subnet, ranked) ?? null;
    let upstreams = blended ?? ranked;
    if (options.pinnedUids) {
      // With one target, the pin's own 503 (naming each uid's problem) is the answer.
      if (targets.length === 1) upstreams = pinUpstreams(upstreams, options.pinnedUids, subnet);
      else upstreams = upstreams.filter((u) => u.uid !== null && options.pinnedUids?.includes(u.uid));
    }
    if (upstreams.length === 0) {
      reasons.push(subnet.noRouteReason ?? `subnet ${target.netuid}: none of the pinned uids is routable`);
      continue;
    }
    const topK = options.pinnedUids ? upstreams.length : options.topK;
    const health = options.health;
    // A pin names the miners explicitly: the user gets them, breaker or not.
    let bypassBreaker = options.pinnedUids !== null || !health;
    let candidates = upstreams;
    if (!bypassBreaker && health) {
      candidates = health.admitted(upstreams, topK, options.stream === true);
      if (candidates.length === 0) {
        candidates = upstreams;
        bypassBreaker = true;
      }
    }
    const attempts = drawAttemptOrder(candidates, {
      topK,
      count: options.maxAttempts,
      random: options.random,
      weightOf: blended ? undefined : health?.weightOf,
    });
    return { target, subnet, provider, attempts, bypassBreaker };
  }
  throw noRoutableMiner(reasons.join('; '));
}
