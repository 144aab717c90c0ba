// Cost of one chain-source sync of a 256-neuron subnet against the devnet node:
// get_neurons_lite over a real WebSocket → @polkadot/api decode → Neuron[] → rankSubnet.
// Target: ≤ 100 ms per sync. Run: npm run bench -- decode
import { blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';
import type { ApiPromise } from '@polkadot/api';
import { decodeNeuronsLite } from '../../src/chain/neuron-decode.js';
import { rankWithPolicyChain } from '../../src/chain/policy-chain.js';
import { incentivePolicy } from '../../src/chain/rank-policy.js';
import { ResilientWsProvider } from '../../src/chain/resilient-ws-provider.js';
import type { Neuron } from '../../src/chain/snapshot.js';
import { pinFinalizedBlock, readSubnetNeurons, type PinnedBlock } from '../../src/chain/subnet-reader.js';
import { createSubtensorApi } from '../../src/chain/subtensor-api-options.js';
import { startChainNode, type DevnetNeuron } from '../../src/devnet/chain-node.js';
import { devnetChainTypes } from '../../src/devnet/chain-types.js';
import type { BenchSuite } from '../support/suite.js';

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

const NEURONS = 256;
const NETUID = 7;
const ITERATIONS = 40;

/** A plausible subnet: public axons, a spread of incentives, a few validators. */
function syntheticSubnet(): DevnetNeuron[] {
  return Array.from({ length: NEURONS }, (_, uid) => ({
    hotkey: encodeAddress(blake2AsU8a(`bench-hotkey-${uid}`), 42),
    coldkey: encodeAddress(blake2AsU8a(`bench-coldkey-${uid % 40}`), 42),
    stakeTao: (uid * 7919) % 5000,
    incentive: uid % 9 === 0 ? 0 : ((uid * 37) % 100) / 1000,
    active: uid % 11 !== 0,
    validatorPermit: uid < 16,
    axon: uid % 13 === 0 ? null : { ip: `45.${(uid * 3) % 250}.${uid % 200}.${(uid % 250) + 1}`, port: 8000 + uid },
    lastUpdate: 6_850_000 + uid,
  }));
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

function rank(neurons: readonly Neuron[], block: number) {
  return rankWithPolicyChain({
    netuid: NETUID,
    neurons,
    block,
    models: [],
    policies: [incentivePolicy],
    addressPolicy: { allowPrivate: false },
    weightsOf: async () => [],
  });
}

async function connectedApi(url: string): Promise<{ api: ApiPromise; provider: ResilientWsProvider }> {
  const provider = new ResilientWsProvider({ url, requestTimeoutMs: 10_000, backoff: { baseMs: 100, capMs: 1000 } });
  const api = createSubtensorApi(provider);
  const ready = new Promise<void>((resolve) => api.once('ready', () => resolve()));
  await provider.connect();
  await ready;
  return { api, provider };
}

export async function runDecodeBench(): Promise<Row[]> {
  const node = await startChainNode({ blockTimeMs: 60_000 });
  const neurons = syntheticSubnet();
  node.setNeurons(NETUID, neurons);
  const { api, provider } = await connectedApi(node.url);
  const neuronsLiteType = devnetChainTypes().neuronsLiteType;
  try {
    const block: PinnedBlock = await pinFinalizedBlock(api);
    // The first decode builds @polkadot/types' classes for NeuronInfoLite: a one-off per process.
    const [coldMs] = await timed(async () => rank(await readSubnetNeurons(block, NETUID), block.number));

    const sync: number[] = [];
    const decodeRank: number[] = [];
    const transport: number[] = [];
    const rawHex = await api.rpc.state.call('NeuronInfoRuntimeApi_get_neurons_lite', '0x0700', block.hash);
    for (let i = 0; i < ITERATIONS; i++) {
      // What one sync of one subnet costs: pin the block, one runtime call, decode, rank.
      const [syncMs] = await timed(async () => {
        const pinned = await pinFinalizedBlock(api);
        return rank(await readSubnetNeurons(pinned, NETUID), pinned.number);
      });
      sync.push(syncMs);
      // In-process only: SCALE → codec → Neuron[] → ranked, no socket.
      const [cpuMs] = await timed(async () => rank(decodeNeuronsLite(api.registry.createType(neuronsLiteType, rawHex), NETUID), 0));
      decodeRank.push(cpuMs);
      const [rpcMs] = await timed(() => api.rpc.state.call('NeuronInfoRuntimeApi_get_neurons_lite', '0x0700', block.hash));
      transport.push(rpcMs);
    }
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return [
      { name: `sync of a ${NEURONS}-neuron subnet, median (pin block + get_neurons_lite + decode + rank)`, value: round(percentile(sync, 0.5)), unit: 'ms' },
      { name: `sync of a ${NEURONS}-neuron subnet, p95`, value: round(percentile(sync, 0.95)), unit: 'ms' },
      { name: 'decode + rank only (SCALE → Neuron[] → ranked), median', value: round(percentile(decodeRank, 0.5)), unit: 'ms' },
      { name: 'get_neurons_lite round trip only (raw bytes), median', value: round(percentile(transport, 0.5)), unit: 'ms' },
      { name: 'first sync in a process (type classes built), once', value: round(coldMs), unit: 'ms' },
      { name: 'get_neurons_lite answer size', value: rawHex.length, unit: 'bytes' },
    ];
  } finally {
    await api.disconnect();
    await provider.disconnect();
    await node.stop();
  }
}

/** The suite `npm run bench` runs. */
export const decodeSuite: BenchSuite = {
  name: 'decode',
  title: 'Chain sync cost: get_neurons_lite of a 256-neuron subnet from the local node, decoded and ranked',
  async run() {
    const rows = await runDecodeBench();
    return {
      columns: ['name', 'value', 'unit'],
      rows: rows.map((r) => ({ name: r.name, value: r.value, unit: r.unit })),
      notes: ['target: <= 100 ms per sync of a 256-neuron subnet'],
    };
  },
};
