/**
 * Chutes (SN64): the subnet's OpenAI-compatible gateway at
 * https://llm.chutes.ai/v1, key as `Authorization: Bearer cpk_…` (its docs:
 * "never X-API-Key, which inference ignores"). Model names are the chute
 * names, e.g. "deepseek-ai/DeepSeek-V3-0324".
 *
 * Documented quirks this adapter handles (chutes.ai docs and the API's own
 * source, chutesai/chutes-api api/invocation/router.py):
 * - Errors are FastAPI's `{"detail": …}`, not OpenAI's envelope; a streamed
 *   request that fails on its first chunk passes an SGLang error object on
 *   as `detail`. Both are read by `fastApiDetail`.
 * - An empty balance past the free quota is a 402 whose detail names the
 *   account's balance and payment address (never shown to clients; see
 *   subnet-api.ts).
 * - "infra_overload" / "no_targets" (no capacity right now) come as 429 with
 *   no Retry-After, like the edge's own nginx rate limit, which answers a 429
 *   HTML page. Both reach the client as a 429 when no other subnet can serve.
 * - A failure after a stream has started is written as a bare JSON line,
 *   `{"error": "Unhandled exception during response stream: …"}`, without
 *   the SSE `data:` prefix. An SSE parser skips such a line, so the stream
 *   would look like a clean end; `repairBareErrorLines` turns it into a data
 *   event, which the relay reports as a cut stream.
 * - It forces `stream_options.include_usage` itself, so every stream ends
 *   with a usage chunk (the gateway asks for it anyway).
 */
import type { UpstreamReply } from '../src/transport/http-transport.js';
import { fastApiDetail, type SubnetApiAdapter } from './subnet-api.js';

const DATA_PREFIX = new TextEncoder().encode('data: ');
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;

/** Prefixes `data: ` to every body line that starts with `{` (never valid SSE on its own), wherever chunks split. */
async function* repairBareErrorLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  let atLineStart = true;
  for await (const chunk of body) {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (atLineStart && chunk[i] === OPEN_BRACE) {
        if (i > from) yield chunk.subarray(from, i);
        yield DATA_PREFIX;
        from = i;
      }
      atLineStart = chunk[i] === NEWLINE;
    }
    if (from < chunk.length) yield chunk.subarray(from);
  }
}

export const chutesApi: SubnetApiAdapter = {
  kind: 'chutes',
  name: 'Chutes',
  defaultBaseUrl: 'https://llm.chutes.ai/v1',
  errorMessage: (json) => fastApiDetail(json),
  shapeReply(reply, { stream }): UpstreamReply {
    if (!stream) return reply;
    return { ...reply, body: { [Symbol.asyncIterator]: () => repairBareErrorLines(reply.body) } };
  },
};
