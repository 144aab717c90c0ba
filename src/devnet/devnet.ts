/**
 * The embedded devnet `npm start` runs when neither SUBTENSOR_URL nor
 * METAGRAPH_FILE is set: the local subtensor node with simulated subnets of
 * local miners (real HTTP servers that verify Epistula signatures and answer
 * deterministically), so a newcomer sees the whole gateway work offline.
 */
import { createChainSource } from '../chain/chain-source.js';
import type { MetagraphSource } from '../chain/snapshot.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { startChainNode, type ChainNode, type DevnetNeuron } from './chain-node.js';
import { startMiner, type RunningMiner } from './miner.js';
import { createEpistulaSigner } from '../epistula/signer.js';

interface DevnetSubnetPlan {
  readonly netuid: number;
  readonly models: readonly string[];
  /** One miner per entry: its incentive (0..1). */
  readonly minerIncentives: readonly number[];
  /** Each miner's answer quality (1-10), so /v1/compare and the judge tell them apart. */
  readonly minerQualities: readonly number[];
}

/** Two subnets that look like the real ones: general chat (SN4-like) and coding (SN62-like). */
export const DEVNET_SUBNETS: readonly DevnetSubnetPlan[] = [
  // The best-paid miner is not the best one: compare and RANK_BY=blend have something to find.
  { netuid: 4, models: ['llama-3.1-8b', 'qwen-2.5-7b'], minerIncentives: [0.5, 0.3, 0.2], minerQualities: [5, 9, 3] },
  { netuid: 62, models: ['qwen-coder-32b'], minerIncentives: [0.7, 0.3], minerQualities: [6, 8] },
];

export interface Devnet {
  readonly chain: ChainNode;
  readonly miners: readonly RunningMiner[];
  readonly netuids: readonly number[];
  modelsFor(netuid: number): readonly string[];
  /** The chain source over this devnet, as the gateway will use it. */
  metagraphSource(options: { logger: Logger; store?: Store; refreshMs: number; rankBy: string }): MetagraphSource;
  stop(): Promise<void>;
}

export interface DevnetOptions {
  readonly logger: Logger;
  /** Block time of the simulated chain (default 2 s, so changes show quickly). */
  readonly blockTimeMs?: number;
}

export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const chain = await startChainNode({ blockTimeMs: options.blockTimeMs ?? 2000, logger: options.logger });
  const miners: RunningMiner[] = [];
  try {
    const validator = await createEpistulaSigner('//DevnetValidator');
    for (const plan of DEVNET_SUBNETS) {
      // uid 0 is a validator without an axon, as on real subnets; miners follow.
      const neurons: DevnetNeuron[] = [
        { uid: 0, hotkey: validator.ss58, coldkey: null, stakeTao: 10_000, incentive: 0, active: true, validatorPermit: true, axon: null, lastUpdate: 1 },
      ];
      for (const [i, incentive] of plan.minerIncentives.entries()) {
        const name = `sn${plan.netuid}-${i + 1}`;
        const quality = plan.minerQualities[i];
        const miner = await startMiner({ hotkeyUri: `//DevnetMiner/${plan.netuid}/${i + 1}`, name, chunkDelayMs: 15, ...(quality !== undefined && { quality }) });
        miners.push(miner);
        neurons.push({
          uid: i + 1,
          hotkey: miner.hotkey,
          coldkey: null,
          stakeTao: 100,
          incentive,
          active: true,
          validatorPermit: false,
          axon: { ip: miner.host, port: miner.port, ipType: 4 },
          lastUpdate: 1,
        });
      }
      chain.setNeurons(plan.netuid, neurons);
      // The validator's weights mirror incentive, so RANK_BY=validator:<it> works here too.
      chain.setWeights(plan.netuid, 0, plan.minerIncentives.map((x, i) => [i + 1, Math.round(x * 65535)] as const));
    }
  } catch (err) {
    await Promise.all(miners.map((m) => m.close()));
    await chain.stop();
    throw err;
  }

  const models = new Map(DEVNET_SUBNETS.map((s) => [s.netuid, s.models]));
  return {
    chain,
    miners,
    netuids: DEVNET_SUBNETS.map((s) => s.netuid),
    modelsFor: (netuid) => models.get(netuid) ?? [],
    metagraphSource({ logger, store, refreshMs, rankBy }) {
      return createChainSource({
        kind: 'devnet',
        url: chain.url,
        netuids: DEVNET_SUBNETS.map((s) => s.netuid),
        modelsFor: (netuid) => models.get(netuid) ?? [],
        rankBy,
        refreshMs,
        addressPolicy: { allowPrivate: true },
        store,
        storeKey: 'metagraph:snapshot:devnet',
        logger,
      });
    },
    async stop() {
      await Promise.all(miners.map((m) => m.close()));
      await chain.stop();
    },
  };
}
