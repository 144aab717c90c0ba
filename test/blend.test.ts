/**
 * RANK_BY=blend: observed quality moves traffic. The low-quality miner has
 * the most incentive; once judged comparisons say the other one answers
 * better, the router sends it the traffic, and /v1/subnets/:netuid/miners
 * says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRankBy } from '../src/chain/rank-policy.js';
import { loadConfig } from '../src/config.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { parseBlendWeights } from '../src/leaderboard/blend-weights.js';
import { createKey } from './support/admin-client.js';
import { compareOk } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

describe('blend settings', () => {
  it('parses and normalizes BLEND_WEIGHTS, and refuses bad ones naming the variable', () => {
    expect(parseBlendWeights('incentive:3,quality:1')).toEqual({ incentive: 0.75, quality: 0.25, health: 0 });
    expect(() => parseBlendWeights('incentive:1,taste:1')).toThrow(/unknown component "taste"/);
    expect(() => parseBlendWeights('quality:-1')).toThrow(/non-negative/);
    expect(() => parseBlendWeights('incentive:0')).toThrow(/above zero/);
    expect(() => loadConfig({ METAGRAPH_FILE: 'x', BLEND_WEIGHTS: 'quality:x' })).toThrow(/BLEND_WEIGHTS: quality needs a non-negative number/);
    expect(() => loadConfig({ METAGRAPH_FILE: 'x', BLEND_QUALITY_WINDOW: '9d' })).toThrow(/BLEND_QUALITY_WINDOW/);
    expect(parseRankBy('blend').map((p) => p.name)).toEqual(['blend']);
    expect(() => parseRankBy('blend:0.5')).toThrow(/takes no argument/);
  });
});

describe('RANK_BY=blend through the gateway', () => {
  let rich: RunningMiner;
  let good: RunningMiner;
  let judge: RunningMiner;
  let gw: TestGateway;

  beforeAll(async () => {
    rich = await startMiner({ hotkeyUri: '//BlendRich', name: 'rich', quality: 2 });
    good = await startMiner({ hotkeyUri: '//BlendGood', name: 'good', quality: 9 });
    judge = await startMiner({ hotkeyUri: '//BlendJudge', name: 'judge', quality: 5 });
    gw = await startTestGateway({
      subnets: [
        { netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner: rich, uid: 1, incentive: 0.7 }, { miner: good, uid: 2, incentive: 0.3 }] },
        { netuid: 62, models: ['coder'], miners: [{ miner: judge, uid: 1, incentive: 1 }] },
      ],
      // Top-1 makes the order the whole story: every request goes to the first miner.
      env: { RANK_BY: 'blend', BLEND_WEIGHTS: 'incentive:0.3,quality:0.6,health:0.1', ROUTER_TOP_K: '1', HEDGE_MODE: 'off' },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([rich, good, judge].map((m) => m?.close()));
  });

  const servedBy = async (n: number) => {
    rich.reset();
    good.reset();
    const openai = gw.client();
    for (let i = 0; i < n; i++) await openai.chat.completions.create({ model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: `r${i}` }] });
    return { rich: rich.requestCount, good: good.requestCount };
  };

  const miners = async () => (await (await gw.request('/v1/subnets/4/miners')).json()) as any;

  it('routes by incentive until quality is known, then by the blend', async () => {
    // No scores yet: both get the neutral quality, so incentive decides.
    const before = await miners();
    expect(before.rank_policy).toBe('blend');
    expect(before.blend).toEqual({ weights: { incentive: 0.3, quality: 0.6, health: 0.1 }, quality_window: '24h' });
    expect(before.data.map((m: any) => [m.uid, m.blend.blend_rank])).toEqual([[1, 1], [2, 2]]);
    expect(before.data[0].blend).toMatchObject({ incentive: 0.7, quality: 0.5, mean_score: null });
    expect(await servedBy(6)).toEqual({ rich: 6, good: 0 });

    // A key that is no trusted scorer cannot move traffic, however it rigs its checks.
    const rigger = await createKey(gw, { name: 'rigger' });
    for (let i = 0; i < 3; i++) {
      const c = await compareOk(gw, { prompt: `rigged ${i}`, targets: ['sn4/uid:1', 'sn4/uid:2'], checks: [{ type: 'contains', value: 'devnet miner good' }] }, rigger.key);
      expect(c.leaderboard).toBe('recorded');
    }
    expect((await miners()).data.map((m: any) => [m.uid, m.blend.mean_score])).toEqual([[1, null], [2, null]]);
    expect(await servedBy(6)).toEqual({ rich: 6, good: 0 });

    // The harness's key is a trusted scorer, like the devnet's.
    for (let i = 0; i < 2; i++) {
      const c = await compareOk(gw, { prompt: `which is better ${i}`, targets: ['sn4/uid:1', 'sn4/uid:2'], judge: 'sn62/coder' });
      expect(c.leaderboard).toBe('recorded');
    }

    const after = await miners();
    const [first, second] = after.data;
    // The snapshot's rank is still incentive's; the blend re-orders.
    expect(first).toMatchObject({ uid: 1, rank: 1, blend: { mean_score: 2, blend_rank: 2 } });
    expect(second).toMatchObject({ uid: 2, rank: 2, blend: { mean_score: 9, blend_rank: 1 } });
    // quality shares 2/11 and 9/11; weight = 0.3·incentive + 0.6·quality + 0.1·health.
    expect(second.blend.quality).toBeCloseTo(9 / 11, 6);
    expect(second.blend.weight).toBeCloseTo(0.3 * 0.3 + 0.6 * (9 / 11) + 0.1 * second.blend.health, 6);
    expect(second.blend.weight).toBeGreaterThan(first.blend.weight);
    expect(await servedBy(6)).toEqual({ rich: 0, good: 6 });
  });

  it('takes top_n in the blended order', async () => {
    const c = await compareOk(gw, { prompt: 'top', top_n: 1, subnet: 'sn4' });
    expect(c.entries.map((e) => e.target)).toEqual(['sn4/uid:2']);
  });
});
