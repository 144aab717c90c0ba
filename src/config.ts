/**
 * Gateway configuration from environment variables, validated with zod.
 * A bad value stops start-up with a message naming the variable, because a
 * gateway that silently falls back to a default on a typo routes money and
 * traffic somewhere the operator did not intend.
 */
import { z } from 'zod';
import { parseRankBy } from './chain/rank-policy.js';
import { CacheEnvShape } from './cache/cache-config.js';
import { compareEnv } from './compare/compare-config.js';
import { resolveSubtensorUrl } from './chain/subtensor-endpoint.js';
import { envFlag, envJson, envParsed, envPositiveInt } from './env-values.js';
import { parseSecretUri } from './epistula/secret-uri.js';
import { MeteringEnvShape } from './metering/metering-config.js';
import { metricsEnv } from './metrics/metrics-config.js';
import { reliabilityEnv } from './router/reliability.js';

const flag = envFlag;
const positiveInt = envPositiveInt;

const netuidList = z
  .string()
  .transform((text, ctx) => {
    const items = text.split(',').map((s) => s.trim()).filter(Boolean);
    const netuids: number[] = [];
    for (const item of items) {
      const n = Number(item);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not a netuid (0..65535)` });
        return z.NEVER;
      }
      netuids.push(n);
    }
    return [...new Set(netuids)];
  });

const aliasMap = envJson('{"llama":["sn4/llama-3.1-8b"]}').pipe(z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]))));

/**
 * The inference subnets taogate knows, served from the chain when NETUIDS is
 * unset (so `SUBTENSOR_URL=finney npm start` works as written); the entries
 * say so loudly at start (defaultNetuidsNotice).
 */
export const DEFAULT_CHAIN_SUBNETS: Readonly<Record<number, string>> = { 4: 'Targon', 19: 'Nineteen', 62: 'Ridges', 64: 'Chutes' };

export const EnvSchema = z.object({
  PORT: positiveInt.max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Subnets to serve; with a metagraph file, defaults to the file's subnets; with SUBTENSOR_URL, to DEFAULT_CHAIN_SUBNETS. */
  NETUIDS: netuidList.optional(),
  /** sr25519 secret URI or mnemonic the gateway signs Epistula requests with; checked here so a bad one is named at start-up. */
  GATEWAY_HOTKEY_URI: z
    .string()
    .min(1)
    .pipe(
      envParsed((uri) => {
        parseSecretUri(uri);
        return uri;
      }),
    )
    .optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  REDIS_PREFIX: z.string().default('taogate:'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ALLOW_PRIVATE_AXONS: flag.default(false),
  METAGRAPH_FILE: z.string().min(1).optional(),
  METAGRAPH_REFRESH_S: positiveInt.default(60),
  /** finney, test, or a ws(s):// URL; resolved to the URL. */
  SUBTENSOR_URL: z.string().min(1).pipe(envParsed(resolveSubtensorUrl)).optional(),
  /** incentive | validator:<ss58> | blend | a comma-separated fallback chain of those. */
  RANK_BY: z
    .string()
    .min(1)
    .default('incentive')
    .superRefine((value, ctx) => {
      try {
        parseRankBy(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  /** Models per subnet for chain subnets, JSON: {"4":["llama-3.1-8b"]}. A subnet without a list passes any name through. */
  SUBNET_MODELS: envJson('{"4":["llama-3.1-8b"]}')
    .pipe(z.record(z.string().regex(/^\d+$/, 'keys must be netuids'), z.array(z.string().min(1))))
    .optional(),
  /** The router spreads traffic over this many of the best miners. */
  ROUTER_TOP_K: positiveInt.max(256).default(8),
  /** Attempts per request, across all its candidate subnets (each later subnet keeps one; see src/router/subnet-failover.ts). */
  MAX_ATTEMPTS: positiveInt.max(10).default(3),
  /** Candidate subnets an alias or `auto` request may fail over across. */
  MAX_SUBNETS: positiveInt.max(10).default(3),
  /** taogate.config.json: subnets, providers, models, aliases, prices, timeouts (src/config-file.ts). */
  TAOGATE_CONFIG: z.string().min(1).optional(),
  /** Whole request, all attempts included. */
  REQUEST_TIMEOUT_MS: positiveInt.default(120_000),
  CONNECT_TIMEOUT_MS: positiveInt.default(3_000),
  /** From request sent to the upstream's response headers. */
  FIRST_BYTE_TIMEOUT_MS: positiveInt.default(30_000),
  /** Longest silence between two chunks of an upstream body. */
  STREAM_IDLE_TIMEOUT_MS: positiveInt.default(30_000),
  MAX_RESPONSE_BYTES: positiveInt.default(16 * 1024 * 1024),
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  MODEL_ALIASES: aliasMap.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Prices, credits, limits' fallbacks and receipts: src/metering/metering-config.ts. */
  ...MeteringEnvShape,
  /** Hedging and circuit breakers: HEDGE_*, BREAKER_* (see src/router/reliability.ts). */
  ...reliabilityEnv,
  /** /v1/compare, the leaderboard and RANK_BY=blend: COMPARE_*, BLEND_* (see src/compare/compare-config.ts). */
  ...compareEnv,
  /** GET /metrics access and per-miner series cap: METRICS_* (see src/metrics/metrics-config.ts). */
  ...metricsEnv,
  /** The response cache: CACHE_* (see src/cache/cache-config.ts). */
  ...CacheEnvShape,
});

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Never echoed back in errors: they end up in logs. */
const SECRET_VARIABLES = new Set(['GATEWAY_HOTKEY_URI', 'ADMIN_TOKEN', 'REDIS_URL', 'RECEIPT_SIGNING_KEY', 'METRICS_TOKEN']);

/** Parses an environment record; throws ConfigError naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // Empty strings mean "unset" in shell-style env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.superRefine((config, ctx) => {
    if (config.METAGRAPH_FILE && config.SUBTENSOR_URL) {
      ctx.addIssue({ code: 'custom', path: ['METAGRAPH_FILE'], message: 'set either METAGRAPH_FILE or SUBTENSOR_URL, not both' });
    }
    if (config.CACHE_DEFAULT_TTL_S > config.CACHE_MAX_TTL_S) {
      ctx.addIssue({ code: 'custom', path: ['CACHE_DEFAULT_TTL_S'], message: `must not exceed CACHE_MAX_TTL_S (${config.CACHE_MAX_TTL_S})` });
    }
  }).safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const shown = name in cleaned && !SECRET_VARIABLES.has(name);
      const got = shown ? ` (got ${JSON.stringify(cleaned[name])})` : '';
      return `${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  if (config.SUBTENSOR_URL && !config.NETUIDS) return { ...config, NETUIDS: Object.keys(DEFAULT_CHAIN_SUBNETS).map(Number) };
  return config;
}

/**
 * What an entry logs at start when NETUIDS was defaulted (SUBTENSOR_URL set,
 * NETUIDS not): which subnets it serves and how to choose others; null when
 * the operator chose.
 */
export function defaultNetuidsNotice(env: Readonly<Record<string, string | undefined>>, config: Config): string | null {
  if (!config.SUBTENSOR_URL || env.NETUIDS) return null;
  const subnets = (config.NETUIDS ?? []).map((n) => `sn${n} ${DEFAULT_CHAIN_SUBNETS[n] ?? ''}`.trim()).join(', ');
  return `NETUIDS is unset: serving the inference subnets taogate knows (${subnets}); set NETUIDS to choose, e.g. NETUIDS=4,64`;
}
