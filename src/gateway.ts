/**
 * Builds the gateway's long-lived parts from configuration (the environment
 * and taogate.config.json): store, keys, signer, transports, providers per
 * subnet, metagraph source and the model catalog across subnets. Both
 * entries (Node server, Workers) and the tests build through here, so what
 * runs in production is what the tests exercise.
 */
import { mnemonicGenerate } from '@polkadot/util-crypto';
import type { Provider } from '../providers/provider.js';
import { mergeAliases, ModelCatalog } from './catalog/model-catalog.js';
import { createChainSource } from './chain/chain-source.js';
import { createEmptySource } from './chain/empty-source.js';
import { parseRankBy } from './chain/rank-policy.js';
import { CheckRunner } from './compare/check-runner.js';
import { Leaderboard } from './leaderboard/leaderboard.js';
import { QualityIndex } from './leaderboard/quality-index.js';
import { Blend, BLEND_POLICY } from './router/blend.js';
import { createFileSource } from './chain/file-source.js';
import type { MetagraphSnapshot, MetagraphSource } from './chain/snapshot.js';
import type { Config } from './config.js';
import { loadGatewayConfigFile, type GatewayFileConfig } from './config-file.js';
import { createEpistulaSigner, type EpistulaSigner } from './epistula/signer.js';
import type { Logger } from './log.js';
import { ApiKeyRegistry } from './metering/api-keys.js';
import { Metering } from './metering/metering.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { AddressPolicy } from './router/address-guard.js';
import type { QualityScores, RoutePolicy } from './router/candidate-policy.js';
import { createReliability, type Reliability } from './router/reliability.js';
import { countStoreFailures } from './store/failure-counting-store.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store } from './store/store.js';
import type { HttpTransport, UpstreamTimeouts } from './transport/http-transport.js';
import { createUndiciTransport } from './transport/undici-transport.js';
import { buildSubnetProviders } from './subnet-providers.js';

function upstreamIdsOf(snapshot: MetagraphSnapshot, providerFor: (netuid: number) => Provider, configured: ReadonlySet<string>): Set<string> {
  const ids = new Set(configured);
  for (const subnet of snapshot.subnets.values()) for (const u of providerFor(subnet.netuid).upstreams(subnet)) ids.add(u.id);
  return ids;
}

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
  /** taogate.config.json as loaded (or the devnet's own), null without one. */
  readonly subnetConfig: GatewayFileConfig | null;
  /** How alias and `auto` candidates are ordered unless an alias or the request says otherwise. */
  readonly routePolicy: RoutePolicy;
  /** Observed answer quality for the `quality` policy (the compare leaderboard plugs in here); null = none. */
  quality: QualityScores | null;
  readonly addressPolicy: AddressPolicy;
  readonly timeouts: UpstreamTimeouts;
  /** Per-upstream health, circuit breakers and hedging, shared by every request of this process. */
  readonly reliability: Reliability;
  /** Scored comparisons per subnet, miner and model, in the store. */
  readonly leaderboard: Leaderboard;
  /** RANK_BY=blend's routing-time re-weighting (a no-op for subnets ranked otherwise). */
  readonly blend: Blend;
  /** Runs compare checks (regex, JSON Schema) off the event loop, with a time limit. */
  readonly checkRunner: CheckRunner;
  /** Prometheus metrics of this gateway (GET /metrics). */
  readonly metrics: GatewayMetrics;
  /** The adapter that serves a subnet. */
  providerFor(netuid: number): Provider;
  /** A subnet's upstream timeouts: its own from the config file, else the gateway's. */
  timeoutsFor(netuid: number): UpstreamTimeouts;
  close(): Promise<void>;
}

