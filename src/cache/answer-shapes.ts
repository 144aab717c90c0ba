/**
 * One cached answer serves both shapes a client may ask for: an answer
 * recorded from a stream is assembled into one JSON completion for a
 * non-stream request, and a JSON answer is cut into chunks for a stream.
 * Both directions keep every field the miner sent (tool calls, refusals,
 * logprobs, provider extras), since the client asked for exactly this.
 */
import type { CompletionEndpoint } from '../../providers/provider.js';
import { UsageSchema, type CompletionResponse, type Usage } from '../openai/responses.js';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

interface ChoiceAcc {
  index: number;
  /** Chat: the message so far; completions: `text` lives here too. */
  fields: Json;
  toolCalls: Json[];
  logprobs: Json | null;
  finishReason: string | null;
}

function appendArrays(into: Json, from: Json): void {
  for (const [name, value] of Object.entries(from)) {
    if (Array.isArray(value)) into[name] = [...((into[name] as unknown[] | undefined) ?? []), ...value];
    else if (value !== null && value !== undefined) into[name] = value;
  }
}

/** Strings are appended (content, refusal, reasoning, text); anything else is replaced by its latest value. */
function mergeFields(into: Json, from: Json, skip: ReadonlySet<string>): void {
  for (const [name, value] of Object.entries(from)) {
    if (skip.has(name) || value === null || value === undefined) continue;
    if (typeof value === 'string' && name !== 'role') into[name] = `${typeof into[name] === 'string' ? into[name] : ''}${value}`;
    else into[name] = value;
  }
}

function mergeToolCalls(into: Json[], deltas: unknown): void {
  if (!Array.isArray(deltas)) return;
  for (const delta of deltas) {
    if (!isRecord(delta)) continue;
    const index = typeof delta.index === 'number' ? delta.index : into.length;
    const call = (into[index] ??= {});
    const { function: fn, index: _, ...rest } = delta;
    mergeFields(call, rest, NOTHING);
    if (isRecord(fn)) mergeFields((call.function ??= {}) as Json, fn, NOTHING);
  }
}

const NOTHING: ReadonlySet<string> = new Set();
const CHAT_DELTA_SPECIAL: ReadonlySet<string> = new Set(['tool_calls']);
const TEXT_CHOICE_SPECIAL: ReadonlySet<string> = new Set(['index', 'finish_reason', 'logprobs', 'delta']);

/**
 * The JSON completion a finished stream amounts to, with the stream's usage;
 * null unless every event is a chunk and some choice finished (a stream that
 * was cut or carried an error is not an answer).
 */
export function completionFromChunks(endpoint: CompletionEndpoint, events: readonly string[]): { completion: CompletionResponse; usage: Usage | null } | null {
  const choices = new Map<number, ChoiceAcc>();
  let head: Json | null = null;
  let usage: Usage | null = null;
  for (const event of events) {
    let chunk: unknown;
    try {
      chunk = JSON.parse(event);
    } catch {
      return null;
    }
    if (!isRecord(chunk) || !Array.isArray(chunk.choices)) return null;
    head ??= chunk;
    if (chunk.usage) {
      const parsed = UsageSchema.safeParse(chunk.usage);
      if (parsed.success) usage = parsed.data;
    }
    for (const choice of chunk.choices) {
      if (!isRecord(choice)) return null;
      const index = typeof choice.index === 'number' ? choice.index : 0;
      let acc = choices.get(index);
      if (!acc) choices.set(index, (acc = { index, fields: {}, toolCalls: [], logprobs: null, finishReason: null }));
      if (endpoint === 'chat') {
        const delta = isRecord(choice.delta) ? choice.delta : {};
        mergeFields(acc.fields, delta, CHAT_DELTA_SPECIAL);
        mergeToolCalls(acc.toolCalls, delta.tool_calls);
      } else {
        mergeFields(acc.fields, choice, TEXT_CHOICE_SPECIAL);
      }
      if (isRecord(choice.logprobs)) appendArrays((acc.logprobs ??= {}), choice.logprobs);
      if (typeof choice.finish_reason === 'string') acc.finishReason = choice.finish_reason;
    }
  }
  const done = [...choices.values()].sort((a, b) => a.index - b.index);
  if (!head || !done.some((c) => c.finishReason !== null)) return null;
  const { choices: _, usage: __, object: ___, ...envelope } = head;
  const completion =
    endpoint === 'chat'
      ? {
          ...envelope,
          object: 'chat.completion',
          choices: done.map((c) => ({
            index: c.index,
            message: { role: 'assistant', content: null, ...c.fields, ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls } : {}) },
            logprobs: c.logprobs,
            finish_reason: c.finishReason,
          })),
        }
      : {
          ...envelope,
          object: 'text_completion',
          choices: done.map((c) => ({ index: c.index, text: '', ...c.fields, logprobs: c.logprobs, finish_reason: c.finishReason })),
        };
  return { completion: (usage ? { ...completion, usage } : completion) as CompletionResponse, usage };
}

/**
 * Stream chunks (the `data:` payloads) carrying a JSON completion: each
 * choice's whole content in one chunk, then the finish chunk, then the usage
 * chunk (dropped again by the relay when the client did not ask for usage).
 */
export function chunksFromCompletion(endpoint: CompletionEndpoint, completion: CompletionResponse): string[] {
  const { choices, usage, object: _, ...envelope } = completion as Json & { choices: Json[] };
  const object = endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const chunk = (list: unknown[], extra: Json = {}) => JSON.stringify({ ...envelope, object, choices: list, ...extra });
  const events: string[] = [];
  if (endpoint === 'chat') {
    events.push(
      chunk(
        choices.map((c) => {
          const { tool_calls: calls, ...message } = isRecord(c.message) ? c.message : {};
          const delta: Json = { ...message };
          if (Array.isArray(calls)) delta.tool_calls = calls.map((call, index) => ({ index, ...(call as Json) }));
          return { index: c.index ?? 0, delta, logprobs: c.logprobs ?? null, finish_reason: null };
        }),
      ),
    );
    events.push(chunk(choices.map((c) => ({ index: c.index ?? 0, delta: {}, logprobs: null, finish_reason: c.finish_reason ?? 'stop' }))));
  } else {
    events.push(chunk(choices.map((c) => ({ ...c, index: c.index ?? 0, finish_reason: null }))));
    events.push(chunk(choices.map((c) => ({ index: c.index ?? 0, text: '', logprobs: null, finish_reason: c.finish_reason ?? 'stop' }))));
  }
  if (usage) events.push(chunk([], { usage }));
  return events;
}
