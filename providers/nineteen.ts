/**
 * Nineteen (SN19, Rayon Labs): the validator entry node's OpenAI-style API at
 * https://api.nineteen.ai/v1, key as `Authorization: Bearer`.
 *
 * Documented quirks this adapter handles (the entry node's source,
 * rayonlabs/nineteen validator/entry_node/src/endpoints/text.py,
 * models/request_models.py, core/middleware.py):
 * - Requests are re-built from a fixed pydantic model: unknown fields and
 *   `stream_options` are dropped, so answers never carry `usage` (metering
 *   counts the delivered text with the gateway's tokenizer, marked
 *   estimated). `stream` defaults to true, so it is always sent explicitly;
 *   `max_tokens` (default 500) is the only length field read.
 * - Chat completions are always sampled at temperature 0.5: the entry node
 *   overwrites whatever the client sent (text.py: `payload.temperature =
 *   0.5`), so `temperature` (0 above all) means nothing on this API. Nothing
 *   here can change that; the README says so.
 * - Legacy completions require `temperature` and `seed`; OpenAI makes both
 *   optional, so the gateway fills in OpenAI's default temperature (1) and
 *   a random seed when the client sent none.
 * - A non-streamed answer is assembled from the stream as a bare
 *   `{"choices": [{"index", "finish_reason", "message"}]}`: no id, object,
 *   created or model, which SDKs expect. They are filled in here.
 * - Older entry nodes label streams `sse` instead of `text/event-stream`.
 * - Errors are FastAPI's `{"detail": …}`; an unknown key is a 403.
 * - Its rate limit counts requests per calendar minute and answers 429
 *   "Too many requests" without Retry-After, so the wait is the rest of
 *   the current minute.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { UpstreamReply } from '../src/transport/http-transport.js';
import { fastApiDetail, useMaxTokensField, type RequestBody, type SubnetApiAdapter } from './subnet-api.js';
import type { CompletionEndpoint } from './provider.js';

function shapeRequest(body: RequestBody, endpoint: CompletionEndpoint): void {
  body.stream = body.stream === true;
  useMaxTokensField(body);
  if (endpoint === 'completions') {
    body.temperature ??= 1;
    body.seed ??= randomInt(1, 2 ** 31 - 1);
  }
}

/** Adds what the assembled JSON answer lacks, leaving anything present alone. */
function completeAnswer(text: string, endpoint: CompletionEndpoint): string {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return text; // the gateway's own validation reports it
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return text;
  const chat = endpoint === 'chat';
  return JSON.stringify({
    id: `${chat ? 'chatcmpl' : 'cmpl'}-sn19-${randomBytes(8).toString('hex')}`,
    object: chat ? 'chat.completion' : 'text_completion',
    created: Math.floor(Date.now() / 1000),
    ...answer,
  });
}

export const nineteenApi: SubnetApiAdapter = {
  kind: 'nineteen',
  name: 'Nineteen',
  defaultBaseUrl: 'https://api.nineteen.ai/v1',
  shapeRequest,
  shapeReply(reply, { endpoint, stream }): UpstreamReply {
    if (stream) return reply.contentType.toLowerCase().startsWith('sse') ? { ...reply, contentType: 'text/event-stream' } : reply;
    return { ...reply, text: async () => completeAnswer(await reply.text(), endpoint) };
  },
  errorMessage: (json) => fastApiDetail(json),
  retryAfterSeconds: (nowMs) => 60 - (Math.floor(nowMs / 1000) % 60),
};
