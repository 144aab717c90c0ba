/**
 * The chain's WebSocket provider on its own, over real sockets on loopback:
 * the reconnect delays it reports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ResilientWsProvider, type ProviderConnectionStatus } from '../src/chain/resilient-ws-provider.js';
import { freePort } from './support/free-port.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function provider(url: string, options: Partial<ConstructorParameters<typeof ResilientWsProvider>[0]> = {}): ResilientWsProvider {
  const p = new ResilientWsProvider({ url, requestTimeoutMs: 100, backoff: { baseMs: 50, capMs: 1000 }, ...options });
  cleanups.push(() => p.disconnect());
  return p;
}

async function until(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('reconnect delays', () => {
  it('double from the base with up to 20 % jitter, and never exceed the cap', async () => {
    const port = await freePort();
    const p = provider(`ws://127.0.0.1:${port}`, { backoff: { baseMs: 20, capMs: 200 } });
    const delays: number[] = [];
    p.onStatus((status: ProviderConnectionStatus) => {
      if (status.retryInMs !== null) delays.push(status.retryInMs);
    });
    await p.connect();
    await until('nine refused attempts', () => delays.length >= 9);
    await p.disconnect();
    expect(delays.every((d) => d <= 200)).toBe(true);
    // 20, 40, 80, 160 ms, each up to 20 % more: below the cap, so not cut.
    delays.slice(0, 4).forEach((d, n) => {
      expect(d).toBeGreaterThanOrEqual(20 * 2 ** n);
      expect(d).toBeLessThanOrEqual(Math.round(20 * 2 ** n * 1.2));
    });
    // From 320 ms on, the cap itself: jitter does not push a delay past it.
    expect(delays.slice(4)).toEqual(delays.slice(4).map(() => 200));
  });
});
