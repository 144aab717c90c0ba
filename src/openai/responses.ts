/**
 * What a miner must answer. Miners are untrusted: an answer that does not
 * match these shapes counts as a failed attempt, never reaches the client.
 */
import { z } from 'zod';

export const UsageSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative().optional(),
});

export type Usage = z.infer<typeof UsageSchema>;

export const ChatCompletionSchema = z.looseObject({
  object: z.literal('chat.completion').optional(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().int().optional(),
        message: z.looseObject({ role: z.string().optional(), content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1, 'choices is empty'),
  usage: UsageSchema.nullish(),
});

export const TextCompletionSchema = z.looseObject({
  object: z.literal('text_completion').optional(),
  choices: z
    .array(z.looseObject({ index: z.number().int().optional(), text: z.string(), finish_reason: z.string().nullish() }))
    .min(1, 'choices is empty'),
  usage: UsageSchema.nullish(),
});

/** A streamed chunk of either endpoint: choices may be empty only on the usage chunk. */
/** A chunk's shape without its usage: what a chunk relayed after the first byte must have. */
export const ChunkChoicesSchema = z.looseObject({
  choices: z.array(z.looseObject({ index: z.number().int().optional() })),
});

export const CompletionChunkSchema = ChunkChoicesSchema.extend({
  usage: UsageSchema.nullish(),
});

export type CompletionChunk = z.infer<typeof CompletionChunkSchema>;
export type CompletionResponse = z.infer<typeof ChatCompletionSchema> | z.infer<typeof TextCompletionSchema>;

/** The names and argument text of chat tool calls (whole, or stream deltas): what the model generated for them. */
export function toolCallsText(toolCalls: readonly unknown[]): string {
  let text = '';
  for (const call of toolCalls) {
    const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
    if (typeof fn?.name === 'string') text += fn.name;
    if (typeof fn?.arguments === 'string') text += fn.arguments;
  }
  return text;
}

/** The answer's generated text (chat message content and tool calls, or completion text), for counting tokens when usage is missing. */
export function answerText(payload: CompletionResponse): string {
  let text = '';
  for (const choice of payload.choices as Array<Record<string, unknown>>) {
    const message = choice.message as Record<string, unknown> | undefined;
    if (message && typeof message.content === 'string') text += message.content;
    else if (typeof choice.text === 'string') text += choice.text;
    if (message && Array.isArray(message.tool_calls)) text += toolCallsText(message.tool_calls);
  }
  return text;
}

/** The `error.message` of an OpenAI error envelope (what a miner sends instead of an answer), or null. */
export function errorEnvelopeMessage(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || !('error' in value)) return null;
  const error = (value as { error: unknown }).error;
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : error;
  return typeof message === 'string' ? message.slice(0, 200) : 'unknown error';
}
