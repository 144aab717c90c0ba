/**
 * A comparison as Server-Sent Events: `event: entry` for each target as it
 * finishes (answer, latency, checks), then `event: comparison` with the
 * whole result (judge scores, winners, leaderboard status), then
 * `data: [DONE]`. Something failing after the stream started ends it with
 * `event: error` carrying an OpenAI error envelope.
 */
import type { Logger } from '../log.js';
import { GatewayError } from '../errors.js';
import { SSE_DONE } from '../openai/sse.js';
import type { CompareEntry, Comparison } from './compare.js';

const encoder = new TextEncoder();
const event = (name: string, data: unknown) => encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

export function compareSseStream(run: (onEntry: (entry: CompareEntry) => void) => Promise<Comparison>, abort: () => void, logger: Logger): ReadableStream<Uint8Array> {
  let closed = false;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (bytes: Uint8Array) => {
        if (!closed) controller.enqueue(bytes);
      };
      try {
        const comparison = await run((entry) => send(event('entry', entry)));
        send(event('comparison', comparison));
      } catch (err) {
        if (!(err instanceof GatewayError)) logger.error({ err }, 'compare stream failed');
        const envelope = err instanceof GatewayError ? err.toEnvelope() : { error: { message: 'internal error', type: 'server_error', code: 'internal_error', param: null } };
        send(event('error', envelope));
      }
      send(encoder.encode(SSE_DONE));
      if (!closed) controller.close();
      closed = true;
    },
    cancel() {
      closed = true;
      abort();
    },
  });
}
