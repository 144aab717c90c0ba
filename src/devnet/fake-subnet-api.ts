// A fake subnet API (Chutes, Targon, Nineteen or a plain OpenAI-compatible one) on loopback, answering in
// that API's own shapes (subnet-api-flavors.ts). Used by the embedded devnet, so `npm start` shows subnet-API
// subnets next to miner subnets, and by the tests. It records every request, so a test can check which
// key it was sent (its own API key, never the client's).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { defaultAnswer, parseRequest, splitIntoChunks, usageOf, type ParsedRequest } from './fake-openai.js';
import { listenSwitchable } from './switchable-listener.js';
import { FLAVORS, flavorStreamEvents, type Answer, type FakeReply, type SubnetApiFlavor } from './subnet-api-flavors.js';

export type { SubnetApiFlavor } from './subnet-api-flavors.js';

export const API_FAULTS = ['none', 'down', 'refuse', 'payment', 'rate_limit', 'stream_error'] as const;
/**
 * down: the API's "no capacity" error (Chutes 503, Targon 503, Nineteen 500) · refuse: connections refused ·
 * payment: the API's empty-balance error · rate_limit: its 429 · stream_error: a stream fails after its first
 * chunk, written the way this API writes it.
 */
export type ApiFault = (typeof API_FAULTS)[number];

export interface RecordedApiRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface FakeSubnetApiOptions {
  readonly flavor: SubnetApiFlavor;
  /** The only key it accepts, as `Authorization: Bearer`. */
  readonly apiKey: string;
  /** Upstream model names it serves. */
  readonly models: readonly string[];
  readonly name?: string;
  readonly host?: string;
  readonly port?: number;
  readonly chunkDelayMs?: number;
  readonly fault?: ApiFault;
}

export interface RunningSubnetApi {
  readonly flavor: SubnetApiFlavor;
  /** Base URL as configured in taogate.config.json, e.g. http://127.0.0.1:4321/v1. */
  readonly baseUrl: string;
  readonly port: number;
  readonly fault: ApiFault;
  /** Completion requests received (any auth). */
  readonly requests: readonly RecordedApiRequest[];
  setFault(mode: ApiFault): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const ROUTES: Record<string, ParsedRequest['endpoint']> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completions' };

function send(res: ServerResponse, reply: FakeReply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

export async function startFakeSubnetApi(options: FakeSubnetApiOptions): Promise<RunningSubnetApi> {
  const shapes = FLAVORS[options.flavor];
  const host = options.host ?? '127.0.0.1';
  const name = options.name ?? `${options.flavor}-devnet`;
  let fault: ApiFault = options.fault ?? 'none';
  let seq = 0;
  const requests: RecordedApiRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    // The devnet's switch for a person trying failover by hand: POST /_devnet/fault {"mode":"down"}.
    if (req.method === 'POST' && path === '/_devnet/fault') return setFaultFromBody(res, body);
    if (req.method === 'GET' && path === '/v1/models') {
      return send(res, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ object: 'list', data: options.models.map((id) => ({ id, object: 'model', owned_by: name })) }) });
    }
    const endpoint = req.method === 'POST' ? ROUTES[path] : undefined;
    if (!endpoint) return send(res, { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail: 'Not Found' }) });
    requests.push({ method: req.method ?? '', path, headers: req.headers, body });

    if (req.headers.authorization !== `Bearer ${options.apiKey}`) return send(res, shapes.unauthorized());
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return send(res, { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail: 'invalid JSON' }) });
    }
    const refused = shapes.refuse(json, endpoint);
    if (refused) return send(res, refused);
    const parsed = parseRequest(endpoint, body);
    if (typeof parsed === 'string') return send(res, { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail: parsed }) });
    if (!options.models.includes(parsed.model)) return send(res, shapes.unknownModel(parsed.model));

    const mode = fault;
    if (mode === 'down') return send(res, shapes.down());
    if (mode === 'payment') return send(res, shapes.payment());
    if (mode === 'rate_limit') return send(res, shapes.rateLimited());

    const stream = json.stream === undefined ? shapes.streamByDefault : json.stream === true;
    const text = defaultAnswer(name, parsed);
    const answer: Answer = { req: parsed, id: `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${name}-${++seq}`, created: Math.floor(Date.now() / 1000), text, usage: usageOf(parsed, text) };
    if (!stream) return send(res, shapes.json(answer));

    let events = flavorStreamEvents(shapes, answer, splitIntoChunks(text, 6));
    if (mode === 'stream_error') events = [...events.slice(0, 2), shapes.streamError];
    res.writeHead(200, { 'content-type': shapes.streamContentType, 'cache-control': 'no-cache' });
    for (const [i, event] of events.entries()) {
      if (i > 0 && options.chunkDelayMs) await new Promise((r) => setTimeout(r, options.chunkDelayMs));
      if (res.destroyed) return;
      res.write(event);
    }
    res.end();
  }

  function setFaultFromBody(res: ServerResponse, body: string): void {
    let mode: ApiFault | undefined;
    try {
      mode = (JSON.parse(body || '{}') as { mode?: ApiFault }).mode;
    } catch {
      // answered below
    }
    if (!mode || !API_FAULTS.includes(mode)) return send(res, { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail: `mode is one of ${API_FAULTS.join(', ')}` }) });
    void api.setFault(mode);
    send(res, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: mode }) });
  }

  const listener = await listenSwitchable(server, { host, port: options.port ?? 0 });
  const port = listener.port;

  const api: RunningSubnetApi = {
    flavor: options.flavor,
    baseUrl: `http://${host}:${port}/v1`,
    port,
    get fault() {
      return fault;
    },
    requests,
    async setFault(mode) {
      fault = mode;
      await listener.setListening(mode !== 'refuse');
    },
    reset() {
      requests.length = 0;
    },
    close: () => listener.close(),
  };
  if (fault === 'refuse') await listener.setListening(false);
  return api;
}
