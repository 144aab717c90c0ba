/**
 * The gateway on Node (`npm start`, the tests, the benchmarks): Redis or the
 * memory store, undici transports, taogate.config.json from TAOGATE_CONFIG,
 * and the metagraph from a file or the chain. Everything else is assembled
 * by src/gateway.ts, as on Workers.
 */
import { createChainSource } from './chain/chain-source.js';
import { createEmptySource } from './chain/empty-source.js';
import { createFileSource } from './chain/file-source.js';
import type { MetagraphSource } from './chain/snapshot.js';
import type { Config } from './config.js';
import { loadGatewayConfigFile, type GatewayFileConfig } from './config-file.js';
import { addressPolicyOf, assembleGateway, usesBlend, withFileTimeouts, type Gateway } from './gateway.js';
import type { Logger } from './log.js';
import type { AddressPolicy } from './router/address-guard.js';
import type { QualityScores } from './router/candidate-policy.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';
import type { HttpTransport } from './transport/http-transport.js';
import { createUndiciTransport } from './transport/undici-transport.js';

export interface GatewayOverrides {
  /**
   * A ready metagraph source (tests pass one), or how to build one over the
   * gateway's store, so it saves and restores its snapshot there as the
   * chain source does (the devnet passes one).
   */
  readonly metagraph?: MetagraphSource | ((store: Store) => MetagraphSource);
  readonly store?: Store;
  /** Transport for chain-published miners. */
  readonly transport?: HttpTransport;
  /** Subnets, models and aliases instead of reading TAOGATE_CONFIG (the devnet and tests pass one). */
  readonly subnetConfig?: GatewayFileConfig;
  readonly quality?: QualityScores;
}

async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (!config.REDIS_URL) return createMemoryStore();
  return createRedisStore({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger });
}

function metagraphFromConfig(config: Config, file: GatewayFileConfig | null, addressPolicy: AddressPolicy, logger: Logger, store: Store): MetagraphSource {
  if (config.METAGRAPH_FILE) {
    return createFileSource({ path: config.METAGRAPH_FILE, addressPolicy, logger, rankPolicy: usesBlend(config) ? 'blend' : 'incentive' });
  }
  if (config.SUBTENSOR_URL && config.NETUIDS) {
    const models = config.SUBNET_MODELS ?? {};
    // Miner subnets named in the config file are synced too, whether or not NETUIDS lists them.
    const fileMinerSubnets = (file?.subnets ?? []).filter((s) => s.provider === 'openai-epistula').map((s) => s.netuid);
    return createChainSource({
      url: config.SUBTENSOR_URL,
      netuids: [...new Set([...config.NETUIDS, ...fileMinerSubnets])],
      modelsFor: (netuid) => models[String(netuid)] ?? [],
      rankBy: config.RANK_BY,
      refreshMs: config.METAGRAPH_REFRESH_S * 1000,
      addressPolicy,
      store,
      logger,
    });
  }
  // Every subnet served by its own API: no miners, so no metagraph to wait for.
  if (file && file.subnets.every((s) => s.provider === 'subnet-api') && !config.NETUIDS) return createEmptySource();
  throw new Error('no metagraph source: set METAGRAPH_FILE, or SUBTENSOR_URL with NETUIDS (npm start runs the devnet when neither is set)');
}

export async function createGateway(envConfig: Config, logger: Logger, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const subnetConfig = overrides.subnetConfig ?? (envConfig.TAOGATE_CONFIG ? loadGatewayConfigFile(envConfig.TAOGATE_CONFIG, process.env) : null);
  const config = withFileTimeouts(envConfig, subnetConfig);
  const addressPolicy = addressPolicyOf(config);
  const store = overrides.store ?? (await openStore(config, logger));
  // Miner axons come from the chain, so their transport refuses blocked addresses at connect time too.
  const transport =
    overrides.transport ??
    createUndiciTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, connectTimeoutMs: config.CONNECT_TIMEOUT_MS, addressPolicy });
  // Subnet APIs are configured by the operator: trusted, so no address guard (loopback and https alike).
  const apiTransport = createUndiciTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, connectTimeoutMs: config.CONNECT_TIMEOUT_MS });
  const metagraph =
    typeof overrides.metagraph === 'function' ? overrides.metagraph(store) : (overrides.metagraph ?? metagraphFromConfig(config, subnetConfig, addressPolicy, logger, store));
  return assembleGateway(envConfig, logger, {
    store,
    ownsStore: !overrides.store,
    transport,
    apiTransport,
    metagraph,
    subnetConfig,
    ...(overrides.quality ? { quality: overrides.quality } : {}),
  });
}
