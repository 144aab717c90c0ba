/**
 * The gateway on Cloudflare Workers, built from bindings instead of process
 * env: the same config schema, the same assembly (src/gateway.ts) and the
 * same Hono app (src/app.ts) as `npm start`, over the Workers parts: the
 * Durable Object store (and one for the response cache), the fetch
 * transport, the metagraph snapshot shelved in KV by `npm run sync`, and
 * wasm-crypto from an uploaded module. taogate.config.json comes inline
 * (TAOGATE_CONFIG_JSON), since a Worker has no file system to read it from.
 */
import type { Hono } from 'hono';
import { buildApp } from '../app.js';
import { SNAPSHOT_STORE_KEY } from '../chain/snapshot-codec.js';
import { createStoredSnapshotSource, type SnapshotShelf, type StoredSnapshotSource } from '../chain/stored-snapshot-source.js';
import { createEmptySource } from '../chain/empty-source.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { parseGatewayConfigText, type GatewayFileConfig } from '../config-file.js';
import { addressPolicyOf, assembleGateway, type Gateway } from '../gateway.js';
import type { GatewayEnv } from '../http/gateway-env.js';
import { createLogger } from '../log.js';
import { wasmCryptoBackend } from '../epistula/sr25519-backend.js';
import { createDurableObjectStore } from '../store/durable-object.js';
import { createFetchTransport } from '../transport/fetch-transport.js';
import { coalescedFlush, type ScheduleFlush } from './usage-flush.js';
import { variablesOf, type WorkerBindings } from './worker-env.js';

export interface EdgeGateway {
  readonly gateway: Gateway;
  readonly app: Hono<GatewayEnv>;
  /** Null when every subnet is served by its own API: no miners, so no snapshot to read. */
  readonly snapshots: StoredSnapshotSource | null;
  /** Writes metered usage soon, coalesced across the responses of this isolate. */
  readonly flushUsage: ScheduleFlush;
}

/** A snapshot older than this many refresh intervals (and at least 10 minutes) marks the source degraded. */
const STALE_AFTER_REFRESHES = 10;

function kvShelf(kv: KVNamespace, key: string): SnapshotShelf {
  return {
    where: `kv:METAGRAPH/${key}`,
    read: () => kv.get(key, 'text'),
    write: (text) => kv.put(key, text),
  };
}

/**
 * taogate.config.json's document, given inline as TAOGATE_CONFIG_JSON: JSON
 * text (a var or a secret), or a [vars] table that variablesOf turned into
 * that text. The API keys its `apiKeyEnv` names are read from the Worker's
 * variables and secrets, as Node reads them from its environment.
 */
function inlineSubnetConfig(config: Config, variables: Readonly<Record<string, string>>): GatewayFileConfig | null {
  if (config.TAOGATE_CONFIG) {
    throw new ConfigError('invalid configuration:\n  TAOGATE_CONFIG: a Worker has no file system to read taogate.config.json from; put the document itself in TAOGATE_CONFIG_JSON (see wrangler.toml)');
  }
  const text = variables.TAOGATE_CONFIG_JSON;
  return text ? parseGatewayConfigText('TAOGATE_CONFIG_JSON', text, variables) : null;
}

/**
 * Subnets served by chain miners: NETUIDS and the config's openai-epistula
 * subnets (as on Node), less those the config serves by their own API
 * (wrangler.toml's NETUIDS = "4" next to a Targon sn4 waits for no snapshot).
 */
function minerNetuidsOf(config: Config, file: GatewayFileConfig | null): number[] {
  const subnets = file?.subnets ?? [];
  const apis = new Set(subnets.filter((s) => s.provider === 'subnet-api').map((s) => s.netuid));
  const fromFile = subnets.filter((s) => s.provider === 'openai-epistula').map((s) => s.netuid);
  return [...new Set([...(config.NETUIDS ?? []), ...fromFile])].filter((netuid) => !apis.has(netuid));
}

export async function createEdgeGateway(env: WorkerBindings): Promise<EdgeGateway> {
  const variables = variablesOf(env);
  const config = loadConfig(variables);
  const subnetConfig = inlineSubnetConfig(config, variables);
  // The catalog is fixed when the isolate starts, and the first snapshot may come later.
  if (!config.NETUIDS && !subnetConfig) {
    throw new ConfigError('invalid configuration:\n  NETUIDS: required on Workers without TAOGATE_CONFIG_JSON: which subnets to serve, e.g. NETUIDS=4,64');
  }
  if (!env.STORE || !env.METAGRAPH) throw new ConfigError('invalid configuration:\n  STORE and METAGRAPH bindings are required (see wrangler.toml)');
  const logger = createLogger({ level: config.LOG_LEVEL });
  const addressPolicy = addressPolicyOf(config);
  const models = config.SUBNET_MODELS ?? {};
  const refreshMs = config.METAGRAPH_REFRESH_S * 1000;
  const minerNetuids = minerNetuidsOf(config, subnetConfig);
  // Every subnet served by its own API: no miners, so no snapshot to wait for (as on Node).
  const snapshots =
    minerNetuids.length === 0
      ? null
      : createStoredSnapshotSource({
          shelf: kvShelf(env.METAGRAPH, SNAPSHOT_STORE_KEY),
          netuids: minerNetuids,
          modelsFor: (netuid, saved) => models[String(netuid)] ?? saved.models,
          addressPolicy,
          refreshMs,
          maxAgeMs: Math.max(STALE_AFTER_REFRESHES * refreshMs, 600_000),
          logger,
        });
  const gateway = await assembleGateway(config, logger, {
    // REDIS_PREFIX names the store's namespace on both runtimes: key prefix on Redis, object name here.
    store: createDurableObjectStore(env.STORE, { name: config.REDIS_PREFIX }),
    ownsStore: true,
    // The response cache's entries and claims, shared by every isolate: an object of its own (README "State, per concern").
    cacheStore: createDurableObjectStore(env.STORE, { name: `${config.REDIS_PREFIX}cache` }),
    transport: createFetchTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, addressPolicy }),
    // Subnet APIs are configured by the operator: trusted, so no address guard (as on Node).
    apiTransport: createFetchTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES }),
    subnetConfig,
    metagraph: snapshots ?? createEmptySource(),
    // wasm-crypto, loaded from the uploaded module (wrangler.toml [alias], shims/wasm-crypto-init.ts):
    // ~3.4× less CPU per signature than pure-JS @scure/sr25519 (`npm run bench -- workerd-sign`).
    sr25519: await wasmCryptoBackend(),
    // workerd cancels a request that waits on another request's promise or stream.
    crossRequestIo: false,
  });
  return { gateway, app: buildApp(gateway), snapshots, flushUsage: coalescedFlush(() => gateway.metering.flush(), config.METERING_FLUSH_MS) };
}
