/**
 * Chat completion answers → Anthropic Messages API `message` objects, and
 * the pieces the stream encoder shares with them (stop reasons, usage,
 * tool_use blocks).
 */
import type { CompletionResponse, Usage } from '../openai/responses.js';
import { readChatAnswer, type ChatToolCall, type FinishReason } from './chat-output.js';
import type { MessagesRequest } from './messages-request.js';

export interface MessagesContext {
  /** `msg_…` */
  readonly id: string;
  readonly request: MessagesRequest;
  /**
   * The gateway's count of the prompt: message_start must state input tokens
   * before the miner reports any, and it stands in when a miner reports none.
   */
  readonly inputTokens: () => number;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface MessageUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** A model that called tools stopped to have them run, whatever finish_reason its server put. */
export function stopReasonOf(finish: FinishReason | null, calledTools: boolean): StopReason {
  if (finish === 'length') return 'max_tokens';
  if (finish === 'content_filter') return 'refusal';
  if (calledTools || finish === 'tool_calls') return 'tool_use';
  return 'end_turn';
}

export function messageUsage(usage: Usage | null, ctx: MessagesContext): MessageUsage {
  return {
    input_tokens: usage?.prompt_tokens ?? ctx.inputTokens(),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

/**
 * tool_use input must be an object. Arguments that are not a JSON object
 * (a model's malformed output) are kept whole rather than dropped.
 */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const parsed = JSON.parse(args) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { arguments: args };
}

export function toolUseBlock(call: ChatToolCall): ToolUseBlock {
  return { type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) };
}

export const fallbackToolUseId = (ctx: MessagesContext, n: number) => `toolu_${ctx.id.slice('msg_'.length)}_${n}`;

/** A whole chat completion → the whole `message`. */
export function chatToMessage(payload: CompletionResponse, ctx: MessagesContext) {
  const answer = readChatAnswer(payload, (i) => fallbackToolUseId(ctx, i));
  const content: Array<TextBlock | ToolUseBlock> = [];
  if (answer.text !== '') content.push({ type: 'text', text: answer.text });
  content.push(...answer.toolCalls.map(toolUseBlock));
  return {
    id: ctx.id,
    type: 'message' as const,
    role: 'assistant' as const,
    model: ctx.request.model,
    content,
    stop_reason: stopReasonOf(answer.finishReason, answer.toolCalls.length > 0),
    stop_sequence: null,
    usage: messageUsage(answer.usage, ctx),
  };
}

export type MessageObject = ReturnType<typeof chatToMessage>;
