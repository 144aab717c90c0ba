/**
 * The gateway's long-lived parts, assembled from configuration (the
 * environment and taogate.config.json) and the runtime's own pieces: keys,
 * metering, signer, providers per subnet, the model catalog across subnets,
 * reliability, leaderboard and metrics over a store, transports and a
 * metagraph source. The entries choose those (src/node-gateway.ts: Redis or
 * memory, undici, chain or file; src/worker/edge-gateway.ts: Durable Object,
 * fetch, stored snapshot) and everything else is built here, the same way
 * on both runtimes. Nothing in this module may need Node: the Worker bundle
 * includes it.
 */
import { mnemonicGenerate } from '@polkadot/util-crypto';
import type { Provider } from '../providers/provider.js';
import { ResponseCache } from './cache/response-cache.js';
import { mergeAliases, ModelCatalog } from './catalog/model-catalog.js';
import { parseRankBy } from './chain/rank-policy.js';
import type { MetagraphSnapshot, MetagraphSource } from './chain/snapshot.js';
import type { Config } from './config.js';
import type { GatewayFileConfig } from './config-file.js';
import { createEpistulaSigner, type EpistulaSigner } from './epistula/signer.js';
import type { Sr25519Backend } from './epistula/sr25519-backend.js';
import { Leaderboard } from './leaderboard/leaderboard.js';
import { QualityIndex } from './leaderboard/quality-index.js';
import type { Logger } from './log.js';
import { ApiKeyRegistry } from './metering/api-keys.js';
import { Metering } from './metering/metering.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { AddressPolicy } from './router/address-guard.js';
import { Blend, BLEND_POLICY } from './router/blend.js';
import type { QualityScores, RoutePolicy } from './router/candidate-policy.js';
import { createReliability, type Reliability } from './router/reliability.js';
import { countStoreFailures } from './store/failure-counting-store.js';
import type { Store } from './store/store.js';
import { buildSubnetProviders } from './subnet-providers.js';
import type { HttpTransport, UpstreamTimeouts } from './transport/http-transport.js';

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
  /** Answers by normalized request, and single-flight for identical requests in flight; `cache.stats()` for counters. */
  readonly cache: ResponseCache;
  /** Scored comparisons per subnet, miner and model, in the store. */
  readonly leaderboard: Leaderboard;
  /** RANK_BY=blend's routing-time re-weighting (a no-op for subnets ranked otherwise). */
  readonly blend: Blend;
  /** Prometheus metrics of this gateway (GET /metrics). */
  readonly metrics: GatewayMetrics;
  /** The adapter that serves a subnet. */
  providerFor(netuid: number): Provider;
  /** A subnet's upstream timeouts: its own from the config file, else the gateway's. */
  timeoutsFor(netuid: number): UpstreamTimeouts;
  close(): Promise<void>;
}

/** What the entry picks for its runtime. */
export interface GatewayParts {
  readonly store: Store;
  /** Closed with the gateway; false when the caller lends a store it closes itself. */
  readonly ownsStore: boolean;
  /**
   * The response cache's shared store when it is not `store` (Workers: a
   * Durable Object of its own, so cache traffic does not queue behind keys,
   * limits and credit in the one single-threaded store object). Owned like `store`.
   */
  readonly cacheStore?: Store;
  /** For chain-published miners: refuses blocked addresses. */
  readonly transport: HttpTransport;
  /** For subnet APIs the operator configured: trusted, no address guard. */
  readonly apiTransport: HttpTransport;
  /** Not started yet: the gateway starts and stops it. */
  readonly metagraph: MetagraphSource;
  /** taogate.config.json as loaded, or null. */
  readonly subnetConfig: GatewayFileConfig | null;
  /** Quality scores for the `quality` policy instead of the leaderboard's (tests, embedders). */
  readonly quality?: QualityScores;
  /** The sr25519 implementation that signs; default: the fastest that loads on Node. */
  readonly sr25519?: Sr25519Backend;
  /**
   * Whether one request may wait on a promise, or read a stream, that
   * another request started. Node: yes. Workers: no, workerd binds I/O to
   * the request that made it and cancels a request waiting on another's
   * ("the Worker's code had hung"). Where it is false, identical requests
   * in flight share a miner call only through the store (the response cache).
   */
  readonly crossRequestIo: boolean;
}

export const usesBlend = (config: Config) => parseRankBy(config.RANK_BY).some((p) => p.name === BLEND_POLICY);

/** Whether the config file orders any candidates by quality (then the leaderboard's scores are kept fresh). */
const usesQualityPolicy = (file: GatewayFileConfig | null) =>
  file !== null && (file.policy === 'quality' || Object.values(file.aliases).some((a) => a.policy === 'quality'));

export function addressPolicyOf(config: Config): AddressPolicy {
  return { allowPrivate: config.ALLOW_PRIVATE_AXONS };
}

export function upstreamTimeoutsOf(config: Config): UpstreamTimeouts {
  return { connectMs: config.CONNECT_TIMEOUT_MS, firstByteMs: config.FIRST_BYTE_TIMEOUT_MS, idleMs: config.STREAM_IDLE_TIMEOUT_MS };
}

