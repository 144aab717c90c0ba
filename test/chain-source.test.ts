/**
 * The chain metagraph source against the devnet node over a real WebSocket:
 * the recorded SN1 data, re-ranking on change, the validator-weights policy,
 * losing and regaining the node, every fault mode, and restoring from the
 * store. No mocks.
 */
import { silentEndpoint as silentEndpointOf, type SilentEndpoint } from './support/silent-endpoint.js';
import { blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createChainSource, type ChainSourceOptions } from '../src/chain/chain-source.js';
import { parseRankBy, RankByError } from '../src/chain/rank-policy.js';
import type { MetagraphSnapshot, MetagraphSource, SourceState, SubnetSnapshot } from '../src/chain/snapshot.js';
import { resolveSubtensorUrl, SubtensorUrlError } from '../src/chain/subtensor-endpoint.js';
import { sn1NeuronsLiteHex } from '../src/devnet/chain-fixtures.js';
import { startChainNode, type ChainFault, type ChainNode, type DevnetNeuron } from '../src/devnet/chain-node.js';
import { createLogger } from '../src/log.js';
import { createMemoryStore } from '../src/store/memory.js';
import type { Store } from '../src/store/store.js';

const SN1_BURN_HOTKEY = '5HCFWvRqzSHWRPecN7q8J6c7aKQnrCZTMHstPv39xL1wgDHh';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly state?: SourceState;
  readonly error?: string | null;
  readonly frame?: string;
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  return { logger, lines };
}

function account(seed: string): string {
  return encodeAddress(blake2AsU8a(seed), 42);
}

