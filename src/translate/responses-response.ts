/**
 * Chat completion answers → Responses API `response` objects: the whole
 * answer (non-streamed), and the object the stream's lifecycle events carry.
 * Everything the client asked for (instructions, tools, limits) is echoed
 * back the way OpenAI does, so SDK code that reads those fields works.
 */
import type { CompletionResponse, Usage } from '../openai/responses.js';
import { readChatAnswer, type ChatToolCall, type FinishReason } from './chat-output.js';
import type { ResponsesRequest } from './responses-request.js';

export interface ResponsesContext {
  /** `resp_…`; output item ids derive from it. */
  readonly id: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly request: ResponsesRequest;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface MessageItem {
  id: string;
  type: 'message';
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  call_id: string;
  name: string;
  arguments: string;
}

export type OutputItem = MessageItem | FunctionCallItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseState {
  readonly status: ResponseStatus;
  readonly output: readonly OutputItem[];
  readonly usage: Usage | null;
  readonly incompleteReason?: string | null;
  readonly error?: { code: string; message: string } | null;
  readonly receipt?: string | null;
}

export const messageItemId = (ctx: ResponsesContext, n: number) => `msg_${ctx.id.slice('resp_'.length)}_${n}`;
export const functionCallItemId = (ctx: ResponsesContext, n: number) => `fc_${ctx.id.slice('resp_'.length)}_${n}`;
export const fallbackCallId = (ctx: ResponsesContext, n: number) => `call_${ctx.id.slice('resp_'.length)}_${n}`;

export const outputText = (text: string): OutputText => ({ type: 'output_text', text, annotations: [], logprobs: [] });

export function responseUsage(usage: Usage): ResponseUsage {
  const details = (usage as { prompt_tokens_details?: { cached_tokens?: unknown } }).prompt_tokens_details;
  const cached = typeof details?.cached_tokens === 'number' ? details.cached_tokens : 0;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}

/** Why an answer that stopped for `finish` is incomplete, or null when it is complete. */
export function incompleteReasonOf(finish: FinishReason | null): string | null {
  if (finish === 'length') return 'max_output_tokens';
  if (finish === 'content_filter') return 'content_filter';
  return null;
}

/** The `response` object in a given state. */
export function responseObject(ctx: ResponsesContext, state: ResponseState) {
  const { request } = ctx;
  return {
    id: ctx.id,
    object: 'response' as const,
    created_at: ctx.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incompleteReason ? { reason: state.incompleteReason } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    model: request.model,
    output: state.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: (request.tools ?? []).map((t) => ({ ...t, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null })),
    top_p: request.top_p ?? 1,
    truncation: 'disabled' as const,
    usage: state.usage ? responseUsage(state.usage) : null,
    user: request.user ?? null,
    ...(state.receipt ? { taogate_receipt: state.receipt } : {}),
  };
}

export type ResponseObject = ReturnType<typeof responseObject>;

export function functionCallItem(id: string, call: ChatToolCall, status: FunctionCallItem['status']): FunctionCallItem {
  return { id, type: 'function_call', status, call_id: call.id, name: call.name, arguments: call.arguments };
}

/** A whole chat completion → the whole `response`. */
export function chatToResponse(payload: CompletionResponse, ctx: ResponsesContext): ResponseObject {
  const answer = readChatAnswer(payload, (i) => fallbackCallId(ctx, i));
  const incompleteReason = incompleteReasonOf(answer.finishReason);
  const itemStatus = incompleteReason ? 'incomplete' : 'completed';
  const output: OutputItem[] = [];
  if (answer.text !== '' || answer.toolCalls.length === 0) {
    output.push({ id: messageItemId(ctx, 0), type: 'message', status: itemStatus, role: 'assistant', content: [outputText(answer.text)] });
  }
  for (const [i, call] of answer.toolCalls.entries()) output.push(functionCallItem(functionCallItemId(ctx, i), call, 'completed'));
  return responseObject(ctx, { status: incompleteReason ? 'incomplete' : 'completed', output, usage: answer.usage, incompleteReason });
}
