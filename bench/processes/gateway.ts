/**
 * A gateway in its own process, built exactly as `npm start` builds it, over
 * a metagraph file given in METAGRAPH_FILE. Prints url and a fresh API key.
 */
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createGateway } from '../../src/node-gateway.js';
import { createLogger } from '../../src/log.js';
import { listen } from '../../src/node-listen.js';

const config = loadConfig({ ...process.env, PORT: '1', HOST: '127.0.0.1' });
const gateway = await createGateway(config, createLogger({ level: config.LOG_LEVEL }));
const server = await listen(buildApp(gateway), { port: 0, host: '127.0.0.1' });
const { key } = await gateway.keys.create({ name: 'bench' });
console.log(JSON.stringify({ url: server.url, key }));
process.on('SIGTERM', () => void server.close().then(() => gateway.close()).then(() => process.exit(0)));