export interface GatewayOverrides {
  /** A ready metagraph source (the devnet and tests pass one). */
  readonly metagraph?: MetagraphSource;
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

const usesBlend = (config: Config) => parseRankBy(config.RANK_BY).some((p) => p.name === BLEND_POLICY);

/** Whether the config file orders any candidates by quality (then the leaderboard's scores are kept fresh). */
const usesQualityPolicy = (file: GatewayFileConfig | null) =>
  file !== null && (file.policy === 'quality' || Object.values(file.aliases).some((a) => a.policy === 'quality'));

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

async function signerFromConfig(config: Config, logger: Logger): Promise<EpistulaSigner> {
  if (config.GATEWAY_HOTKEY_URI) return createEpistulaSigner(config.GATEWAY_HOTKEY_URI);
  const signer = await createEpistulaSigner(mnemonicGenerate(12));
  logger.warn(
    { hotkey: signer.ss58 },
    'GATEWAY_HOTKEY_URI is unset: signing with an ephemeral hotkey that changes on every start; miners that allow-list validators will refuse it',
  );
  return signer;
}

/** The file's timeouts take the place of the *_TIMEOUT_MS variables. */
function withFileTimeouts(config: Config, file: GatewayFileConfig | null): Config {
  const t = file?.timeouts ?? {};
  return {
    ...config,
    REQUEST_TIMEOUT_MS: t.requestMs ?? config.REQUEST_TIMEOUT_MS,
    CONNECT_TIMEOUT_MS: t.connectMs ?? config.CONNECT_TIMEOUT_MS,
    FIRST_BYTE_TIMEOUT_MS: t.firstByteMs ?? config.FIRST_BYTE_TIMEOUT_MS,
    STREAM_IDLE_TIMEOUT_MS: t.idleMs ?? config.STREAM_IDLE_TIMEOUT_MS,
  };
}

/** Configured model prices, with MODEL_PRICES taking precedence for the same id. */
function withFilePrices(config: Config, file: GatewayFileConfig | null): Config {
  const prices = Object.fromEntries(
    (file?.subnets ?? []).flatMap((s) => s.models.flatMap((m) => (m.price ? [[`sn${s.netuid}/${m.name}`, m.price] as const] : []))),
  );
  return { ...config, MODEL_PRICES: { ...prices, ...config.MODEL_PRICES } };
}

export async function createGateway(envConfig: Config, logger: Logger, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const subnetConfig = overrides.subnetConfig ?? (envConfig.TAOGATE_CONFIG ? loadGatewayConfigFile(envConfig.TAOGATE_CONFIG, process.env) : null);
  const config = withFileTimeouts(envConfig, subnetConfig);
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
  const metering = await Metering.create(withFilePrices(config, subnetConfig), store, logger);
  const signer = await signerFromConfig(config, logger);
  // Miner axons come from the chain, so their transport refuses blocked addresses at connect time too.
  const transport =
    overrides.transport ??
    createUndiciTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, connectTimeoutMs: timeouts.connectMs, addressPolicy });
  // Subnet APIs are configured by the operator: trusted, so no address guard (loopback and https alike).
  const apiTransport = createUndiciTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, connectTimeoutMs: timeouts.connectMs });
  const reliability = createReliability(config);
  const metagraph = overrides.metagraph ?? metagraphFromConfig(config, subnetConfig, addressPolicy, logger, store);
  metrics.watchMetagraph(metagraph);
  await metagraph.start();
  // NETUIDS narrows what is served; without it, every subnet the source knows.
  const metagraphNetuids = config.NETUIDS ?? [...(metagraph.current()?.subnets.keys() ?? [])];
  const served = buildSubnetProviders({ file: subnetConfig, metagraphNetuids, signer, minerTransport: transport, apiTransport, timeouts });
  const providerFor = served.providerFor;
  // Health is kept only for upstreams still in the snapshot, and for the configured ones.
  const unsubscribeHealth = metagraph.onUpdate((snapshot) => reliability.health.retain(upstreamIdsOf(snapshot, providerFor, served.configuredUpstreamIds)));
  const envAliases = Object.fromEntries(Object.entries(config.MODEL_ALIASES ?? {}).map(([name, targets]) => [name, { targets, policy: null }]));
  const catalog = new ModelCatalog(served.subnets, mergeAliases(served.subnets, subnetConfig?.aliases ?? {}, envAliases));
  const leaderboard = new Leaderboard(store);
  const quality = new QualityIndex(leaderboard, config.BLEND_QUALITY_WINDOW, logger);
  const blend = new Blend({ weights: config.BLEND_WEIGHTS, quality, health: reliability.health, providerFor });
  // Only a gateway that routes on quality (blend ranking, or a `quality` candidate policy) keeps reading it.
  if (usesBlend(config) || usesQualityPolicy(subnetConfig)) quality.start(() => catalog.netuids, config.BLEND_REFRESH_S * 1000);
  const checkRunner = new CheckRunner();
  metrics.attach({
    store,
    metagraph,
    catalog,
    health: reliability.health,
    upstreamsOf: (subnet) => providerFor(subnet.netuid).upstreams(subnet),
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
    subnetConfig,
    routePolicy: subnetConfig?.policy ?? 'order',
    // The leaderboard's per-subnet scores, unless a test or embedder brings its own.
    quality: overrides.quality ?? quality,
    addressPolicy,
    timeouts,
    reliability,
    leaderboard,
    blend,
    checkRunner,
    metrics,
    providerFor,
    timeoutsFor: served.timeoutsFor,
    async close() {
      unsubscribeHealth();
      quality.stop();
      await checkRunner.close();
      metrics.close();
      await metagraph.stop();
      await keys.stop();
      await metering.close();
      await transport.close();
      await apiTransport.close();
      await signer.close();
      if (!overrides.store) await store.close();
    },
  };
}
