/**
 * Node entry: `npm start`. Reads the environment and taogate.config.json
 * (TAOGATE_CONFIG), builds the gateway and serves it. With none of
 * SUBTENSOR_URL, METAGRAPH_FILE and TAOGATE_CONFIG set it first starts the
 * embedded devnet (simulated chain, local miners, fake subnet APIs) and says
 * so loudly. Stops cleanly on SIGINT/SIGTERM.
 */
import { buildApp } from './app.js';
import { defaultNetuidsNotice, loadConfig } from './config.js';
import { loadGatewayConfigFile } from './config-file.js';
import { printDevnetBanner } from './devnet/devnet-banner.js';
import { devnetGatewayConfig } from './devnet/devnet-config.js';
import { startDevnet, type Devnet } from './devnet/devnet.js';
import { createLogger } from './log.js';
import { runNodeEntry, type StopEntry } from './node-entry.js';
import { createGateway, type GatewayOverrides } from './node-gateway.js';
import { listen } from './node-listen.js';

async function main(): Promise<StopEntry> {
  let config = loadConfig(process.env);
  const logger = createLogger({ level: config.LOG_LEVEL });
  // SUBTENSOR_URL without NETUIDS serves the inference subnets taogate knows: say which, and how to choose.
  const netuidsNotice = defaultNetuidsNotice(process.env, config);
  if (netuidsNotice) logger.warn({ netuids: config.NETUIDS }, netuidsNotice);
  let devnet: Devnet | null = null;
  const overrides: { -readonly [K in keyof GatewayOverrides]: GatewayOverrides[K] } = {};
  // A bad config file stops start-up here, naming the file and the field.
  const path = config.TAOGATE_CONFIG;
  if (path) overrides.subnetConfig = loadGatewayConfigFile(path, process.env);

  if (!config.SUBTENSOR_URL && !config.METAGRAPH_FILE && !config.TAOGATE_CONFIG) {
    const local = await startDevnet({ logger });
    devnet = local;
    // Loopback only unless HOST is set, private axons allowed, a fixed gateway hotkey, an admin token.
    config = devnetGatewayConfig(config, process.env, local.netuids);
    const rankBy = config.RANK_BY;
    // Over the gateway's store, like the chain source: with REDIS_URL the snapshot is saved and restored.
    overrides.metagraph = (store) => local.metagraphSource({ logger, store, refreshMs: 4000, rankBy });
    overrides.subnetConfig = local.subnetConfig();
  }

  const gateway = await createGateway(config, logger, overrides);
  const server = await listen(buildApp(gateway), { port: config.PORT, host: config.HOST });
  logger.info({ url: server.url, source: gateway.metagraph.kind, hotkey: gateway.signer.ss58, signer: gateway.signer.backend }, 'taogate listening');

  if (devnet) {
    const { key } = await gateway.keys.create({ name: 'devnet', trustedScorer: true });
    printDevnetBanner({ baseUrl: `${server.url}/v1`, host: config.HOST, apiKey: key, adminToken: config.ADMIN_TOKEN ?? '', devnet });
  }

  return async (signal) => {
    logger.info({ signal }, 'shutting down');
    await server.close();
    await gateway.close();
    await devnet?.stop();
  };
}

runNodeEntry(main);
