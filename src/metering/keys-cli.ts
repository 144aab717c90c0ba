/**
 * `npm run keys -- <command>`: manage API keys directly in the store the
 * gateway uses (REDIS_URL), for operators without the admin API at hand.
 *
 *   create --name NAME [--credits-usd N] [--rpm N] [--tpm N] [--private]
 *   list
 *   show ID
 *   revoke ID
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { createRedisStore } from '../store/redis.js';
import { ApiKeyRegistry } from './api-keys.js';

const USAGE = 'usage: npm run keys -- create --name NAME [--credits-usd N] [--rpm N] [--tpm N] [--private] | list | show ID | revoke ID';

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'credits-usd': { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      private: { type: 'boolean' },
    },
  });
  const [command, id] = positionals;
  const config = loadConfig(process.env);
  if (!config.REDIS_URL) {
    console.error('REDIS_URL is unset: keys live in the gateway process memory. Use POST /admin/keys on the running gateway instead.');
    return 2;
  }
  // stdout carries the JSON answer only; logs go to stderr.
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const store = await createRedisStore({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger });
  const keys = new ApiKeyRegistry(store, logger);
  try {
    switch (command) {
      case 'create': {
        if (!values.name) throw new Error('--name is required');
        const { key, record } = await keys.create({
          name: values.name,
          creditsUsd: positive('credits-usd', values['credits-usd']),
          rpm: positive('rpm', values.rpm),
          tpm: positive('tpm', values.tpm),
          private: values.private ?? false,
        });
        console.log(JSON.stringify({ id: record.id, key, name: record.name }, null, 2));
        return 0;
      }
      case 'list':
        console.log(JSON.stringify(await keys.list(), null, 2));
        return 0;
      case 'show':
      case 'revoke': {
        if (!id) throw new Error(`${command} needs a key id`);
        const record = command === 'show' ? await keys.get(id) : await keys.revoke(id);
        if (!record) throw new Error(`no key with id ${id}`);
        console.log(JSON.stringify(record, null, 2));
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
