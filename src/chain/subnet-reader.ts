/**
 * The chain reads one sync makes, all pinned to one block: the finalized
 * head, each subnet's neurons (ONE runtime call per subnet), and on demand a
 * validator's weights. Everything goes through @polkadot/api decorated from
 * the chain's own metadata.
 */
import type { ApiPromise } from '@polkadot/api';
import { Compact, Tuple, UInt, Vec } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import { decodeNeuronsLite } from './neuron-decode.js';
import type { Neuron } from './snapshot.js';

export type ApiAtBlock = Awaited<ReturnType<ApiPromise['at']>>;

export interface PinnedBlock {
  readonly hash: string;
  readonly number: number;
  readonly api: ApiAtBlock;
}

/** The finalized head (no reorgs under a snapshot) and an api view pinned to it. */
export async function pinFinalizedBlock(api: ApiPromise): Promise<PinnedBlock> {
  const hash = await api.rpc.chain.getFinalizedHead();
  const header = await api.rpc.chain.getHeader(hash);
  return { hash: hash.toHex(), number: header.number.toNumber(), api: await api.at(hash) };
}

export async function readSubnetNeurons(block: PinnedBlock, netuid: number): Promise<Neuron[]> {
  const call = block.api.call['neuronInfoRuntimeApi']?.['getNeuronsLite'];
  if (!call) throw new Error('this chain has no NeuronInfoRuntimeApi.get_neurons_lite runtime api');
  return decodeNeuronsLite(await call(netuid), netuid);
}

function u16(value: Codec | undefined): number {
  if (value instanceof Compact || value instanceof UInt) return value.toNumber();
  throw new Error('weights entry is not (u16, u16)');
}

/** `SubtensorModule.Weights(netuid, uid)`: the [target uid, u16 weight] pairs a validator has set. */
export async function readValidatorWeights(block: PinnedBlock, netuid: number, uid: number): Promise<Array<[number, number]>> {
  const query = block.api.query['subtensorModule']?.['weights'];
  if (!query) throw new Error('this chain has no SubtensorModule.Weights storage');
  const value = await query(netuid, uid);
  if (!(value instanceof Vec)) throw new Error(`weights of uid ${uid} on subnet ${netuid} did not decode as a list`);
  return (value as Vec<Codec>).map((entry) => {
    if (!(entry instanceof Tuple)) throw new Error('weights entry is not (u16, u16)');
    return [u16(entry[0]), u16(entry[1])];
  });
}
