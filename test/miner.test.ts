import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultMode, type RunningMiner, startMiner } from '../src/devnet/miner.js';
import { EpistulaHeader } from '../src/epistula/message.js';
import { createEpistulaSigner, type EpistulaSigner } from '../src/epistula/signer.js';

let gateway: EpistulaSigner;
let agent: Agent;
const miners: RunningMiner[] = [];

beforeAll(async () => {
  gateway = await createEpistulaSigner('//Gateway');
  agent = new Agent({ keepAliveTimeout: 10_000 });
});
afterEach(async () => {
  await Promise.all(miners.splice(0).map((m) => m.close()));
});
afterAll(async () => {
  await agent.close();
});

async function miner(opts: Partial<Parameters<typeof startMiner>[0]> = {}): Promise<RunningMiner> {
  const m = await startMiner({ hotkeyUri: '//Miner1', name: 'm1', ...opts });
  miners.push(m);
  return m;
}

interface PostOptions {
  path?: string;
  unsigned?: boolean;
  signedFor?: string;
  /** Sign this body but send `body` (tampering). */
  signBody?: string;
  signal?: AbortSignal;
}

function post(m: RunningMiner, body: unknown, opts: PostOptions = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const epistula = opts.unsigned ? {} : gateway.headers(opts.signBody ?? raw, opts.signedFor ?? m.hotkey);
  return request(`${m.url}${opts.path ?? '/v1/chat/completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...epistula },
    body: raw,
    dispatcher: agent,
    signal: opts.signal,
  });
}

/** Parses an SSE body into its `data:` payloads (the JSON ones parsed, `[DONE]` kept as a string). */
function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((e) => e.length > 0)
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      const data = e.slice('data: '.length);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'Org/Some-Model-7B:v1',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Write a haiku about subnets and validators.' },
  ],
  ...extra,
});
const lastUserDigest = createHash('sha256').update('Write a haiku about subnets and validators.').digest('hex').slice(0, 8);

interface ChatCompletion {
  id: string;
  object: string;
  model: string;
  created: number;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface ChatChunk {
  object: string;
  model: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: ChatCompletion['usage'] | null;
}

describe('devnet miner: answering signed requests', () => {
  it('answers a non-stream chat completion in OpenAI shape and records the request', async () => {
    const m = await miner();
    const res = await post(m, chatBody());
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const json = (await res.body.json()) as ChatCompletion;

    expect(json.object).toBe('chat.completion');
    expect(json.model).toBe('Org/Some-Model-7B:v1');
    expect(json.id).toMatch(/^chatcmpl-/);
    expect(Math.abs(json.created - Date.now() / 1000)).toBeLessThan(5);
    expect(json.choices).toHaveLength(1);
    const [choice] = json.choices;
    expect(choice?.message.role).toBe('assistant');
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.content).toContain('devnet miner m1');
    expect(choice?.message.content).toContain(lastUserDigest);
    expect(choice?.message.content).toContain('Write a haiku about subnets');
    // system (3 words) + user (7 words)
    expect(json.usage?.prompt_tokens).toBe(10);
    expect(json.usage?.completion_tokens).toBe(choice?.message.content.split(/\s+/).filter(Boolean).length);
    expect(json.usage?.total_tokens).toBe((json.usage?.prompt_tokens ?? 0) + (json.usage?.completion_tokens ?? 0));

    expect(m.requestCount).toBe(1);
    expect(m.lastRequest?.body).toBe(JSON.stringify(chatBody()));
    expect(m.lastRequest?.headers[EpistulaHeader.signedBy.toLowerCase()]).toBe(gateway.ss58);
    expect(m.lastRequest?.parsed?.lastUserMessage).toBe('Write a haiku about subnets and validators.');
    m.reset();
    expect(m.requestCount).toBe(0);
    expect(m.lastRequest).toBeUndefined();
  });

  it('streams chat chunks with a role chunk, finish chunk, usage chunk and [DONE]', async () => {
    const m = await miner({ chunkCount: 4 });
    const plain = (await (await post(m, chatBody())).body.json()) as ChatCompletion;
    const res = await post(m, chatBody({ stream: true, stream_options: { include_usage: true } }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = sseData(await res.body.text());

    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as ChatChunk[];
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'Org/Some-Model-7B:v1')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toEqual(plain.usage);
    const finish = chunks.at(-2);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    const contentChunks = chunks.slice(1, -2);
    expect(contentChunks).toHaveLength(4);
    expect(contentChunks.map((c) => c.choices[0]?.delta.content).join('')).toBe(plain.choices[0]?.message.content);
  });

  it('omits the usage chunk without include_usage, and usage entirely with omitUsage', async () => {
    const m = await miner({ omitUsage: true });
    const events = sseData(await (await post(m, chatBody({ stream: true }))).body.text());
    expect((events.at(-2) as ChatChunk).choices[0]?.finish_reason).toBe('stop');
    const withUsage = sseData(await (await post(m, chatBody({ stream: true, stream_options: { include_usage: true } }))).body.text());
    expect(withUsage.some((e) => typeof e === 'object' && e !== null && 'usage' in e && (e as ChatChunk).usage)).toBe(false);
    const json = (await (await post(m, chatBody())).body.json()) as ChatCompletion;
    expect(json).not.toHaveProperty('usage');
  });

  it('puts the last piece on the finish chunk with contentInFinishChunk', async () => {
    const m = await miner({ contentInFinishChunk: true, chunkCount: 4 });
    const plain = (await (await post(m, chatBody())).body.json()) as ChatCompletion;
    const chunks = sseData(await (await post(m, chatBody({ stream: true }))).body.text()).slice(0, -1) as ChatChunk[];
    const finish = chunks.at(-1);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    expect(finish?.choices[0]?.delta.content).toMatch(/\S/);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(plain.choices[0]?.message.content);
  });

  it('writes stream chunks incrementally when chunkDelayMs is set', async () => {
    const m = await miner({ chunkCount: 5, chunkDelayMs: 60 });
    const res = await post(m, chatBody({ stream: true }));
    const arrivals: number[] = [];
    let text = '';
    for await (const part of res.body) {
      arrivals.push(performance.now());
      text += String(part);
    }
    expect(sseData(text).at(-1)).toBe('[DONE]');
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(200);
  });

  it('answers legacy completions using both prompt and suffix', async () => {
    const m = await miner();
    const body = { model: 'coder-1', prompt: 'def add(a, b):\n    return', suffix: '\n\nprint(add(1, 2))', max_tokens: 16 };
    const res = await post(m, body, { path: '/v1/completions' });
    expect(res.statusCode).toBe(200);
    const json = (await res.body.json()) as { object: string; model: string; choices: { text: string; finish_reason: string }[]; usage: ChatCompletion['usage'] };
    expect(json.object).toBe('text_completion');
    expect(json.model).toBe('coder-1');
    const text = json.choices[0]?.text ?? '';
    expect(text).toContain('return');
    expect(text).toContain('print(add(1, 2))');
    expect(json.choices[0]?.finish_reason).toBe('stop');
    expect(json.usage?.prompt_tokens).toBe(6); // def add(a, b): return | print(add(1, 2))

    const streamed = sseData(await (await post(m, { ...body, stream: true }, { path: '/v1/completions' })).body.text());
    expect(streamed.at(-1)).toBe('[DONE]');
    const chunks = streamed.slice(0, -1) as { object: string; choices: { text: string; finish_reason: string | null }[] }[];
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text).join('')).toBe(text);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('uses a custom answer function', async () => {
    const m = await miner({ answer: (req) => `echo:${req.model}:${req.lastUserMessage}` });
    const json = (await (await post(m, chatBody())).body.json()) as ChatCompletion;
    expect(json.choices[0]?.message.content).toBe('echo:Org/Some-Model-7B:v1:Write a haiku about subnets and validators.');
  });

  it('returns 404 JSON for unknown routes and 400 for unusable bodies', async () => {
    const m = await miner();
    const notFound = await post(m, chatBody(), { path: '/v1/embeddings' });
    expect(notFound.statusCode).toBe(404);
    expect(((await notFound.body.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const get = await request(`${m.url}/v1/chat/completions`, { dispatcher: agent });
    expect(get.statusCode).toBe(404);
    await get.body.dump();
    const bad = await post(m, '{"model":');
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('devnet miner: Epistula auth', () => {
  async function expect401(res: Awaited<ReturnType<typeof post>>, reason: string) {
    expect(res.statusCode).toBe(401);
    const json = (await res.body.json()) as { error: { message: string; type: string; code: string; param: null } };
    expect(json.error.message).toContain(reason);
    expect(json.error.type).toBe('authentication_error');
    expect(json.error.param).toBeNull();
  }

  it('rejects unsigned requests', async () => {
    const m = await miner();
    await expect401(await post(m, chatBody(), { unsigned: true }), 'missing Epistula-Version header');
  });

  it('rejects requests signed for another hotkey', async () => {
    const m = await miner();
    const other = await createEpistulaSigner('//Miner2');
    await expect401(await post(m, chatBody(), { signedFor: other.ss58 }), 'signed for another hotkey');
  });

  it('rejects stale timestamps (miner clock 60 s ahead)', async () => {
    const m = await miner({ now: () => Date.now() + 60_000 });
    await expect401(await post(m, chatBody()), 'stale timestamp');
  });

  it('rejects a body that differs from the signed one', async () => {
    const m = await miner();
    await expect401(await post(m, chatBody(), { signBody: JSON.stringify(chatBody({ n: 2 })) }), 'bad signature');
  });

  it('accepts unsigned requests when verification is off', async () => {
    const m = await miner({ verifySignatures: false });
    expect((await post(m, chatBody(), { unsigned: true })).statusCode).toBe(200);
  });

  it('has the hotkey of its URI', async () => {
    const m = await miner({ hotkeyUri: '//Bob' });
    expect(m.hotkey).toBe('5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty');
    expect(m.url).toBe(`http://127.0.0.1:${m.port}`);
  });
});

