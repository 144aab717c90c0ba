/**
 * Circuit breakers through the real gateway and real miners: a failing miner
 * is opened, no longer tried, probed after its cool-down and closed again
 * once it answers; a stream cut after its first byte opens it at once; when
 * every miner is open the gateway still tries them rather than refuse; and
 * those forced attempts re-open a dead miner's breaker instead of leaving it
 * half-open.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startMiner, type FaultMode, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { eventually, healthOf } from './support/health-view.js';

const started: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).reverse().map((s) => s.close()));
});

async function miner(name: string, fault: FaultMode = 'none'): Promise<RunningMiner> {
  const m = await startMiner({ hotkeyUri: `//Breaker${name}`, name, fault });
  started.push(m);
  return m;
}

async function gateway(miners: Array<{ miner: RunningMiner; incentive: number }>, env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['m'], miners: miners.map((m, uid) => ({ ...m, uid })) }],
    env: { HEDGE_MODE: 'off', ...env },
  });
  started.push(gw);
  return gw;
}

const ask = (openai: OpenAI) => openai.chat.completions.create({ model: 'sn4/m', messages: [{ role: 'user', content: 'hi' }] });

describe('circuit breaker through the gateway', () => {
  it('opens after 3 failures, keeps the miner out, probes it after the cool-down and closes when it answers', async () => {
    const good = await miner('Good');
    const bad = await miner('Bad', 'http500');
    const gw = await gateway([{ miner: bad, incentive: 0.5 }, { miner: good, incentive: 0.5 }], { BREAKER_COOLDOWN_MS: '400' });
    const openai = gw.client();

    // Every request succeeds (failover), until the bad miner has failed 3 times.
    for (let i = 0; i < 200 && bad.requestCount < 3; i++) expect((await ask(openai)).choices[0]?.message.content).toMatch(/Good/);
    expect(bad.requestCount).toBe(3);
    const opened = await healthOf(gw, 0);
    expect(opened?.state).toBe('open');
    expect(opened?.failures).toBe(3);
    expect(opened?.opened_at).not.toBeNull();

    // Open: not tried at all, even though it has half the rank weight.
    bad.reset();
    for (let i = 0; i < 20; i++) await ask(openai);
    expect(bad.requestCount).toBe(0);

    // Still broken at the first probe: re-opened, with a longer cool-down.
    await eventually(async () => expect((await healthOf(gw, 0))?.state).toBe('half_open'));
    for (let i = 0; i < 200 && bad.requestCount < 1; i++) await ask(openai);
    expect(bad.requestCount).toBe(1);
    const reopened = await healthOf(gw, 0);
    expect(reopened?.state).toBe('open');
    const cooldown = Date.parse(reopened?.retry_at ?? '') - Date.parse(reopened?.opened_at ?? '');
    expect(cooldown).toBeGreaterThanOrEqual(800 * 0.9);

    // Fixed: the next probe closes it and it gets traffic again.
    await bad.setFault('none');
    await eventually(async () => expect((await healthOf(gw, 0))?.state).toBe('half_open'), 15_000);
    for (let i = 0; i < 200 && bad.requestCount < 2; i++) await ask(openai);
    await eventually(async () => expect((await healthOf(gw, 0))?.state).toBe('closed'));
    bad.reset();
    for (let i = 0; i < 40; i++) await ask(openai);
    expect(bad.requestCount).toBeGreaterThan(0);
  });

  it('a stream cut after its first byte opens the breaker at once', async () => {
    const good = await miner('StreamGood');
    const cutter = await miner('Cutter', 'dropMidStream');
    const gw = await gateway([{ miner: cutter, incentive: 0.9 }, { miner: good, incentive: 0.1 }], { BREAKER_COOLDOWN_MS: '60000' });
    const openai = gw.client();
    const stream = async () => {
      const s = await openai.chat.completions.create({ model: 'sn4/m', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    };

    let cut: unknown = null;
    for (let i = 0; i < 100 && cut === null; i++) cut = await stream().then(() => null, (err: unknown) => err);
    expect(cut).toBeInstanceOf(OpenAI.APIError);
    expect(String((cut as Error).message)).toMatch(/stream failed after it started/);
    const health = await healthOf(gw, 0);
    expect(health?.state).toBe('open');
    expect(health?.failures).toBe(1);

    cutter.reset();
    for (let i = 0; i < 20; i++) expect(await stream()).toMatch(/StreamGood/);
    expect(cutter.requestCount).toBe(0);
  });

  it('when every miner is open it still tries them, and a success closes that miner', async () => {
    const a = await miner('AllA', 'http500');
    const b = await miner('AllB', 'http500');
    const gw = await gateway([{ miner: a, incentive: 0.5 }, { miner: b, incentive: 0.5 }], { BREAKER_COOLDOWN_MS: '60000' });
    for (let i = 0; i < 10; i++) {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'user', content: 'x' }] } });
      expect(res.status).toBe(502);
      await res.arrayBuffer();
    }
    expect((await healthOf(gw, 0))?.state).toBe('open');
    expect((await healthOf(gw, 1))?.state).toBe('open');

    await a.setFault('none');
    await b.setFault('none');
    const answer = await ask(gw.client());
    expect(answer.choices[0]?.message.content).toMatch(/AllA|AllB/);
    const states = [(await healthOf(gw, 0))?.state, (await healthOf(gw, 1))?.state].sort();
    expect(states).toEqual(['closed', 'open']);
  });

  it('a dead single-miner subnet asked for by name: each forced attempt re-opens its breaker for longer, a success closes it', async () => {
    const lone = await miner('Lone', 'http500');
    const gw = await gateway([{ miner: lone, incentive: 1 }], { BREAKER_COOLDOWN_MS: '500', BREAKER_MAX_COOLDOWN_MS: '2000' });
    const post = async () => {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'user', content: 'x' }] } });
      await res.arrayBuffer();
      return res.status;
    };
    const cooldownOf = (h: Awaited<ReturnType<typeof healthOf>>) => Date.parse(h?.retry_at ?? '') - Date.parse(h?.opened_at ?? '');
    for (let i = 0; i < 3; i++) expect(await post()).toBe(502);
    const opened = await healthOf(gw, 0);
    expect(opened?.state).toBe('open');

    // Open: the one miner is still tried (never refused), and its failure opens the breaker again, for longer.
    expect(await post()).toBe(502);
    const reopened = await healthOf(gw, 0);
    expect(reopened?.state).toBe('open');
    expect(Date.parse(reopened?.opened_at ?? '')).toBeGreaterThan(Date.parse(opened?.opened_at ?? ''));
    expect(cooldownOf(reopened)).toBeGreaterThan(cooldownOf(opened) * 1.5);

    // Half-open: the forced attempt fails again and the breaker re-opens instead of staying half-open.
    for (let round = 0; round < 2; round++) {
      await eventually(async () => expect((await healthOf(gw, 0))?.state).toBe('half_open'));
      expect(await post()).toBe(502);
      const after = await healthOf(gw, 0);
      expect(after?.state).toBe('open');
      expect(cooldownOf(after)).toBeGreaterThanOrEqual(2000 * 0.9);
    }
    expect(lone.requestCount).toBe(6);

    await lone.setFault('none');
    expect(await post()).toBe(200);
    expect((await healthOf(gw, 0))?.state).toBe('closed');
  });

  it('a request-specific rejection (HTTP 400) fails over without counting against the miner', async () => {
    const picky = await miner('Picky', 'http400');
    const gw = await gateway([{ miner: picky, incentive: 1 }]);
    for (let i = 0; i < 5; i++) {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'user', content: 'x' }] } });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/tried 1 miner: .*HTTP 400/);
    }
    expect(picky.requestCount).toBe(5);
    const health = await healthOf(gw, 0);
    expect(health?.state).toBe('closed');
    expect(health?.failures).toBe(0);
    expect(health?.attempts).toBe(5);
  });
});
