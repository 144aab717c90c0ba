// The OpenAI side of the fake miner: request parsing and response shaping (JSON bodies, SSE events).
// Kept apart from the server and its fault modes in miner.ts so each stays readable.
import { createHash } from 'node:crypto';
import { answerFromToolResult, parseTools, toolNamesById, type FakeToolCall, type ToolContext } from './fake-tool-calls.js';

export interface ChatMessage { role: string; content: string }

/** A validated request; `content` of multi-part messages is flattened to its text parts. */
export interface ParsedRequest {
  endpoint: 'chat' | 'completions';
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** Chat only (empty for legacy completions). */
  messages: ChatMessage[];
  /** Legacy completions only (empty for chat). */
  prompt: string;
  suffix: string | undefined;
  lastUserMessage: string;
  /** Chat only: the tools offered, the tool choice and the last message (see fake-tool-calls.ts). */
  toolContext: ToolContext;
}

export interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

/** Validates an OpenAI request body; returns the error message if it is not usable. */
export function parseRequest(endpoint: ParsedRequest['endpoint'], body: string): ParsedRequest | string {
  let json: unknown;
  try { json = JSON.parse(body); } catch { return 'request body is not valid JSON'; }
  if (!isRecord(json)) return 'request body must be a JSON object';
  if (typeof json.model !== 'string' || json.model === '') return "'model' is required";
  const streamOptions = json.stream_options;
  const base = {
    endpoint,
    model: json.model,
    stream: json.stream === true,
    includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
  };
  if (endpoint === 'completions') {
    const prompt = Array.isArray(json.prompt) ? json.prompt[0] : json.prompt;
    if (typeof prompt !== 'string') return "'prompt' must be a string";
    const suffix = typeof json.suffix === 'string' ? json.suffix : undefined;
    const toolContext: ToolContext = { tools: [], toolChoice: 'none', lastMessage: undefined, lastUserMessage: prompt };
    return { ...base, messages: [], prompt, suffix, lastUserMessage: prompt, toolContext };
  }
  if (!Array.isArray(json.messages) || json.messages.length === 0) return "'messages' must be a non-empty array";
  const messages: ChatMessage[] = [];
  for (const m of json.messages as unknown[]) {
    if (!isRecord(m) || typeof m.role !== 'string') return "each message needs a 'role'";
    messages.push({ role: m.role, content: textOf(m.content) });
  }
  const lastUserMessage = messages.findLast((m) => m.role === 'user')?.content ?? '';
  const last = json.messages.at(-1) as Record<string, unknown>;
  const lastMessage = {
    role: last.role as string,
    content: textOf(last.content),
    toolName: typeof last.tool_call_id === 'string' ? toolNamesById(json.messages).get(last.tool_call_id) : undefined,
  };
  const toolContext: ToolContext = { ...parseTools(json), lastMessage, lastUserMessage };
  return { ...base, messages, prompt: '', suffix: undefined, lastUserMessage, toolContext };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function defaultAnswer(name: string, req: ParsedRequest): string {
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s).replace(/\s+/g, ' ');
  if (req.endpoint === 'completions') {
    const digest = createHash('sha256').update(`${req.prompt}\u0000${req.suffix ?? ''}`).digest('hex').slice(0, 8);
    const tail = clip([...req.prompt].slice(-40).join(''), 40);
    const between = req.suffix === undefined ? '' : ` and before "${clip(req.suffix, 40)}"`;
    return `[devnet miner ${name}] filling in after "${tail}"${between} (digest ${digest}).`;
  }
  const fromTool = answerFromToolResult(name, req.toolContext);
  if (fromTool !== null) return fromTool;
  const digest = createHash('sha256').update(req.lastUserMessage).digest('hex').slice(0, 8);
  return `Hello from devnet miner ${name}. You said "${clip(req.lastUserMessage, 60)}" (digest ${digest}).`;
}

/** Whitespace-separated word count: the fake's "token" count (a char loop; split+filter allocates per word). */
function countWords(s: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c <= 32 || c === 160 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

export function usageOf(req: ParsedRequest, answer: string): Usage {
  const promptText = req.endpoint === 'chat' ? req.messages.map((m) => m.content).join(' ') : `${req.prompt} ${req.suffix ?? ''}`;
  const prompt_tokens = countWords(promptText);
  const completion_tokens = countWords(answer);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

const toolCallJson = (call: FakeToolCall) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } });

export function completionBody(req: ParsedRequest, id: string, created: number, answer: string, usage: Usage | undefined, toolCall: FakeToolCall | null = null) {
  const message = toolCall ? { role: 'assistant', content: null, tool_calls: [toolCallJson(toolCall)] } : { role: 'assistant', content: answer };
  const choice = req.endpoint === 'chat'
    ? { index: 0, message, logprobs: null, finish_reason: toolCall ? 'tool_calls' : 'stop' }
    : { index: 0, text: answer, logprobs: null, finish_reason: 'stop' };
  const object = req.endpoint === 'chat' ? 'chat.completion' : 'text_completion';
  return { id, object, created, model: req.model, choices: [choice], ...(usage ? { usage } : {}) };
}

/**
 * SSE events in OpenAI order: (chat: role chunk), content chunks, finish chunk, optional usage chunk, [DONE].
 * With a tool call, `pieces` are its arguments: the role chunk opens the call (id, name), each piece is an
 * argument delta, and the finish reason is `tool_calls`. `lastPieceInFinish`: the last text piece rides on
 * the finish chunk instead of a chunk of its own, as some servers send it.
 */
export function streamEvents(req: ParsedRequest, id: string, created: number, pieces: string[], usage: Usage | undefined, toolCall: FakeToolCall | null = null, lastPieceInFinish = false): string[] {
  const chat = req.endpoint === 'chat';
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const withUsage = req.includeUsage && usage !== undefined;
  const event = (choices: unknown[], extra: object = withUsage ? { usage: null } : {}) =>
    `data: ${JSON.stringify({ id, object, created, model: req.model, choices, ...extra })}\n\n`;
  const choice = (content: string | null, finish: string | null) => chat
    ? { index: 0, delta: content === null ? {} : { content }, logprobs: null, finish_reason: finish }
    : { index: 0, text: content ?? '', logprobs: null, finish_reason: finish };

  const events: string[] = [];
  if (chat && toolCall) {
    const opening = { index: 0, ...toolCallJson(toolCall), function: { name: toolCall.name, arguments: '' } };
    events.push(event([{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [opening] }, logprobs: null, finish_reason: null }]));
    for (const piece of pieces) events.push(event([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, logprobs: null, finish_reason: null }]));
    events.push(event([choice(null, 'tool_calls')]));
    if (withUsage) events.push(event([], { usage }));
    events.push('data: [DONE]\n\n');
    return events;
  }
  if (chat) events.push(event([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
  const own = lastPieceInFinish ? pieces.slice(0, -1) : pieces;
  for (const piece of own) events.push(event([choice(piece, null)]));
  events.push(event([choice(lastPieceInFinish ? (pieces.at(-1) ?? null) : null, 'stop')]));
  if (withUsage) events.push(event([], { usage }));
  events.push('data: [DONE]\n\n');
  return events;
}

/** Splits at word boundaries into at most `count` pieces that concatenate back to `text`. */
export function splitIntoChunks(text: string, count: number): string[] {
  const words = text.split(/(?<=\s)(?=\S)/);
  const n = Math.max(1, Math.min(count, words.length));
  return Array.from({ length: n }, (_, i) =>
    words.slice(Math.floor((i * words.length) / n), Math.floor(((i + 1) * words.length) / n)).join(''));
}
