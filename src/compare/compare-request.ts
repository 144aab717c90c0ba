/**
 * The body of POST /v1/compare. Strict: a misspelt field (`target`,
 * `check`) is a 400 naming it rather than a comparison that silently
 * ignored what the caller asked for.
 */
import { z } from 'zod';
import { ChatMessageSchema } from '../openai/requests.js';

export const CheckSchema = z.discriminatedUnion('type', [
  /** The whole answer, trimmed, equals `value`. */
  z.strictObject({ type: z.literal('exact'), value: z.string(), ignore_case: z.boolean().optional() }),
  z.strictObject({ type: z.literal('contains'), value: z.string().min(1), ignore_case: z.boolean().optional() }),
  z.strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1).max(1_000),
    flags: z.string().regex(/^[imsu]*$/, 'flags may only use i, m, s and u').optional(),
  }),
  /** The answer parses as JSON and validates against `schema` (ajv, draft-07 / 2019 keywords). */
  z.strictObject({ type: z.literal('json_schema'), schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]) }),
]);

export type Check = z.infer<typeof CheckSchema>;

export const CompareRequestSchema = z
  .strictObject({
    messages: z.array(ChatMessageSchema).min(1, 'messages must contain at least one message').optional(),
    /** Shorthand for one user message. */
    prompt: z.string().min(1, 'prompt is empty').max(100_000).optional(),
    /** "sn4", "sn4/<model>", "sn4/uid:12", "sn4/<model>/uid:12", "auto", or an alias. */
    targets: z.array(z.string().trim().min(1, 'a target is empty')).min(1, 'targets is empty').optional(),
    /** Instead of targets: the best N routable miners of `subnet`. */
    top_n: z.number().int().min(1, 'top_n must be at least 1').optional(),
    /** With top_n: "sn4" or "sn4/<model>"; without it, the gateway's one subnet with miners (targets.ts). */
    subnet: z.string().trim().min(1).optional(),
    max_tokens: z.number().int().positive().max(32_768).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    stream: z.boolean().optional(),
    /** A routed model id that grades every answer 1-10. */
    judge: z.string().trim().min(1).optional(),
    rubric: z.string().trim().min(1).max(2_000).optional(),
    checks: z.array(CheckSchema).max(20, 'at most 20 checks').optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.messages === undefined) === (body.prompt === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['messages'], message: 'give exactly one of messages and prompt' });
    }
    if ((body.targets === undefined) === (body.top_n === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'give exactly one of targets and top_n' });
    }
    if (body.rubric !== undefined && body.judge === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rubric'], message: 'a rubric needs a judge model' });
    }
  });

export type CompareRequest = z.infer<typeof CompareRequestSchema>;
