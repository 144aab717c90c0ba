/**
 * Encodes relayed chunks as the chat/completions SSE wire format: one
 * `data: <chunk>` per chunk, an OpenAI-shaped error event (with the receipt
 * of what was delivered) when the stream failed after it started, and
 * `data: [DONE]` at the end. Pull-based, so a slow client slows the
 * upstream read instead of growing a buffer.
 */
import type { ChunkRelay } from './chunk-relay.js';
import { SSE_DONE, encodeSseData } from './sse.js';

const DONE = new TextEncoder().encode(SSE_DONE);

export function chatSseStream(relay: ChunkRelay): ReadableStream<Uint8Array> {
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const event = await relay.next();
      // The client left while we waited: the controller no longer takes anything.
      if (cancelled) return;
      if (event === null) {
        controller.enqueue(DONE);
        controller.close();
        return;
      }
      if (event.type === 'chunk') {
        controller.enqueue(encodeSseData(JSON.stringify(event.chunk)));
        return;
      }
      // The final fields (the receipt) go inside `error`: the SDKs hand a caller only that object.
      controller.enqueue(encodeSseData(JSON.stringify({ error: { ...event.error, param: null, ...event.fields } })));
    },
    cancel() {
      cancelled = true;
      relay.cancel();
    },
  });
}
