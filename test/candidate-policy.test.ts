/**
 * Ordering alias and `auto` candidates: price from the price book, latency
 * from the health registry's measurements, quality from pluggable scores,
 * unknowns after knowns, ties and fallbacks in configured order.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ModelTarget } from '../src/catalog/model-catalog.js';
import { PriceBook } from '../src/metering/pricing.js';
import { rankCandidates, type PolicyInputs, type QualityScores } from '../src/router/candidate-policy.js';
import { createReliability } from '../src/router/reliability.js';
import { loadConfig } from '../src/config.js';
import { Leaderboard } from '../src/leaderboard/leaderboard.js';
import { QualityIndex } from '../src/leaderboard/quality-index.js';
import { recordComparison } from '../src/leaderboard/record-comparison.js';
import { parseWindow, type LeaderboardWindow } from '../src/leaderboard/window.js';
import { silentLogger } from '../src/log.js';
import { createMemoryStore } from '../src/store/memory.js';
import type { Upstream } from '../providers/provider.js';

const target = (netuid: number, name = 'm'): ModelTarget => ({ netuid, upstreamModel: name, id: `sn${netuid}/${name}` });
const A = target(64);
const B = target(19);
const C = target(4);

const prices = new PriceBook(
  { 'sn64/m': { promptMicroUsdPer1M: 300_000, completionMicroUsdPer1M: 1_200_000 }, 'sn19/m': { promptMicroUsdPer1M: 250_000, completionMicroUsdPer1M: 1_000_000 }, 'sn4/m': { promptMicroUsdPer1M: 1_000_000, completionMicroUsdPer1M: 1_000_000 } },
  { promptMicroUsdPer1M: 500_000, completionMicroUsdPer1M: 1_500_000 },
);

function inputs(quality: QualityScores | null = null) {
  const { health } = createReliability(loadConfig({}));
  const upstream = (netuid: number): Upstream => ({ id: `${netuid}/api/x`, netuid, uid: null, hotkey: null, origin: 'http://x', weight: 1, rank: 1 });
  const policy: PolicyInputs = {
    priceOf: (t) => {
      const p = prices.priceFor(t.id);
      return p.promptMicroUsdPer1M + p.completionMicroUsdPer1M;
    },
    latencyOf: (netuid) => health.subnet(netuid).typicalServedMs,
    quality,
  };
  return { policy, answered: (netuid: number, ms: number) => health.answered(upstream(netuid), false, ms, ms) };
}

describe('rankCandidates', () => {
  it('order keeps the configured order', () => {
    expect(rankCandidates([A, B, C], 'order', inputs().policy)).toEqual({ targets: [A, B, C], applied: 'order' });
  });

  it('price: cheapest (prompt + completion per 1M) first', () => {
    expect(rankCandidates([A, B, C], 'price', inputs().policy).targets).toEqual([B, A, C]);
  });

  it('latency: measured subnets fastest first, unmeasured ones after them in configured order', () => {
    const { policy, answered } = inputs();
    expect(rankCandidates([A, B, C], 'latency', policy).targets).toEqual([A, B, C]);
    answered(4, 80);
    answered(19, 300);
    expect(rankCandidates([A, B, C], 'latency', policy)).toEqual({ targets: [C, B, A], applied: 'latency' });
  });

  it('quality: highest score first, unscored after; without scores or a source, the configured order', () => {
    const scores: QualityScores = { scoreOf: (netuid, id) => (id === 'sn4/m' ? 0.9 : netuid === 19 ? 0.5 : null) };
    expect(rankCandidates([A, B, C], 'quality', inputs(scores).policy)).toEqual({ targets: [C, B, A], applied: 'quality' });
    expect(rankCandidates([A, B, C], 'quality', inputs().policy)).toEqual({ targets: [A, B, C], applied: 'order' });
    expect(rankCandidates([A, B, C], 'quality', inputs({ scoreOf: () => null }).policy)).toEqual({ targets: [A, B, C], applied: 'order' });
  });

  it('ties keep the configured order', () => {
    const same = { ...inputs().policy, priceOf: () => 1 };
    expect(rankCandidates([C, A, B], 'price', same).targets).toEqual([C, A, B]);
  });
});

describe('the quality policy over the real leaderboard', () => {
  it('ranks subnets by their scored upstreams’ mean, from comparisons as recordComparison stores them', async () => {
    const leaderboard = new Leaderboard(createMemoryStore());
    // Entries as runTarget reports them: subnet APIs (sn64, sn19) have no hotkey, only their upstream id; sn4 has miners.
    const api = (netuid: number, kind: string) => ({ netuid, uid: null, hotkey: null, upstream: `${netuid}/api/${kind}` });
    const miner = (uid: number, hotkey: string) => ({ netuid: 4, uid, hotkey, upstream: `4/${uid}/${hotkey}` });
    const entry = (model: string, who: ReturnType<typeof api> | ReturnType<typeof miner>, overall: number) => ({ model, miner: who, failed: false, latencyMs: 100, overall });
    const record = (entries: ReturnType<typeof entry>[], trustedScorer = true) =>
      recordComparison({ leaderboard, logger: silentLogger() }, { scored: true, entries, winners: [] }, { private: false, trustedScorer });
    expect(await record([entry('sn64/m', api(64, 'chutes'), 4), entry('sn19/m', api(19, 'nineteen'), 9), entry('sn4/m', miner(1, '5D'), 2)])).toBe('recorded');
    expect(await record([entry('sn64/m', api(64, 'chutes'), 6), entry('sn4/m', miner(2, '5E'), 4)])).toBe('recorded');
    // An untrusted key's comparison is on the board but not in what routing reads.
    expect(await record([entry('sn64/m', api(64, 'chutes'), 10), entry('sn4/m', miner(1, '5D'), 10)], false)).toBe('recorded');
    const index = new QualityIndex(leaderboard, parseWindow('24h') as LeaderboardWindow, silentLogger());
    expect(rankCandidates([A, B, C], 'quality', inputs(index).policy).applied).toBe('order'); // nothing read yet
    await index.refresh([64, 19, 4]);
    expect(index.scoreOf(64)).toBe(5);
    expect(index.of(64, '64/api/chutes')).toEqual({ mean: 5, scored: 2 });
    expect(index.scoreOf(4)).toBe(3);
    expect(rankCandidates([A, B, C], 'quality', inputs(index).policy)).toEqual({ targets: [B, A, C], applied: 'quality' });
  });

  it('a gateway not configured for quality reads the leaderboard when a request asks for the policy, in the background', async () => {
    const leaderboard = new Leaderboard(createMemoryStore());
    const miner = (uid: number, hotkey: string) => ({ netuid: 4, uid, hotkey, upstream: `4/${uid}/${hotkey}` });
    const api = (netuid: number, kind: string) => ({ netuid, uid: null, hotkey: null, upstream: `${netuid}/api/${kind}` });
    await recordComparison(
      { leaderboard, logger: silentLogger() },
      { scored: true, entries: [{ model: 'sn19/m', miner: api(19, 'nineteen'), failed: false, latencyMs: 100, overall: 9 }, { model: 'sn4/m', miner: miner(1, '5D'), failed: false, latencyMs: 100, overall: 2 }], winners: [] },
      { private: false, trustedScorer: true },
    );
    const index = new QualityIndex(leaderboard, parseWindow('24h') as LeaderboardWindow, silentLogger());
    const asked: number[][] = [];
    index.refreshOnDemand(() => {
      asked.push([19, 4]);
      return [19, 4];
    }, 60_000);
    expect(index.scoreOf(19)).toBeNull(); // the first ask starts the read and is not delayed by it
    await vi.waitFor(() => expect(index.scoreOf(19)).toBe(9));
    expect(index.scoreOf(4)).toBe(2);
    expect(asked).toHaveLength(1); // fresh for a minute: later asks do not read again
  });
});
