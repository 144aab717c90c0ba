/**
 * Node entry: `npm start`. Reads the environment, builds the gateway and
 * serves it. Stops cleanly on SIGINT/SIGTERM.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './log.js';
import { listen } from './node-listen.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const gateway = await createGateway(config, logger);
  const server = await listen(buildApp(gateway), { port: config.PORT, host: config.HOST });
  logger.info({ url: server.url, source: gateway.metagraph.kind, hotkey: gateway.signer.ss58 }, 'taogate listening');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await server.close();
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
