/**
 * Observed quality per miner, for routing: each subnet's mean leaderboard
 * score per hotkey over BLEND_QUALITY_WINDOW, from comparisons run by
 * trusted-scorer keys only (the leaderboard's `trusted` view), held in memory because the
 * router reads it on every request and must not wait on the store. Every
 * replica re-reads it every BLEND_REFRESH_S, and at once for subnets a
 * comparison of its own just recorded. A store outage keeps the last known
 * numbers.
 */
import type { Logger } from '../log.js';
import type { Leaderboard } from './leaderboard.js';
import type { LeaderboardWindow } from './window.js';

export interface MinerQuality {
  /** Mean score 0-10 across the miner's models. */
  readonly mean: number;
  readonly scored: number;
}

/**
 * Keyed per subnet by the leaderboard's hotkey: a miner's hotkey, or for a
 * subnet served by its own API the upstream's id, so the `quality` policy
 * scores API-served subnets as it does miner subnets.
 */
export class QualityIndex {
  private readonly bySubnet = new Map<number, ReadonlyMap<string, MinerQuality>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Set by `refreshOnDemand`: reads the leaderboard in the background when scores are asked for and stale. */
  private onDemand: (() => void) | null = null;
  /** Bumped on every refresh, so whoever caches what it computed from quality knows when to recompute. */
  version = 0;

  constructor(
    private readonly leaderboard: Leaderboard,
    private readonly window: LeaderboardWindow,
    private readonly logger: Logger,
  ) {}

  of(netuid: number, hotkey: string): MinerQuality | null {
    return this.bySubnet.get(netuid)?.get(hotkey) ?? null;
  }

  /**
   * A subnet's mean score across its scored miners (weighted by how often each
   * was scored), for the `quality` candidate policy: a `QualityScores` for
   * src/router/candidate-policy.ts. The index sums over a miner's models, so
   * the subnet's score stands for every model of it; null until scored.
   */
  readonly scoreOf = (netuid: number): number | null => {
    this.onDemand?.();
    const miners = this.bySubnet.get(netuid);
    let total = 0;
    let scored = 0;
    for (const q of miners?.values() ?? []) {
      total += q.mean * q.scored;
      scored += q.scored;
    }
    return scored > 0 ? total / scored : null;
  };

  async refresh(netuids: readonly number[]): Promise<void> {
    await Promise.all(
      netuids.map(async (netuid) => {
        try {
          const rows = await this.leaderboard.read(netuid, this.window, 'trusted');
          const sums = new Map<string, { total: number; scored: number }>();
          for (const row of rows) {
            if (row.mean_score === null) continue;
            const s = sums.get(row.hotkey) ?? { total: 0, scored: 0 };
            s.total += row.mean_score * row.scored;
            s.scored += row.scored;
            sums.set(row.hotkey, s);
          }
          this.bySubnet.set(netuid, new Map([...sums].map(([hotkey, s]) => [hotkey, { mean: s.total / s.scored, scored: s.scored }])));
          this.version++;
        } catch (err) {
          this.logger.warn({ netuid, err: (err as Error).message }, 'blend: could not read quality from the leaderboard; keeping the last known');
        }
      }),
    );
  }

  start(netuids: () => readonly number[], everyMs: number): void {
    void this.refresh(netuids());
    this.timer = setInterval(() => void this.refresh(netuids()), everyMs);
    this.timer.unref();
  }

  /**
   * For a gateway that does not route on quality by configuration, where a
   * request may still ask for the `quality` policy (x-taogate-route-policy):
   * instead of a timer reading the store for nobody, the first such request
   * after `everyMs` starts a background read, and later requests see it. The
   * request that started it is not delayed and uses what is known (nothing
   * at first: the policy then keeps the configured order).
   */
  refreshOnDemand(netuids: () => readonly number[], everyMs: number): void {
    let last = Number.NEGATIVE_INFINITY;
    let running = false;
    this.onDemand = () => {
      const now = performance.now();
      if (running || now - last < everyMs) return;
      running = true;
      last = now;
      void this.refresh(netuids()).finally(() => {
        running = false;
      });
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
