/**
 * One try at one upstream: send, then refuse anything that is not a valid
 * OpenAI answer before a byte of it can reach the client. Miners are
 * untrusted, so status, content type and shape are all checked; redirects
 * are refused (the transport never follows them), and bodies are capped by
 * the transport's MAX_RESPONSE_BYTES.
 */
import type { CompletionEndpoint, Provider, Upstream } from '../../providers/provider.js';
import type { GatewayError } from '../errors.js';
import {
  ChatCompletionSchema,
  CompletionChunkSchema,
  TextCompletionSchema,
  errorEnvelopeMessage,
  type CompletionResponse,
} from '../openai/responses.js';
import { SseEventSplitter } from '../openai/sse.js';
import type { UpstreamReply, UpstreamTimeouts } from '../transport/http-transport.js';

export interface AttemptContext {
  readonly provider: Provider;
  readonly endpoint: CompletionEndpoint;
  readonly body: string;
  readonly timeouts: UpstreamTimeouts;
}

/** One attempt in flight: its own abort handle, so a hedge loser can be cancelled alone. */
export class Attempt {
  readonly controller = new AbortController();
  readonly startedAt = performance.now();
  reply: UpstreamReply | null = null;
  /** Cancelled because another attempt answered first. */
  lost = false;

  constructor(
    readonly upstream: Upstream,
    /** Breaker generation the result is reported with. */
    readonly generation: number,
  ) {}

  /** Time from the start to the upstream's response headers (its first byte), or null before they came. */
  get firstByteMs(): number | null {
    return this.reply ? this.reply.firstByteAt - this.startedAt : null;
  }

  cancel(reason: unknown): void {
    this.controller.abort(reason);
    this.reply?.discard();
  }
}

/**
 * A failure of one attempt that another upstream may fix. `verdict` says
 * whether it counts against the miner: a rejection that is probably about
 * the request itself (400, 413, 422) does not, or one client could open
 * every miner's breaker by sending requests they all refuse.
 */
export class AttemptError extends Error {
  constructor(
    message: string,
    readonly verdict: 'failure' | 'neutral' = 'failure',
    /** Set when the provider mapped an HTTP error the client may see as is. */
    readonly error: GatewayError | null = null,
  ) {
    super(message);
  }
}

const REQUEST_SPECIFIC_STATUSES = new Set([400, 413, 422]);
const RESPONSE_SCHEMAS = { chat: ChatCompletionSchema, completions: TextCompletionSchema } as const;
/** Empty-choice chunks (e.g. a prompt-filter note) tolerated before the first real one. */
const MAX_PRELUDE_EVENTS = 4;

/** Rejects a reply that is not a success before any of its body is trusted. */
async function checkStatus(ctx: AttemptContext, upstream: Upstream, reply: UpstreamReply, expected: 'json' | 'sse'): Promise<void> {
  if (reply.status >= 300 && reply.status <= 399) {
    reply.discard();
    throw new AttemptError(`miner ${upstream.id} answered a redirect (HTTP ${reply.status}); redirects from miners are never followed`);
  }
  if (reply.status < 200 || reply.status > 299) {
    const text = await reply.text().catch(() => '');
    const mapped = ctx.provider.mapError({ status: reply.status, bodyText: text, header: reply.header }, upstream);
    const verdict = REQUEST_SPECIFIC_STATUSES.has(reply.status) ? 'neutral' : 'failure';
    throw new AttemptError(mapped.error.message, verdict, mapped.retryable ? null : mapped.error);
  }
  const want = expected === 'sse' ? 'text/event-stream' : 'application/json';
  if (!reply.contentType.toLowerCase().startsWith(want)) {
    reply.discard();
    throw new AttemptError(`miner ${upstream.id} answered content-type "${reply.contentType}", expected ${want}`);
  }
}

function send(ctx: AttemptContext, attempt: Attempt, stream: boolean): Promise<UpstreamReply> {
  return ctx.provider.send({
    endpoint: ctx.endpoint,
    body: ctx.body,
    stream,
    upstream: attempt.upstream,
    signal: attempt.controller.signal,
    timeouts: ctx.timeouts,
  });
}

export async function runJsonAttempt(ctx: AttemptContext, attempt: Attempt): Promise<CompletionResponse> {
  const { upstream } = attempt;
  const reply = (attempt.reply = await send(ctx, attempt, false));
  await checkStatus(ctx, upstream, reply, 'json');
  const text = await reply.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AttemptError(`miner ${upstream.id} answered malformed JSON`);
  }
  const result = RESPONSE_SCHEMAS[ctx.endpoint].safeParse(parsed);
  if (!result.success) {
    const error = errorEnvelopeMessage(parsed);
    if (error !== null) throw new AttemptError(`miner ${upstream.id} answered HTTP 200 carrying an error: ${ctx.provider.redact(error)}`);
    const issue = result.error.issues[0];
    throw new AttemptError(`miner ${upstream.id} answered a non-OpenAI shape (${issue?.path.join('.') || 'body'}: ${issue?.message})`);
  }
  return result.data;
}

/** Pulls SSE data payloads off an upstream body. */
async function* sseEvents(reply: UpstreamReply): AsyncGenerator<string, void, undefined> {
  const splitter = new SseEventSplitter();
  for await (const chunk of reply.body) {
    for (const data of splitter.push(chunk)) {
      yield data;
      if (data === '[DONE]') return;
    }
  }
  for (const data of splitter.end()) yield data;
}

export interface OpenedAttemptStream {
  /** Validated events up to and including the first one with a choice. */
  readonly prelude: readonly string[];
  /** The rest of the upstream's events, unread. */
  readonly rest: AsyncGenerator<string, void, undefined>;
}

/**
 * Reads a stream until its first chunk that carries a choice: that chunk is
 * the attempt's answer. Error events, malformed or non-OpenAI chunks, and a
 * stream that ends without any choice all fail the attempt while failover is
 * still possible.
 */
export async function openStreamAttempt(ctx: AttemptContext, attempt: Attempt): Promise<OpenedAttemptStream> {
  const { upstream } = attempt;
  const reply = (attempt.reply = await send(ctx, attempt, true));
  await checkStatus(ctx, upstream, reply, 'sse');
  const events = sseEvents(reply);
  const prelude: string[] = [];
  for (;;) {
    const next = await events.next();
    if (next.done || next.value === '[DONE]') throw new AttemptError(`miner ${upstream.id} ended the stream without any choice`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(next.value);
    } catch {
      throw new AttemptError(`miner ${upstream.id} streamed malformed JSON`);
    }
    const chunk = CompletionChunkSchema.safeParse(parsed);
    if (!chunk.success) {
      const error = errorEnvelopeMessage(parsed);
      throw new AttemptError(error !== null ? `miner ${upstream.id} streamed an error: ${ctx.provider.redact(error)}` : `miner ${upstream.id} streamed a non-OpenAI chunk`);
    }
    prelude.push(next.value);
    if (chunk.data.choices.length > 0) return { prelude, rest: events };
    if (prelude.length > MAX_PRELUDE_EVENTS) throw new AttemptError(`miner ${upstream.id} streamed ${prelude.length} chunks without any choice`);
  }
}
