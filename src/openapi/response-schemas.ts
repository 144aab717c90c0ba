/**
 * Shapes of what the gateway answers, for the OpenAPI document (requests are
 * described by the zod schemas that validate them; these describe replies).
 * Tests parse real answers with them, so the document cannot drift from
 * what is served.
 */
import { z } from 'zod';

const nullableString = z.string().nullable();

export const OpenAiErrorSchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), code: nullableString, param: nullableString }),
});

export const AnthropicErrorSchema = z.object({
  type: z.literal('error'),
  error: z.object({ type: z.string(), message: z.string() }),
  request_id: z.string().optional(),
});

const OutputTextSchema = z.looseObject({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()) });
const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']);

export const ResponsesOutputItemSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('message'), id: z.string(), status: itemStatus, role: z.literal('assistant'), content: z.array(OutputTextSchema) }),
  z.looseObject({ type: z.literal('function_call'), id: z.string(), status: itemStatus, call_id: z.string(), name: z.string(), arguments: z.string() }),
]);

export const ResponsesResponseSchema = z.looseObject({
  id: z.string().startsWith('resp_'),
  object: z.literal('response'),
  created_at: z.number().int(),
  status: z.enum(['in_progress', 'completed', 'incomplete', 'failed']),
  model: z.string(),
  output: z.array(ResponsesOutputItemSchema),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  incomplete_details: z.object({ reason: z.string() }).nullable(),
  usage: z
    .looseObject({
      input_tokens: z.number().int(),
      input_tokens_details: z.object({ cached_tokens: z.number().int() }),
      output_tokens: z.number().int(),
      output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
      total_tokens: z.number().int(),
    })
    .nullable(),
  taogate_receipt: z.string().optional().describe('On streamed responses (response.completed, or response.failed for a stream the miner cut: the bill of what was delivered): the signed receipt; non-streamed answers carry it in x-taogate-receipt.'),
});

export const MessagesResponseSchema = z.looseObject({
  id: z.string().startsWith('msg_'),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(
    z.discriminatedUnion('type', [
      z.looseObject({ type: z.literal('text'), text: z.string() }),
      z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) }),
    ]),
  ),
  stop_reason: z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal']),
  stop_sequence: nullableString,
  usage: z.looseObject({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
});

export const CountTokensResponseSchema = z.object({ input_tokens: z.number().int().nonnegative() });

export const ModelSchema = z.looseObject({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  context_length: z.number().int().nullable(),
  taogate: z.object({ kind: z.string(), targets: z.array(z.string()), private: z.boolean() }),
  pricing: z.looseObject({}),
});

export const ModelListSchema = z.object({ object: z.literal('list'), data: z.array(ModelSchema) });

export const HealthSchema = z.looseObject({ status: z.string() });
export const NotReadySchema = OpenAiErrorSchema.extend({ status: z.literal('not_ready'), reason: z.string() });

export const SubnetListSchema = z.looseObject({
  object: z.literal('list'),
  /** null when only subnet APIs are served and no snapshot exists yet. */
  source: z.string().nullable(),
  version: z.string().nullable(),
  block: z.number().int().nullable(),
  age_s: z.number().nullable(),
  data: z.array(
    z.looseObject({
      netuid: z.number().int(),
      provider: z.string(),
      private: z.boolean(),
      models: z.array(z.string()),
      routable: z.number().int(),
      /** Miner subnets only. */
      neurons: z.number().int().optional(),
      /** Subnet APIs only, and only for a caller with the admin token: where it is (never its key). */
      origin: z.string().nullable().optional(),
    }),
  ),
});

export const MinerListSchema = z.looseObject({
  object: z.literal('list'),
  netuid: z.number().int(),
  data: z.array(z.looseObject({ uid: z.number().int(), rank: z.number().int(), score: z.number(), hotkey: z.string(), axon: nullableString, health: z.looseObject({}).nullable() })),
});

export const UsageReportSchema = z.looseObject({
  object: z.literal('usage'),
  key_id: z.string(),
  billing: z.enum(['postpaid', 'prepaid']),
  totals: z.looseObject({ requests: z.number(), prompt_tokens: z.number(), completion_tokens: z.number(), cost_micro_usd: z.number() }),
  models: z.record(z.string(), z.looseObject({})),
  days: z.array(z.looseObject({ date: z.string() })),
  credits: z.looseObject({ available_micro_usd: z.number() }).nullable(),
});

export const ReceiptPublicKeySchema = z.object({
  algorithm: z.literal('ed25519'),
  kid: z.string(),
  public_key_hex: z.string(),
  public_key_base64: z.string(),
  ephemeral: z.boolean(),
  format: z.string(),
});

