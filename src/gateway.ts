/**
 * Builds the gateway's long-lived parts from configuration: store, keys,
 * signer, transport, providers, metagraph source and model catalog. Both
 * entries (Node server, Workers) and the tests build through here, so what
 * runs in production is what the tests exercise.
 */
import { mnemonicGenerate } from '@polkadot/util-crypto';
import { createOpenAiEpistulaProvider } from '../providers/openai-epistula.js';
import type { Provider } from '../providers/provider.js';
import { ModelCatalog } from './catalog/model-catalog.js';
import { createChainSource } from './chain/chain-source.js';
import { createFileSource } from './chain/file-source.js';
import type { MetagraphSnapshot, MetagraphSource } from './chain/snapshot.js';
import type { Config } from './config.js';
import { createEpistulaSigner, type EpistulaSigner } from './epistula/signer.js';
import type { Logger } from './log.js';
import { ApiKeyRegistry } from './metering/api-keys.js';
import { Metering } from './metering/metering.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { AddressPolicy } from './router/address-guard.js';
import { createReliability, type Reliability } from './router/reliability.js';
import { countStoreFailures } from './store/failure-counting-store.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';
import type { HttpTransport, UpstreamTimeouts } from './transport/http-transport.js';
import { createUndiciTransport } from './transport/undici-transport.js';

export interface Gateway {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly keys: ApiKeyRegistry;
  /** Usage, limits, prepaid credit and signed receipts. */
  readonly metering: Metering;
  readonly signer: EpistulaSigner;
  readonly metagraph: MetagraphSource;
  readonly catalog: ModelCatalog;
  readonly addressPolicy: AddressPolicy;
  readonly timeouts: UpstreamTimeouts;
  /** Per-miner health, circuit breakers and hedging, shared by every request of this process. */
  readonly reliability: Reliability;
  /** Prometheus metrics of this gateway (GET /metrics). */
  readonly metrics: GatewayMetrics;
  /** The adapter that serves a subnet. */
  providerFor(netuid: number): Provider;
  close(): Promise<void>;
}

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
  if (config.METAGRAPH_FILE) return createFileSource({ path: config.METAGRAPH_FILE, addressPolicy, logger });
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

async function signerFromConfig(config: Config, logger: Logger): Promise<EpistulaSigner> {
  if (config.GATEWAY_HOTKEY_URI) return createEpistulaSigner(config.GATEWAY_HOTKEY_URI);
  const signer = await createEpistulaSigner(mnemonicGenerate(12));
  logger.warn(
    { hotkey: signer.ss58 },
    'GATEWAY_HOTKEY_URI is unset: signing with an ephemeral hotkey that changes on every start; miners that allow-list validators will refuse it',
  );
  return signer;
}

function upstreamIdsOf(snapshot: MetagraphSnapshot, providerFor: (netuid: number) => Provider): Set<string> {
  const ids = new Set<string>();
  for (const subnet of snapshot.subnets.values()) for (const u of providerFor(subnet.netuid).upstreams(subnet)) ids.add(u.id);
  return ids;
}

export async function createGateway(config: Config, logger: Logger, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const addressPolicy: AddressPolicy = { allowPrivate: config.ALLOW_PRIVATE_AXONS };
  const timeouts: UpstreamTimeouts = {
    connectMs: config.CONNECT_TIMEOUT_MS,
    firstByteMs: config.FIRST_BYTE_TIMEOUT_MS,
    idleMs: config.STREAM_IDLE_TIMEOUT_MS,
  };
  const metrics = new GatewayMetrics();
  // Every store operation that fails is counted, also the ones callers absorb by failing open.
  const rawStore = overrides.store ?? (await openStore(config, logger));
  const store = countStoreFailures(rawStore, (operation) => metrics.storeFailed(rawStore.kind, operation));
  const keys = new ApiKeyRegistry(store, logger);
  await keys.start();
  const metering = await Metering.create(config, store, logger);
  const signer = await signerFromConfig(config, logger);
  // Miner axons come from the chain, so their transport refuses blocked addresses at connect time too.
  // A provider for operator-configured upstreams would get its own transport without addressPolicy.
  const transport =
    overrides.transport ??
    createUndiciTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, connectTimeoutMs: timeouts.connectMs, addressPolicy });
  const epistula = createOpenAiEpistulaProvider({ signer, transport });
  const reliability = createReliability(config);
  const metagraph = overrides.metagraph ?? metagraphFromConfig(config, addressPolicy, logger, store);
  // Health is kept only for upstreams still in the snapshot.
  const unsubscribeHealth = metagraph.onUpdate((snapshot) => reliability.health.retain(upstreamIdsOf(snapshot, () => epistula)));
  metrics.watchMetagraph(metagraph);
  await metagraph.start();
  // NETUIDS narrows what is served; without it, every subnet the source knows.
  const netuids = config.NETUIDS ?? [...(metagraph.current()?.subnets.keys() ?? [])];
  const catalog = new ModelCatalog(netuids, config.MODEL_ALIASES ?? {});
  metrics.attach({
    store,
    metagraph,
    catalog,
    health: reliability.health,
    upstreamsOf: (subnet) => epistula.upstreams(subnet),
    minersPerSubnet: config.METRICS_MINERS_PER_SUBNET,
  });

  return {
    config,
    logger,
    store,
    keys,
    metering,
    signer,
    metagraph,
    catalog,
    addressPolicy,
    timeouts,
    reliability,
    metrics,
    providerFor: () => epistula,
    async close() {
      unsubscribeHealth();
      metrics.close();
      await metagraph.stop();
      await keys.stop();
      await metering.close();
      await transport.close();
      await signer.close();
      if (!overrides.store) await store.close();
    },
  };
}
