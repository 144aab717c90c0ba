/**
 * Request bodies the gateway accepts. Known fields are validated so a client
 * gets a 400 naming the field; unknown fields pass through to the miner
 * untouched, because OpenAI clients send new fields all the time.
 */
import { z } from 'zod';

const samplingFields = {
  model: z.string().min(1, 'model is required'),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(1, 'only n=1 is supported: each request goes to one miner').nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  user: z.string().optional(),
};

const contentPart = z.looseObject({ type: z.string() });

export const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
  tool_calls: z.array(z.looseObject({})).optional(),
});

export const ChatCompletionRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(ChatMessageSchema).min(1, 'messages must contain at least one message'),
  max_completion_tokens: z.number().int().positive().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: z.unknown().optional(),
  response_format: z.looseObject({ type: z.string() }).optional(),
});

export const CompletionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'only one prompt per request is supported')]),
  suffix: z.string().nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;
export type CompletionLikeRequest = ChatCompletionRequest | CompletionRequest;

/**
 * A streamed request always asks the miner for the usage chunk: metering
 * needs the miner's own counts. The relay drops that chunk again when the
 * client did not ask for it.
 */
export function withStreamUsage<T extends CompletionLikeRequest>(request: T): T {
  if (!request.stream) return request;
  return { ...request, stream_options: { ...request.stream_options, include_usage: true } };
}
