/**
 * taogate.config.json (path in TAOGATE_CONFIG): which subnets are served by
 * which provider, their models (upstream names, aliases, prices per 1M
 * tokens, context lengths), aliases across subnets, the candidate policy and
 * timeouts. Validated with zod when the gateway starts; a bad file stops
 * start-up with a message naming the file and the field, like a bad
 * environment variable does.
 *
 * API keys are never in the file: `api.apiKeyEnv` names the environment
 * variable that holds one, read here once.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SUBNET_API_ADAPTERS, SUBNET_API_KINDS } from '../providers/subnet-api-kinds.js';
import { ConfigError } from './config.js';
import { PriceSchema, type ModelPrice } from './metering/metering-config.js';
import { ROUTE_POLICIES, type RoutePolicy } from './router/candidate-policy.js';

const positiveMs = z.number().int().positive();
const SUBNET_MODEL_ID = /^sn\d{1,5}\/\S+$/;

const aliasName = z
  .string()
  .regex(/^\S+$/, 'an alias has no whitespace')
  .refine((name) => name !== 'auto' && !/^sn\d+\//.test(name), 'an alias cannot be "auto" or look like sn<netuid>/<model>');

const ModelSchema = z.strictObject({
  /** The id clients use is sn<netuid>/<name>. */
  name: z.string().regex(/^\S+$/, 'a model name has no whitespace'),
  /** The name the upstream knows it by (default: `name`). */
  upstream: z.string().min(1).optional(),
  aliases: z.array(aliasName).optional(),
  price: PriceSchema.optional(),
  context_length: z.number().int().positive().optional(),
});

const SubnetTimeoutsSchema = z.strictObject({ connectMs: positiveMs.optional(), firstByteMs: positiveMs.optional(), idleMs: positiveMs.optional() });

const common = {
  netuid: z.number().int().min(0).max(65535),
  /** Private mode routes only to subnets marked private. */
  private: z.boolean().default(false),
  timeouts: SubnetTimeoutsSchema.optional(),
};

const SubnetApiSubnetSchema = z.strictObject({
  ...common,
  provider: z.literal('subnet-api'),
  api: z.strictObject({
    kind: z.enum(SUBNET_API_KINDS, { error: `kind must be one of ${SUBNET_API_KINDS.join(', ')}` }),
    baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable'),
  }),
  models: z.array(ModelSchema).min(1, 'a subnet API needs at least one model'),
});

const EpistulaSubnetSchema = z.strictObject({
  ...common,
  provider: z.literal('openai-epistula'),
  /** Optional: without it the subnet's models come from SUBNET_MODELS or the metagraph file. */
  models: z.array(ModelSchema).optional(),
});

const AliasSchema = z.union([
  z.array(z.string().regex(SUBNET_MODEL_ID, 'alias targets look like sn<netuid>/<model>')).min(1),
  z.strictObject({ targets: z.array(z.string().regex(SUBNET_MODEL_ID, 'alias targets look like sn<netuid>/<model>')).min(1), policy: z.enum(ROUTE_POLICIES).optional() }),
]);

const FileSchema = z
  .strictObject({
    subnets: z.array(
      z.discriminatedUnion('provider', [SubnetApiSubnetSchema, EpistulaSubnetSchema], { error: 'provider must be "subnet-api" or "openai-epistula"' }),
    ),
    aliases: z.record(aliasName, AliasSchema).optional(),
    /** How alias and `auto` candidates are ordered, unless an alias says otherwise. */
    policy: z.enum(ROUTE_POLICIES).default('order'),
    timeouts: z.strictObject({ requestMs: positiveMs.optional(), ...SubnetTimeoutsSchema.shape }).optional(),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<number, number>();
    file.subnets.forEach((subnet, i) => {
      if (seen.has(subnet.netuid)) ctx.addIssue({ code: 'custom', path: ['subnets', i, 'netuid'], message: `netuid ${subnet.netuid} is already configured at subnets[${seen.get(subnet.netuid)}]` });
      seen.set(subnet.netuid, i);
      const names = new Set<string>();
      subnet.models?.forEach((model, j) => {
        if (names.has(model.name)) ctx.addIssue({ code: 'custom', path: ['subnets', i, 'models', j, 'name'], message: `model ${model.name} is listed twice` });
        names.add(model.name);
      });
      if (subnet.provider === 'subnet-api' && !subnet.api.baseUrl && !SUBNET_API_ADAPTERS[subnet.api.kind]?.defaultBaseUrl) {
        ctx.addIssue({ code: 'custom', path: ['subnets', i, 'api', 'baseUrl'], message: `required for kind ${subnet.api.kind}` });
      }
    });
    // An alias may name any sn<netuid>/<model>, but a model of a subnet listed here must exist.
    for (const [alias, value] of Object.entries(file.aliases ?? {})) {
      const targets = Array.isArray(value) ? value : value.targets;
      targets.forEach((id, k) => {
        const [, netuid, name] = /^sn(\d+)\/(.+)$/.exec(id) ?? [];
        const subnet = file.subnets.find((s) => s.netuid === Number(netuid));
        if (subnet?.models && !subnet.models.some((m) => m.name === name)) {
          const path = Array.isArray(value) ? ['aliases', alias, k] : ['aliases', alias, 'targets', k];
          ctx.addIssue({ code: 'custom', path, message: `subnet ${netuid} has no model ${name}` });
        }
      });
    }
  });

