/**
 * Decides, before any network I/O, which subnets may serve a request, in
 * which order, and which upstreams each will try. Everything here reads one
 * immutable snapshot, so a request's plan cannot change under it mid-flight;
 * health (what traffic taught us about each upstream) scales the rank
 * weights and keeps upstreams with an open circuit breaker out.
 *
 * A request has one leg per candidate subnet (one for `sn<netuid>/<model>`,
 * up to `maxSubnets` for an alias or `auto`, and never more than its
 * `maxAttempts`, which its legs share), tried in order: the next leg starts
 * only when every attempt of the previous one failed before the first byte
 * (see subnet-failover.ts). Metagraph subnets offer their ranked miners;
 * a subnet served by its own API offers that one upstream and needs no
 * snapshot.
 *
 * When every routable upstream of a subnet is open, its leg still goes, but
 * after the legs that have a closed one, and with breakers bypassed:
 * refusing would turn a blip that tripped every breaker at once (the
 * gateway's own network, a subnet-wide restart) into a full outage for the
 * whole cool-down, while a success closes the breaker of the upstream that
 * served it.
 */
import type { Provider, Upstream } from '../../providers/provider.js';
import type { ModelTarget } from '../catalog/model-catalog.js';
import type { MetagraphSnapshot, SubnetSnapshot } from '../chain/snapshot.js';
import { noRoutableMiner } from '../errors.js';
import type { HealthRegistry } from './health-registry.js';
import { drawAttemptOrder, type Random } from './pick.js';
import { PIN_HEADER, pinUpstreams } from './pinned-uids.js';

export interface RouteLeg {
  readonly target: ModelTarget;
  readonly provider: Provider;
  /** Upstreams in the order they will be tried. */
  readonly attempts: readonly Upstream[];
  /** Send even to upstreams whose breaker is open: the request is pinned, or every upstream is open. */
  readonly bypassBreaker: boolean;
}

export interface RoutePlan {
  /** One leg per subnet, in the order they will be tried; never empty. */
  readonly legs: readonly RouteLeg[];
}

/** Upstreams a request must not reach: by id, and by hotkey (one operator's miners on several subnets). */
export interface ExcludedUpstreams {
  readonly ids: ReadonlySet<string>;
  readonly hotkeys: ReadonlySet<string>;
}

export const isExcluded = (excluded: ExcludedUpstreams, u: Upstream) => excluded.ids.has(u.id) || (u.hotkey !== null && excluded.hotkeys.has(u.hotkey));

export interface PlanOptions {
  readonly providerFor: (netuid: number) => Provider;
  readonly topK: number;
  /** Attempts of the whole request (MAX_ATTEMPTS): the most a leg can use, and the most legs there are. */
  readonly maxAttempts: number;
  /** Subnets a request may fail over across (default 1). */
  readonly maxSubnets?: number;
  /** uids from `x-taogate-uids`, or null. */
  readonly pinnedUids: readonly number[] | null;
  /** Never planned (a comparison's judge must not be one of the miners it grades). */
  readonly exclude?: ExcludedUpstreams;
  readonly random?: Random;
  /** Scales weights by health and skips open breakers; without it, rank weights alone. */
  readonly health?: HealthRegistry;
  /** A stream's failure after its first byte is visible, so half-open upstreams are not probed with it. */
  readonly stream?: boolean;
  /**
   * Re-weights and re-orders a subnet's upstreams (RANK_BY=blend, src/router/blend.ts),
   * or returns null to keep the rank policy's order. Re-weighted upstreams carry
   * health in their weight already, so it is not applied a second time.
   */
  readonly reweight?: (subnet: SubnetSnapshot, upstreams: readonly Upstream[]) => readonly Upstream[] | null;
}

type Candidate = { readonly leg: RouteLeg } | { readonly reason: string };

function candidateLeg(snapshot: MetagraphSnapshot | null, target: ModelTarget, single: boolean, options: PlanOptions): Candidate {
  const provider = options.providerFor(target.netuid);
  const subnet = snapshot?.subnets.get(target.netuid);
  if (provider.source === 'metagraph' && !subnet) {
    return { reason: snapshot ? `subnet ${target.netuid} is not in the metagraph snapshot (${snapshot.source} ${snapshot.version})` : `subnet ${target.netuid}: no metagraph snapshot yet` };
  }
  const ranked = provider.upstreams(subnet);
  const blended = subnet ? (options.reweight?.(subnet, ranked) ?? null) : null;
  let upstreams = blended ?? ranked;
  const excluded = options.exclude;
  if (excluded) {
    upstreams = upstreams.filter((u) => !isExcluded(excluded, u));
    if (upstreams.length === 0) return { reason: `subnet ${target.netuid}: every routable upstream is excluded from this request` };
  }
  const pinned = options.pinnedUids;
  if (pinned) {
    if (provider.source === 'config') return { reason: `subnet ${target.netuid} is served by its own API; ${PIN_HEADER} pins miners of metagraph subnets` };
    // With one target, the pin's own 503 (naming each uid's problem) is the answer.
    if (single && subnet) upstreams = pinUpstreams(upstreams, pinned, subnet);
    else upstreams = upstreams.filter((u) => u.uid !== null && pinned.includes(u.uid));
  }
  if (upstreams.length === 0) {
    const fallback = pinned ? `subnet ${target.netuid}: none of the pinned uids is routable` : `subnet ${target.netuid} has no routable upstream`;
    return { reason: subnet?.noRouteReason ?? fallback };
  }
  const topK = pinned ? upstreams.length : options.topK;
  const health = options.health;
  // A pin names the miners explicitly: the user gets them, breaker or not.
  let bypassBreaker = pinned !== null || !health;
  let candidates = upstreams;
  if (!bypassBreaker && health) {
    candidates = health.admitted(upstreams, topK, options.stream === true);
    if (candidates.length === 0) {
      candidates = upstreams;
      bypassBreaker = true;
    }
  }
  const attempts = drawAttemptOrder(candidates, { topK, count: options.maxAttempts, random: options.random, weightOf: blended ? undefined : health?.weightOf });
  return { leg: { target, provider, attempts, bypassBreaker } };
}

/** The legs of a request, best first; throws a 503 naming every candidate's problem when none is routable. */
export function planRoute(snapshot: MetagraphSnapshot | null, targets: readonly ModelTarget[], options: PlanOptions): RoutePlan {
  const reasons: string[] = [];
  const open: RouteLeg[] = [];
  const allOpen: RouteLeg[] = [];
  for (const target of targets) {
    const candidate = candidateLeg(snapshot, target, targets.length === 1, options);
    if ('reason' in candidate) reasons.push(candidate.reason);
    // Subnets whose every upstream is open go after the ones that can be planned normally.
    else (candidate.leg.bypassBreaker && options.pinnedUids === null ? allOpen : open).push(candidate.leg);
  }
  // A subnet that could not get one attempt of the request's budget is no leg.
  const legs = [...open, ...allOpen].slice(0, Math.max(1, Math.min(options.maxSubnets ?? 1, options.maxAttempts)));
  if (legs.length === 0) throw noRoutableMiner(reasons.join('; '));
  return { legs };
}
