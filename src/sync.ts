/**
 * `npm run sync`: reads the chain on Node and delivers each metagraph
 * snapshot to a gateway that only reads snapshots (the Workers build) at
 * SYNC_TARGET_URL, through PUT /admin/metagraph with ADMIN_TOKEN. It takes
 * the chain variables of `npm start` (SUBTENSOR_URL, NETUIDS, SUBNET_MODELS,
 * RANK_BY, METAGRAPH_REFRESH_S, ALLOW_PRIVATE_AXONS). Without SUBTENSOR_URL
 * it starts the embedded devnet (local chain and miners), so `npm run
 * dev:worker` plus `npm run sync` is the whole gateway, offline.
 */
import { z } from 'zod';
import { createChainSource } from './chain/chain-source.js';
import { startSnapshotPusher } from './chain/snapshot-pusher.js';
import type { MetagraphSource } from './chain/snapshot.js';
import { ConfigError, defaultNetuidsNotice, loadConfig } from './config.js';
import { startDevnet, type Devnet } from './devnet/devnet.js';
import { createLogger } from './log.js';
import { runNodeEntry, type StopEntry } from './node-entry.js';

const SyncEnvSchema = z.object({
  SYNC_TARGET_URL: z.url({ protocol: /^https?$/, error: 'must be the gateway URL, e.g. http://127.0.0.1:8787 for `npm run dev:worker`' }),
  ADMIN_TOKEN: z.string({ error: 'required: the ADMIN_TOKEN of the gateway at SYNC_TARGET_URL' }).min(16, 'must be the gateway’s ADMIN_TOKEN (at least 16 characters)'),
});

/** The chain variables of `npm start` plus where to deliver; throws ConfigError naming what is wrong. */
function readEnv() {
  const config = loadConfig(process.env);
  const parsed = SyncEnvSchema.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v)));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return { config, ...parsed.data };
}

async function main(): Promise<StopEntry> {
  const { config, SYNC_TARGET_URL, ADMIN_TOKEN } = readEnv();
  const logger = createLogger({ level: config.LOG_LEVEL });
  const netuidsNotice = defaultNetuidsNotice(process.env, config);
  if (netuidsNotice) logger.warn({ netuids: config.NETUIDS }, netuidsNotice);
  const refreshMs = config.METAGRAPH_REFRESH_S * 1000;
  let devnet: Devnet | null = null;
  let source: MetagraphSource;
  if (config.SUBTENSOR_URL && config.NETUIDS) {
    const models = config.SUBNET_MODELS ?? {};
    source = createChainSource({
      url: config.SUBTENSOR_URL,
      netuids: config.NETUIDS,
      modelsFor: (netuid) => models[String(netuid)] ?? [],
      rankBy: config.RANK_BY,
      refreshMs,
      addressPolicy: { allowPrivate: config.ALLOW_PRIVATE_AXONS },
      logger,
    });
  } else {
    devnet = await startDevnet({ logger });
    logger.warn({ chain: devnet.chain.url, miners: devnet.miners.map((m) => m.url) }, 'SUBTENSOR_URL is unset: syncing the embedded devnet (the gateway needs ALLOW_PRIVATE_AXONS=1 to reach its loopback miners)');
    source = devnet.metagraphSource({ logger, refreshMs: Math.min(refreshMs, 4000), rankBy: config.RANK_BY });
  }
  const pusher = await startSnapshotPusher({ source, targetUrl: SYNC_TARGET_URL, adminToken: ADMIN_TOKEN, logger });
  logger.info({ target: SYNC_TARGET_URL, source: source.kind }, 'taogate sync running');

  return async (signal) => {
    logger.info({ signal, delivered: pusher.delivered() }, 'sync stopping');
    await pusher.stop();
    await devnet?.stop();
  };
}

runNodeEntry(main);
