/**
 * The gateway on Cloudflare Workers, built from bindings instead of process
 * env: the same config schema, the same assembly (src/gateway.ts) and the
 * same Hono app (src/app.ts) as `npm start`, over the Workers parts: the
 * Durable Object store, the fetch transport, the metagraph snapshot shelved
 * in KV by `npm run sync`, and wasm-crypto from an uploaded module.
 */
import type { Hono } from 'hono';
import { buildApp } from '../app.js';
import { SNAPSHOT_STORE_KEY } from '../chain/snapshot-codec.js';
import { createStoredSnapshotSource, type SnapshotShelf, type StoredSnapshotSource } from '../chain/stored-snapshot-source.js';
import { ConfigError, loadConfig } from '../config.js';
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
  readonly snapshots: StoredSnapshotSource;
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

export async function createEdgeGateway(env: WorkerBindings): Promise<EdgeGateway> {
  const config = loadConfig(variablesOf(env));
  // The catalog is fixed when the isolate starts, and the first snapshot may come later.
  if (!config.NETUIDS) throw new ConfigError('invalid configuration:\n  NETUIDS: required on Workers: which subnets to serve, e.g. NETUIDS=4,64');
  if (config.TAOGATE_CONFIG) throw new ConfigError('invalid configuration:\n  TAOGATE_CONFIG: a Worker has no file system to read taogate.config.json from; unset it (subnet APIs are Node-only for now)');
  if (!env.STORE || !env.METAGRAPH) throw new ConfigError('invalid configuration:\n  STORE and METAGRAPH bindings are required (see wrangler.toml)');
  const logger = createLogger({ level: config.LOG_LEVEL });
  const addressPolicy = addressPolicyOf(config);
  const models = config.SUBNET_MODELS ?? {};
  const refreshMs = config.METAGRAPH_REFRESH_S * 1000;
  const snapshots = createStoredSnapshotSource({
    shelf: kvShelf(env.METAGRAPH, SNAPSHOT_STORE_KEY),
    netuids: config.NETUIDS,
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
    transport: createFetchTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES, addressPolicy }),
    // Subnet APIs come from taogate.config.json, which a Worker cannot read (no file system): none here.
    apiTransport: createFetchTransport({ maxResponseBytes: config.MAX_RESPONSE_BYTES }),
    subnetConfig: null,
    metagraph: snapshots,
    // wasm-crypto, loaded from the uploaded module (wrangler.toml [alias], shims/wasm-crypto-init.ts):
    // ~3.4× less CPU per signature than pure-JS @scure/sr25519 (`npm run bench -- workerd-sign`).
    sr25519: await wasmCryptoBackend(),
  });
  return { gateway, app: buildApp(gateway), snapshots, flushUsage: coalescedFlush(() => gateway.metering.flush(), config.METERING_FLUSH_MS) };
}
