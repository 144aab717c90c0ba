/**
 * `npm run keys -- <command>`: manage API keys directly in the store the
 * gateway uses (REDIS_URL), for operators without the admin API at hand.
 *
 *   create --name NAME [--credits-usd N] [--rpm N] [--tpm N] [--private] [--trusted-scorer]
 *   list
 *   show ID
 *   revoke ID
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { createRedisStore } from '../store/redis.js';
import { ApiKeyRegistry } from './api-keys.js';
import { newKeyInput, NewKeySchema, type NewKeyRequest } from './key-requests.js';

const USAGE = 'usage: npm run keys -- create --name NAME [--credits-usd N] [--rpm N] [--tpm N] [--private] [--trusted-scorer] | list | show ID | revoke ID';

interface CreateFlags {
  readonly name?: string;
  readonly 'credits-usd'?: string;
  readonly rpm?: string;
  readonly tpm?: string;
  readonly private?: boolean;
  readonly 'trusted-scorer'?: boolean;
}

/**
 * The create flags as the body POST /admin/keys takes, validated by the same
 * schema, so the CLI refuses what the API refuses (--rpm 0, --tpm 1.5,
 * credits beyond micro-dollars); an error names the flag.
 */
function newKeyFromFlags(flags: CreateFlags): NewKeyRequest {
  if (!flags.name) throw new Error('--name is required');
  // Number('') is 0: an empty value must not pass as zero.
  const number = (text: string | undefined) => (text === undefined ? undefined : text.trim() === '' ? Number.NaN : Number(text));
  const parsed = NewKeySchema.safeParse({
    name: flags.name,
    credits_usd: number(flags['credits-usd']),
    rpm: number(flags.rpm),
    tpm: number(flags.tpm),
    private: flags.private,
    trusted_scorer: flags['trusted-scorer'],
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'name');
  const flag = `--${field.replace('_', '-')}`;
  const given = flags[flag.slice(2) as keyof CreateFlags];
  throw new Error(`${flag}: ${issue?.message ?? 'invalid'}${typeof given === 'string' ? ` (got "${given}")` : ''}`);
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
      'trusted-scorer': { type: 'boolean' },
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
        const { key, record } = await keys.create(newKeyInput(newKeyFromFlags(values)));
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
