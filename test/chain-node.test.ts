/**
 * The devnet subtensor node against the real @polkadot/api 16.5.6 client:
 * it connects with finney's own metadata, serves the recorded SN1 neurons
 * byte for byte, round-trips synthetic neurons and weights, and ticks.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Struct, UInt } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import { blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeNeuronsLite } from '../src/chain/neuron-decode.js';
import type { Neuron } from '../src/chain/snapshot.js';
import { FINNEY_GENESIS_HASH, sn1NeuronsLiteHex } from '../src/devnet/chain-fixtures.js';
import { startChainNode, type ChainNode, type DevnetNeuron } from '../src/devnet/chain-node.js';

const SN1_BURN_HOTKEY = '5HCFWvRqzSHWRPecN7q8J6c7aKQnrCZTMHstPv39xL1wgDHh';

function account(seed: string): string {
  return encodeAddress(blake2AsU8a(seed), 42);
}

async function neuronsLite(api: ApiPromise, netuid: number): Promise<Codec> {
  const call = api.call['neuronInfoRuntimeApi']?.['getNeuronsLite'];
  if (!call) throw new Error('api has no neuronInfoRuntimeApi.getNeuronsLite');
  return call(netuid);
}

async function weights(api: ApiPromise | Awaited<ReturnType<ApiPromise['at']>>, netuid: number, uid: number): Promise<unknown> {
  const query = api.query['subtensorModule']?.['weights'];
  if (!query) throw new Error('api has no subtensorModule.weights');
  return (await query(netuid, uid)).toJSON();
}

/** One raw JSON-RPC exchange over a fresh socket, for fault modes the api would hide. */
async function rawCall(url: string, method: string, params: unknown[], waitMs = 300): Promise<string | null> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const reply = new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(data.toString());
    });
  });
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  const text = await reply;
  socket.terminate();
  return text;
}

