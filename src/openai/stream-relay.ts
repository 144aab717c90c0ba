/**
 * Relays an upstream SSE stream to the client chunk by chunk as it arrives:
 * each event is parsed once, its `model` rewritten to the id the client asked
 * for, and re-sent. Nothing is buffered beyond the current event.
 *
 * Once bytes have gone out, a failure cannot be retried elsewhere: the stream
 * then ends with an OpenAI-shaped error event and `[DONE]`, which the stock
 * SDKs surface as an APIError instead of hanging or truncating silently.
 */
import { ClientDisconnected, DeadlineExceeded } from '../router/request-deadline.js';
import { SSE_DONE, encodeSseData } from './sse.js';
import type { Usage } from './responses.js';
import { UsageSchema, errorEnvelopeMessage } from './responses.js';

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
  /** Chunks delivered to the client (excluding `[DONE]`, error events and dropped usage chunks). */
  readonly chunksDelivered: number;
  /** Concatenated text of the delivered deltas (for metering when usage is missing). */
  readonly deliveredText: string;
  readonly error: string | null;
  /** The client went away before the end. */
  readonly clientAborted: boolean;
}

export interface RelayOptions {
  readonly requestedModel: string;
  /**
   * Whether the client asked for the usage chunk (`stream_options.include_usage`).
   * The gateway always asks the miner for it (metering needs it); when the
   * client did not, the usage chunk is dropped and `usage: null` fields removed.
   * Default true: relay as the miner sent it.
   */
  readonly clientWantsUsage?: boolean;
  /**
   * Fields added to the last chunk before `[DONE]` (the signed receipt), from
   * the finished outcome. That chunk is the usage chunk when the client
   * receives one, else the finish chunk, else an added chunk with no choices.
   */
  readonly finalFields?: (outcome: RelayOutcome) => Record<string, unknown> | null;
  /** Called exactly once, when the relay ends for whatever reason. */
  readonly onEnd?: (outcome: RelayOutcome) => void;
}

const encoder = new TextEncoder();

function deltaText(chunk: Record<string, unknown>): string {
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return '';
  let text = '';
  for (const choice of choices as Array<Record<string, unknown>>) {
    const delta = choice.delta as Record<string, unknown> | undefined;
    if (delta && typeof delta.content === 'string') text += delta.content;
    else if (typeof choice.text === 'string') text += choice.text;
  }
  return text;
}

function hasFinishReason(chunk: Record<string, unknown>): boolean {
  const choices = chunk.choices;
  return Array.isArray(choices) && (choices as Array<Record<string, unknown>>).some((c) => c.finish_reason != null);
}

export function relayStream(source: RelaySource, options: RelayOptions): ReadableStream<Uint8Array> {
  const wantsUsage = options.clientWantsUsage ?? true;
  let usage: Usage | null = null;
  let chunksDelivered = 0;
  let deliveredText = '';
  let ended = false;
  /** A chunk that may be the last one, kept back so the final fields can join it. */
  let held: Record<string, unknown> | null = null;
  /** id/object/created of the stream, for a final chunk the gateway has to add itself. */
  let envelope: Record<string, unknown> = {};

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

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const emit = (chunk: Record<string, unknown>) => {
        deliveredText += deltaText(chunk);
        chunksDelivered++;
        controller.enqueue(encodeSseData(JSON.stringify(chunk)));
      };
      try {
        // Loop until something goes out: a pull that enqueues nothing is not pulled again.
        for (;;) {
          const next = await source.events.next();
          if (next.done || next.value === '[DONE]') {
            const extra = options.finalFields?.(outcome(true, null, false)) ?? null;
            const last = held ?? (extra ? { ...envelope, model: options.requestedModel, choices: [] } : null);
            if (last) emit(extra ? { ...last, ...extra } : last);
            controller.enqueue(encoder.encode(SSE_DONE));
            controller.close();
            finish(true, null, false);
            return;
          }
          const chunk = JSON.parse(next.value) as Record<string, unknown>;
          // Only the opening chunks went through the full schema; later ones get the cheap structural check.
          if (typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.choices)) {
            const error = errorEnvelopeMessage(chunk);
            throw new Error(error !== null ? `it sent an error: ${error}` : 'it sent a chunk that is not an OpenAI chunk');
          }
          if (chunk.model !== undefined) chunk.model = options.requestedModel;
          envelope = { id: chunk.id, object: chunk.object, created: chunk.created };
          const parsedUsage = chunk.usage ? UsageSchema.safeParse(chunk.usage) : null;
          if (parsedUsage?.success) usage = parsedUsage.data;
          // The usage chunk proper has no choices (some servers also put usage on every chunk).
          const usageChunk = parsedUsage !== null && Array.isArray(chunk.choices) && chunk.choices.length === 0;
          if (!wantsUsage) {
            if (usageChunk) continue;
            delete chunk.usage;
          }
          const before = chunksDelivered;
          if (held) emit(held);
          held = null;
          if (options.finalFields && (usageChunk || hasFinishReason(chunk))) held = chunk;
          else emit(chunk);
          if (chunksDelivered > before) return;
        }
      } catch (err) {
        if (ended) return;
        source.cancel();
        if (err instanceof ClientDisconnected) {
          // Nobody is reading any more; end quietly.
          finish(false, null, true);
          try {
            controller.close();
          } catch {
            // already cancelled by the server
          }
          return;
        }
        if (held) emit(held);
        held = null;
        const deadline = err instanceof DeadlineExceeded;
        const why = err instanceof Error ? err.message : String(err);
        const message = deadline ? `the stream was cut: ${why}` : `the miner's stream failed after it started: ${why}`;
        const event = { error: { message, type: 'upstream_error', code: deadline ? 'deadline_exceeded' : 'stream_interrupted', param: null } };
        controller.enqueue(encodeSseData(JSON.stringify(event)));
        controller.enqueue(encoder.encode(SSE_DONE));
        controller.close();
        finish(false, message, false);
      }
    },
    cancel() {
      // The client disconnected: stop the miner's work at once.
      source.cancel();
      void source.events.return(undefined);
      finish(false, null, true);
    },
  });
}
