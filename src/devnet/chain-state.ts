/**
 * What the devnet node serves: per-subnet neuron lists (kept as the SCALE
 * bytes the runtime api returns) and the storage items the gateway reads.
 * State is not versioned per block: a call "at" any known block answers
 * with the state at the time of the call, which is all the gateway needs.
 */
import { isHex } from '@polkadot/util';
import type { DevnetChainTypes } from './chain-types.js';
import { encodeNeuronsLite, encodeWeights, type DevnetNeuron } from './neuron-encoder.js';

/** SCALE Vec<NeuronInfoLite> with zero elements: what subtensor returns for a netuid that does not exist. */
const EMPTY_VEC = '0x00';

export class DevnetChainState {
  readonly #types: DevnetChainTypes;
  readonly #neurons = new Map<number, `0x${string}`>();
  /** storage key hex → value hex */
  readonly #storage = new Map<string, `0x${string}`>();
  /** netuid → storage keys written for it, so removeSubnet can clear them */
  readonly #keysBySubnet = new Map<number, Set<string>>();

  constructor(types: DevnetChainTypes) {
    this.#types = types;
  }

  setNeurons(netuid: number, neurons: readonly DevnetNeuron[]): void {
    this.#neurons.set(checkNetuid(netuid), encodeNeuronsLite(this.#types, netuid, neurons));
  }

  /** Serves pre-encoded Vec<NeuronInfoLite> bytes as they are (e.g. a recording from finney). */
  setRawNeurons(netuid: number, hex: string): void {
    if (!isHex(hex)) throw new Error('setRawNeurons expects 0x-prefixed hex');
    this.#neurons.set(checkNetuid(netuid), hex);
  }

  setWeights(netuid: number, uid: number, weights: ReadonlyArray<readonly [number, number]>): void {
    const key = this.#types.weightsKey(checkNetuid(netuid), uid);
    this.#storage.set(key, encodeWeights(this.#types, weights));
    const keys = this.#keysBySubnet.get(netuid) ?? new Set<string>();
    keys.add(key);
    this.#keysBySubnet.set(netuid, keys);
  }

  removeSubnet(netuid: number): void {
    this.#neurons.delete(netuid);
    for (const key of this.#keysBySubnet.get(netuid) ?? []) this.#storage.delete(key);
    this.#keysBySubnet.delete(netuid);
  }

  neuronsLite(netuid: number): `0x${string}` {
    return this.#neurons.get(netuid) ?? EMPTY_VEC;
  }

  storage(key: string): `0x${string}` | null {
    return this.#storage.get(key.toLowerCase()) ?? null;
  }

  /** Keys starting with `prefix`, sorted, after `startKey`, at most `count` (state_getKeysPaged). */
  keysPaged(prefix: string, count: number, startKey: string | null): string[] {
    const lower = prefix.toLowerCase();
    const start = startKey?.toLowerCase() ?? null;
    return [...this.#storage.keys()]
      .filter((k) => k.startsWith(lower) && (start === null || k > start))
      .sort()
      .slice(0, count);
  }
}

function checkNetuid(netuid: number): number {
  if (!Number.isInteger(netuid) || netuid < 0 || netuid > 65535) throw new Error(`netuid ${netuid} is not a u16`);
  return netuid;
}
