/**
 * The embedded devnet `npm start` runs when neither SUBTENSOR_URL,
 * METAGRAPH_FILE nor TAOGATE_CONFIG is set: the local subtensor node with
 * simulated subnets of local miners (real HTTP servers that verify Epistula
 * signatures and answer deterministically), and two fake subnet APIs (a
 * "Chutes" on SN64, marked private, and a "Nineteen" on SN19) answering in
 * their real APIs' shapes, so a newcomer sees the whole gateway work
 * offline: one catalog across both kinds of subnet, aliases that fail over
 * between them, and private mode.
 */
import { createChainSource } from '../chain/chain-source.js';
import type { MetagraphSource } from '../chain/snapshot.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { startChainNode, type ChainNode, type DevnetNeuron } from './chain-node.js';
import { startMiner, type RunningMiner } from './miner.js';
import { createEpistulaSigner } from '../epistula/signer.js';
import { randomBytes } from 'node:crypto';
import { parseGatewayConfig, type GatewayFileConfig } from '../config-file.js';
import { startFakeSubnetApi, type RunningSubnetApi } from './fake-subnet-api.js';

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
  /** Netuids of the miner subnets (on the simulated chain). */
  readonly netuids: readonly number[];
  /** The fake subnet APIs: SN64 "Chutes" (private) and SN19 "Nineteen". */
  readonly apis: { readonly chutes: RunningSubnetApi; readonly nineteen: RunningSubnetApi };
  modelsFor(netuid: number): readonly string[];
  /** The devnet's taogate config: both kinds of subnet, prices, aliases across them. */
  subnetConfig(): GatewayFileConfig;
  /** The chain source over this devnet, as the gateway will use it. */
  metagraphSource(options: { logger: Logger; store?: Store; refreshMs: number; rankBy: string }): MetagraphSource;
  stop(): Promise<void>;
}

export interface DevnetOptions {
  readonly logger: Logger;
  /** Block time of the simulated chain (default 2 s, so changes show quickly). */
  readonly blockTimeMs?: number;
}

/** Upstream model names each fake API serves, as the real ones name them. */
const CHUTES_MODELS = { 'deepseek-v3': 'deepseek-ai/DeepSeek-V3-0324', 'qwen3-32b': 'Qwen/Qwen3-32B-TEE' };
const NINETEEN_MODELS = { 'deepseek-v3': 'deepseek-ai/DeepSeek-V3', 'llama-3.1-8b': 'chat-llama-3-1-8b' };

function devnetConfigDocument(chutes: RunningSubnetApi, nineteen: RunningSubnetApi) {
  return {
    subnets: [
      { netuid: 4, provider: 'openai-epistula' },
      { netuid: 62, provider: 'openai-epistula' },
      {
        netuid: 64,
        provider: 'subnet-api',
        api: { kind: 'chutes', baseUrl: chutes.baseUrl, apiKeyEnv: 'DEVNET_CHUTES_API_KEY' },
        private: true,
        models: [
          { name: 'deepseek-v3', upstream: CHUTES_MODELS['deepseek-v3'], price: { prompt: 0.3, completion: 1.2 }, context_length: 163840 },
          { name: 'qwen3-32b', upstream: CHUTES_MODELS['qwen3-32b'], price: { prompt: 0.1, completion: 0.3 }, context_length: 40960 },
        ],
      },
      {
        netuid: 19,
        provider: 'subnet-api',
        api: { kind: 'nineteen', baseUrl: nineteen.baseUrl, apiKeyEnv: 'DEVNET_NINETEEN_API_KEY' },
        models: [
          { name: 'deepseek-v3', upstream: NINETEEN_MODELS['deepseek-v3'], price: { prompt: 0.25, completion: 1.0 }, context_length: 131072 },
          { name: 'llama-3.1-8b', upstream: NINETEEN_MODELS['llama-3.1-8b'], price: { prompt: 0.02, completion: 0.05 }, context_length: 131072 },
        ],
      },
    ],
    aliases: { deepseek: ['sn64/deepseek-v3', 'sn19/deepseek-v3'], llama: ['sn4/llama-3.1-8b', 'sn19/llama-3.1-8b'] },
  };
}

export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const chain = await startChainNode({ blockTimeMs: options.blockTimeMs ?? 2000, logger: options.logger });
  const miners: RunningMiner[] = [];
  const apiKeys = { chutes: `cpk_devnet_${randomBytes(12).toString('hex')}`, nineteen: `devnet-${randomBytes(16).toString('hex')}` };
  const apis: RunningSubnetApi[] = [];
  let chutes: RunningSubnetApi;
  let nineteen: RunningSubnetApi;
  try {
    chutes = await startFakeSubnetApi({ flavor: 'chutes', apiKey: apiKeys.chutes, models: Object.values(CHUTES_MODELS), name: 'chutes-sn64', chunkDelayMs: 15 });
    apis.push(chutes);
    nineteen = await startFakeSubnetApi({ flavor: 'nineteen', apiKey: apiKeys.nineteen, models: Object.values(NINETEEN_MODELS), name: 'nineteen-sn19', chunkDelayMs: 15 });
    apis.push(nineteen);
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
    await Promise.all([...miners, ...apis].map((m) => m.close()));
    await chain.stop();
    throw err;
  }

  const models = new Map(DEVNET_SUBNETS.map((s) => [s.netuid, s.models]));
  return {
    chain,
    miners,
    netuids: DEVNET_SUBNETS.map((s) => s.netuid),
    apis: { chutes, nineteen },
    modelsFor: (netuid) => models.get(netuid) ?? [],
    subnetConfig: () =>
      parseGatewayConfig('devnet', devnetConfigDocument(chutes, nineteen), { DEVNET_CHUTES_API_KEY: apiKeys.chutes, DEVNET_NINETEEN_API_KEY: apiKeys.nineteen }),
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
      await Promise.all([...miners, ...apis].map((m) => m.close()));
      await chain.stop();
    },
  };
}