describe('devnet miner: faults', () => {
  it('hang: accepts and never answers; a client abort reaches the miner', async () => {
    const m = await miner({ fault: 'hang' });
    const controller = new AbortController();
    const pending = post(m, chatBody(), { signal: controller.signal });
    while (m.lastRequest === undefined) await new Promise((r) => setTimeout(r, 5));
    expect(m.abortedRequests).toBe(0);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await m.waitForAborts(1, 2000);
    expect(m.abortedRequests).toBe(1);
  });

  it('reports a client that disconnects mid-stream', async () => {
    const m = await miner({ chunkCount: 6, chunkDelayMs: 100 });
    const controller = new AbortController();
    const res = await post(m, chatBody({ stream: true }), { signal: controller.signal });
    for await (const _ of res.body) break; // first chunk, then hang up
    controller.abort();
    await m.waitForAborts(1, 2000);
    expect(m.abortedRequests).toBe(1);
  });

  it('http500: answers 500 with an error envelope', async () => {
    const m = await miner({ fault: 'http500' });
    const res = await post(m, chatBody());
    expect(res.statusCode).toBe(500);
    expect(((await res.body.json()) as { error: { type: string } }).error.type).toBe('server_error');
  });

  it('malformed: 200 with invalid JSON, and a broken SSE stream without [DONE]', async () => {
    const m = await miner({ fault: 'malformed' });
    const res = await post(m, chatBody());
    expect(res.statusCode).toBe(200);
    const text = await res.body.text();
    expect(text.length).toBeGreaterThan(10);
    expect(() => JSON.parse(text)).toThrow();

    const stream = await post(m, chatBody({ stream: true }));
    expect(stream.statusCode).toBe(200);
    const events = (await stream.body.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).not.toBe('data: [DONE]');
    expect(() => events.map((e) => JSON.parse(e.slice('data: '.length)) as unknown)).toThrow();
  });

  it('wrongShape: 200 JSON that is not an OpenAI response', async () => {
    const m = await miner({ fault: 'wrongShape' });
    expect(await (await post(m, chatBody())).body.json()).toEqual({ foo: 1 });
    expect(sseData(await (await post(m, chatBody({ stream: true }))).body.text())).toEqual([{ foo: 1 }, '[DONE]']);
  });

  it('wrongContentType: a valid answer under the wrong content type (HTML for JSON, JSON where SSE was asked for)', async () => {
    const m = await miner({ fault: 'wrongContentType' });
    const json = await post(m, chatBody());
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(((await json.body.json()) as ChatCompletion).choices[0]?.message.content).toContain('devnet miner m1');
    const stream = await post(m, chatBody({ stream: true }));
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toBe('application/json');
    expect(((await stream.body.json()) as ChatCompletion).object).toBe('chat.completion');
  });

  it('slowFirstByte: delays the first byte, then answers normally', async () => {
    const m = await miner({ fault: 'slowFirstByte', slowMs: 300 });
    const started = performance.now();
    const res = await post(m, chatBody());
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(((await res.body.json()) as ChatCompletion).object).toBe('chat.completion');
  });

  it('slowBody: sends the headers at once, and the body (or first event) only after slowMs', async () => {
    const m = await miner({ fault: 'slowBody', slowMs: 1_000 });
    for (const stream of [false, true]) {
      const started = performance.now();
      const res = await post(m, chatBody({ stream }));
      const headersAfter = performance.now() - started;
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(stream ? 'text/event-stream' : 'application/json');
      const text = await res.body.text();
      expect(performance.now() - started).toBeGreaterThanOrEqual(980);
      expect(headersAfter).toBeLessThan(700);
      if (stream) expect(text).toContain('data: [DONE]');
      else expect((JSON.parse(text) as ChatCompletion).object).toBe('chat.completion');
    }
  });

  it('dropMidStream: destroys the socket mid-body (non-stream) and after two events (stream)', async () => {
    const m = await miner({ fault: 'dropMidStream' });
    const res = await post(m, chatBody());
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();

    const stream = await post(m, chatBody({ stream: true }));
    expect(stream.statusCode).toBe(200);
    let received = '';
    await expect((async () => {
      for await (const part of stream.body) received += String(part);
    })()).rejects.toThrow();
    const events = received.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(2);
    expect(received).not.toContain('[DONE]');
    expect(m.abortedRequests).toBe(0); // the miner hung up, not the client
  });

  it('refuse: connections are refused; switching back re-listens on the same port', async () => {
    const m = await miner();
    expect((await post(m, chatBody())).statusCode).toBe(200);
    await m.setFault('refuse');
    expect(m.fault).toBe('refuse');
    await expect(post(m, chatBody())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await m.setFault('none');
    const res = await post(m, chatBody());
    expect(res.statusCode).toBe(200);
    expect(new URL(m.url).port).toBe(String(m.port));
    await res.body.dump();
  });

  it('refuse drops in-flight requests without counting them as client aborts', async () => {
    const m = await miner({ fault: 'slowFirstByte', slowMs: 5_000 });
    const pending = post(m, chatBody()).catch((err: unknown) => err);
    while (m.lastRequest === undefined) await new Promise((r) => setTimeout(r, 5));
    await m.setFault('refuse');
    expect(await pending).toBeInstanceOf(Error);
    expect(m.abortedRequests).toBe(0);
    expect(m.openConnections).toBe(0);
  });

  it('can start refusing and switch between faults at run time', async () => {
    const m = await miner({ fault: 'refuse' });
    await expect(post(m, chatBody())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const sequence: [FaultMode, number][] = [['http500', 500], ['none', 200]];
    for (const [mode, status] of sequence) {
      await m.setFault(mode);
      const res = await post(m, chatBody());
      expect(res.statusCode).toBe(status);
      await res.body.dump();
    }
  });
});

describe('devnet miner: close()', () => {
  it('returns promptly with a keep-alive connection and a hanging request open', async () => {
    const m = await startMiner({ hotkeyUri: '//Miner1', fault: 'hang' });
    await m.setFault('none');
    const res = await post(m, chatBody());
    await res.body.json();
    expect(m.openConnections).toBeGreaterThanOrEqual(1); // the idle keep-alive socket
    await m.setFault('hang');
    const hanging = post(m, chatBody()).catch((err: unknown) => err);
    while (m.requestCount < 2) await new Promise((r) => setTimeout(r, 5));

    const started = performance.now();
    await m.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(m.openConnections).toBe(0);
    expect(await hanging).toBeInstanceOf(Error);
    expect(m.abortedRequests).toBe(0); // closing is not a client abort
    await expect(post(m, chatBody())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
