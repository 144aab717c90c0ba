/**
 * Generic adapter for a subnet's own OpenAI-compatible API (Chutes on SN64,
 * Targon on SN4, Nineteen on SN19, or any other): one operator-configured
 * upstream with its own base URL and API key. What differs between those
 * APIs is data plus small transforms (a `SubnetApiAdapter`, one file each);
 * everything else is here:
 *
 * - The gateway's key for the API (read from the environment at start-up)
 *   is the only credential sent. Headers are built from scratch, so nothing
 *   the client sent (its Authorization above all) can reach the upstream,
 *   and the key is scrubbed from any error text before a client or a log
 *   could see it: a non-2xx body here, and (through `redact`) an error in a
 *   200 body or a stream wherever the router and the relay quote one.
 * - Streams always ask for `include_usage`: metering needs the API's counts.
 * - 402 and 429 reach the client as OpenAI errors with the same status (and
 *   the API's Retry-After), not as a 502; they are not retried against the
 *   same API, which would only repeat them. A subnet's API is one upstream,
 *   so "another upstream" means the next subnet of an alias or `auto`.
 */
import { GatewayError, upstreamFailed } from '../src/errors.js';
import { withStreamUsage, type CompletionLikeRequest } from '../src/openai/requests.js';
import type { HttpTransport, UpstreamReply } from '../src/transport/http-transport.js';
import type { CompletionEndpoint, FailureMapping, Provider, Upstream, UpstreamFailure } from './provider.js';

/** A request body being shaped for an API (a copy the adapter may change). */
export type RequestBody = Record<string, unknown> & { model: string };

export interface ReplyContext {
  readonly endpoint: CompletionEndpoint;
  readonly stream: boolean;
}

/** What one subnet API needs beyond the OpenAI wire format. */
export interface SubnetApiAdapter {
  /** `api.kind` in taogate.config.json. */
  readonly kind: string;
  /** Name used in messages, e.g. "Chutes". */
  readonly name: string;
  /** The documented base URL, used when the config gives none. */
  readonly defaultBaseUrl: string | null;
  /** Rewrites the API needs in the request body. */
  readonly shapeRequest?: (body: RequestBody, endpoint: CompletionEndpoint) => void;
  /** Repairs a 2xx reply before the gateway validates it. */
  readonly shapeReply?: (reply: UpstreamReply, context: ReplyContext) => UpstreamReply;
  /** The message in the API's own error body shape, when it is not OpenAI's envelope. */
  readonly errorMessage?: (json: unknown, text: string) => string | null;
  /** The status that error really means (an API that reports an empty balance as 400, say). */
  readonly errorStatus?: (status: number, message: string) => number;
  /** Seconds until a 429 may be retried, when the API sends no Retry-After. */
  readonly retryAfterSeconds?: (nowMs: number) => number | null;
}

export interface SubnetApiOptions {
  readonly netuid: number;
  readonly adapter: SubnetApiAdapter;
  readonly baseUrl: string;
  readonly apiKey: string;
  /** The config file's model names for the subnet (a subnet API always lists them). */
  readonly models: readonly string[];
  /** A transport for trusted, operator-configured upstreams (no private-address guard). */
  readonly transport: HttpTransport;
}

const PATHS: Record<CompletionEndpoint, string> = { chat: '/chat/completions', completions: '/completions' };
const MAX_DETAIL = 200;

/** `max_completion_tokens` as `max_tokens`, for APIs that read only the older field (and default it low). */
export function useMaxTokensField(body: RequestBody): void {
  if (body.max_completion_tokens != null && body.max_tokens == null) body.max_tokens = body.max_completion_tokens;
  delete body.max_completion_tokens;
}

/** FastAPI's error body: `{"detail": "…"}`, or `{"detail": {…"message"…}}` when an error object was passed on. */
export function fastApiDetail(json: unknown): string | null {
  if (typeof json !== 'object' || json === null || !('detail' in json)) return null;
  const detail = (json as { detail: unknown }).detail;
  if (typeof detail === 'string') return detail;
  if (typeof detail === 'object' && detail !== null && typeof (detail as { message?: unknown }).message === 'string') return (detail as { message: string }).message;
  return JSON.stringify(detail);
}

