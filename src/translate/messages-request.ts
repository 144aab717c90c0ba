/**
 * Anthropic Messages API requests (`POST /v1/messages`, what Claude Code,
 * Cline and the Anthropic SDK speak): the schemas that validate them
 * (count_tokens takes the same body without max_tokens), and their
 * translation to the chat completion request miners understand.
 */
import { z } from 'zod';
import type { ChatCompletionRequest } from '../openai/requests.js';

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const ImageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  ]),
});
const ToolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() });
const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextBlock, ImageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
/** Thinking blocks a client echoes back mean nothing to another model; they are dropped. */
const ThinkingBlock = z.looseObject({ type: z.literal('thinking') });
const RedactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking') });
const ContentBlock = z.discriminatedUnion('type', [TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock, ThinkingBlock, RedactedThinkingBlock]);

export const AnthropicMessageSchema = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(ContentBlock)]),
});

export const AnthropicToolSchema = z.looseObject({
  type: z.literal('custom', { error: 'only client tools (name, description, input_schema) are supported, not server tools' }).optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});

const ToolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('none') }),
]);

/** What count_tokens takes: a Messages request without max_tokens. */
export const MessagesCountTokensRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required'),
  messages: z.array(AnthropicMessageSchema).min(1, 'messages must contain at least one message'),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(AnthropicToolSchema).optional(),
  tool_choice: ToolChoice.optional(),
});

export const MessagesRequestSchema = MessagesCountTokensRequestSchema.extend({
  max_tokens: z.number({ error: (issue) => (issue.input === undefined ? 'max_tokens is required' : undefined) }).int().positive(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().positive().optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type MessagesCountTokensRequest = z.infer<typeof MessagesCountTokensRequestSchema>;
type Block = z.infer<typeof ContentBlock>;
type ChatMessage = ChatCompletionRequest['messages'][number];
type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

function imageUrl(block: z.infer<typeof ImageBlock>): string {
  const { source } = block;
  return source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
}

/** Text-only content becomes a plain string, which every miner's chat template accepts. */
function userContent(blocks: readonly Block[]): string | ChatPart[] {
  const parts: ChatPart[] = [];
  for (const block of blocks) {
    if (block.type === 'text') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageUrl(block) } });
  }
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

/** Chat tool messages carry text only, so an image in a tool result is named rather than sent. */
function toolResultText(block: z.infer<typeof ToolResultBlock>): string {
  const content = block.content ?? '';
  const text = typeof content === 'string' ? content : content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('');
  // Chat has no error flag on tool messages; the model still has to know the call failed.
  return block.is_error ? `Error: ${text}` : text;
}

function userMessages(content: string | readonly Block[]): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  // Tool results answer the previous assistant turn, so they come first, as chat `tool` messages.
  const messages: ChatMessage[] = content
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({ role: 'tool', tool_call_id: b.tool_use_id, content: toolResultText(b) }));
  const rest = content.filter((b) => b.type === 'text' || b.type === 'image');
  if (rest.length > 0) messages.push({ role: 'user', content: userContent(rest) });
  return messages;
}

function assistantMessage(content: string | readonly Block[]): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const text = content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  const toolCalls = content
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
  if (toolCalls.length === 0) return { role: 'assistant', content: text };
  return { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls };
}

function systemText(system: MessagesCountTokensRequest['system']): string {
  if (system === undefined) return '';
  return typeof system === 'string' ? system : system.map((b) => b.text).join('\n');
}

function toolChoiceOf(choice: NonNullable<MessagesCountTokensRequest['tool_choice']>): ChatCompletionRequest['tool_choice'] {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

/** The conversation, tools and tool choice: all count_tokens needs. */
export function conversationToChat(request: MessagesCountTokensRequest): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(request.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const message of request.messages) {
    if (message.role === 'user') messages.push(...userMessages(message.content));
    else messages.push(assistantMessage(message.content));
  }
  const chat: ChatCompletionRequest = { model: request.model, messages };
  if (request.tools && request.tools.length > 0) {
    chat.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema },
    }));
    const choice = request.tool_choice;
    if (choice && 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use) chat.parallel_tool_calls = false;
  }
  if (request.tool_choice) chat.tool_choice = toolChoiceOf(request.tool_choice);
  return chat;
}

/** Request in → the chat completion request sent to miners. */
export function messagesToChat(request: MessagesRequest): ChatCompletionRequest {
  const chat = conversationToChat(request);
  chat.max_tokens = request.max_tokens;
  if (request.stream) {
    chat.stream = true;
    // The usage chunk feeds message_delta's usage.
    chat.stream_options = { include_usage: true };
  }
  if (request.stop_sequences && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  // Not in the chat spec, but vLLM and SGLang (what miners run) take it.
  if (request.top_k !== undefined) chat.top_k = request.top_k;
  if (request.metadata?.user_id) chat.user = request.metadata.user_id;
  return chat;
}
