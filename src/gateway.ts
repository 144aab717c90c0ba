/**
 * The gateway's long-lived parts, assembled from configuration and the
 * runtime's own pieces: keys, metering, signer, providers, catalog and
 * reliability over a store, a transport and a metagraph source. The entries
 * choose those three (src/node-gateway.ts: Redis or memory, undici, chain or
 * file; src/worker/edge-gateway.ts: Durable Object, fetch, stored snapshot)
 * and everything else is built here, the same way on both runtimes. Nothing
 * in this module may need Node: the Worker bundle includes it.
 */
import { mnemonicGenerate } from '@polkadot/util-crypto';
import { createOpenAiEpistulaProvider } from '../providers/openai-epistula.js';
import type { Provider } from '../providers/provider.js';
import { ModelCatalog } from './catalog/model-catalog.js';
import { parseRankBy } from './chain/rank-policy.js';
import { CheckRunner } from './compare/check-runner.js';
import { Leaderboard } from './leaderboard/leaderboard.js';
import { QualityIndex } from './leaderboard/quality-index.js';
import { Blend, BLEND_POLICY } from './router/blend.js';
import type { MetagraphSnapshot, MetagraphSource } from './chain/snapshot.js';
import type { Config } from './config.js';
import { createEpistulaSigner, type EpistulaSigner } from './epistula/signer.js';
import type { Sr25519Backend } from './epistula/sr25519-backend.js';
import type { Logger } from './log.js';
import { ApiKeyRegistry } from './metering/api-keys.js';
import { Metering } from './metering/metering.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { AddressPolicy } from './router/address-guard.js';
import { createReliability, type Reliability } from './router/reliability.js';
import { countStoreFailures } from './store/failure-counting-store.js';
import type { Store } from './store/store.js';
import type { HttpTransport, UpstreamTimeouts } from './transport/http-transport.js';

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
  close(): Promise<void>;
}

/** What the entry picks for its runtime. */
export interface GatewayParts {
  readonly store: Store;
  /** Closed with the gateway; false when the caller lends a store it closes itself. */
  readonly ownsStore: boolean;
  readonly transport: HttpTransport;
  /** Not started yet: the gateway starts and stops it. */
  readonly metagraph: MetagraphSource;
  /** The sr25519 implementation that signs; default: the fastest that loads on Node. */
  readonly sr25519?: Sr25519Backend;
}

export const usesBlend = (config: Config) => parseRankBy(config.RANK_BY).some((p) => p.name === BLEND_POLICY);

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

function upstreamIdsOf(snapshot: MetagraphSnapshot, providerFor: (netuid: number) => Provider): Set<string> {
  const ids = new Set<string>();
  for (const subnet of snapshot.subnets.values()) for (const u of providerFor(subnet.netuid).upstreams(subnet)) ids.add(u.id);
  return ids;
}

export async function assembleGateway(config: Config, logger: Logger, parts: GatewayParts): Promise<Gateway> {
  const { transport, metagraph } = parts;
  const metrics = new GatewayMetrics();
  // Every store operation that fails is counted, also the ones callers absorb by failing open.
  const store = countStoreFailures(parts.store, (operation) => metrics.storeFailed(parts.store.kind, operation));
  const keys = new ApiKeyRegistry(store, logger);
  await keys.start();
  const metering = await Metering.create(config, store, logger);
  const signer = await signerFromConfig(config, logger, parts.sr25519);
  const epistula = createOpenAiEpistulaProvider({ signer, transport });
  const reliability = createReliability(config);
  // Health is kept only for upstreams still in the snapshot.
  const unsubscribeHealth = metagraph.onUpdate((snapshot) => reliability.health.retain(upstreamIdsOf(snapshot, () => epistula)));
  metrics.watchMetagraph(metagraph);
  await metagraph.start();
  // NETUIDS narrows what is served; without it, every subnet the source knows.
  const netuids = config.NETUIDS ?? [...(metagraph.current()?.subnets.keys() ?? [])];
  const catalog = new ModelCatalog(netuids, config.MODEL_ALIASES ?? {});
  const leaderboard = new Leaderboard(store);
  const quality = new QualityIndex(leaderboard, config.BLEND_QUALITY_WINDOW, logger);
  const blend = new Blend({ weights: config.BLEND_WEIGHTS, quality, health: reliability.health, providerFor: () => epistula });
  // Only a blend gateway routes on quality, so only it keeps reading it.
  if (usesBlend(config)) quality.start(() => catalog.netuids, config.BLEND_REFRESH_S * 1000);
  const checkRunner = new CheckRunner();
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
    addressPolicy: addressPolicyOf(config),
    timeouts: upstreamTimeoutsOf(config),
    reliability,
    leaderboard,
    blend,
    checkRunner,
    metrics,
    providerFor: () => epistula,
    async close() {
      unsubscribeHealth();
      quality.stop();
      await checkRunner.close();
      metrics.close();
      await metagraph.stop();
      await keys.stop();
      await metering.close();
      await transport.close();
      if (parts.ownsStore) await store.close();
    },
  };
}
