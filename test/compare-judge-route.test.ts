/**
 * A comparison's judge never grades its own answer: the compared upstreams
 * are left out of its route, and a judge that could only land on them is
 * refused up front, before any target is sent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { compare, compareOk } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let a: RunningMiner;
let b: RunningMiner;
let c: RunningMiner;
let gw: TestGateway;

beforeAll(async () => {
  a = await startMiner({ hotkeyUri: '//JudgeRouteA', name: 'a', quality: 3 });
  b = await startMiner({ hotkeyUri: '//JudgeRouteB', name: 'b', quality: 8 });
  c = await startMiner({ hotkeyUri: '//JudgeRouteC', name: 'c', quality: 5 });
  gw = await startTestGateway({
    // One subnet: the judge model is served by the very miners being compared.
    subnets: [{ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner: a, uid: 1, incentive: 0.5 }, { miner: b, uid: 2, incentive: 0.3 }, { miner: c, uid: 3, incentive: 0.2 }] }],
    env: { HEDGE_MODE: 'off' },
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([a, b, c].map((m) => m?.close()));
});

beforeEach(() => {
  for (const m of [a, b, c]) m.reset();
});

describe('the judge’s route', () => {
  it('leaves out every compared miner: the judge is the one miner that was not compared', async () => {
    for (let i = 0; i < 4; i++) {
      const result = await compareOk(gw, { prompt: `grade ${i}`, targets: ['sn4/uid:1', 'sn4/uid:2'], judge: 'sn4/llama-3.1-8b' });
      expect(result.judge?.status).toBe('ok');
      expect(result.entries.map((e) => e.scores.judge?.score)).toEqual([3, 8]);
    }
    expect([a.judgeRequests, b.judgeRequests, c.judgeRequests]).toEqual([0, 0, 4]);
  });

  it('leaves out the miner the router picked for a subnet target too', async () => {
    const result = await compareOk(gw, { prompt: 'picked', targets: ['sn4', 'sn4/uid:3'], judge: 'sn4/llama-3.1-8b' });
    expect(result.judge?.status).toBe('ok');
    const picked = result.entries[0]?.miner?.uid;
    const judges = new Map([[1, a], [2, b], [3, c]]);
    // Whichever miner the router picked (uid 3 too), neither it nor uid 3 judged; one of the others did.
    for (const [uid, miner] of judges) if (uid === picked || uid === 3) expect(miner.judgeRequests).toBe(0);
    expect(a.judgeRequests + b.judgeRequests + c.judgeRequests).toBe(1);
  });

  it.each([
    [['sn4/uid:1', 'sn4/uid:2', 'sn4/uid:3']],
    // Two pinned, and one the router may pick anywhere: the third could be it.
    [['sn4/uid:1', 'sn4/uid:2', 'sn4']],
  ])('is refused up front with a 400 naming judge when it could only grade itself (%j), and nothing is sent', async (targets) => {
    const { status, json } = await compare(gw, { prompt: 'x', targets, judge: 'sn4/llama-3.1-8b' });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'judge_is_contestant', param: 'judge' });
    expect(a.requestCount + b.requestCount + c.requestCount).toBe(0);
  });
});
