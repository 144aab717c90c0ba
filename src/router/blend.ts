/**
 * RANK_BY=blend at routing time. The chain ranks a blend subnet by incentive
 * (src/chain/rank-policy.ts); here, per request, each routable miner's
 * weight becomes a mixture of three shares of the subnet:
 *
 *   weight = w_incentive · incentive share
 *          + w_quality   · quality share   (mean leaderboard score; a miner without
 *                                          scores gets the subnet's mean, or 5/10)
 *          + w_health    · health share    (the health registry's factor; 0 while open)
 *
 * Each share sums to 1 over the routable miners, so the blend does too, and
 * the miners are re-ordered by it: top-K and the weighted draw then work on
 * the blended order exactly as they do on the rank order. This is why it is
 * done at routing time and not as a chain rank policy: quality and health
 * change between syncs, and health with every request. Health is one
 * component of the mixture here rather than a multiplier on top of it, so the
 * weights say everything; open breakers still keep a miner out (planRoute).
 *
 * Re-weighting a 256-miner subnet costs about 0.3 ms, a third of the
 * gateway's own per-request budget, so the blended order is cached per
 * subnet snapshot for BLEND_CACHE_MS and recomputed at once when quality
 * changes. Health in the weights may be that much behind; the breakers that
 * keep failing miners out are still read fresh on every request.
 */
import type { Provider, Upstream } from '../../providers/provider.js';
import type { SubnetSnapshot } from '../chain/snapshot.js';
import type { BlendWeights } from '../leaderboard/blend-weights.js';
import type { QualityIndex } from '../leaderboard/quality-index.js';
import type { HealthRegistry } from './health-registry.js';

export const BLEND_POLICY = 'blend';
/** Quality a miner is assumed to have before any comparison scored a miner of its subnet. */
const NEUTRAL_QUALITY = 5;
/** How long a subnet's blended order is reused (unless quality changed meanwhile). */
export const BLEND_CACHE_MS = 250;

interface CachedOrder {
  readonly at: number;
  readonly qualityVersion: number;
  readonly order: Upstream[];
}

export interface BlendComponents {
  /** Shares of the subnet (each sums to 1 over the routable miners). */
  readonly incentive: number;
  readonly quality: number;
  readonly health: number;
  /** The blended routing weight. */
  readonly weight: number;
  /** The miner's own mean score (0-10) over the window, null when nothing scored it yet. */
  readonly mean_score: number | null;
  readonly health_factor: number;
}

export interface BlendOptions {
  readonly weights: BlendWeights;
  readonly quality: QualityIndex;
  readonly health: HealthRegistry;
  readonly providerFor: (netuid: number) => Provider;
  readonly clock?: () => number;
}

const share = (values: readonly number[]): number[] => {
  const total = values.reduce((a, b) => a + b, 0);
  return total > 0 ? values.map((v) => v / total) : values.map(() => 1 / values.length);
};

export class Blend {
  /** Keyed by the provider's upstream list, which is one array per subnet snapshot. */
  private readonly cache = new WeakMap<readonly Upstream[], CachedOrder>();
  private readonly clock: () => number;

  constructor(private readonly options: BlendOptions) {
    this.clock = options.clock ?? Date.now;
  }

  get weights(): BlendWeights {
    return this.options.weights;
  }

  applies(subnet: SubnetSnapshot): boolean {
    return subnet.rankPolicy === BLEND_POLICY;
  }

  /** Each upstream's components, in the upstreams' order. */
  components(subnet: SubnetSnapshot, upstreams: readonly Upstream[]): BlendComponents[] {
    const { weights, quality, health } = this.options;
    const known = upstreams.map((u) => (u.hotkey === null ? null : quality.of(subnet.netuid, u.hotkey)));
    const seen = known.filter((q) => q !== null);
    const prior = seen.length > 0 ? seen.reduce((a, q) => a + q.mean, 0) / seen.length : NEUTRAL_QUALITY;
    const qualityShares = share(known.map((q) => q?.mean ?? prior));
    const factors = upstreams.map((u) => health.routingFactor(u));
    const healthShares = share(factors);
    const incentiveShares = share(upstreams.map((u) => u.weight));
    return upstreams.map((_, i) => {
      const inc = incentiveShares[i] as number;
      const q = qualityShares[i] as number;
      const h = healthShares[i] as number;
      return {
        incentive: inc,
        quality: q,
        health: h,
        weight: weights.incentive * inc + weights.quality * q + weights.health * h,
        mean_score: known[i]?.mean ?? null,
        health_factor: factors[i] as number,
      };
    });
  }

  /**
   * For planRoute: the subnet's upstreams re-weighted by the blend and
   * sorted by it (best first), or null when the subnet is not ranked by blend.
   */
  readonly reweight = (subnet: SubnetSnapshot, upstreams: readonly Upstream[]): Upstream[] | null => {
    if (!this.applies(subnet) || upstreams.length === 0) return null;
    const now = this.clock();
    const qualityVersion = this.options.quality.version;
    const cached = this.cache.get(upstreams);
    if (cached && cached.qualityVersion === qualityVersion && now - cached.at < BLEND_CACHE_MS) return cached.order;
    const components = this.components(subnet, upstreams);
    const order = upstreams
      .map((u, i) => Object.freeze({ ...u, weight: (components[i] as BlendComponents).weight }))
      .sort((a, b) => b.weight - a.weight || a.rank - b.rank);
    this.cache.set(upstreams, { at: now, qualityVersion, order });
    return order;
  };

  /** A subnet's routable upstreams in the order the router prefers them (compare's top_n). */
  routingOrder(subnet: SubnetSnapshot): readonly Upstream[] {
    const upstreams = this.options.providerFor(subnet.netuid).upstreams(subnet);
    return this.reweight(subnet, upstreams) ?? upstreams;
  }

  /** Re-reads quality for subnets whose leaderboard just changed. */
  refresh(netuids: readonly number[]): Promise<void> {
    return this.options.quality.refresh(netuids);
  }
}
