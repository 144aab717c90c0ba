/**
 * OpenAI Responses API requests (`POST /v1/responses`, what Codex CLI and
 * new OpenAI SDK code speak): the schema that validates them, and their
 * translation to the chat completion request miners understand.
 *
 * Stored conversations (`previous_response_id`, `conversation`) are not
 * kept: the client sends the whole conversation in `input`, as Codex does.
 */
import { z } from 'zod';
import { invalidRequest } from '../errors.js';
import type { ChatCompletionRequest } from '../openai/requests.js';

const text = z.string();
const InputTextPart = z.looseObject({ type: z.literal('input_text'), text });
const OutputTextPart = z.looseObject({ type: z.literal('output_text'), text });
const RefusalPart = z.looseObject({ type: z.literal('refusal'), refusal: text });
const InputImagePart = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string({ error: 'image_url is required (uploaded files are not supported)' }),
  detail: z.enum(['low', 'high', 'auto']).nullish(),
});
const ContentPart = z.discriminatedUnion('type', [InputTextPart, OutputTextPart, RefusalPart, InputImagePart]);

const MessageItem = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(ContentPart)]),
});
const FunctionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const FunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(ContentPart)]),
});
/** Reasoning items a client echoes back carry nothing a chat model can use; they are dropped. */
const ReasoningItem = z.looseObject({ type: z.literal('reasoning') });

export const ResponsesInputItemSchema = z.discriminatedUnion('type', [MessageItem, FunctionCallItem, FunctionCallOutputItem, ReasoningItem]);

export const ResponsesFunctionToolSchema = z.looseObject({
  type: z.literal('function', { error: 'only function tools (type "function") are supported' }),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const ToolChoice = z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.literal('function'), name: z.string().min(1) })]);

const TextFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const ResponsesRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required'),
  input: z.union([z.string(), z.array(ResponsesInputItemSchema).min(1, 'input must contain at least one item')]),
  instructions: z.string().nullish(),
  tools: z.array(ResponsesFunctionToolSchema).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  text: z.looseObject({ format: TextFormat.optional() }).nullish(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
});

export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
type ContentPartValue = z.infer<typeof ContentPart>;
type ChatMessage = ChatCompletionRequest['messages'][number];
type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } };

function partToChat(part: ContentPartValue): ChatPart {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: part.text };
    case 'refusal':
      return { type: 'text', text: part.refusal };
    case 'input_image':
      return { type: 'image_url', image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } };
  }
}

/** Text-only content becomes a plain string, which every miner's chat template accepts. */
function contentToChat(content: string | readonly ContentPartValue[]): string | ChatPart[] {
  if (typeof content === 'string') return content;
  const parts = content.map(partToChat);
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

function refuseStoredState(request: ResponsesRequest): void {
  const why = 'taogate does not store responses: send the whole conversation in `input` (earlier output items included)';
  if (request.previous_response_id) throw invalidRequest(`previous_response_id is not supported: ${why}.`, 'previous_response_id', 'unsupported_parameter');
  if (request.conversation != null) throw invalidRequest(`conversation is not supported: ${why}.`, 'conversation', 'unsupported_parameter');
}

function messagesOf(request: ResponsesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (request.instructions) messages.push({ role: 'system', content: request.instructions });
  if (typeof request.input === 'string') {
    messages.push({ role: 'user', content: request.input });
    return messages;
  }
  for (const item of request.input) {
    switch (item.type) {
      case undefined:
      case 'message':
        // Chat servers know `developer` less widely than `system`; they mean the same to a model.
        messages.push({ role: item.role === 'developer' ? 'system' : item.role, content: contentToChat(item.content) });
        break;
      case 'function_call': {
        const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
        // Calls the model made in one turn join that turn's assistant message.
        const last = messages.at(-1);
        if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
        else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
        break;
      }
      case 'function_call_output': {
        const output = contentToChat(item.output);
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof output === 'string' ? output : JSON.stringify(output) });
        break;
      }
      case 'reasoning':
        break;
    }
  }
  if (messages.length === 0) throw invalidRequest('input has nothing a model can read (only reasoning items)', 'input');
  return messages;
}

function responseFormatOf(format: z.infer<typeof TextFormat> | undefined): ChatCompletionRequest['response_format'] {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, schema, description, strict } = format;
  return { type: 'json_schema', json_schema: { name, schema, ...(description ? { description } : {}), ...(strict != null ? { strict } : {}) } };
}

/** Request in → the chat completion request sent to miners (only what chat understands). */
export function responsesToChat(request: ResponsesRequest): ChatCompletionRequest {
  refuseStoredState(request);
  const chat: ChatCompletionRequest = { model: request.model, messages: messagesOf(request) };
  if (request.stream) {
    chat.stream = true;
    // The usage chunk feeds response.completed's usage.
    chat.stream_options = { include_usage: true };
  }
  if (request.max_output_tokens != null) chat.max_tokens = request.max_output_tokens;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  if (request.user !== undefined) chat.user = request.user;
  if (request.tools && request.tools.length > 0) {
    chat.tools = request.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.parameters ?? { type: 'object', properties: {} },
        ...(t.strict != null ? { strict: t.strict } : {}),
      },
    }));
    if (request.parallel_tool_calls != null) chat.parallel_tool_calls = request.parallel_tool_calls;
  }
  if (request.tool_choice !== undefined) {
    chat.tool_choice = typeof request.tool_choice === 'string' ? request.tool_choice : { type: 'function', function: { name: request.tool_choice.name } };
  }
  const responseFormat = responseFormatOf(request.text?.format);
  if (responseFormat) chat.response_format = responseFormat;
  return chat;
}
