/**
 * Traffic follows the chain's ranking: over 1,000 requests the share each
 * miner gets follows its incentive; neurons without an axon or inactive are
 * never called; loopback axons are refused unless ALLOW_PRIVATE_AXONS=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const INCENTIVES = [0.4, 0.3, 0.2, 0.1];
let miners: RunningMiner[] = [];
let noAxon: RunningMiner;
let inactive: RunningMiner;

beforeAll(async () => {
  miners = await Promise.all(INCENTIVES.map((_, i) => startMiner({ hotkeyUri: `//Share${i}`, name: `share${i}` })));
  noAxon = await startMiner({ hotkeyUri: '//NoAxon' });
  inactive = await startMiner({ hotkeyUri: '//Inactive' });
});

afterAll(async () => {
  await Promise.all([...miners, noAxon, inactive].map((m) => m.close()));
});

const subnet = () => ({
  netuid: 4,
  models: ['m'],
  miners: [
    ...miners.map((miner, i) => ({ miner, uid: i, incentive: INCENTIVES[i] ?? 0 })),
    // The best incentive on the subnet, but no axon: must never be called.
    { miner: noAxon, uid: 10, incentive: 0.9, ip: '0.0.0.0' },
    { miner: inactive, uid: 11, incentive: 0.9, active: false },
  ],
});

async function runRequests(gw: TestGateway, total: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'user', content: 'hi' }] } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

describe('routing share', () => {
  it('follows incentive order over 1,000 requests and never calls unroutable neurons', async () => {
    // Hedging off: a hedge under load would send a 1,001st request and blur the shares being measured.
    const gw = await startTestGateway({ subnets: [subnet()], env: { HEDGE_MODE: 'off' } });
    try {
      const statuses = await runRequests(gw, 1000, 16);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1000);
      const counts = miners.map((m) => m.requestCount);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
      // Strictly in incentive order, and each share near its incentive.
      for (let i = 1; i < counts.length; i++) expect(counts[i - 1] ?? 0).toBeGreaterThan(counts[i] ?? 0);
      counts.forEach((count, i) => expect(Math.abs(count / 1000 - (INCENTIVES[i] ?? 0))).toBeLessThan(0.06));
      expect(noAxon.requestCount).toBe(0);
      expect(inactive.requestCount).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it('with ROUTER_TOP_K=2, only the two best miners get traffic; ranks 3 and 4 get none', async () => {
    for (const m of [...miners, noAxon, inactive]) m.reset();
    const gw = await startTestGateway({ subnets: [subnet()], env: { ROUTER_TOP_K: '2', HEDGE_MODE: 'off' } });
    try {
      const statuses = await runRequests(gw, 300, 8);
      expect(statuses.filter((s) => s === 200)).toHaveLength(300);
      const [first, second, third, fourth] = miners.map((m) => m.requestCount);
      expect((first ?? 0) + (second ?? 0)).toBe(300);
      // Both of the top two are used (0.4 and 0.3 of the weight: ~170 and ~130 requests expected).
      expect(first).toBeGreaterThan(60);
      expect(second).toBeGreaterThan(60);
      expect(third).toBe(0);
      expect(fourth).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it('refuses loopback axons unless ALLOW_PRIVATE_AXONS=1', async () => {
    for (const m of miners) m.reset();
    const gw = await startTestGateway({ subnets: [subnet()], env: { ALLOW_PRIVATE_AXONS: '0' } });
    try {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'user', content: 'hi' }] } });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('no_routable_miner');
      expect(body.error.message).toMatch(/private or loopback address.*ALLOW_PRIVATE_AXONS/);
      expect(miners.reduce((sum, m) => sum + m.requestCount, 0)).toBe(0);
      const ready = await gw.request('/readyz');
      expect(ready.status).toBe(503);
      // Readable at a glance, and the OpenAI error envelope for clients that parse errors.
      const notReady = (await ready.json()) as { status: string; reason: string; error: Record<string, unknown> };
      expect(notReady.status).toBe('not_ready');
      expect(notReady.reason).toMatch(/private or loopback address/);
      expect(notReady.error).toEqual({ message: `not ready: ${notReady.reason}`, type: 'server_error', code: 'not_ready', param: null });
      // Pinning is no way around the guard: each pinned uid's reason is named.
      const pinned = await gw.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'x-taogate-uids': '0,10,11' },
        json: { model: 'sn4/m', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(pinned.status).toBe(503);
      const pinnedError = ((await pinned.json()) as { error: { code: string; message: string } }).error;
      expect(pinnedError.code).toBe('no_routable_miner');
      expect(pinnedError.message).toMatch(/uid 0 is not routable \(private_address\); uid 10 is not routable \(no_axon\); uid 11 is not routable \(inactive\)/);
      expect([...miners, noAxon, inactive].reduce((sum, m) => sum + m.requestCount, 0)).toBe(0);
    } finally {
      await gw.close();
    }
  });
});
