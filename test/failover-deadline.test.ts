/**
 * Failover across subnets shares the request's one deadline
 * (REQUEST_TIMEOUT_MS): a subnet that is still silent when it passes is not
 * followed by the next one, and the client gets its 504 (or, streaming, its
 * error) then, not after another subnet's try. With time left, the next
 * subnet does serve.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let silent: RunningMiner;
let healthy: RunningMiner;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  // Never answers: only a timeout ends a request to it.
  silent = await startMiner({ hotkeyUri: '//DeadlineSilent', name: 'silent', fault: 'hang' });
  healthy = await startMiner({ hotkeyUri: '//DeadlineHealthy', name: 'healthy' });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all([silent, healthy].map((m) => m?.close()));
});

beforeEach(() => {
  silent.reset();
  healthy.reset();
});

/** An alias whose first subnet is the silent miner's and whose second is the healthy one's. */
async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({
    subnets: [
      { netuid: 4, models: ['m'], miners: [{ miner: silent, uid: 1, incentive: 1 }] },
      { netuid: 5, models: ['m'], miners: [{ miner: healthy, uid: 1, incentive: 1 }] },
    ],
    // MAX_ATTEMPTS is the request's, shared by its subnets: one attempt each.
    env: { MODEL_ALIASES: JSON.stringify({ both: ['sn4/m', 'sn5/m'] }), MAX_SUBNETS: '2', MAX_ATTEMPTS: '2', HEDGE_MODE: 'off', ...env },
  });
  gateways.push(gw);
  return gw;
}

const CHAT = { model: 'both', messages: [{ role: 'user', content: 'x' }] };

describe('the shared deadline across subnets', () => {
  it('does not start the next subnet once the deadline passed: a 504 naming it, the second subnet untouched', async () => {
    // The first subnet's first-byte timeout (10 s) is far beyond the request's deadline (600 ms).
    const gw = await gateway({ REQUEST_TIMEOUT_MS: '600', FIRST_BYTE_TIMEOUT_MS: '10000' });
    const startedAt = Date.now();
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: CHAT });
    const elapsed = Date.now() - startedAt;
    expect(res.status).toBe(504);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('deadline_exceeded');
    expect(error.message).toMatch(/600 ms deadline/);
    expect(silent.requestCount).toBe(1);
    expect(healthy.requestCount).toBe(0);
    // Not the 10 s the first subnet's own timeout would have taken (a generous bound for a loaded machine).
    expect(elapsed).toBeLessThan(5_000);
    await silent.waitForAborts(1);
  });

  it('a stream too: its 504 comes at the deadline, before any subnet answered', async () => {
    const gw = await gateway({ REQUEST_TIMEOUT_MS: '600', FIRST_BYTE_TIMEOUT_MS: '10000' });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { ...CHAT, stream: true } });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('deadline_exceeded');
    expect(healthy.requestCount).toBe(0);
  });

  it('with time left, the next subnet serves after the first one timed out', async () => {
    // The first subnet's attempt gives up at its first-byte timeout, well inside the deadline.
    const gw = await gateway({ REQUEST_TIMEOUT_MS: '10000', FIRST_BYTE_TIMEOUT_MS: '300' });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: CHAT });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-taogate-served-model')).toBe('sn5/m');
    expect(res.headers.get('x-taogate-failover')).toBe('sn4/m');
    expect(silent.requestCount).toBe(1);
    expect(healthy.requestCount).toBe(1);
  });
});
