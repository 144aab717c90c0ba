/**
 * Node entry: `npm start`. Reads the environment and taogate.config.json
 * (TAOGATE_CONFIG), builds the gateway and serves it. With none of
 * SUBTENSOR_URL, METAGRAPH_FILE and TAOGATE_CONFIG set it first starts the
 * embedded devnet (simulated chain, local miners, fake subnet APIs) and says
 * so loudly. Stops cleanly on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { loadGatewayConfigFile } from './config-file.js';
import { printDevnetBanner } from './devnet/devnet-banner.js';
import { startDevnet, type Devnet } from './devnet/devnet.js';
import { createLogger } from './log.js';
import { runNodeEntry, type StopEntry } from './node-entry.js';
import { createGateway, type GatewayOverrides } from './node-gateway.js';
import { listen } from './node-listen.js';

async function main(): Promise<StopEntry> {
  let config = loadConfig(process.env);
  const logger = createLogger({ level: config.LOG_LEVEL });
  let devnet: Devnet | null = null;
  const overrides: { -readonly [K in keyof GatewayOverrides]: GatewayOverrides[K] } = {};
  // A bad config file stops start-up here, naming the file and the field.
  const path = config.TAOGATE_CONFIG;
  if (path) overrides.subnetConfig = loadGatewayConfigFile(path, process.env);

  if (!config.SUBTENSOR_URL && !config.METAGRAPH_FILE && !config.TAOGATE_CONFIG) {
    devnet = await startDevnet({ logger });
    // The devnet's miners listen on loopback, so private axons must be allowed.
    config = {
      ...config,
      ALLOW_PRIVATE_AXONS: true,
      NETUIDS: config.NETUIDS ?? [...devnet.netuids],
      GATEWAY_HOTKEY_URI: config.GATEWAY_HOTKEY_URI ?? '//TaogateDevnet',
      ADMIN_TOKEN: config.ADMIN_TOKEN ?? `devnet-admin-${randomBytes(12).toString('hex')}`,
    };
    overrides.metagraph = devnet.metagraphSource({ logger, refreshMs: 4000, rankBy: config.RANK_BY });
    overrides.subnetConfig = devnet.subnetConfig();
  }

  const gateway = await createGateway(config, logger, overrides);
  const server = await listen(buildApp(gateway), { port: config.PORT, host: config.HOST });
  logger.info({ url: server.url, source: gateway.metagraph.kind, hotkey: gateway.signer.ss58, signer: gateway.signer.backend }, 'taogate listening');

  if (devnet) {
    const { key } = await gateway.keys.create({ name: 'devnet', trustedScorer: true });
    printDevnetBanner({ baseUrl: `${server.url}/v1`, apiKey: key, adminToken: config.ADMIN_TOKEN ?? '', devnet });
  }

  return async (signal) => {
    logger.info({ signal }, 'shutting down');
    await server.close();
    await gateway.close();
    await devnet?.stop();
  };
}

runNodeEntry(main);
