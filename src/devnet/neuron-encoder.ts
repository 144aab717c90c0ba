/**
 * Encodes plain neuron descriptions into the SCALE bytes subtensor returns
 * from `NeuronInfoRuntimeApi_get_neurons_lite`, using the type definitions
 * from the real metadata (no hand-written layout). The inverse of
 * src/chain/neuron-decode.ts, which is what makes round-trip tests honest.
 */
import { decodeAddress } from '@polkadot/util-crypto';
import { ipToU128 } from '../chain/axon-ip.js';
import type { Neuron } from '../chain/snapshot.js';
import type { DevnetChainTypes } from './chain-types.js';

/**
 * A neuron as a test or the devnet describes it. The router's `Neuron`
 * (src/chain/snapshot.ts) fits this shape, so a snapshot's neurons can be
 * served back as they are.
 */
export type DevnetNeuron = Omit<Neuron, 'uid' | 'axon'> & {
  /** Must equal the neuron's position in the list when given (subtensor uids are dense). */
  readonly uid?: number;
  /** ipType defaults from the address text; coldkey null is served as the all-zero account. */
  readonly axon: { readonly ip: string; readonly port: number; readonly ipType?: 4 | 6 } | null;
};

const ZERO_ACCOUNT = new Uint8Array(32);
const RAO_PER_TAO = 1_000_000_000;
/** AxonInfo.protocol: 4 is what bittensor's Python SDK publishes for TCP. */
const AXON_PROTOCOL_TCP = 4;

export class NeuronEncodeError extends Error {
  override readonly name = 'NeuronEncodeError';
}

function u16Fraction(value: number, field: string, uid: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new NeuronEncodeError(`uid ${uid}: ${field} must be within 0..1, got ${value}`);
  return Math.round(value * 65535);
}

function account(ss58: string | null, field: string, uid: number): Uint8Array {
  if (ss58 === null) return ZERO_ACCOUNT;
  try {
    return decodeAddress(ss58);
  } catch (error) {
    throw new NeuronEncodeError(`uid ${uid}: ${field} is not an ss58 address: ${(error as Error).message}`);
  }
}

function axonInfo(neuron: DevnetNeuron, uid: number, block: number) {
  const empty = { block: 0, version: 0, ip: 0n, port: 0, ipType: 0, protocol: 0, placeholder1: 0, placeholder2: 0 };
  if (!neuron.axon) return empty;
  const { value, ipType } = ipToU128(neuron.axon.ip);
  if (neuron.axon.ipType !== undefined && neuron.axon.ipType !== ipType) {
    throw new NeuronEncodeError(`uid ${uid}: axon ${neuron.axon.ip} is IPv${ipType}, not IPv${neuron.axon.ipType}`);
  }
  const port = neuron.axon.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NeuronEncodeError(`uid ${uid}: axon port ${port} out of range`);
  return { ...empty, block, ip: value, port, ipType, protocol: AXON_PROTOCOL_TCP };
}

/** The NeuronInfoLite struct (camelCase field names, as @polkadot/types names them). */
function neuronInfoLite(neuron: DevnetNeuron, uid: number, netuid: number) {
  if (neuron.uid !== undefined && neuron.uid !== uid) {
    throw new NeuronEncodeError(`neuron at position ${uid} says uid ${neuron.uid}; subtensor uids are positions`);
  }
  if (!Number.isFinite(neuron.stakeTao) || neuron.stakeTao < 0) throw new NeuronEncodeError(`uid ${uid}: stakeTao must be ≥ 0`);
  const coldkey = account(neuron.coldkey, 'coldkey', uid);
  const lastUpdate = neuron.lastUpdate ?? 0;
  return {
    hotkey: account(neuron.hotkey, 'hotkey', uid),
    coldkey,
    uid,
    netuid,
    active: neuron.active,
    axonInfo: axonInfo(neuron, uid, lastUpdate),
    prometheusInfo: { block: 0, version: 0, ip: 0n, port: 0, ipType: 0 },
    // Stake arrives as (staker coldkey, rao) pairs; the devnet has one staker.
    stake: [[coldkey, BigInt(Math.round(neuron.stakeTao * RAO_PER_TAO))]],
    rank: 0,
    emission: 0,
    incentive: u16Fraction(neuron.incentive, 'incentive', uid),
    consensus: 0,
    trust: 0,
    validatorTrust: 0,
    dividends: 0,
    lastUpdate,
    validatorPermit: neuron.validatorPermit,
    pruningScore: 0,
  };
}

/** SCALE hex of Vec<NeuronInfoLite> for one subnet, exactly as the runtime api returns it. */
export function encodeNeuronsLite(types: DevnetChainTypes, netuid: number, neurons: readonly DevnetNeuron[]): `0x${string}` {
  const structs = neurons.map((n, i) => neuronInfoLite(n, i, netuid));
  return types.registry.createType(types.neuronsLiteType, structs).toHex();
}

/** SCALE hex of a validator's `Weights` value: Vec<(uid u16, weight u16)>. */
export function encodeWeights(types: DevnetChainTypes, weights: ReadonlyArray<readonly [number, number]>): `0x${string}` {
  for (const [uid, weight] of weights) {
    if (!Number.isInteger(uid) || uid < 0 || uid > 65535) throw new NeuronEncodeError(`weight target uid ${uid} is not a u16`);
    if (!Number.isInteger(weight) || weight < 0 || weight > 65535) throw new NeuronEncodeError(`weight ${weight} is not a u16`);
  }
  return types.registry.createType(types.weightsValueType, weights.map(([uid, w]) => [uid, w])).toHex();
}
