/**
 * MAX_ATTEMPTS is a budget per request, shared by the subnets an alias fails
 * over across: every miner hit counts against it, wherever it went. Each
 * subnet after the first still keeps one attempt of it, so a subnet that is
 * down is followed by the next (failover across subnets), and no request
 * makes more than MAX_ATTEMPTS calls in all. Every miner here fails (HTTP
 * 500), so the miners' request counters are the attempts made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const NETUIDS = [4, 5, 6] as const;
/** Three failing miners on each of three subnets. */
const fleet = new Map<number, RunningMiner[]>();
const gateways: TestGateway[] = [];

beforeAll(async () => {
  for (const netuid of NETUIDS) {
    fleet.set(netuid, await Promise.all([0, 1, 2].map((uid) => startMiner({ hotkeyUri: `//Budget${netuid}x${uid}`, name: `${netuid}.${uid}`, fault: 'http500' }))));
  }
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all([...fleet.values()].flat().map((m) => m.close()));
});

/** A fresh gateway (fresh health, so no breaker opened by an earlier test) over the fleet, with `all` as the alias of the three subnets. */
async function gateway(env: Record<string, string>): Promise<TestGateway> {
  for (const miners of fleet.values()) for (const m of miners) m.reset();
  const gw = await startTestGateway({
    subnets: NETUIDS.map((netuid) => ({ netuid, models: ['m'], miners: (fleet.get(netuid) ?? []).map((miner, uid) => ({ miner, uid, incentive: 1 })) })),
    env: { MODEL_ALIASES: JSON.stringify({ all: NETUIDS.map((n) => `sn${n}/m`) }), HEDGE_MODE: 'off', BREAKER_FAILURES: '100', ...env },
  });
  gateways.push(gw);
  return gw;
}

/** Miner hits per subnet, in the order of NETUIDS. */
const hitsPerSubnet = () => NETUIDS.map((n) => (fleet.get(n) ?? []).reduce((sum, m) => sum + m.requestCount, 0));

async function ask(gw: TestGateway, model: string, stream = false): Promise<{ status: number; code: string; message: string }> {
  const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model, stream, messages: [{ role: 'user', content: 'x' }] } });
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: error.code, message: error.message };
}

describe('MAX_ATTEMPTS across subnets', () => {
  it('default 3 over an alias of three subnets: 3 miner calls in all, one per subnet, then a 502 naming each', async () => {
    const gw = await gateway({ MAX_SUBNETS: '3' });
    const answer = await ask(gw, 'all');
    expect(answer.status).toBe(502);
    expect(answer.code).toBe('all_subnets_failed');
    expect(answer.message).toMatch(/tried 3 subnets: sn4\/m: .*; sn5\/m: .*; sn6\/m: /);
    // Per subnet it would have been 3 × 3 = 9.
    expect(hitsPerSubnet()).toEqual([1, 1, 1]);
  });

  it('a stream is held to the same budget', async () => {
    const gw = await gateway({ MAX_SUBNETS: '3' });
    expect((await ask(gw, 'all', true)).status).toBe(502);
    expect(hitsPerSubnet()).toEqual([1, 1, 1]);
  });

  it('a larger budget goes to the first subnets, leaving each later one an attempt: 5 = 3 + 1 + 1', async () => {
    const gw = await gateway({ MAX_SUBNETS: '3', MAX_ATTEMPTS: '5' });
    expect((await ask(gw, 'all')).status).toBe(502);
    expect(hitsPerSubnet()).toEqual([3, 1, 1]);
  });

  it('fewer attempts than subnets: the subnets past the budget are not tried at all', async () => {
    const gw = await gateway({ MAX_SUBNETS: '3', MAX_ATTEMPTS: '2' });
    const answer = await ask(gw, 'all');
    expect(answer.status).toBe(502);
    expect(answer.message).toMatch(/tried 2 subnets/);
    expect(hitsPerSubnet()).toEqual([1, 1, 0]);
  });

  it('one subnet gets the whole budget', async () => {
    const gw = await gateway({ MAX_ATTEMPTS: '3' });
    const answer = await ask(gw, 'sn5/m');
    expect(answer.status).toBe(502);
    expect(answer.message).toMatch(/tried 3 miners/);
    expect(hitsPerSubnet()).toEqual([0, 3, 0]);
  });
});
