/**
 * Relays an upstream chat/completions stream as parsed chunks, one at a time
 * as they arrive: each event is parsed once, checked, its `model` rewritten
 * to the id the client asked for, and usage tracked for metering. Nothing is
 * buffered beyond the current chunk (and the one held back to carry the
 * final fields). The wire encoding is someone else's job: chat SSE, the
 * Responses API and the Messages API each encode these chunks their way.
 *
 * Once bytes have gone out, a failure cannot be retried elsewhere: the relay
 * then yields one `error` event and ends, so every encoder can close its
 * stream in a shape its SDK surfaces as an error instead of a silent cut.
 */
import { ClientDisconnected, DeadlineExceeded } from '../router/request-deadline.js';
import { ChunkChoicesSchema, errorEnvelopeMessage, toolCallsText, UsageSchema, type Usage } from './responses.js';

export type Chunk = Record<string, unknown>;

export interface RelaySource {
  /** May throw ClientDisconnected (the client left) or DeadlineExceeded (the request ran out of time). */
  readonly events: AsyncGenerator<string, void, undefined>;
  cancel(): void;
  /** Told the outcome once, before `onEnd` (the dispatcher feeds miner health from it). */
  settle?(outcome: RelayOutcome): void;
}

export interface RelayOutcome {
  /** True when the upstream finished with `[DONE]` or a clean end. */
  readonly completed: boolean;
  /** The upstream's usage chunk, when it sent one. */
  readonly usage: Usage | null;
  /** Chunks delivered to the client (excluding error events and dropped usage chunks). */
  readonly chunksDelivered: number;
  /** Concatenated text of the delivered deltas (for metering when usage is missing). */
  readonly deliveredText: string;
  readonly error: string | null;
  /** The client went away before the end. */
  readonly clientAborted: boolean;
}

export interface RelayError {
  readonly message: string;
  readonly type: 'upstream_error';
  readonly code: 'stream_interrupted' | 'deadline_exceeded';
}

export type RelayEvent =
  | { readonly type: 'chunk'; readonly chunk: Chunk }
  /** `fields`: the final fields (the signed receipt) of what was delivered before the failure; empty without `finalFields`. */
  | { readonly type: 'error'; readonly error: RelayError; readonly fields: Readonly<Record<string, unknown>> };

export interface RelayOptions {
  readonly requestedModel: string;
  /**
   * Whether the client asked for the usage chunk (`stream_options.include_usage`).
   * The gateway always asks the miner for it (metering needs it); when the
   * client did not, the usage chunk is dropped and `usage` fields removed.
   * Default true: relay as the miner sent it.
   */
  readonly clientWantsUsage?: boolean;
  /**
   * Fields added to the last chunk (the signed receipt), from the finished
   * outcome. That chunk is the usage chunk when the client receives one, else
   * the finish chunk, else an added chunk with no choices. A stream cut after
   * it started was billed too: its error event carries them (`fields`), from
   * the failed outcome.
   */
  readonly finalFields?: (outcome: RelayOutcome) => Record<string, unknown> | null;
  /** Called exactly once, when the relay ends for whatever reason. */
  readonly onEnd?: (outcome: RelayOutcome) => void;
  /** Takes secrets out of upstream text before it becomes the error event (the provider's `redact`). */
  readonly redact?: (text: string) => string;
}

/** Pull-based: an encoder asks for the next event when its client can take it. */
export interface ChunkRelay {
  /** The next event, or null once the stream is over (after its last chunk or its error event). */
  next(): Promise<RelayEvent | null>;
  /** The client went away: stop the upstream at once. */
  cancel(): void;
}

/** Generated text of a chunk, tool-call arguments included: they are completion tokens too. */
function deltaText(chunk: Chunk): string {
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return '';
  let text = '';
  for (const choice of choices as Chunk[]) {
    const delta = choice.delta as Chunk | undefined;
    if (delta && typeof delta.content === 'string') text += delta.content;
    else if (typeof choice.text === 'string') text += choice.text;
    if (delta && Array.isArray(delta.tool_calls)) text += toolCallsText(delta.tool_calls);
  }
  return text;
}

function hasFinishReason(chunk: Chunk): boolean {
  const choices = chunk.choices;
  return Array.isArray(choices) && (choices as Chunk[]).some((c) => c.finish_reason != null);
}

