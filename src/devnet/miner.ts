// A fake Bittensor subnet miner speaking the OpenAI chat/completions API behind Epistula v2 auth.
// Used by tests, benchmarks (as the direct baseline the gateway is compared against, hence plain
// node:http and no per-request work beyond what a real miner must do) and the embedded devnet.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createEpistulaSigner } from '../epistula/signer.js';
import { verifyEpistulaRequest } from '../epistula/verifier.js';
import { listenSwitchable } from './switchable-listener.js';
import { completionBody, defaultAnswer, parseRequest, splitIntoChunks, streamEvents, usageOf, type ParsedRequest } from './fake-openai.js';
import { htmlAnswer, isJudgeRequest, judgeReply, qualityAnswer } from './fake-judge.js';
import { callsInStyle, PARALLEL_PREAMBLE, plannedToolCall, toolCallDeltas, type FakeToolCall, type ToolCallStyle } from './fake-tool-calls.js';

export type { ChatMessage, ParsedRequest } from './fake-openai.js';

export const FAULT_MODES = [
  'none', 'hang', 'http500', 'malformed', 'wrongShape', 'slowFirstByte', 'dropMidStream', 'refuse',
  'stallMidStream', 'redirect', 'errorWith200', 'emptyChoices', 'http400', 'htmlAnswer', 'wrongContentType', 'slowBody',
] as const;
/**
 * How the miner misbehaves (applied after auth, so only to signed, valid requests):
 * hang: never answers · http500: 500 error envelope · malformed: 200 with truncated JSON / broken SSE ·
 * wrongShape: 200 `{"foo":1}` · slowFirstByte: waits `slowMs`, then answers normally ·
 * slowBody: sends the 200 headers at once, then waits `slowMs` before the body (JSON) or its first event (SSE) ·
 * dropMidStream: headers + half the JSON (or two SSE events), then the socket is destroyed ·
 * refuse: the listener is closed so connections are refused; leaving it re-listens on the same port ·
 * stallMidStream: headers + half the JSON (or two SSE events), then silence with the socket left open ·
 * redirect: 302 to `redirectUrl` · errorWith200: 200 carrying an OpenAI error envelope (SSE: as the first event) ·
 * emptyChoices: 200 with `choices: []` (SSE: only empty-choice chunks, then `[DONE]`) ·
 * http400: 400 error envelope, as a miner that rejects this particular request would answer ·
 * htmlAnswer: a valid answer whose text is `<script>`/HTML markup (what a dashboard must show as text) ·
 * wrongContentType: 200 with a valid body under the wrong content type: the JSON answer as `text/html`,
 * and for a stream the whole JSON answer as `application/json` instead of SSE.
 */
export type FaultMode = (typeof FAULT_MODES)[number];

export interface RecordedRequest { headers: IncomingHttpHeaders; body: string; parsed: ParsedRequest | undefined }

export interface MinerOptions {
  /** The miner's own sr25519 identity, e.g. '//Miner1'; requests must be signed for its ss58. */
  hotkeyUri: string;
  host?: string;
  port?: number;
  /**
   * Default true. Verification is a wasm sr25519 verify (~0.5 ms), which caps this server at roughly
   * 1.5-2k signed requests/s per core; pass false to measure raw HTTP/proxy overhead.
   */
  verifySignatures?: boolean;
  /** Clock for signature freshness checks and `created`. */
  now?: () => number;
  name?: string;
  answer?: (req: ParsedRequest) => string;
  /**
   * 1-10: the miner answers as a miner of that quality (src/devnet/fake-judge.ts), so
   * comparisons and the judge tell miners apart. Ignored when `answer` is given.
   */
  quality?: number;
  /**
   * Judge requests (a system message with the judge marker) get a deterministic verdict;
   * the first `judgeMisformats` of them get prose instead, to exercise the judge's retry.
   */
  judgeMisformats?: number;
  /**
   * The tool call the miner makes instead of answering in text, or null. By default it calls a tool
   * whenever the chat request offers tools (unless tool_choice is "none" or the last message is a tool result).
   */
  toolCall?: (req: ParsedRequest) => FakeToolCall | null;
  /** How tool calls are streamed (default 'openai'); 'parallel-interleaved' makes two calls after a sentence of text. */
  toolCallStyle?: ToolCallStyle;
  /** Content chunks per streamed answer (default 8, never more than the answer has words). */
  chunkCount?: number;
  chunkDelayMs?: number;
  fault?: FaultMode;
  /** First-byte delay for the 'slowFirstByte' fault, headers-to-body delay for 'slowBody' (default 2000). */
  slowMs?: number;
  omitUsage?: boolean;
  /** Streams carry the answer's last piece on the finish chunk (`finish_reason` and content together), as some servers do. */
  contentInFinishChunk?: boolean;
  /** Where the 'redirect' fault points (default http://127.0.0.1:9/). */
  redirectUrl?: string;
}