async function signerFromConfig(config: Config, logger: Logger, backend: Sr25519Backend | undefined): Promise<EpistulaSigner> {
  const options = backend ? { backend } : {};
  if (config.GATEWAY_HOTKEY_URI) return createEpistulaSigner(config.GATEWAY_HOTKEY_URI, options);
  const signer = await createEpistulaSigner(mnemonicGenerate(12), options);
  logger.warn(
    { hotkey: signer.ss58 },
    'GATEWAY_HOTKEY_URI is unset: signing with an ephemeral hotkey that changes on every start; miners that allow-list validators will refuse it',
  );
  return signer;
}

/** The file's timeouts take the place of the *_TIMEOUT_MS variables. */
export function withFileTimeouts(config: Config, file: GatewayFileConfig | null): Config {
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

export async function assembleGateway(envConfig: Config, logger: Logger, parts: GatewayParts): Promise<Gateway> {
  const { transport, apiTransport, metagraph, subnetConfig } = parts;
  const config = withFileTimeouts(envConfig, subnetConfig);
  const timeouts = upstreamTimeoutsOf(config);
  const metrics = new GatewayMetrics();
  // Every store operation that fails is counted, also the ones callers absorb by failing open.
  const store = countStoreFailures(parts.store, (operation) => metrics.storeFailed(parts.store.kind, operation));
  const keys = new ApiKeyRegistry(store, logger);
  await keys.start();
  const metering = await Metering.create(withFilePrices(config, subnetConfig), store, logger);
  const signer = await signerFromConfig(config, logger, parts.sr25519);
  const reliability = createReliability(config);
  const cacheStore = parts.cacheStore ? countStoreFailures(parts.cacheStore, (operation) => metrics.storeFailed(parts.store.kind, operation)) : store;
  // Where a request may wait on another's I/O (Node), the process also outlives each request: writes may finish behind the answer.
  const cache = new ResponseCache(config, cacheStore, logger, {
    coalesceInProcess: parts.crossRequestIo,
    writeBehind: parts.crossRequestIo,
  });
  metrics.watchMetagraph(metagraph);
  await metagraph.start();
  const served = buildSubnetProviders({ file: subnetConfig, signer, minerTransport: transport, apiTransport, timeouts });
  const providerFor = served.providerFor;
  const envAliases = Object.fromEntries(Object.entries(config.MODEL_ALIASES ?? {}).map(([name, targets]) => [name, { targets, policy: null }]));
  const aliases = mergeAliases(served.subnets, subnetConfig?.aliases ?? {}, envAliases);
  // NETUIDS fixes the metagraph subnets served; without it, every subnet of the latest snapshot, as it changes.
  const snapshotNetuids = (snapshot: MetagraphSnapshot | null) => [...(snapshot?.subnets.keys() ?? [])];
  const catalog = new ModelCatalog(served.subnets, aliases, providerFor, config.NETUIDS ?? snapshotNetuids(metagraph.current()));
  const unsubscribeCatalog = config.NETUIDS ? () => undefined : metagraph.onUpdate((snapshot) => catalog.serveMetagraphSubnets(snapshotNetuids(snapshot)));
  // Health is kept only for upstreams still in the snapshot, and for the configured ones.
  const unsubscribeHealth = metagraph.onUpdate((snapshot) => reliability.health.retain(upstreamIdsOf(snapshot, providerFor, served.configuredUpstreamIds)));
  const leaderboard = new Leaderboard(store);
  const quality = new QualityIndex(leaderboard, config.BLEND_QUALITY_WINDOW, logger);
  const blend = new Blend({ weights: config.BLEND_WEIGHTS, quality, health: reliability.health, providerFor });
  // Only a gateway that routes on quality (blend ranking, or a `quality` candidate policy) keeps reading it.
  // Any other reads it only when a request asks for the `quality` policy.
  if (usesBlend(config) || usesQualityPolicy(subnetConfig)) quality.start(() => catalog.netuids, config.BLEND_REFRESH_S * 1000);
  else quality.refreshOnDemand(() => catalog.netuids, config.BLEND_REFRESH_S * 1000);
  metrics.attach({
    store,
    metagraph,
    catalog,
    health: reliability.health,
    upstreamsOf: (netuid, subnet) => {
      const provider = providerFor(netuid);
      return provider.source === 'metagraph' && !subnet ? null : provider.upstreams(subnet);
    },
    minersPerSubnet: config.METRICS_MINERS_PER_SUBNET,
  });
  metrics.attachCache(() => cache.stats());

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
    quality: parts.quality ?? quality,
    addressPolicy: addressPolicyOf(config),
    timeouts,
    reliability,
    cache,
    leaderboard,
    blend,
    metrics,
    providerFor,
    timeoutsFor: served.timeoutsFor,
    async close() {
      unsubscribeCatalog();
      unsubscribeHealth();
      quality.stop();
      metrics.close();
      await cache.close();
      await metagraph.stop();
      await keys.stop();
      await metering.close();
      await transport.close();
      await apiTransport.close();
      await signer.close();
      if (parts.ownsStore) await store.close();
      if (parts.ownsStore && cacheStore !== store) await cacheStore.close();
    },
  };
}
