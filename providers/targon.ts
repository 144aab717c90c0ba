/**
 * Targon (SN4, Manifold Labs): OpenAI-compatible API at
 * https://api.targon.com/v1, key as `Authorization: Bearer`.
 *
 * Documented quirks this adapter handles (docs.targon.com and the API's
 * source, manifold-inc/targon-hub-api api/internal/routes/preprocess.go,
 * query_models.go, ratelimit.go):
 * - A request without `stream` is streamed ("stream" defaults to true), so
 *   the gateway always says `stream: false` explicitly.
 * - Only `max_tokens` is read, defaulting to 512: `max_completion_tokens` is
 *   sent as `max_tokens`.
 * - "targon only supports basic chat requests with role:string and
 *   content:string": multi-part message content made only of text parts is
 *   joined into a string (anything else is left for Targon to refuse).
 * - Every answer is labelled `text/event-stream`, JSON ones included (the
 *   header is set before the request is processed), with the body's lines
 *   followed by blank lines: a non-streamed answer is relabelled JSON.
 * - Errors come in two shapes: plain text "status 400: err not enough
 *   credits" before routing, and a flat `{"message", "object": "error",
 *   "Type", "code"}` after. An empty balance is that 400, and is a 402 here.
 * - Its 429 carries Retry-After and X-RateLimit-*; Retry-After is passed on.
 */
import type { UpstreamReply } from '../src/transport/http-transport.js';
import { useMaxTokensField, type RequestBody, type SubnetApiAdapter } from './subnet-api.js';

/** Message content as one string when every part is text; otherwise unchanged. */
function joinTextParts(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  const parts = content as Array<{ type?: unknown; text?: unknown }>;
  if (!parts.every((p) => p?.type === 'text' && typeof p.text === 'string')) return content;
  return parts.map((p) => p.text as string).join('');
}

function shapeRequest(body: RequestBody): void {
  body.stream = body.stream === true;
  useMaxTokensField(body);
  if (Array.isArray(body.messages)) {
    body.messages = (body.messages as Array<Record<string, unknown>>).map((m) => ('content' in m ? { ...m, content: joinTextParts(m.content) } : m));
  }
}

function errorMessage(json: unknown, text: string): string | null {
  if (json !== null && typeof json === 'object' && (json as { object?: unknown }).object === 'error') {
    const message = (json as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  // "status 400: err not enough credits"
  const plain = /^status \d{3}: err (.*)$/s.exec(text.trim());
  return plain ? (plain[1] ?? null) : null;
}

export const targonApi: SubnetApiAdapter = {
  kind: 'targon',
  name: 'Targon',
  defaultBaseUrl: 'https://api.targon.com/v1',
  shapeRequest,
  shapeReply(reply, { stream }): UpstreamReply {
    if (stream || !reply.contentType.toLowerCase().startsWith('text/event-stream')) return reply;
    return { ...reply, contentType: 'application/json' };
  },
  errorMessage,
  errorStatus: (status, message) => (status === 400 && /not enough credits/i.test(message) ? 402 : status),
};