export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.string(),
  revoked_at: nullableString,
  credits_usd: z.number().nullable(),
  rpm: z.number().int().nullable(),
  tpm: z.number().int().nullable(),
  private: z.boolean(),
  trusted_scorer: z.boolean().describe("Its comparisons count for routing (blend quality, the `quality` candidate policy)"),
});

export const CreatedApiKeySchema = ApiKeySchema.extend({ key: z.string().describe('The plaintext key, shown only once.') });
export const ApiKeyListSchema = z.object({ object: z.literal('list'), data: z.array(ApiKeySchema) });
export const ApiKeyWithUsageSchema = ApiKeySchema.extend({ usage: z.looseObject({}) });
export const RevokedApiKeySchema = ApiKeySchema.extend({ revoked: z.literal(true) });
export const TopUpResultSchema = z.object({
  id: z.string(),
  applied: z.boolean(),
  amount_micro_usd: z.number().int(),
  credits: z.looseObject({ available_micro_usd: z.number() }),
});

const CompareEntrySchema = z.looseObject({
  index: z.number().int(),
  target: z.string(),
  model: z.string(),
  served_model: nullableString,
  miner: z.looseObject({ netuid: z.number().int(), uid: z.number().int().nullable(), hotkey: nullableString, upstream: nullableString }).nullable(),
  answer: nullableString,
  latency_ms: z.number(),
  ttft_ms: z.number().nullable(),
  tokens: z.looseObject({ prompt: z.number(), completion: z.number(), estimated: z.boolean() }).nullable(),
  cost_micro_usd: z.number().nullable(),
  receipt: nullableString,
  error: z.looseObject({ status: z.number().int(), type: z.string(), code: nullableString, message: z.string() }).nullable(),
  scores: z.looseObject({
    checks: z.array(z.looseObject({ type: z.string(), passed: z.boolean().nullable(), detail: nullableString })),
    checks_passed: z.number().int(),
    checks_total: z.number().int(),
    checks_not_run: z.number().int(),
    judge: z.looseObject({ score: z.number().nullable(), reason: nullableString }).nullable(),
    overall: z.number().nullable(),
  }),
});

export const ComparisonSchema = z.looseObject({
  id: z.string().startsWith('cmp-'),
  object: z.literal('comparison'),
  created: z.number().int(),
  judge: z.looseObject({ model: z.string(), status: z.enum(['ok', 'failed', 'skipped']), error: nullableString, attempts: z.number().int() }).nullable(),
  entries: z.array(CompareEntrySchema),
  winners: z.array(z.number().int()),
  leaderboard: z.enum(['recorded', 'private', 'unscored', 'aborted', 'failed']),
});

export const LeaderboardSchema = z.looseObject({
  object: z.literal('list'),
  window: z.string(),
  trusted: z.boolean(),
  bucket_s: z.number(),
  subnets: z.array(z.number().int()).describe('The subnets read'),
  truncated: z.boolean().describe('More served subnets had comparisons than one read covers (16): name one with `netuid`'),
  data: z.array(
    z.looseObject({
      netuid: z.number().int(),
      model: z.string(),
      hotkey: z.string(),
      uid: z.number().int().nullable(),
      count: z.number().int(),
      errors: z.number().int(),
      error_rate: z.number(),
      mean_score: z.number().nullable(),
      win_rate: z.number().nullable(),
      latency_ms: z.looseObject({ mean: z.number().nullable(), p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable() }),
    }),
  ),
});

export const MetagraphPushResultSchema = z.object({
  version: z.string(),
  block: z.number().int().nullable(),
  taken_at: z.string().describe('When the syncer read the chain (ISO 8601).'),
  subnets: z.array(z.object({ netuid: z.number().int(), routable: z.number().int() })),
});

export const CacheStatsSchema = z.object({
  enabled: z.boolean(),
  hits: z.number().int().describe('Answers served without an upstream call of their own (coalesced followers included).'),
  misses: z.number().int(),
  bypasses: z.number().int(),
  coalesced: z.number().int().describe('Hits that followed an identical request in flight, here or on another replica.'),
  stored: z.number().int(),
  tooLarge: z.number().int(),
  errors: z.number().int().describe('Redis cache calls that failed or timed out (each failed open).'),
  evictions: z.number().int(),
  memoryEntries: z.number().int(),
  memoryBytes: z.number().int(),
  inFlight: z.number().int(),
  shared: z.enum(['up', 'down', 'none']),
});