/** A subnet of loopback miners (allowPrivate) whose incentives the test sets. */
function loopbackSubnet(incentives: readonly number[]): DevnetNeuron[] {
  return incentives.map((incentive, uid) => ({
    hotkey: account(`miner-${uid}`),
    coldkey: account(`owner-${uid}`),
    stakeTao: 10 * (uid + 1),
    incentive,
    active: true,
    validatorPermit: uid === incentives.length - 1,
    axon: { ip: '127.0.0.1', port: 40000 + uid },
    lastUpdate: 1,
  }));
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const rankedUids = (s: SubnetSnapshot | undefined) => s?.ranked.map((m) => m.neuron.uid) ?? [];

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  // Sources first, so they do not log a lost node while the test tears down.
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function node(): Promise<ChainNode> {
  const n = await startChainNode({ blockTimeMs: 100 });
  running.unshift(n);
  return n;
}

/** A silent endpoint (support/silent-endpoint.ts) closed after the test. */
async function silentEndpoint(): Promise<SilentEndpoint> {
  const endpoint = await silentEndpointOf();
  running.unshift({ stop: () => endpoint.close() });
  return endpoint;
}

async function source(overrides: Partial<ChainSourceOptions> & Pick<ChainSourceOptions, 'url'>): Promise<MetagraphSource> {
  const s = createChainSource({
    netuids: [1],
    modelsFor: () => [],
    rankBy: 'incentive',
    refreshMs: 150,
    addressPolicy: { allowPrivate: false },
    logger: capturingLogger().logger,
    callTimeoutMs: 400,
    reconnect: { baseMs: 50, capMs: 200 },
    startTimeoutMs: 5000,
    ...overrides,
  });
  running.push(s);
  await s.start();
  return s;
}

describe('chain source on the recorded SN1 metagraph', () => {
  it('finds no routable miner by incentive and says uid 395 publishes no axon', async () => {
    const chain = await node();
    chain.setRawNeurons(1, sn1NeuronsLiteHex());
    const src = await source({ url: chain.url });
    const snapshot = src.current();
    expect(src.status()).toEqual({ state: 'ok', endpoint: chain.url, error: null });
    expect(snapshot?.source).toBe('chain');
    const sn1 = snapshot?.subnets.get(1);
    expect(sn1?.neurons).toHaveLength(1024);
    expect(sn1?.ranked).toEqual([]);
    expect(sn1?.rankPolicy).toBe('incentive');
    expect(sn1?.noRouteReason).toMatch(/uid 395/);
    expect(sn1?.noRouteReason).toMatch(/no axon/);
    expect(sn1?.block).toBe(snapshot?.block);
  });

  it('routes through a trusted validator’s weights when incentive cannot', async () => {
    const chain = await node();
    chain.setRawNeurons(1, sn1NeuronsLiteHex());
    // uid 245 and 502 are active with public axons; uid 0 has an axon but is inactive.
    chain.setWeights(1, 395, [[245, 30000], [502, 10000], [0, 5000]]);
    const src = await source({ url: chain.url, rankBy: `incentive,validator:${SN1_BURN_HOTKEY}` });
    const sn1 = src.current()?.subnets.get(1);
    expect(sn1?.rankPolicy).toBe(`validator:${SN1_BURN_HOTKEY}`);
    expect(rankedUids(sn1)).toEqual([245, 502]);
    expect(sn1?.ranked.map((m) => m.score)).toEqual([0.75, 0.25]);
    expect(sn1?.noRouteReason).toBeNull();
  });

  it('explains a validator that is not on the subnet', async () => {
    const chain = await node();
    chain.setRawNeurons(1, sn1NeuronsLiteHex());
    const stranger = account('not-a-validator');
    const src = await source({ url: chain.url, rankBy: `validator:${stranger}` });
    expect(src.current()?.subnets.get(1)?.noRouteReason).toMatch(/not registered on subnet 1/);
  });
});

describe('chain source on a synthetic subnet', () => {
  it('re-ranks on the next sync when incentives change', async () => {
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.1, 0.5, 0.3, 0]));
    const src = await source({ url: chain.url, addressPolicy: { allowPrivate: true } });
    expect(rankedUids(src.current()?.subnets.get(1))).toEqual([1, 2, 0]);
    const held = src.current();
    chain.setNeurons(1, loopbackSubnet([0.6, 0, 0.2, 0.1]));
    const next = await waitFor('re-ranked snapshot', () => {
      const s = src.current();
      return rankedUids(s?.subnets.get(1)).join() === '0,2,3' && s;
    });
    expect((next.block ?? 0) > (held?.block ?? 0)).toBe(true);
    // The snapshot a request already holds is never mutated.
    expect(rankedUids(held?.subnets.get(1))).toEqual([1, 2, 0]);
  });

  it('makes one runtime call per subnet per refresh', async () => {
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.2, 0.4]));
    chain.setNeurons(2, loopbackSubnet([0.5, 0.1, 0.3]));
    const src = await source({ url: chain.url, netuids: [1, 2], addressPolicy: { allowPrivate: true } });
    // Read as each snapshot is swapped in: that refresh's calls are all answered, the next one has not begun.
    const seen: Array<ReadonlyMap<string, number>> = [];
    const unsubscribe = src.onUpdate(() => seen.push(chain.methodCalls()));
    await waitFor('six refreshes', () => seen.length >= 6);
    unsubscribe();
    const first = seen[0] ?? new Map<string, number>();
    const last = seen.at(-1) ?? first;
    const delta = (method: string) => (last.get(method) ?? 0) - (first.get(method) ?? 0);
    // Each refresh pins the finalized head once…
    const refreshes = seen.length - 1;
    expect(delta('chain_getFinalizedHead')).toBe(refreshes);
    // …and makes exactly one runtime call (get_neurons_lite) per subnet, nothing else through state_call.
    expect(delta('state_call')).toBe(refreshes * 2);
  });

  it('orders by a validator’s weights differently than by incentive', async () => {
    const chain = await node();
    const neurons = loopbackSubnet([0.1, 0.5, 0.3, 0]);
    chain.setNeurons(1, neurons);
    chain.setWeights(1, 3, [[0, 900], [1, 100], [2, 500]]);
    const byIncentive = await source({ url: chain.url, addressPolicy: { allowPrivate: true } });
    const byValidator = await source({ url: chain.url, addressPolicy: { allowPrivate: true }, rankBy: `validator:${neurons[3]?.hotkey}` });
    expect(rankedUids(byIncentive.current()?.subnets.get(1))).toEqual([1, 2, 0]);
    expect(rankedUids(byValidator.current()?.subnets.get(1))).toEqual([0, 2, 1]);
  });

  it('keeps serving while the node is down, then picks up changes after it restarts on the same port', async () => {
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.1, 0.5]));
    const { logger, lines } = capturingLogger();
    const src = await source({ url: chain.url, addressPolicy: { allowPrivate: true }, logger });
    await chain.stop();
    await waitFor('degraded', () => src.status().state === 'degraded');
    const held = src.current();
    await new Promise((resolve) => setTimeout(resolve, 800)); // several reconnect attempts
    expect(src.current()).toBe(held);
    expect(src.status().error).toMatch(/not connected/);
    expect(lines.filter((l) => l.state === 'degraded')).toHaveLength(1);

    chain.setNeurons(1, loopbackSubnet([0.5, 0.1]));
    await chain.restart();
    await waitFor('new ranking after restart', () => rankedUids(src.current()?.subnets.get(1)).join() === '0,1');
    await waitFor('ok', () => src.status().state === 'ok');
  });

  const FAULTS: ReadonlyArray<Exclude<ChainFault, 'none'>> = ['garbage-json', 'wrong-types', 'unknown-runtime-call', 'stall'];
  it.each(FAULTS)('survives %s: logs an error, keeps the last snapshot, recovers', async (fault) => {
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.2, 0.4]));
    const { logger, lines } = capturingLogger();
    const src = await source({ url: chain.url, addressPolicy: { allowPrivate: true }, logger });
    chain.setFault(fault);
    await waitFor('degraded', () => src.status().state === 'degraded');
    const held = src.current();
    const blockAtFault = chain.block();
    await waitFor('a later block', () => chain.block() > blockAtFault + 3);
    expect(src.current()).toBe(held);
    expect(lines.some((l) => l.level >= 40 && l.state === 'degraded' && typeof l.error === 'string')).toBe(true);
    if (fault === 'garbage-json') expect(lines.some((l) => l.level === 50 && l.frame?.includes('502 Bad Gateway'))).toBe(true);

    chain.setFault('none');
    chain.setNeurons(1, loopbackSubnet([0.4, 0.2]));
    await waitFor('recovered', () => src.status().state === 'ok' && rankedUids(src.current()?.subnets.get(1)).join() === '0,1');
  });
});

