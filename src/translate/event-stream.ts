/**
 * Streams relayed chat chunks as named SSE events (`event: x` + `data: {...}`),
 * the framing both the Responses and the Messages API use. What the events
 * are is the encoder's business — a pure state machine per API; this only
 * pulls from the relay when the client can take more, so a slow client slows
 * the miner read instead of growing a buffer.
 */
import type { Chunk, ChunkRelay, RelayError } from '../openai/chunk-relay.js';
import type { Usage } from '../openai/responses.js';
import { encodeSseEvent } from '../openai/sse.js';
import { readChatChunk, receiptOf, type ChatDelta, type FinishReason } from './chat-output.js';

export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

/** Turns the relay's chunks into one API's events. Never does I/O. */
export interface EventEncoder {
  /** Events sent before the first chunk (the stream is committed to a miner by then). */
  start(): StreamEvent[];
  chunk(chunk: Chunk): StreamEvent[];
  /** The miner finished: close whatever is open and say how it ended. */
  end(): StreamEvent[];
  /** The stream failed after it started: say so in the API's own error shape, with the final fields' receipt. */
  error(error: RelayError, fields?: Readonly<Record<string, unknown>>): StreamEvent[];
}

export type ToolCallDelta = Extract<ChatDelta, { kind: 'tool_call' }>;

/**
 * What every API's encoder does with a chunk: read it into deltas, keep the
 * finish reason, usage and receipt for the end, and hand text and tool-call
 * pieces to the API's own events.
 */
export abstract class ChatDeltaEncoder implements EventEncoder {
  protected finish: FinishReason | null = null;
  protected usage: Usage | null = null;
  protected receipt: string | null = null;

  abstract start(): StreamEvent[];
  abstract end(): StreamEvent[];
  /** The API's own events for a stream cut after it started (the receipt is in `this.receipt` by then). */
  protected abstract failed(error: RelayError): StreamEvent[];
  protected abstract text(text: string): StreamEvent[];
  protected abstract toolCall(delta: ToolCallDelta): StreamEvent[];

  error(error: RelayError, fields: Readonly<Record<string, unknown>> = {}): StreamEvent[] {
    this.receipt = receiptOf(fields) ?? this.receipt;
    return this.failed(error);
  }

  chunk(chunk: Chunk): StreamEvent[] {
    this.receipt = receiptOf(chunk) ?? this.receipt;
    return readChatChunk(chunk).flatMap((delta) => {
      switch (delta.kind) {
        case 'text':
          return this.text(delta.text);
        case 'tool_call':
          return this.toolCall(delta);
        case 'finish':
          this.finish = delta.reason;
          return [];
        case 'usage':
          this.usage = delta.usage;
          return [];
      }
    });
  }
}

const encoder = new TextEncoder();

function encode(events: readonly StreamEvent[]): Uint8Array {
  return encoder.encode(events.map((e) => encodeSseEvent(e.event, JSON.stringify(e.data))).join(''));
}

export function namedEventStream(relay: ChunkRelay, events: EventEncoder): ReadableStream<Uint8Array> {
  let started = false;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encode(events.start()));
        return;
      }
      // A pull must enqueue or close, or the reader waits forever: skip chunks that encode to nothing.
      for (;;) {
        const next = await relay.next();
        // The client left while we waited: the controller no longer takes anything.
        if (cancelled) return;
        if (next === null) {
          controller.enqueue(encode(events.end()));
          controller.close();
          return;
        }
        if (next.type === 'error') {
          // The relay's error event is its last.
          controller.enqueue(encode(events.error(next.error, next.fields)));
          controller.close();
          return;
        }
        const out = events.chunk(next.chunk);
        if (out.length > 0) {
          controller.enqueue(encode(out));
          return;
        }
      }
    },
    cancel() {
      cancelled = true;
      relay.cancel();
    },
  });
}
