// How each subnet API answers, as its public docs and source show (see the adapters in providers/ for the
// sources): success shapes, stream shapes, and the shape and status of every error the fake can produce.
// The fake server (fake-subnet-api.ts) is the same for all of them; only these shapes differ.
import { completionBody, streamEvents, type ParsedRequest, type Usage } from './fake-openai.js';

export type SubnetApiFlavor = 'chutes' | 'targon' | 'nineteen' | 'openai';

export interface FakeReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface Answer {
  readonly req: ParsedRequest;
  readonly id: string;
  readonly created: number;
  readonly text: string;
  readonly usage: Usage;
}

export interface FlavorShapes {
  /** What the API assumes when a request has no `stream` field. */
  readonly streamByDefault: boolean;
  /** Whether stream chunks end with a usage chunk: always, only when asked, or never. */
  readonly streamUsage: 'always' | 'asked' | 'never';
  readonly unauthorized: () => FakeReply;
  readonly unknownModel: (model: string) => FakeReply;
  readonly down: () => FakeReply;
  readonly payment: () => FakeReply;
  readonly rateLimited: () => FakeReply;
  /** Refuses what this API cannot take, or null. */
  readonly refuse: (json: Record<string, unknown>, endpoint: ParsedRequest['endpoint']) => FakeReply | null;
  readonly json: (answer: Answer) => FakeReply;
  readonly streamContentType: string;
  /** How a failure after the stream started is written. */
  readonly streamError: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const json = (status: number, value: unknown, headers: Record<string, string> = {}): FakeReply => ({ status, headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(value) });
const standardJson = ({ req, id, created, text, usage }: Answer) => json(200, completionBody(req, id, created, text, usage));
const openAiError = (status: number, message: string, type: string) => json(status, { error: { message, type, code: null, param: null } });

/** FastAPI: `{"detail": …}` with the HTTPException's status. */
const detail = (status: number, text: unknown) => json(status, { detail: text });

const chutes: FlavorShapes = {
  streamByDefault: false,
  streamUsage: 'always',
  unauthorized: () => detail(401, 'Authentication required.'),
  unknownModel: (model) => detail(404, `model not found: ${model}`),
  down: () => detail(503, "No instances available (yet) for chute_id='devnet-chute'"),
  payment: () => detail(402, 'Quota exceeded and account balance is $0.0, please pay with fiat or send tao to 5DevnetPaymentAddressXXXXXXXXXXXXXXXXXXXXXXXXX'),
  // The edge's nginx limit: an HTML page, no Retry-After.
  rateLimited: () => ({ status: 429, headers: { 'content-type': 'text/html' }, body: '<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>' }),
  refuse: () => null,
  json: standardJson,
  streamContentType: 'text/event-stream',
  // Bare JSON, no `data:` prefix.
  streamError: '{"error": "Unhandled exception during response stream: devnet fault"}',
};

/** Targon labels everything text/event-stream, errors included (the header is set before the request is read). */
const TARGON_TYPE = { 'content-type': 'text/event-stream; charset=utf-8' };
const targonText = (status: number, message: string): FakeReply => ({ status, headers: TARGON_TYPE, body: `status ${status}: err ${message}` });
const targonFlat = (status: number, message: string, type: string, code: number, headers: Record<string, string> = {}): FakeReply => ({
  status,
  headers: { ...TARGON_TYPE, ...headers },
  body: JSON.stringify({ message, object: 'error', Type: type, code }),
});

const targon: FlavorShapes = {
  streamByDefault: true,
  streamUsage: 'asked',
  unauthorized: () => targonText(401, 'unauthorized'),
  unknownModel: (model) => targonFlat(503, `status 400: err no model found for ${model}`, 'APITimeoutError', 400),
  down: () => targonFlat(503, 'status 429: err fallback request failed', 'APITimeoutError', 429),
  payment: () => targonText(400, 'not enough credits'),
  rateLimited: () =>
    targonFlat(429, 'Rate limit exceeded. Please slow down your requests.', 'rate_limit_exceeded', 429, {
      'retry-after': '1',
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
    }),
  refuse(body) {
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
    if (messages.some((m) => m.content !== undefined && typeof m.content !== 'string')) {
      return targonText(400, 'targon only supports basic chat requests with `role:string` and `content:string`');
    }
    return null;
  },
  // A JSON answer, streamed line by line with a blank line after each, under the event-stream label.
  json: (answer) => ({ ...standardJson(answer), headers: TARGON_TYPE, body: `${JSON.stringify(completionBody(answer.req, answer.id, answer.created, answer.text, answer.usage))}\n\n` }),
  streamContentType: 'text/event-stream; charset=utf-8',
  streamError: `data: ${JSON.stringify({ error: { message: 'devnet fault', type: 'server_error' } })}\n\n`,
};

const nineteen: FlavorShapes = {
  streamByDefault: true,
  streamUsage: 'never',
  unauthorized: () => detail(403, 'Invalid API key'),
  unknownModel: () => detail(500, 'Unable to process request'),
  down: () => detail(500, 'Unable to process request'),
  payment: () => detail(402, 'Payment required'),
  rateLimited: () => detail(429, 'Too many requests'),
  refuse(body, endpoint) {
    // Legacy completions require both; pydantic answers 422 listing the missing fields.
    const missing = endpoint === 'completions' ? ['temperature', 'seed'].filter((f) => body[f] === undefined) : [];
    if (missing.length === 0) return null;
    return detail(422, missing.map((f) => ({ loc: ['body', f], msg: 'field required', type: 'value_error.missing' })));
  },
  // Assembled from the stream: choices only.
  json: ({ req, text }) =>
    json(200, { choices: [req.endpoint === 'chat' ? { index: 0, finish_reason: 'stop', message: { content: text, role: 'assistant' } } : { index: 0, finish_reason: 'stop', text }] }),
  streamContentType: 'text/event-stream',
  streamError: `data: ${JSON.stringify({ error: 'devnet fault' })}\n\n`,
};

const openai: FlavorShapes = {
  streamByDefault: false,
  streamUsage: 'asked',
  unauthorized: () => openAiError(401, 'Incorrect API key provided.', 'invalid_request_error'),
  unknownModel: (model) => openAiError(404, `The model \`${model}\` does not exist`, 'invalid_request_error'),
  down: () => openAiError(503, 'The server is overloaded.', 'server_error'),
  payment: () => openAiError(402, 'You exceeded your current quota.', 'insufficient_quota'),
  rateLimited: () => ({ ...openAiError(429, 'Rate limit reached.', 'rate_limit_error'), headers: { ...JSON_TYPE, 'retry-after': '2' } }),
  refuse: () => null,
  json: standardJson,
  streamContentType: 'text/event-stream',
  streamError: `data: ${JSON.stringify({ error: { message: 'devnet fault', type: 'server_error' } })}\n\n`,
};

export const FLAVORS: Readonly<Record<SubnetApiFlavor, FlavorShapes>> = { chutes, targon, nineteen, openai };

/** The SSE events of an answer, with or without the usage chunk as this API does it. */
export function flavorStreamEvents(shapes: FlavorShapes, answer: Answer, pieces: string[]): string[] {
  const withUsage = shapes.streamUsage === 'always' || (shapes.streamUsage === 'asked' && answer.req.includeUsage);
  return streamEvents({ ...answer.req, includeUsage: withUsage }, answer.id, answer.created, pieces, withUsage ? answer.usage : undefined);
}