export interface RunningMiner {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** ss58 of the miner's hotkey. */
  readonly hotkey: string;
  readonly name: string;
  readonly fault: FaultMode;
  /** Every HTTP request received, including ones answered 401/404. */
  readonly requestCount: number;
  /** Requests answered as a judge (a system message with the judge marker). */
  readonly judgeRequests: number;
  readonly lastRequest: RecordedRequest | undefined;
  readonly openConnections: number;
  /** TCP connections accepted since start or the last reset() (with keep-alive, far fewer than requests). */
  readonly acceptedConnections: number;
  /** Requests whose socket closed (client side) before the miner finished answering. */
  readonly abortedRequests: number;
  /** Resolves once `abortedRequests >= count`; rejects after `timeoutMs` (default 5000). */
  waitForAborts(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once the change is in effect ('refuse' closes the listener, leaving it re-listens on the same port). */
  setFault(mode: FaultMode): Promise<void>;
  /** The next `count` judge requests get prose instead of a verdict. */
  setJudgeMisformats(count: number): void;
  /** Zeroes the counters and forgets the last request (the fault mode is kept). */
  reset(): void;
  close(): Promise<void>;
}

const ROUTES: Record<string, ParsedRequest['endpoint']> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completions' };

export async function startMiner(opts: MinerOptions): Promise<RunningMiner> {
  const identity = await createEpistulaSigner(opts.hotkeyUri); // also readies wasm for verification
  const host = opts.host ?? '127.0.0.1';
  const name = opts.name ?? identity.ss58.slice(0, 8);
  const now = opts.now ?? Date.now;
  const verify = opts.verifySignatures ?? true;
  const quality = opts.quality;
  const plainAnswer = opts.answer ?? ((req: ParsedRequest) => (quality === undefined ? defaultAnswer(name, req) : qualityAnswer(name, quality, req)));
  let judgeMisformats = opts.judgeMisformats ?? 0;
  let judgeRequests = 0;
  const answerFor = (req: ParsedRequest, mode: FaultMode): string => {
    if (isJudgeRequest(req)) {
      judgeRequests++;
      return judgeReply(req, judgeMisformats-- > 0);
    }
    return mode === 'htmlAnswer' ? htmlAnswer(name) : plainAnswer(req);
  };
  const toolCallFor = opts.toolCall ?? ((req: ParsedRequest) => plannedToolCall(req.toolContext));
  const toolCallStyle = opts.toolCallStyle ?? 'openai';
  const chunkCount = opts.chunkCount ?? 8;
  const chunkDelayMs = opts.chunkDelayMs ?? 0;
  const slowMs = opts.slowMs ?? 2000;

  let fault: FaultMode = opts.fault ?? 'none';
  let requestCount = 0;
  let acceptedConnections = 0;
  let abortedRequests = 0;
  let lastRequest: RecordedRequest | undefined;
  let responseSeq = 0;
  // True while we tear connections down ourselves ('refuse', close()), so those are not counted as client aborts.
  let droppingConnections = false;
  const abortWaiters = new Set<() => void>();

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    requestCount++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks)));
  });
  server.on('connection', () => acceptedConnections++);

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const body = raw.toString('utf8');
    const endpoint = req.method === 'POST' ? ROUTES[(req.url ?? '').split('?')[0] ?? ''] : undefined;
    if (endpoint === undefined) {
      lastRequest = { headers: req.headers, body, parsed: undefined };
      return sendError(res, 404, `no route for ${req.method} ${req.url}`, 'invalid_request_error', 'not_found');
    }
    const parsed = parseRequest(endpoint, body);
    lastRequest = { headers: req.headers, body, parsed: typeof parsed === 'string' ? undefined : parsed };

    if (verify) {
      const verdict = verifyEpistulaRequest(
        (h) => { const v = req.headers[h.toLowerCase()]; return typeof v === 'string' ? v : undefined; },
        raw,
        { expectedSignedFor: identity.ss58, now },
      );
      if (!verdict.ok) return sendError(res, 401, `Epistula: ${verdict.reason}`, 'authentication_error', 'invalid_epistula');
    }
    if (typeof parsed === 'string') return sendError(res, 400, parsed, 'invalid_request_error', 'invalid_request');

    const mode = fault; // a setFault() during this request must not change it halfway
    let droppedByUs = false;
    res.once('close', () => {
      if (res.writableFinished || droppedByUs || droppingConnections) return;
      abortedRequests++;
      for (const wake of abortWaiters) wake();
    });
    const dropConnection = () => { droppedByUs = true; res.destroy(); };

    switch (mode) {
      case 'hang': return; // accept and never answer
      case 'refuse': return dropConnection(); // only reachable in the instant before the listener closes
      case 'http500': return sendError(res, 500, 'devnet miner fault: internal error', 'server_error', 'fault_http500');
      case 'http400': return sendError(res, 400, 'devnet miner fault: bad request', 'invalid_request_error', 'fault_http400');
      case 'redirect':
        res.writeHead(302, { location: opts.redirectUrl ?? 'http://127.0.0.1:9/', 'content-length': 0 });
        return void res.end();
      case 'errorWith200': {
        const envelope = JSON.stringify({ error: { message: 'devnet miner fault: error with 200', type: 'server_error', code: 'fault_error200', param: null } });
        if (!parsed.stream) return sendRaw(res, 200, 'application/json', envelope);
        return sendRaw(res, 200, 'text/event-stream', `data: ${envelope}\n\ndata: [DONE]\n\n`);
      }
      case 'slowFirstByte': if (!(await pause(slowMs, res))) return; break;
      default: break;
    }

    const toolCall = parsed.endpoint === 'chat' ? toolCallFor(parsed) : null;
    const toolCalls = toolCall ? callsInStyle(toolCall, parsed.toolContext, toolCallStyle) : [];
    const answer = !toolCall ? answerFor(parsed, mode) : toolCallStyle === 'parallel-interleaved' ? PARALLEL_PREAMBLE : '';
    const id = `${parsed.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-devnet-${name}-${++responseSeq}`;
    const created = Math.floor(now() / 1000);
    const usage = opts.omitUsage ? undefined : usageOf(parsed, [answer, ...toolCalls.map((c) => c.arguments)].join(' '));

    if (!parsed.stream) {
      if (mode === 'wrongShape') return sendJson(res, 200, { foo: 1 });
      if (mode === 'emptyChoices') return sendJson(res, 200, { ...completionBody(parsed, id, created, answer, usage), choices: [] });
      const json = JSON.stringify(completionBody(parsed, id, created, answer, usage, toolCalls));
      if (mode === 'malformed') return sendRaw(res, 200, 'application/json', json.slice(0, json.length >> 1));
      if (mode === 'wrongContentType') return sendRaw(res, 200, 'text/html; charset=utf-8', json);
      if (mode === 'slowBody') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).flushHeaders();
        if (await pause(slowMs, res)) res.end(json);
        return;
      }
      if (mode === 'dropMidStream' || mode === 'stallMidStream') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        // destroy only once the half is flushed; a stall just never writes the rest
        res.write(json.slice(0, json.length >> 1), mode === 'dropMidStream' ? dropConnection : undefined);
        return;
      }
      return sendRaw(res, 200, 'application/json', json);
    }

    if (mode === 'wrongContentType') return sendRaw(res, 200, 'application/json', JSON.stringify(completionBody(parsed, id, created, answer, usage, toolCalls)));
    const toolDeltas = toolCall ? toolCallDeltas(toolCalls, toolCallStyle, chunkCount) : null;
    let events = streamEvents(parsed, id, created, toolDeltas ? [] : splitIntoChunks(answer, chunkCount), usage, toolDeltas, opts.contentInFinishChunk === true);
    if (mode === 'wrongShape') events = ['data: {"foo":1}\n\n', 'data: [DONE]\n\n'];
    if (mode === 'malformed') events = [events[0] ?? '', 'data: {"choices":[{"delta":{"content":"bro\n\n'];
    if (mode === 'dropMidStream' || mode === 'stallMidStream') events = events.slice(0, Math.min(2, events.length - 1));
    if (mode === 'emptyChoices') {
      const object = parsed.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
      events = [`data: ${JSON.stringify({ id, object, created, model: parsed.model, choices: [] })}\n\n`, 'data: [DONE]\n\n'];
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (mode === 'slowBody') {
      res.flushHeaders();
      if (!(await pause(slowMs, res))) return;
    }
    for (const [i, event] of events.entries()) {
      if (i > 0 && chunkDelayMs > 0 && !(await pause(chunkDelayMs, res))) return;
      if (res.destroyed) return;
      if (mode === 'dropMidStream' && i === events.length - 1) return void res.write(event, dropConnection);
      if (mode === 'stallMidStream' && i === events.length - 1) return void res.write(event); // and never end
      res.write(event);
    }
    res.end();
  }

  const listener = await listenSwitchable(server, { host, port: opts.port ?? 0, onDropping: (dropping) => (droppingConnections = dropping) });
  const port = listener.port;
  if (fault === 'refuse') await listener.setListening(false);

  return {
    url: `http://${host}:${port}`,
    host,
    port,
    hotkey: identity.ss58,
    name,
    get fault() { return fault; },
    get requestCount() { return requestCount; },
    get judgeRequests() { return judgeRequests; },
    get lastRequest() { return lastRequest; },
    get openConnections() { return listener.openConnections; },
    get acceptedConnections() { return acceptedConnections; },
    get abortedRequests() { return abortedRequests; },
    waitForAborts(count, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (abortedRequests < count) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => { done(); reject(new Error(`miner saw ${abortedRequests}/${count} aborted requests after ${timeoutMs} ms`)); }, timeoutMs);
        const done = () => { clearTimeout(timer); abortWaiters.delete(check); };
        abortWaiters.add(check);
        check();
      });
    },
    async setFault(mode) {
      fault = mode;
      await listener.setListening(mode !== 'refuse');
    },
    setJudgeMisformats(count) {
      judgeMisformats = count;
    },
    reset() {
      requestCount = 0;
      acceptedConnections = 0;
      judgeRequests = 0;
      abortedRequests = 0;
      lastRequest = undefined;
    },
    close: () => listener.close(),
  };
}

/** Waits `ms`, ending early (false) if the response closes meanwhile, so no timer outlives a dead request. */
function pause(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => { clearTimeout(timer); resolve(false); };
    const timer = setTimeout(() => { res.off('close', onClose); resolve(!res.destroyed); }, ms);
    res.once('close', onClose);
  });
}

function sendRaw(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendRaw(res, status, 'application/json', JSON.stringify(value));
}

/** OpenAI error envelope. */
function sendError(res: ServerResponse, status: number, message: string, type: string, code: string): void {
  sendJson(res, status, { error: { message, type, code, param: null } });
}
