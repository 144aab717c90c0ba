/**
 * Every miner's health and every subnet's latency profile, one registry per
 * gateway process, fed by dispatch outcomes. Keyed by upstream id
 * ("<netuid>/<uid>/<hotkey>"), so a uid re-registered under a new hotkey
 * starts fresh. Everything a request touches is O(1): a map lookup and a
 * few arithmetic updates.
 */
import type { Upstream } from '../../providers/provider.js';
import type { BreakerOptions } from './circuit-breaker.js';
import { LatencyHistogram } from './latency-histogram.js';
import { MinerHealth, type MinerHealthView } from './miner-health.js';

/** Slow EWMA of a subnet's time to answer: the yardstick a miner's own latency is measured against. */
const SUBNET_ALPHA = 0.02;

/** One subnet's latency profile and hedge budget. */
export class SubnetStats {
  /** Time to a valid JSON answer's first byte (its response headers), not to its whole body. */
  readonly jsonTtfb = new LatencyHistogram();
  /** Time to a stream's first valid chunk. */
  readonly streamTtfb = new LatencyHistogram();
  /** Slow EWMA of the time until an answer was usable (a JSON body, a stream's first chunk): what routing compares miners and subnets by. */
  typicalServedMs = Number.NaN;
  /** Hedges this subnet may still start (see HedgePolicy). */
  hedgeTokens: number;

  constructor(initialHedgeTokens: number) {
    this.hedgeTokens = initialHedgeTokens;
  }
}

export class HealthRegistry {
  private readonly miners = new Map<string, MinerHealth>();
  private readonly subnets = new Map<number, SubnetStats>();

  constructor(
    private readonly breakerOptions: BreakerOptions,
    private readonly initialHedgeTokens = 0,
    private readonly clock: () => number = Date.now,
  ) {}

  miner(upstream: Upstream): MinerHealth {
    let health = this.miners.get(upstream.id);
    if (!health) {
      health = new MinerHealth(this.breakerOptions);
      this.miners.set(upstream.id, health);
    }
    return health;
  }

  subnet(netuid: number): SubnetStats {
    let stats = this.subnets.get(netuid);
    if (!stats) {
      stats = new SubnetStats(this.initialHedgeTokens);
      this.subnets.set(netuid, stats);
    }
    return stats;
  }

  /** Routing weight: the rank policy's weight × what traffic taught us. Bound once, so no closure per request. */
  readonly weightOf = (upstream: Upstream): number => upstream.weight * this.miner(upstream).factor;

  /** What traffic taught us about a miner, 0..1: nothing while its breaker is open, else its health factor. */
  routingFactor(upstream: Upstream): number {
    const health = this.miner(upstream);
    return health.breaker.state(this.clock()) === 'open' ? 0 : health.factor;
  }

  /**
   * Up to `limit` upstreams, in rank order, that the breakers let a new
   * request plan on. Walks only as far as needed: open miners are skipped
   * and the next ranked ones fill their places.
   */
  admitted(upstreams: readonly Upstream[], limit: number, stream: boolean): Upstream[] {
    const now = this.clock();
    const out: Upstream[] = [];
    for (let i = 0; i < upstreams.length && out.length < limit; i++) {
      const upstream = upstreams[i] as Upstream;
      if (this.miner(upstream).breaker.admits(now, !stream)) out.push(upstream);
    }
    return out;
  }

  /** Claims an attempt; returns the generation to report with, or -1 to skip this miner. */
  begin(upstream: Upstream, force: boolean): number {
    const health = this.miner(upstream);
    const generation = health.breaker.begin(this.clock(), force);
    if (generation >= 0) health.attempts++;
    return generation;
  }

  /**
   * A valid answer won whose first byte came after `ttfbMs` (a JSON answer's
   * headers, or a stream's first chunk; the hedge delay is a quantile of
   * these) and that was usable after `servedMs` (the whole JSON body, or the
   * stream's first chunk; routing weighs by these). A stream passes the same
   * time for both.
   */
  answered(upstream: Upstream, stream: boolean, ttfbMs: number, servedMs: number): void {
    const stats = this.subnet(upstream.netuid);
    (stream ? stats.streamTtfb : stats.jsonTtfb).record(ttfbMs);
    stats.typicalServedMs = Number.isNaN(stats.typicalServedMs) ? servedMs : stats.typicalServedMs + SUBNET_ALPHA * (servedMs - stats.typicalServedMs);
    this.miner(upstream).recordAnswer(ttfbMs, servedMs, stats.typicalServedMs);
  }

  succeeded(upstream: Upstream, generation: number, latencyMs: number): void {
    this.miner(upstream).recordSuccess(generation, latencyMs, this.subnet(upstream.netuid).typicalServedMs);
  }

  /** `tripNow` for failures the client saw. Returns true when this failure opened the breaker. */
  failed(upstream: Upstream, generation: number, tripNow: boolean): boolean {
    return this.miner(upstream).recordFailure(generation, this.clock(), tripNow, this.subnet(upstream.netuid).typicalServedMs);
  }

  /** `ttfbMs` is the loser's time to first byte if `exact`, else the time it ran without one; `ranMs`, how long it ran. */
  lostHedge(upstream: Upstream, generation: number, ttfbMs: number, exact: boolean, ranMs: number): void {
    this.miner(upstream).recordHedgeLoss(generation, ttfbMs, exact, ranMs, this.clock(), this.subnet(upstream.netuid).typicalServedMs);
  }

  /** The attempt ended without a verdict on the miner (client gone, deadline, request-specific rejection). */
  neutral(upstream: Upstream, generation: number): void {
    this.miner(upstream).breaker.onNeutral(generation);
  }

  view(upstreamId: string): MinerHealthView | null {
    return this.miners.get(upstreamId)?.view(this.clock()) ?? null;
  }

  /** Forgets miners no longer in any snapshot (deregistered, new hotkey), so the map stays bounded. */
  retain(upstreamIds: ReadonlySet<string>): void {
    for (const id of this.miners.keys()) if (!upstreamIds.has(id)) this.miners.delete(id);
  }
}
