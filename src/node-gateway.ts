/**
 * The gateway on Node (`npm start`, the tests, the benchmarks): Redis or the
 * memory store, the undici transport, and the metagraph from a file or the
 * chain. Everything else is assembled by src/gateway.ts, as on Workers.
 */
import { createChainSource } from './chain/chain-source.js';
import { createFileSource } from './chain/file-source.js';
import type { MetagraphSource } from './chain/snapshot.js';
import type { Config } from './config.js';
import { addressPolicyOf, assembleGateway, usesBlend, type Gateway } from './gateway.js';
import type { Logger } from './log.js';
import type { AddressPolicy } from './router/address-guard.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';
import type { HttpTransport } from './transport/http-transport.js';
import { createUndiciTransport } from './transport/undici-transport.js';

export interface GatewayOverrides {
  /** A ready metagraph source (the devnet and tests pass one). */
  readonly metagraph?: MetagraphSource;
  readonly store?: Store;
  readonly transport?: HttpTransport;
}

async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (!config.REDIS_URL) return createMemoryStore();
  return createRedisStore({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger });
}

function metagraphFromConfig(config: Config, addressPolicy: AddressPolicy, logger: Logger, store: Store): MetagraphSource {
  if (config.METAGRAPH_FILE) {
    return createFileSource({ path: config.METAGRAPH_FILE, addressPolicy, logger, rankPolicy: usesBlend(config) ? 'blend' : 'incentive' });
  }
  if (config.SUBTENSOR_URL && config.NETUIDS) {
    const models = config.SUBNET_MODELS ?? {};
    return createChainSource({
      url: config.SUBTENSOR_URL,
      netuids: config.NETUIDS,
      modelsFor: (netuid) => models[String(netuid)] ?? [],
      rankBy: config.RANK_BY,
      refreshMs: config.METAGRAPH_REFRESH_S * 1000,
      addressPolicy,
      store,
      logger,
    });
  }
  throw new Error('no metagraph source: set METAGRAPH_FILE, or SUBTENSOR_URL with NETUIDS (npm start runs the devnet when neither is set)');
}

export async function createGateway(config: Config, logger: Logger, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const addressPolicy = addressPolicyOf(config);
  const store = overrides.store ?? (await openStore(config, logger));
  // Miner axons come from the chain, so their transport refuses blocked addresses at connect time too.
  // A provider for operator-configured upstreams would get its own transport without addressPolicy.
  const transport =
    overrides.transport ??
    createUndiciTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, connectTimeoutMs: config.CONNECT_TIMEOUT_MS, addressPolicy });
  const metagraph = overrides.metagraph ?? metagraphFromConfig(config, addressPolicy, logger, store);
  return assembleGateway(config, logger, { store, ownsStore: !overrides.store, transport, metagraph });
}
