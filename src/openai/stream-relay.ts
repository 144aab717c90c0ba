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
  /** Chunks delivered to the client (excluding `[DONE]` and error events). */
  readonly chunksDelivered: number;
  /** Concatenated text of the delivered deltas (for metering when usage is missing). */
  readonly deliveredText: string;
  readonly error: string | null;
  /** The client went away before the end. */
  readonly clientAborted: boolean;
}

export interface RelayOptions {
  readonly requestedModel: string;
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

export function relayStream(source: RelaySource, options: RelayOptions): ReadableStream<Uint8Array> {
  let usage: Usage | null = null;
  let chunksDelivered = 0;
  let deliveredText = '';
  let ended = false;

  const finish = (completed: boolean, error: string | null, clientAborted: boolean) => {
    if (ended) return;
    ended = true;
    const outcome = { completed, usage, chunksDelivered, deliveredText, error, clientAborted };
    source.settle?.(outcome);
    options.onEnd?.(outcome);
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await source.events.next();
        if (next.done || next.value === '[DONE]') {
          controller.enqueue(encoder.encode(SSE_DONE));
          controller.close();
          finish(true, null, false);
          return;
        }
        const chunk = JSON.parse(next.value) as Record<string, unknown>;
        // Only the first chunk went through the full schema; later ones get the cheap structural check.
        if (typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.choices)) {
          const error = errorEnvelopeMessage(chunk);
          throw new Error(error !== null ? `it sent an error: ${error}` : 'it sent a chunk that is not an OpenAI chunk');
        }
        if (chunk.model !== undefined) chunk.model = options.requestedModel;
        const parsedUsage = chunk.usage ? UsageSchema.safeParse(chunk.usage) : null;
        if (parsedUsage?.success) usage = parsedUsage.data;
        deliveredText += deltaText(chunk);
        chunksDelivered++;
        controller.enqueue(encodeSseData(JSON.stringify(chunk)));
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