export function createChunkRelay(source: RelaySource, options: RelayOptions): ChunkRelay {
  const wantsUsage = options.clientWantsUsage ?? true;
  let usage: Usage | null = null;
  let chunksDelivered = 0;
  let deliveredText = '';
  let ended = false;
  /** A chunk that may be the last one, kept back so the final fields can join it. */
  let held: Chunk | null = null;
  /** id/object/created of the stream, for a final chunk the gateway has to add itself. */
  let envelope: Chunk = {};
  /** Events decided but not yet handed out (a held chunk released together with an error). */
  const queued: RelayEvent[] = [];

  const outcome = (completed: boolean, error: string | null, clientAborted: boolean): RelayOutcome => ({
    completed,
    usage,
    chunksDelivered,
    deliveredText,
    error,
    clientAborted,
  });
  const finish = (completed: boolean, error: string | null, clientAborted: boolean) => {
    if (ended) return;
    ended = true;
    const result = outcome(completed, error, clientAborted);
    source.settle?.(result);
    options.onEnd?.(result);
  };
  const deliver = (chunk: Chunk): RelayEvent => {
    deliveredText += deltaText(chunk);
    chunksDelivered++;
    return { type: 'chunk', chunk };
  };
  /**
   * The stream's last chunk: the held one (or, when the final fields need
   * one, an added chunk with no choices) with the final fields merged in.
   * The held chunk is counted first: it may carry text beside its
   * finish_reason, and the final fields freeze the bill.
   */
  const deliverLast = (): RelayEvent | null => {
    const last = held;
    held = null;
    if (last) deliveredText += deltaText(last);
    const extra = options.finalFields?.(outcome(true, null, false)) ?? null;
    if (!last && !extra) return null;
    chunksDelivered++;
    const chunk = last ?? { ...envelope, model: options.requestedModel, choices: [] };
    return { type: 'chunk', chunk: extra ? { ...chunk, ...extra } : chunk };
  };

  async function pull(): Promise<RelayEvent | null> {
    try {
      for (;;) {
        const next = await source.events.next();
        if (next.done || next.value === '[DONE]') {
          const event = deliverLast();
          finish(true, null, false);
          return event;
        }
        const chunk = JSON.parse(next.value) as unknown;
        // Every chunk's choices get the schema the opening ones got in attempt.ts (about 1 µs a chunk; README
        // "Validation"). Its usage is checked on its own: once the client has the answer, usage that is not
        // token counts is dropped (the gateway counts the text instead), not a reason to end the stream.
        const checked = ChunkChoicesSchema.safeParse(chunk);
        if (!checked.success) {
          const error = errorEnvelopeMessage(chunk);
          throw new Error(error !== null ? `it sent an error: ${error}` : 'it sent a chunk that is not an OpenAI chunk');
        }
        // The chunk as sent is relayed (the schema's copy only answers "is it valid" and gives its usage).
        const c = chunk as Chunk;
        if (c.model !== undefined) c.model = options.requestedModel;
        envelope = { id: c.id, object: c.object, created: c.created };
        const parsedUsage = c.usage == null ? null : UsageSchema.safeParse(c.usage);
        if (parsedUsage && !parsedUsage.success) delete c.usage;
        const chunkUsage = parsedUsage?.success ? parsedUsage.data : null;
        if (chunkUsage) usage = chunkUsage;
        // The usage chunk proper has no choices (some servers also put usage on every chunk).
        const usageChunk = chunkUsage !== null && checked.data.choices.length === 0;
        if (!wantsUsage) {
          if (usageChunk) continue;
          delete c.usage;
        }
        const release = held;
        held = null;
        if (options.finalFields && (usageChunk || hasFinishReason(c))) held = c;
        if (release) {
          const first = deliver(release);
          if (!held) queued.push(deliver(c));
          return first;
        }
        if (!held) return deliver(c);
      }
    } catch (err) {
      if (ended) return null;
      source.cancel();
      if (err instanceof ClientDisconnected) {
        // Nobody is reading any more; end quietly.
        finish(false, null, true);
        return null;
      }
      const deadline = err instanceof DeadlineExceeded;
      const why = (options.redact ?? String)(err instanceof Error ? err.message : String(err));
      const message = deadline ? `the stream was cut: ${why}` : `the miner's stream failed after it started: ${why}`;
      // A held-back chunk still reaches the client (and the bill) before the error.
      const released = held ? deliver(held) : null;
      held = null;
      // Billed for what was delivered, so the error says what that bill was.
      const fields = options.finalFields?.(outcome(false, message, false)) ?? {};
      const code = deadline ? 'deadline_exceeded' : 'stream_interrupted';
      const error: RelayEvent = { type: 'error', error: { message, type: 'upstream_error', code }, fields };
      finish(false, message, false);
      if (released) {
        queued.push(error);
        return released;
      }
      return error;
    }
  }

  return {
    async next() {
      const queuedEvent = queued.shift();
      if (queuedEvent) return queuedEvent;
      if (ended) return null;
      return pull();
    },
    cancel() {
      if (ended) return;
      // The client disconnected: stop the miner's work at once.
      source.cancel();
      void source.events.return(undefined);
      finish(false, null, true);
    },
  };
}
