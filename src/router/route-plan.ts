/**
 * Decides, before any network I/O, which subnet serves a request and which
 * upstreams it will try in what order. Everything here reads one immutable
 * snapshot, so a request's plan cannot change under it mid-flight.
 */
import type { Provider, Upstream } from '../../providers/provider.js';
import type { ModelTarget } from '../catalog/model-catalog.js';
import type { MetagraphSnapshot, SubnetSnapshot } from '../chain/snapshot.js';
import { noRoutableMiner } from '../errors.js';
import { drawAttemptOrder, type Random } from './pick.js';
import { pinUpstreams } from './pinned-uids.js';

export interface RoutePlan {
  readonly target: ModelTarget;
  readonly subnet: SubnetSnapshot;
  readonly provider: Provider;
  /** Upstreams in the order they will be tried. */
  readonly attempts: readonly Upstream[];
}

export interface PlanOptions {
  readonly providerFor: (netuid: number) => Provider;
  readonly topK: number;
  readonly maxAttempts: number;
  /** uids from `x-taogate-uids`, or null. */
  readonly pinnedUids: readonly number[] | null;
  readonly random?: Random;
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
    let upstreams = provider.upstreams(subnet);
    if (options.pinnedUids) {
      // With one target, the pin's own 503 (naming each uid's problem) is the answer.
      if (targets.length === 1) upstreams = pinUpstreams(upstreams, options.pinnedUids, subnet);
      else upstreams = upstreams.filter((u) => u.uid !== null && options.pinnedUids?.includes(u.uid));
    }
    if (upstreams.length === 0) {
      reasons.push(subnet.noRouteReason ?? `subnet ${target.netuid}: none of the pinned uids is routable`);
      continue;
    }
    const attempts = drawAttemptOrder(upstreams, {
      topK: options.pinnedUids ? upstreams.length : options.topK,
      count: options.maxAttempts,
      random: options.random,
    });
    return { target, subnet, provider, attempts };
  }
  throw noRoutableMiner(reasons.join('; '));
}
