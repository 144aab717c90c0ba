/**
 * Sends one client request to upstreams until one gives a valid answer.
 * Failover happens only before the first byte reaches the client: for a
 * stream, an attempt counts as answered once its first valid event arrived.
 */
import type { CompletionEndpoint, Provider, Upstream } from '../../providers/provider.js';
import { GatewayError, upstreamFailed } from '../errors.js';
import { ChatCompletionSchema, CompletionChunkSchema, TextCompletionSchema, type CompletionResponse } from '../openai/responses.js';
import { SseEventSplitter } from '../openai/sse.js';
import { TransportError, type UpstreamReply, type UpstreamTimeouts } from '../transport/http-transport.js';

export interface DispatchRequest {
  readonly provider: Provider;
  readonly endpoint: CompletionEndpoint;
  readonly body: string;
  /** Upstreams to try, in order. */
  readonly attempts: readonly Upstream[];
  /** Aborted when the client goes away or the request's deadline passes. */
  readonly signal: AbortSignal;
  readonly timeouts: UpstreamTimeouts;
}

export interface AttemptFailure {
  readonly upstream: Upstream;
  readonly reason: string;
  /** Set when the provider mapped an HTTP error the client may see as is. */
  readonly error: GatewayError | null;
}

export interface JsonAnswer {
  readonly upstream: Upstream;
  readonly payload: CompletionResponse;
  readonly failures: readonly AttemptFailure[];
}

export interface OpenedStream {
  readonly upstream: Upstream;
  readonly failures: readonly AttemptFailure[];
  /** Raw `data:` payloads, the first of which was already validated. Ends after `[DONE]` or upstream end. */
  readonly events: AsyncGenerator<string, void, undefined>;
  /** Stops reading and closes the upstream connection. */
  cancel(): void;
}

/** A failure of one attempt that another upstream may fix. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly error: GatewayError | null = null,
  ) {
    super(message);
  }
}

const RESPONSE_SCHEMAS = { chat: ChatCompletionSchema, completions: TextCompletionSchema } as const;

function describe(err: unknown): string {
  if (err instanceof AttemptError || err instanceof TransportError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Rejects a reply that is not a success before any of its body is trusted. */
async function checkStatus(request: DispatchRequest, upstream: Upstream, reply: UpstreamReply, expected: 'json' | 'sse'): Promise<void> {
  if (reply.status < 200 || reply.status > 299) {
    const text = await reply.text().catch(() => '');
    const mapped = request.provider.mapError(reply.status, text, upstream);
    throw new AttemptError(mapped.error.message, mapped.retryable ? null : mapped.error);
  }
  const want = expected === 'sse' ? 'text/event-stream' : 'application/json';
  if (!reply.contentType.toLowerCase().startsWith(want)) {
    reply.discard();
    throw new AttemptError(`miner ${upstream.id} answered content-type "${reply.contentType}", expected ${want}`);
  }
}

function allFailed(request: DispatchRequest, failures: readonly AttemptFailure[]): GatewayError {
  if (request.signal.aborted) {
    return new GatewayError(504, 'request deadline passed before any miner answered', 'server_error', 'deadline_exceeded');
  }
  // A non-retryable mapped error (e.g. a subnet API's 402) is the answer itself.
  const final = failures.findLast((f) => f.error !== null)?.error;
  if (final && failures.every((f) => f.error !== null)) return final;
  const n = failures.length;
  const detail = failures.map((f) => f.reason).join('; ');
  return upstreamFailed(`no miner answered: tried ${n} miner${n === 1 ? '' : 's'}: ${detail}`, 'all_miners_failed');
}

async function tryJson(request: DispatchRequest, upstream: Upstream): Promise<CompletionResponse> {
  const reply = await request.provider.send({ ...request, upstream });
  await checkStatus(request, upstream, reply, 'json');
  const text = await reply.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AttemptError(`miner ${upstream.id} answered malformed JSON`);
  }
  const result = RESPONSE_SCHEMAS[request.endpoint].safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new AttemptError(`miner ${upstream.id} answered a non-OpenAI shape (${issue?.path.join('.') || 'body'}: ${issue?.message})`);
  }
  return result.data;
}

/** Tries upstreams in order until one answers; collects why the others did not. */
async function firstAnswer<T>(request: DispatchRequest, tryOne: (upstream: Upstream) => Promise<T>) {
  const failures: AttemptFailure[] = [];
  for (const upstream of request.attempts) {
    if (request.signal.aborted) break;
    try {
      return { upstream, value: await tryOne(upstream), failures };
    } catch (err) {
      const mapped = err instanceof AttemptError ? err.error : null;
      failures.push({ upstream, reason: describe(err), error: mapped });
      if (mapped) break;
    }
  }
  throw allFailed(request, failures);
}

export async function dispatchJson(request: DispatchRequest): Promise<JsonAnswer> {
  const { upstream, value, failures } = await firstAnswer(request, (u) => tryJson(request, u));
  return { upstream, payload: value, failures };
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

async function tryStream(request: DispatchRequest, upstream: Upstream): Promise<OpenedStream> {
  const reply = await request.provider.send({ ...request, upstream });
  await checkStatus(request, upstream, reply, 'sse');
  const events = sseEvents(reply);
  const first = await events.next();
  const fail = (message: string): never => {
    reply.discard();
    throw new AttemptError(message);
  };
  if (first.done || first.value === '[DONE]') fail(`miner ${upstream.id} ended the stream without any chunk`);
  const data = first.value as string;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    fail(`miner ${upstream.id} streamed malformed JSON`);
  }
  if (!CompletionChunkSchema.safeParse(parsed).success) fail(`miner ${upstream.id} streamed a non-OpenAI chunk`);
  async function* replayed(): AsyncGenerator<string, void, undefined> {
    yield data;
    yield* events;
  }
  return { upstream, failures: [], events: replayed(), cancel: () => reply.discard() };
}

export async function dispatchStream(request: DispatchRequest): Promise<OpenedStream> {
  const { value, failures } = await firstAnswer(request, (u) => tryStream(request, u));
  return { ...value, failures };
}
