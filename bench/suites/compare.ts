/**
 * What RANK_BY=blend and the leaderboard cost. Per request: planning a
 * route on a 256-miner subnet ranked by incentive (the baseline) and by
 * blend (re-weighting and re-sorting every miner with quality and health),
 * in process. Per leaderboard read: a 1h (12 five-minute buckets), 24h (24
 * hourly buckets) and 7d (168 hourly buckets) window over 256 miners, on
 * the shared Redis; and recording one 8-entry comparison.
 * Run: npm run bench -- compare
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAddress } from '@polkadot/util-crypto';
import { loadConfig } from '../../src/config.js';
import type { Gateway } from '../../src/gateway.js';
import { createGateway } from '../../src/node-gateway.js';
import { Leaderboard, READ_CACHE_MS, type LeaderboardEntry } from '../../src/leaderboard/leaderboard.js';
import { parseWindow, type LeaderboardWindow } from '../../src/leaderboard/window.js';
import { silentLogger } from '../../src/log.js';
import { planRoute } from '../../src/router/route-plan.js';
import type { BenchSuite } from '../support/suite.js';

const MINERS = 256;
const ROUNDS = 5;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function gatewayRankedBy(rankBy: string): Promise<Gateway> {
  const file = join(mkdtempSync(join(tmpdir(), 'taogate-bench-')), 'metagraph.json');
  const miners = Array.from({ length: MINERS }, (_, uid) => ({ uid, hotkey: encodeAddress(randomBytes(32), 42), ip: '127.0.0.1', port: 9, incentive: (uid + 1) / 32896 }));
  writeFileSync(file, JSON.stringify({ subnets: [{ netuid: 4, models: ['bench-model'], miners }] }));
  const config = loadConfig({
    METAGRAPH_FILE: file,
    ALLOW_PRIVATE_AXONS: '1',
    GATEWAY_HOTKEY_URI: '//BenchCompare',
    RANK_BY: rankBy,
    REDIS_URL,
    REDIS_PREFIX: `bench:${randomUUID()}:`,
  });
  return createGateway(config, silentLogger());
}

/** Median µs per op over ROUNDS batches of `n`. */
async function medianUs(n: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(n, 1000); i++) await op();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await op();
    rounds.push(Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] as number;
}

function planner(gw: Gateway) {
  const snapshot = gw.metagraph.current();
  if (!snapshot) throw new Error('bench metagraph did not load');
  const { targets } = gw.catalog.resolve('sn4/bench-model', snapshot);
  const options = {
    providerFor: (netuid: number) => gw.providerFor(netuid),
    topK: gw.config.ROUTER_TOP_K,
    maxAttempts: gw.config.MAX_ATTEMPTS,
    pinnedUids: null,
    health: gw.reliability.health,
    reweight: gw.blend.reweight,
  };
  return () => planRoute(snapshot, targets, options);
}

/** 8-entry comparisons over the subnet's miners until every miner has a score, as on a busy board. */
async function fillLeaderboard(gw: Gateway): Promise<{ recordUs: number }> {
  const subnet = gw.metagraph.current()?.subnets.get(4);
  const hotkeys = subnet?.ranked.map((m) => m.neuron.hotkey) ?? [];
  const comparison = (offset: number): LeaderboardEntry[] =>
    Array.from({ length: 8 }, (_, i) => {
      const hotkey = hotkeys[(offset + i) % hotkeys.length] as string;
      return { netuid: 4, model: 'sn4/bench-model', hotkey, score: (offset + i) % 10, failed: i === 7, latencyMs: 100 + i * 300, contested: true, won: i === 0 };
    });
  let offset = 0;
  const recordUs = await medianUs(64, async () => {
    await gw.leaderboard.record(comparison(offset), { trusted: true });
    offset += 8;
  });
  return { recordUs };
}

export const compareSuite: BenchSuite = {
  name: 'compare',
  title: 'Blend routing and leaderboard cost (256-miner subnet)',
  async run() {
    const incentive = await gatewayRankedBy('incentive');
    const blend = await gatewayRankedBy('blend');
    try {
      const { recordUs } = await fillLeaderboard(blend);
      await blend.blend.refresh([4]);
      const planIncentive = await medianUs(20_000, planner(incentive));
      const planBlend = await medianUs(20_000, planner(blend));
      const subnet = blend.metagraph.current()?.subnets.get(4);
      if (!subnet) throw new Error('bench metagraph did not load');
      const upstreams = blend.providerFor(4).upstreams(subnet);
      const reweighUncached = await medianUs(2_000, () => blend.blend.components(subnet, upstreams).sort((a, b) => b.weight - a.weight));
      // A board whose clock moves past the read reuse on every read: each one goes to Redis.
      let clock = Date.now();
      const uncached = new Leaderboard(blend.store, () => (clock += READ_CACHE_MS));
      const read = (w: string, board = uncached) => {
        const window = parseWindow(w) as LeaderboardWindow;
        return medianUs(20, () => board.read(4, window));
      };
      const rows = (await blend.leaderboard.read(4, parseWindow('24h') as LeaderboardWindow)).length;
      const round = (x: number) => Math.round(x * 10) / 10;
      return {
        columns: ['what', 'us_per_op', 'rows'],
        rows: [
          { what: 'plan a route, RANK_BY=incentive', us_per_op: round(planIncentive), rows: null },
          { what: 'plan a route, RANK_BY=blend (every miner scored)', us_per_op: round(planBlend), rows: null },
          { what: 'blend cache miss: re-weight and sort 256 miners', us_per_op: round(reweighUncached), rows: null },
          { what: 'record an 8-entry comparison (Redis)', us_per_op: round(recordUs), rows: null },
          { what: 'read leaderboard, window 1h (12 buckets, Redis)', us_per_op: round(await read('1h')), rows },
          { what: 'read leaderboard, window 24h (24 buckets, Redis)', us_per_op: round(await read('24h')), rows },
          { what: 'read leaderboard, window 7d (168 buckets, Redis)', us_per_op: round(await read('7d')), rows },
          { what: `read leaderboard again within ${READ_CACHE_MS / 1000} s, window 7d (reused)`, us_per_op: round(await read('7d', blend.leaderboard)), rows },
        ],
        notes: [
          'plan: median of 5 rounds of 20,000 planRoute calls in process; the gateway spends about 1 ms per request (proxy suite), so compare the difference with that',
          `blend reuses a subnet's blended order for 250 ms (or until quality changes), so the cache miss is paid at most ~4 times a second per subnet`,
          'leaderboard: median of 5 rounds on the shared Redis at 127.0.0.1:6379 (a 2-core machine shared with other work), each window\'s buckets in one pipeline; only the 1h and 24h buckets hold data, the 7d read is mostly empty buckets; reads serve /v1/leaderboard, the dashboard and blend\'s refresh (every BLEND_REFRESH_S), never a completion, and one subnet\'s window is read from Redis at most once per few seconds per process',
        ],
      };
    } finally {
      await incentive.close();
      await blend.close();
    }
  },
};