type ParsedFile = z.infer<typeof FileSchema>;

export interface ConfiguredModel {
  readonly name: string;
  readonly upstream: string;
  readonly aliases: readonly string[];
  readonly price: ModelPrice | null;
  readonly contextLength: number | null;
}

export interface ConfiguredApi {
  readonly kind: string;
  readonly baseUrl: string;
  /** Read from `apiKeyEnv` at start-up. Never logged, never sent anywhere but to this API. */
  readonly apiKey: string;
  readonly apiKeyEnv: string;
}

export interface ConfiguredSubnet {
  readonly netuid: number;
  readonly provider: 'subnet-api' | 'openai-epistula';
  readonly private: boolean;
  /** Set for `subnet-api`. */
  readonly api: ConfiguredApi | null;
  /** Empty for an epistula subnet that takes its models from the metagraph source. */
  readonly models: readonly ConfiguredModel[];
  readonly timeouts: { readonly connectMs?: number; readonly firstByteMs?: number; readonly idleMs?: number };
}

export interface ConfiguredAlias {
  readonly targets: readonly string[];
  readonly policy: RoutePolicy | null;
}

export interface GatewayFileConfig {
  /** Where it was read from (for messages), or a name like "devnet". */
  readonly origin: string;
  readonly subnets: readonly ConfiguredSubnet[];
  readonly aliases: Readonly<Record<string, ConfiguredAlias>>;
  readonly policy: RoutePolicy;
  readonly timeouts: { readonly requestMs?: number; readonly connectMs?: number; readonly firstByteMs?: number; readonly idleMs?: number };
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '') || '(top level)';
}

function fail(origin: string, lines: readonly string[]): never {
  throw new ConfigError(`invalid config file ${origin}:\n  ${lines.join('\n  ')}`);
}

function toConfig(origin: string, file: ParsedFile, env: Readonly<Record<string, string | undefined>>): GatewayFileConfig {
  const missing: string[] = [];
  const subnets = file.subnets.map((subnet, i): ConfiguredSubnet => {
    let api: ConfiguredApi | null = null;
    if (subnet.provider === 'subnet-api') {
      const apiKey = env[subnet.api.apiKeyEnv] ?? '';
      if (!apiKey) missing.push(`subnets[${i}].api.apiKeyEnv: environment variable ${subnet.api.apiKeyEnv} is not set (it holds the API key for subnet ${subnet.netuid})`);
      const baseUrl = subnet.api.baseUrl ?? SUBNET_API_ADAPTERS[subnet.api.kind]?.defaultBaseUrl ?? '';
      api = { kind: subnet.api.kind, baseUrl, apiKey, apiKeyEnv: subnet.api.apiKeyEnv };
    }
    const models = (subnet.models ?? []).map((m) => ({
      name: m.name,
      upstream: m.upstream ?? m.name,
      aliases: m.aliases ?? [],
      price: m.price ?? null,
      contextLength: m.context_length ?? null,
    }));
    return { netuid: subnet.netuid, provider: subnet.provider, private: subnet.private, api, models, timeouts: subnet.timeouts ?? {} };
  });
  if (missing.length > 0) fail(origin, missing);
  const aliases = Object.fromEntries(
    Object.entries(file.aliases ?? {}).map(([name, value]) => [name, Array.isArray(value) ? { targets: value, policy: null } : { targets: value.targets, policy: value.policy ?? null }]),
  );
  return { origin, subnets, aliases, policy: file.policy, timeouts: file.timeouts ?? {} };
}

/** Validates an already parsed document (the devnet builds one in code). */
export function parseGatewayConfig(origin: string, document: unknown, env: Readonly<Record<string, string | undefined>>): GatewayFileConfig {
  const parsed = FileSchema.safeParse(document);
  if (!parsed.success) {
    // A bad record key (an alias name) carries the reason in its own nested issues.
    const messageOf = (issue: z.core.$ZodIssue) => (issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message);
    fail(origin, parsed.error.issues.map((issue) => `${fieldPath(issue.path)}: ${messageOf(issue)}`));
  }
  return toConfig(origin, parsed.data, env);
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Parses and validates the JSON text of a config document: the file's, or a Worker's TAOGATE_CONFIG_JSON. */
export function parseGatewayConfigText(origin: string, text: string, env: Readonly<Record<string, string | undefined>>): GatewayFileConfig {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    // Only where, never V8's message: it quotes the text around the error, and a Worker's startup
    // failure is answered to any client (the document may hold base URLs and other operator settings).
    const at = /position (\d+)/.exec((err as Error).message);
    fail(origin, [at ? `is not valid JSON (at ${lineAndColumn(text, Number(at[1]))})` : 'is not valid JSON']);
  }
  return parseGatewayConfig(origin, document, env);
}

/** Reads and validates TAOGATE_CONFIG; throws ConfigError naming the path and the field. */
export function loadGatewayConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): GatewayFileConfig {
  const origin = resolve(path);
  let text: string;
  try {
    text = readFileSync(origin, 'utf8');
  } catch (err) {
    fail(origin, [`cannot be read (TAOGATE_CONFIG): ${(err as Error).message}`]);
  }
  return parseGatewayConfigText(origin, text, env);
}