describe('a node that never answers a subscription request', () => {
  it('is no crash: the api’s subscription waits, and syncs go on over the same connection', async () => {
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.2, 0.4]));
    // The api subscribes to runtime-version updates as it connects, with no error handler of its own:
    // failing that request while it listens would be an uncaught exception (vitest reports it as an error).
    chain.setFault('stall-subscriptions');
    const { logger, lines } = capturingLogger();
    const src = await source({ url: chain.url, addressPolicy: { allowPrivate: true }, logger });
    expect(chain.methodCalls().get('state_subscribeRuntimeVersion')).toBe(1);
    const first = src.current();
    // Well past the 400 ms call limit, the source still syncs new blocks.
    await waitFor('a sync a second later', () => (src.current()?.block ?? 0) > (first?.block ?? 0) && Date.now() - (first?.takenAt ?? 0) > 1000 && src.current());
    expect(src.status().state).toBe('ok');
    expect(chain.methodCalls().get('state_subscribeRuntimeVersion')).toBe(1);
    expect(lines.filter((l) => l.msg === 'chain connection attempt failed')).toEqual([]);
  });
});

describe('chain source start-up without a chain', () => {
  it('restores the saved snapshot at once, keeps its age, and reports degraded', async () => {
    const store: Store = createMemoryStore();
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.3, 0.6, 0]));
    const first = await source({ url: chain.url, addressPolicy: { allowPrivate: true }, store });
    const saved = first.current() as MetagraphSnapshot;
    await waitFor('snapshot saved', () => store.get('metagraph:snapshot'));
    await first.stop();
    const url = chain.url;
    await chain.stop();

    const { logger, lines } = capturingLogger();
    const started = Date.now();
    const second = await source({ url, addressPolicy: { allowPrivate: true }, store, logger });
    expect(Date.now() - started).toBeLessThan(2000);
    const restored = await waitFor('restored', () => second.current());
    expect(restored.source).toBe('store');
    expect(restored.takenAt).toBeLessThanOrEqual(Date.now());
    expect(restored.takenAt).toBeGreaterThan(0);
    const sn1 = restored.subnets.get(1);
    expect(rankedUids(sn1)).toEqual([1, 0]);
    expect(sn1?.unroutable.get(2)).toBe('zero_score');
    expect(sn1?.neurons).toEqual(saved.subnets.get(1)?.neurons);
    // start() does not wait for the chain: the refused connection is reported once it happens.
    await waitFor('degraded', () => second.status().state === 'degraded');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lines.filter((l) => l.state === 'degraded')).toHaveLength(1);

    // Restored rankings follow today's address policy, not the one they were saved under.
    const strict = await source({ url, addressPolicy: { allowPrivate: false }, store });
    expect(rankedUids(strict.current()?.subnets.get(1))).toEqual([]);
    expect(strict.current()?.subnets.get(1)?.noRouteReason).toMatch(/private or loopback/);
  });

  it('serves the saved snapshot without waiting when the endpoint accepts connections but never answers', async () => {
    const store: Store = createMemoryStore();
    const chain = await node();
    chain.setNeurons(1, loopbackSubnet([0.3, 0.6]));
    const first = await source({ url: chain.url, addressPolicy: { allowPrivate: true }, store });
    await waitFor('snapshot saved', () => store.get('metagraph:snapshot'));
    await first.stop();

    const silent = await silentEndpoint();
    const started = Date.now();
    // The handshake is given 30 s and start() 10 s: a start() that waited for the chain would take 10 s here.
    const second = await source({ url: silent.url, addressPolicy: { allowPrivate: true }, store, callTimeoutMs: 30_000, startTimeoutMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(second.current()?.source).toBe('store');
    expect(rankedUids(second.current()?.subnets.get(1))).toEqual([1, 0]);
    // The connection is under way in the background, and has not failed (nor succeeded) yet.
    await waitFor('a connection to the silent endpoint', () => silent.connections() > 0);
    expect(second.status()).toMatchObject({ state: 'starting', error: null });
  });

  it('is down with no snapshot when there is neither a chain nor a saved snapshot', async () => {
    const chain = await node();
    const url = chain.url;
    await chain.stop();
    const src = await source({ url });
    expect(src.current()).toBeNull();
    expect(src.status()).toMatchObject({ state: 'down', endpoint: url });
    expect(src.status().error).toMatch(/ECONNREFUSED/);
  });
});

