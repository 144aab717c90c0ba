/**
 * What a miner's chat completion says, read once into plain values that the
 * Responses and Messages translations both build on: the answer's text, its
 * tool calls, why it stopped and its usage — from a whole JSON answer, or
 * delta by delta from stream chunks. Only choice 0 is read: the gateway
 * asks for n=1.
 */
import type { Chunk } from '../openai/chunk-relay.js';
import { UsageSchema, type CompletionResponse, type Usage } from '../openai/responses.js';

export interface ChatToolCall {
  readonly id: string;
  readonly name: string;
  /** The JSON text of the arguments, as the model wrote it. */
  readonly arguments: string;
}

/** chat `finish_reason` values; anything else a miner sends is kept as a string. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | (string & {});

export interface ChatAnswer {
  readonly text: string;
  readonly toolCalls: readonly ChatToolCall[];
  readonly finishReason: FinishReason | null;
  readonly usage: Usage | null;
}

/** One piece of a streamed answer, in arrival order. */
export type ChatDelta =
  | { readonly kind: 'text'; readonly text: string }
  /** A tool call's first delta carries its id and name; later ones only more argument text. */
  | { readonly kind: 'tool_call'; readonly index: number; readonly id?: string; readonly name?: string; readonly arguments: string }
  | { readonly kind: 'finish'; readonly reason: FinishReason }
  | { readonly kind: 'usage'; readonly usage: Usage };

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const firstChoice = (choices: unknown): Json | null => (Array.isArray(choices) && isRecord(choices[0]) ? choices[0] : null);

function usageOf(value: unknown): Usage | null {
  if (!isRecord(value)) return null;
  const parsed = UsageSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Reads a whole (non-streamed) chat completion. */
export function readChatAnswer(payload: CompletionResponse, fallbackId: (index: number) => string): ChatAnswer {
  const choice = firstChoice(payload.choices);
  const message = isRecord(choice?.message) ? choice.message : {};
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : [];
  const toolCalls = calls.map((call, i) => {
    const fn = isRecord(call.function) ? call.function : {};
    return {
      id: typeof call.id === 'string' && call.id ? call.id : fallbackId(i),
      name: typeof fn.name === 'string' ? fn.name : '',
      arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
    };
  });
  return {
    text: typeof message.content === 'string' ? message.content : '',
    toolCalls,
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null,
    usage: usageOf(payload.usage),
  };
}

/** Reads one stream chunk into its deltas (text, tool-call pieces, finish, usage), in that order. */
export function readChatChunk(chunk: Chunk): ChatDelta[] {
  const deltas: ChatDelta[] = [];
  const choice = firstChoice(chunk.choices);
  const delta = isRecord(choice?.delta) ? choice.delta : null;
  if (delta) {
    if (typeof delta.content === 'string' && delta.content !== '') deltas.push({ kind: 'text', text: delta.content });
    if (Array.isArray(delta.tool_calls)) {
      for (const [position, call] of delta.tool_calls.entries()) {
        if (!isRecord(call)) continue;
        const fn = isRecord(call.function) ? call.function : {};
        deltas.push({
          kind: 'tool_call',
          index: typeof call.index === 'number' ? call.index : position,
          ...(typeof call.id === 'string' && call.id ? { id: call.id } : {}),
          ...(typeof fn.name === 'string' && fn.name ? { name: fn.name } : {}),
          arguments: typeof fn.arguments === 'string' ? fn.arguments : '',
        });
      }
    }
  }
  if (typeof choice?.finish_reason === 'string') deltas.push({ kind: 'finish', reason: choice.finish_reason });
  const usage = usageOf(chunk.usage);
  if (usage) deltas.push({ kind: 'usage', usage });
  return deltas;
}

/** The signed receipt the relay adds to a stream's last chunk. */
export function receiptOf(chunk: Chunk): string | null {
  return typeof chunk.taogate_receipt === 'string' ? chunk.taogate_receipt : null;
}