/** OpenAI's envelope `{"error": {"message"}}` or `{"error": "…"}`. */
function openAiMessage(json: unknown): string | null {
  if (typeof json !== 'object' || json === null || !('error' in json)) return null;
  const error = (json as { error: unknown }).error;
  if (typeof error === 'string') return error;
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : null;
  return typeof message === 'string' ? message : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function oneLine(text: string): string {
  // An HTML error page says nothing its status does not: keep just its title.
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  const flat = (title ?? text).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL)}…` : flat;
}

export function createSubnetApiProvider({ netuid, adapter, baseUrl, apiKey, models, transport }: SubnetApiOptions): Provider {
  const url = new URL(baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const label = `sn${netuid} (${adapter.name})`;
  const upstream: Upstream = Object.freeze({
    id: `${netuid}/api/${adapter.kind}`,
    netuid,
    uid: null,
    hotkey: null,
    origin: url.origin,
    weight: 1,
    rank: 1,
  });
  const upstreams = Object.freeze([upstream]);
  const modelNames = Object.freeze([...models]);
  const scrub = (text: string) => (apiKey ? text.split(apiKey).join('[redacted]') : text);

  const messageOf = (text: string): string => {
    const json = parseJson(text);
    const message = adapter.errorMessage?.(json, text) ?? openAiMessage(json) ?? text;
    return scrub(oneLine(message));
  };

  const retryAfter = (failure: UpstreamFailure): Record<string, string> => {
    const given = failure.header('retry-after');
    const seconds = given ?? adapter.retryAfterSeconds?.(Date.now())?.toString() ?? null;
    return seconds === null ? {} : { 'retry-after': seconds };
  };

  return {
    kind: `subnet-api:${adapter.kind}`,
    source: 'config',

    // The API has no snapshot: its models are the operator's list.
    models: () => modelNames,

    upstreams: () => upstreams,

    redact: scrub,

    encodeRequest(request: CompletionLikeRequest, upstreamModel: string, endpoint: CompletionEndpoint) {
      const body = withStreamUsage({ ...request, model: upstreamModel }) as RequestBody;
      adapter.shapeRequest?.(body, endpoint);
      return JSON.stringify(body);
    },

    async send({ endpoint, body, stream, signal, timeouts }) {
      // Built from nothing: only the gateway's own key for this API leaves the server.
      const headers: Record<string, string> = {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        accept: stream ? 'text/event-stream' : 'application/json',
        'user-agent': 'taogate',
      };
      const reply = await transport.post(url.origin, basePath + PATHS[endpoint], headers, Buffer.from(body), { signal, timeouts });
      const ok = reply.status >= 200 && reply.status <= 299;
      return ok && adapter.shapeReply ? adapter.shapeReply(reply, { endpoint, stream }) : reply;
    },

    mapError(failure): FailureMapping {
      const message = messageOf(failure.bodyText);
      const status = adapter.errorStatus?.(failure.status, message) ?? failure.status;
      const said = message ? `: ${message}` : '';
      if (status === 402) {
        // The API's text would show the operator's balance or payment address: not the client's business.
        return { retryable: false, error: new GatewayError(402, `${label} refused the request for payment (HTTP ${failure.status}): the gateway's account with this subnet is out of credit`, 'insufficient_quota', 'upstream_payment_required') };
      }
      if (status === 429) {
        return { retryable: false, error: new GatewayError(429, `${label} is rate-limiting the gateway (HTTP 429)${said}`, 'rate_limit_error', 'upstream_rate_limited', null, retryAfter(failure)) };
      }
      if (status === 401 || status === 403) {
        return { retryable: false, error: upstreamFailed(`${label} refused the gateway's API key (HTTP ${status}); the operator must check the key configured for this subnet`, 'upstream_auth_failed') };
      }
      if (status === 400 || status === 404 || status === 413 || status === 422) {
        return { retryable: false, error: new GatewayError(400, `${label} rejected the request (HTTP ${status})${said}`, 'invalid_request_error', 'upstream_rejected_request') };
      }
      return { retryable: true, error: upstreamFailed(`${label} answered HTTP ${failure.status}${said}`, 'upstream_error') };
    },
  };
}

/** An API that speaks the OpenAI wire format as documented, with nothing to repair. */
export const openAiCompatibleApi: SubnetApiAdapter = { kind: 'openai', name: 'OpenAI-compatible API', defaultBaseUrl: null };