describe('configuration', () => {
  it('resolves network aliases and rejects non-WebSocket URLs', () => {
    expect(resolveSubtensorUrl('finney')).toBe('wss://entrypoint-finney.opentensor.ai:443');
    expect(resolveSubtensorUrl('test')).toBe('wss://test.finney.opentensor.ai:443');
    expect(resolveSubtensorUrl('ws://127.0.0.1:9944')).toBe('ws://127.0.0.1:9944');
    expect(() => resolveSubtensorUrl('https://entrypoint-finney.opentensor.ai')).toThrow(SubtensorUrlError);
    expect(() => resolveSubtensorUrl('mainnet')).toThrow(/ws:\/\/ or wss:\/\//);
  });

  it('parses RANK_BY fallback chains and rejects bad hotkeys', () => {
    expect(parseRankBy('').map((p) => p.name)).toEqual(['incentive']);
    expect(parseRankBy(`incentive, validator:${SN1_BURN_HOTKEY}`).map((p) => p.name)).toEqual(['incentive', `validator:${SN1_BURN_HOTKEY}`]);
    expect(() => parseRankBy('validator:5NotAnAddress')).toThrow(RankByError);
    expect(() => parseRankBy('validator')).toThrow(/needs a hotkey/);
    expect(() => parseRankBy('stake')).toThrow(/unknown policy "stake"/);
    expect(() => parseRankBy('incentive,,incentive')).toThrow(RankByError);
  });
});
