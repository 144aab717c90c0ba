/**
 * The chain's WebSocket provider on its own, over real sockets on loopback:
 * the reconnect delays it reports, and what becomes of a subscription
 * request that is never answered or is refused (the api must not be told
 * while it still listens; see the header of src/chain/resilient-ws-provider.ts).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
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

/**
 * A JSON-RPC server that never answers `sub_stall` or `call_stall`, answers
 * `sub_refused` with an error and anything else with a result.
 */
async function rpcServer(): Promise<{ url: string; sockets: Set<WebSocket> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const sockets = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data) => {
      const { id, method } = JSON.parse(data.toString()) as { id: number; method: string };
      if (method === 'sub_stall' || method === 'call_stall') return;
      if (method === 'sub_refused') return socket.send(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: 'too many subscriptions' } }));
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: 'sub-1' }));
    });
  });
  cleanups.push(async () => {
    for (const socket of sockets) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, sockets };
}

/** Connects a provider to `url` (base 20 ms, cap 200 ms) and collects the reconnect delays it reports until it has `count`. */
async function reconnectDelays(url: string, count: number): Promise<number[]> {
  const p = provider(url, { backoff: { baseMs: 20, capMs: 200 } });
  const delays: number[] = [];
  p.onStatus((status: ProviderConnectionStatus) => {
    if (status.retryInMs !== null) delays.push(status.retryInMs);
  });
  await p.connect();
  await until(`${count} reconnect delays`, () => delays.length >= count);
  await p.disconnect();
  return delays;
}

describe('reconnect delays', () => {
  it('double from the base with up to 20 % jitter, and never exceed the cap', async () => {
    const delays = await reconnectDelays(`ws://127.0.0.1:${await freePort()}`, 9);
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

describe('a node that accepts and then drops every connection', () => {
  it('is redialled with a growing delay, not every base delay: only a connection that lasted resets the backoff', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.close(1011, 'refused'));
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const delays = await reconnectDelays(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, 5);
    // 20, 40, 80, 160, then the cap: as for refused connections, although each one opened.
    delays.slice(0, 4).forEach((d, n) => expect(d).toBeGreaterThanOrEqual(20 * 2 ** n));
    expect(delays[4]).toBe(200);
  });
});

/** A provider connected to `server`, and the log of its 'disconnected' events and failed subscriptions. */
async function connectedTo(server: { url: string }): Promise<{ p: ResilientWsProvider; events: string[] }> {
  const p = provider(server.url);
  const events: string[] = [];
  p.on('disconnected', () => events.push('disconnected'));
  await p.connect();
  await until('connected', () => p.isConnected);
  return { p, events };
}

describe('subscription requests', () => {
  it('a plain call times out alone; an unanswered subscription waits, and fails with the connection after "disconnected"', async () => {
    const server = await rpcServer();
    const { p, events } = await connectedTo(server);

    await expect(p.send('call_stall', [])).rejects.toThrow(/call_stall: no answer .* within 100 ms/);
    const subscription = p.subscribe('sub_event', 'sub_stall', [], () => {});
    subscription.catch((error: Error) => events.push(`rejected: ${error.message}`));
    await new Promise((resolve) => setTimeout(resolve, 400)); // four times the call limit
    expect(events).toEqual([]);
    expect(p.isConnected).toBe(true);

    for (const socket of server.sockets) socket.terminate();
    await until('the subscription to fail', () => events.length === 2);
    expect(events[0]).toBe('disconnected');
    expect(events[1]).toMatch(/^rejected: disconnected from ws:/);
  });

  it('a refused subscription closes the connection, fails after "disconnected", and the provider reconnects', async () => {
    const server = await rpcServer();
    const { p, events } = await connectedTo(server);
    expect(await p.subscribe('sub_event', 'sub_ok', [], () => {})).toBe('sub-1');

    const refused = p.subscribe('sub_event', 'sub_refused', [], () => {});
    refused.catch((error: Error) => events.push(`rejected: ${error.message}`));
    await until('the subscription to fail', () => events.length === 2);
    expect(events[0]).toBe('disconnected');
    expect(events[1]).toMatch(/^rejected: disconnected from ws:.*sub_refused refused: -32000: too many subscriptions$/);
    await until('reconnected', () => p.isConnected);
  });
});