describe('devnet chain node', () => {
  let node: ChainNode;
  let api: ApiPromise;

  beforeAll(async () => {
    node = await startChainNode({ blockTimeMs: 200 });
    node.setRawNeurons(1, sn1NeuronsLiteHex());
    api = await ApiPromise.create({ provider: new WsProvider(node.url), noInitWarn: true });
  });

  afterAll(async () => {
    await api?.disconnect();
    await node?.stop();
  });

  it('lets @polkadot/api connect with the chain’s own metadata', () => {
    expect(api.genesisHash.toHex()).toBe(FINNEY_GENESIS_HASH);
    expect(api.runtimeVersion.specName.toString()).toBe('node-subtensor');
    expect(api.runtimeVersion.specVersion.toNumber()).toBe(343);
    expect(api.runtimeMetadata.version).toBe(15);
    expect(api.registry.chainSS58).toBe(42);
    expect(api.registry.chainDecimals).toEqual([9]);
    expect(api.registry.chainTokens).toEqual(['TAO']);
    const asked = [...node.methodCalls().keys()];
    for (const method of ['chain_getBlockHash', 'state_getRuntimeVersion', 'system_chain', 'system_properties', 'rpc_methods', 'state_call']) {
      expect(asked).toContain(method);
    }
    expect(node.unservedMethods()).toEqual([]);
  });

  it('serves the recorded SN1 neurons so they decode to what the README states', async () => {
    const result = await neuronsLite(api, 1);
    const neurons = decodeNeuronsLite(result, 1);
    expect(neurons).toHaveLength(1024);
    // ip ≠ 0 counted on the raw codec, independently of the decoder's axon rule.
    const withIp = (result as unknown as Codec[]).filter((item) => {
      const axon = item instanceof Struct ? item.get('axonInfo') : undefined;
      const ip = axon instanceof Struct ? axon.get('ip') : undefined;
      return ip instanceof UInt && !ip.isZero();
    });
    expect(withIp).toHaveLength(827);
    expect(neurons.filter((n) => n.axon !== null)).toHaveLength(827);
    expect(neurons.filter((n) => n.active)).toHaveLength(10);
    expect(neurons.filter((n) => n.validatorPermit)).toHaveLength(12);

    const withIncentive = neurons.filter((n) => n.incentive > 0);
    expect(withIncentive.map((n) => n.uid)).toEqual([395]);
    expect(withIncentive[0]).toMatchObject({ hotkey: SN1_BURN_HOTKEY, incentive: 1, validatorPermit: true, axon: null });

    expect(neurons[0]).toEqual({
      uid: 0,
      hotkey: '5DkMmXtWf16RNdusZGCrJ7ca7ADPgRnZLVWCWbgA7s7sy1AQ',
      coldkey: '5EhQWxcFdYAk7B9tNdQnJQFzww5N3964rbsMk55SujcX3PwM',
      stakeTao: 2.557172316,
      incentive: 0,
      active: false,
      validatorPermit: false,
      axon: { ip: '192.222.59.109', port: 6028, ipType: 4 },
      lastUpdate: 2543521,
    });
  });

  it('round-trips synthetic neurons through its encoder and the api’s decoder', async () => {
    const neurons: DevnetNeuron[] = [
      { hotkey: account('hk0'), coldkey: account('ck0'), stakeTao: 1234.5, incentive: 0.25, active: true, validatorPermit: false, axon: { ip: '203.0.113.7', port: 8091 }, lastUpdate: 100 },
      { hotkey: account('hk1'), coldkey: account('ck1'), stakeTao: 0, incentive: 0, active: false, validatorPermit: true, axon: null, lastUpdate: 0 },
      { hotkey: account('hk2'), coldkey: account('ck2'), stakeTao: 0.000000001, incentive: 1, active: true, validatorPermit: false, axon: { ip: '2001:db8::1', port: 443, ipType: 6 }, lastUpdate: 7 },
      { hotkey: account('hk3'), coldkey: account('ck3'), stakeTao: 9_000_000, incentive: 1 / 3, active: true, validatorPermit: true, axon: { ip: '127.0.0.1', port: 65535 }, lastUpdate: 6_852_690 },
    ];
    node.setNeurons(5, neurons);
    const decoded = decodeNeuronsLite(await neuronsLite(api, 5), 5);
    const expected: Neuron[] = neurons.map((n, uid) => ({
      uid,
      hotkey: n.hotkey,
      coldkey: n.coldkey,
      stakeTao: n.stakeTao,
      incentive: Math.round(n.incentive * 65535) / 65535,
      active: n.active,
      validatorPermit: n.validatorPermit,
      axon: n.axon ? { ip: n.axon.ip, port: n.axon.port, ipType: n.axon.ip.includes(':') ? 6 : 4 } : null,
      lastUpdate: n.lastUpdate,
    }));
    expect(decoded).toEqual(expected);

    // Served at the time of the call, and empty once the subnet is gone.
    node.setNeurons(5, neurons.slice(0, 2));
    expect(decodeNeuronsLite(await neuronsLite(api, 5), 5)).toHaveLength(2);
    node.removeSubnet(5);
    expect(decodeNeuronsLite(await neuronsLite(api, 5), 5)).toEqual([]);
  });

  it('round-trips validator weights through storage, at the head and at a pinned block', async () => {
    node.setWeights(1, 395, [
      [245, 40000],
      [502, 65535],
    ]);
    expect(await weights(api, 1, 395)).toEqual([
      [245, 40000],
      [502, 65535],
    ]);
    const hash = await api.rpc.chain.getFinalizedHead();
    expect(await weights(await api.at(hash), 1, 395)).toEqual([
      [245, 40000],
      [502, 65535],
    ]);
    expect(await weights(api, 1, 396)).toEqual([]);
    // Iterating the map walks state_getKeysPaged with the (netuid) prefix.
    node.setWeights(2, 9, [[1, 1]]);
    const entries = (await api.query['subtensorModule']?.['weights']?.entries(1)) ?? [];
    expect(entries.map(([key, value]) => [key.args.map(String), value.toJSON()])).toEqual([
      [['1', '395'], [[245, 40000], [502, 65535]]],
    ]);
    node.removeSubnet(1);
    expect(await weights(api, 1, 395)).toEqual([]);
    node.setRawNeurons(1, sn1NeuronsLiteHex());
  });

  it('advances blocks, pushes new heads, and hashes headers the way the api does', async () => {
    const seen: number[] = [];
    const unsubscribe = await api.rpc.chain.subscribeNewHeads((header) => {
      seen.push(header.number.toNumber());
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    unsubscribe();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBeLessThanOrEqual(node.block());

    const n = node.block();
    const hash = await api.rpc.chain.getBlockHash(n);
    expect(hash.toHex()).toBe(node.blockHash(n));
    const header = await api.rpc.chain.getHeader(hash);
    expect(header.number.toNumber()).toBe(n);
    expect(header.hash.toHex()).toBe(hash.toHex());
    expect(header.parentHash.toHex()).toBe(node.blockHash(n - 1));
    expect((await api.rpc.chain.getBlockHash(0)).toHex()).toBe(FINNEY_GENESIS_HASH);
  });

  it('answers methods it does not serve with a JSON-RPC error and remembers them', async () => {
    const reply = await rawCall(node.url, 'author_pendingExtrinsics', []);
    expect(JSON.parse(reply ?? '{}')).toMatchObject({ id: 1, error: { code: -32601 } });
    expect(node.unservedMethods()).toContain('author_pendingExtrinsics');
    const garbage = await rawCall(node.url, 'state_call', ['NoSuchApi_call', '0x']);
    expect(JSON.parse(garbage ?? '{}')).toMatchObject({ error: { code: 4003 } });
  });

  it('misbehaves on the neurons call in each fault mode', async () => {
    const call = () => rawCall(node.url, 'state_call', ['NeuronInfoRuntimeApi_get_neurons_lite', '0x0100']);
    node.setFault('garbage-json');
    const garbage = (await call()) ?? '';
    expect(() => JSON.parse(garbage)).toThrow();
    node.setFault('wrong-types');
    const wrong = JSON.parse((await call()) ?? '{}') as { result: string };
    expect(wrong.result.length).toBeLessThan(sn1NeuronsLiteHex().length);
    node.setFault('unknown-runtime-call');
    expect(JSON.parse((await call()) ?? '{}')).toMatchObject({ error: { code: 4003 } });
    node.setFault('stall');
    expect(await call()).toBeNull();
    node.setFault('none');
    expect(JSON.parse((await call()) ?? '{}')).toMatchObject({ result: sn1NeuronsLiteHex() });
  });

  it('closes sockets on stop and listens on the same port after restart', async () => {
    const port = node.port;
    const provider = new WsProvider(node.url, false);
    await provider.connect();
    await provider.isReady;
    const closed = new Promise<void>((resolve) => provider.on('disconnected', () => resolve()));
    await node.stop();
    await closed;
    expect(node.isRunning()).toBe(false);
    await node.restart();
    expect(node.port).toBe(port);
    expect(JSON.parse((await rawCall(node.url, 'system_chain', [])) ?? '{}')).toMatchObject({ result: 'Bittensor' });
    await provider.disconnect();
  });
});
