/**
 * Per-miner health and breaker state, read at scrape time from the health
 * registry the router already keeps (nothing on the request path).
 *
 * Cardinality: a subnet can list hundreds of neurons and their hotkeys
 * change on re-registration, so series are keyed by netuid and uid (never
 * hotkey) and only the `perSubnet` best-ranked miners of each served subnet
 * get their own; the others are summed under uid="other". Breaker states are
 * also counted over every ranked miner, so an open breaker outside the top
 * still shows. The series count is bounded by served subnets × (perSubnet + 1).
 * A subnet served by its own API has one upstream and no miners: its series
 * say uid="api", and it has no neuron count.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Upstream } from '../../providers/provider.js';
import type { MetagraphSource, SubnetSnapshot } from '../chain/snapshot.js';
import type { BreakerState } from '../router/circuit-breaker.js';
import type { HealthRegistry } from '../router/health-registry.js';

export interface MinerSources {
  readonly metagraph: MetagraphSource;
  /** The subnets this gateway serves. */
  readonly netuids: () => readonly number[];
  readonly health: HealthRegistry;
  /**
   * A served subnet's callable upstreams, best-ranked first (what the router
   * plans from), or null when it has none without a snapshot entry (a
   * metagraph subnet the snapshot lacks). `subnet` is undefined then.
   */
  readonly upstreamsOf: (netuid: number, subnet: SubnetSnapshot | undefined) => readonly Upstream[] | null;
  readonly perSubnet: number;
}

export const OTHER_MINERS = 'other';
/** The uid label of a subnet's own API (it has no uid). */
export const API_UPSTREAM = 'api';

/** Numeric, so one series per miner instead of one per miner and state. */
const BREAKER_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };
const BREAKER_STATES = Object.keys(BREAKER_VALUE) as BreakerState[];

const uidLabel = (upstream: Upstream) => (upstream.uid === null ? API_UPSTREAM : String(upstream.uid));

export class MinerGauges {
  private readonly breaker: Gauge<'netuid' | 'uid'>;
  private readonly factor: Gauge<'netuid' | 'uid'>;
  private readonly errorRate: Gauge<'netuid' | 'uid'>;
  private readonly ttfb: Gauge<'netuid' | 'uid'>;
  private readonly score: Gauge<'netuid' | 'uid'>;
  private readonly attempts: Counter<'netuid' | 'uid'>;
  private readonly failures: Counter<'netuid' | 'uid'>;
  private readonly byState: Gauge<'netuid' | 'state'>;
  private readonly neurons: Gauge<'netuid'>;

  constructor(
    registry: Registry,
    private readonly sources: MinerSources,
  ) {
    const registers = [registry];
    const perMiner = ['netuid', 'uid'] as const;
    this.breaker = new Gauge({ name: 'taogate_miner_breaker_state', help: 'Circuit breaker of a top-ranked miner (uid="api": a subnet\'s own API): 0 closed, 1 half-open (may be probed), 2 open', labelNames: perMiner, registers });
    this.factor = new Gauge({ name: 'taogate_miner_routing_factor', help: 'What the router multiplies the miner\'s rank weight by (0 while its breaker is open)', labelNames: perMiner, registers });
    this.errorRate = new Gauge({ name: 'taogate_miner_error_rate', help: 'Failed share of the miner\'s last 20 outcomes', labelNames: perMiner, registers });
    this.ttfb = new Gauge({ name: 'taogate_miner_ttfb_ewma_seconds', help: 'EWMA of the miner\'s time to a valid answer or first chunk (once observed)', labelNames: perMiner, registers });
    this.score = new Gauge({ name: 'taogate_miner_rank_score', help: 'The rank policy\'s score of the miner (the routable set sums to 1)', labelNames: perMiner, registers });
    this.attempts = new Counter({ name: 'taogate_miner_attempts_total', help: 'Attempts sent to the miner; uid="other" sums the miners beyond the per-subnet cap', labelNames: perMiner, registers });
    this.failures = new Counter({ name: 'taogate_miner_failures_total', help: 'Attempts that failed against the miner; uid="other" sums the miners beyond the per-subnet cap', labelNames: perMiner, registers });
    this.byState = new Gauge({ name: 'taogate_subnet_miners', help: 'Ranked miners of a served subnet by circuit breaker state (miners never tried count as closed)', labelNames: ['netuid', 'state'], registers });
    this.neurons = new Gauge({ name: 'taogate_subnet_neurons', help: 'Neurons of a served subnet in the current metagraph, routable or not', labelNames: ['netuid'], registers });
  }

  refresh(): void {
    for (const metric of [this.breaker, this.factor, this.errorRate, this.ttfb, this.score, this.attempts, this.failures, this.byState, this.neurons]) metric.reset();
    // Subnet APIs are served (and measured) without any snapshot.
    const snapshot = this.sources.metagraph.current();
    for (const netuid of this.sources.netuids()) {
      const subnet = snapshot?.subnets.get(netuid);
      const upstreams = this.sources.upstreamsOf(netuid, subnet);
      if (upstreams) this.refreshSubnet(netuid, subnet, upstreams);
    }
  }

  private refreshSubnet(served: number, subnet: SubnetSnapshot | undefined, upstreams: readonly Upstream[]): void {
    const { health, perSubnet } = this.sources;
    const netuid = String(served);
    const counts: Record<BreakerState, number> = { closed: 0, half_open: 0, open: 0 };
    let otherAttempts = 0;
    let otherFailures = 0;
    upstreams.forEach((upstream, index) => {
      // null before the miner's first attempt: a fresh miner is closed and at full weight.
      const view = health.view(upstream.id);
      const state = view?.state ?? 'closed';
      counts[state]++;
      if (index >= perSubnet) {
        otherAttempts += view?.attempts ?? 0;
        otherFailures += view?.failures ?? 0;
        return;
      }
      const labels = { netuid, uid: uidLabel(upstream) };
      this.breaker.set(labels, BREAKER_VALUE[state]);
      this.factor.set(labels, view?.routing_factor ?? 1);
      this.errorRate.set(labels, view?.error_rate ?? 0);
      if (view?.ewma_ttfb_ms != null) this.ttfb.set(labels, view.ewma_ttfb_ms / 1000);
      this.score.set(labels, upstream.weight);
      this.attempts.inc(labels, view?.attempts ?? 0);
      this.failures.inc(labels, view?.failures ?? 0);
    });
    if (upstreams.length > perSubnet) {
      const other = { netuid, uid: OTHER_MINERS };
      this.attempts.inc(other, otherAttempts);
      this.failures.inc(other, otherFailures);
    }
    for (const state of BREAKER_STATES) this.byState.set({ netuid, state }, counts[state]);
    if (subnet) this.neurons.set({ netuid }, subnet.neurons.length);
  }
}
