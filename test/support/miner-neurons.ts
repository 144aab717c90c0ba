/** The local subtensor node's view of running fake miners: one neuron per miner, axon on loopback. */
import type { DevnetNeuron } from '../../src/devnet/chain-node.js';
import type { RunningMiner } from '../../src/devnet/miner.js';

/** miners[i] becomes uid firstUid + i with incentives[i] (0 when missing). */
export function minerNeurons(miners: readonly RunningMiner[], incentives: readonly number[], firstUid = 0): DevnetNeuron[] {
  return miners.map((m, i) => ({
    uid: firstUid + i,
    hotkey: m.hotkey,
    coldkey: null,
    stakeTao: 10,
    incentive: incentives[i] ?? 0,
    active: true,
    validatorPermit: false,
    axon: { ip: m.host, port: m.port },
    lastUpdate: 1,
  }));
}
