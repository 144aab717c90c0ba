/**
 * The Anthropic Messages API through the stock @anthropic-ai/sdk: real
 * gateway, real Epistula-verifying fake miners that call tools, streaming
 * and not, count_tokens, and every error in Anthropic's envelope. The text
 * streams and the tool_use round trips are shared cases
 * (test/shared/coding-api-cases.ts), which the Worker runs too.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMiner } from '../src/devnet/miner.js';
import { TokenCounter } from '../src/metering/token-counter.js';
import { AnthropicErrorSchema, MessagesResponseSchema } from '../src/openapi/response-schemas.js';
import { createKey, keyDetails } from './support/admin-client.js';
import { CODING_MODEL as MODEL, startCodingFixture, type CodingFixture } from './support/coding-fixture.js';
import type { TestGateway } from './support/gateway-harness.js';
import { READ_FILE_TOOL, sharedCodingApiCases } from './shared/coding-api-cases.js';

let fixture: CodingFixture;
let minerA: RunningMiner;
let minerB: RunningMiner;
let gw: TestGateway;
let claude: Anthropic;

beforeAll(async () => {
  fixture = await startCodingFixture('Msg', { MAX_BODY_BYTES: '65536' });
  ({ minerA, minerB, gw } = fixture);
  claude = new Anthropic({ baseURL: gw.url, apiKey: gw.apiKey, maxRetries: 0 });
});

afterAll(() => fixture?.close());
beforeEach(() => fixture.reset());

const served = () => fixture.served();
const sentChat = () => fixture.sentChat();

async function collect(stream: AsyncIterable<RawMessageStreamEvent>): Promise<RawMessageStreamEvent[]> {
  const events: RawMessageStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

sharedCodingApiCases(() => ({ baseUrl: gw.url, apiKey: gw.apiKey, model: MODEL, miners: [minerA, minerB] }));

describe('POST /v1/messages', () => {
  it('answers with a text block, usage and end_turn; the key comes as x-api-key', async () => {
    const { data, response } = await claude.messages
      .create({ model: MODEL, max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'explain monads' }], stop_sequences: ['\n\n'] })
      .withResponse();
    const message = MessagesResponseSchema.parse(data);
    expect(message.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(message.model).toBe(MODEL);
    expect(message.stop_reason).toBe('end_turn');
    expect(data.content).toEqual([{ type: 'text', text: expect.stringMatching(/^Hello from devnet miner (A|B)\. You said "explain monads"/) }]);
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-taogate-receipt')).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(served()?.lastRequest?.headers['x-api-key']).toBeUndefined();
    expect(sentChat()).toMatchObject({
      model: 'qwen-coder-32b',
      max_tokens: 64,
      stop: ['\n\n'],
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'explain monads' }],
    });
  });

  it('also takes the key as Authorization: Bearer', async () => {
    const bearer = new Anthropic({ baseURL: gw.url, apiKey: null, authToken: gw.apiKey, maxRetries: 0 });
    const message = await bearer.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content[0]?.type).toBe('text');
  });
});

describe('POST /v1/messages/count_tokens', () => {
  it("counts with the gateway's tokenizer, system and tools included", async () => {
    const tokens = await TokenCounter.load();
    const plain = await claude.messages.countTokens({ model: MODEL, system: 'Be brief.', messages: [{ role: 'user', content: 'hello world' }] });
    // The same conversation as the chat request metering counts.
    expect(plain.input_tokens).toBe(tokens.prompt({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello world' }] }));
    const withTools = await claude.messages.countTokens({ model: MODEL, system: 'Be brief.', tools: [READ_FILE_TOOL], messages: [{ role: 'user', content: 'hello world' }] });
    expect(withTools.input_tokens).toBeGreaterThan(plain.input_tokens + 10);
    expect(minerA.requestCount + minerB.requestCount).toBe(0);
  });
});

describe('same metering, limits and receipts as chat completions', () => {
  it('meters both APIs under the key, and refuses over RPM with rate_limit_error and Retry-After', async () => {
    const limited = await createKey(gw, { rpm: 2 });
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: limited.key, maxRetries: 0 });
    const message = await anthropic.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'one two three' }] }).withResponse();
    expect(message.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    const streamed = await gw.request('/v1/responses', { method: 'POST', headers: { authorization: `Bearer ${limited.key}` }, json: { model: MODEL, input: 'four', stream: true } });
    await streamed.text();
    const refused = await anthropic.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number((refused as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    await gw.gateway.metering.flush();
    const usage = (await keyDetails(gw, limited.id)).usage;
    expect(usage.totals.requests).toBe(2);
    expect(usage.totals.prompt_tokens).toBe(message.data.usage.input_tokens + 1);
    expect(Object.keys(usage.models)).toEqual(['sn62/qwen-coder-32b']);

    // And the request metrics label them by route and model, as chat completions.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const served = (route: string) => metrics.split('\n').find((line) =>
      line.startsWith('taogate_http_requests_total{') && line.includes(`route="${route}"`) && line.includes('model="sn62/qwen-coder-32b"') && line.includes('status="200"'));
    expect(served('/v1/messages')).toMatch(/ [1-9]\d*$/);
    expect(served('/v1/responses')).toMatch(/ [1-9]\d*$/);
  });
});

describe('Messages API errors (Anthropic envelope)', () => {
  const post = (path: string, json: unknown, headers: Record<string, string> = {}) => gw.request(path, { method: 'POST', json, headers });
  const envelope = async (res: Response) => AnthropicErrorSchema.parse(await res.json());

  it('400 invalid_request_error naming the field; 413 request_too_large', async () => {
    let res = await post('/v1/messages', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(400);
    let body = await envelope(res);
    expect(body.error).toEqual({ type: 'invalid_request_error', message: "Invalid value for 'max_tokens': max_tokens is required" });
    expect(body.request_id).toBe(res.headers.get('x-request-id'));

    res = await post('/v1/messages', { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] });
    expect((await envelope(res)).error.message).toMatch(/'messages\[0\]\.content\[0\]\.tool_use_id'/);

    res = await post('/v1/messages', { model: MODEL, max_tokens: 5, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'x' }] });
    expect((await envelope(res)).error.message).toMatch(/tools\[0\]\.type.*only client tools/);

    res = await post('/v1/messages', { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    expect(res.status).toBe(413);
    body = await envelope(res);
    expect(body.error.type).toBe('request_too_large');
    expect(minerA.requestCount + minerB.requestCount).toBe(0);
  });

  it('401 authentication_error without a key or with a wrong one, through the SDK', async () => {
    const res = await gw.request('/v1/messages', { method: 'POST', headers: { authorization: '' }, json: { model: MODEL, max_tokens: 5, messages: [] } });
    expect(res.status).toBe(401);
    expect((await envelope(res)).error.type).toBe('authentication_error');
    const err = await new Anthropic({ baseURL: gw.url, apiKey: 'sk-tao-wrong', maxRetries: 0 }).messages
      .create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');
  });

  it('takes x-api-key when an Authorization header of another scheme comes with it; the 401 names both ways', async () => {
    const body = { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
    const basic = 'Basic dXNlcjpwYXNz';
    const res = await gw.request('/v1/messages', { method: 'POST', headers: { authorization: basic, 'x-api-key': gw.apiKey }, json: body });
    expect(res.status).toBe(200);
    const missing = await gw.request('/v1/messages', { method: 'POST', headers: { authorization: basic }, json: body });
    expect(missing.status).toBe(401);
    const { error } = await envelope(missing);
    expect(error.type).toBe('authentication_error');
    expect(error.message).toMatch(/Authorization: Bearer/);
    expect(error.message).toMatch(/x-api-key/);
  });

  it('405 (with Allow) and 404 under /v1/messages in Anthropic’s envelope too', async () => {
    for (const [method, path, allow] of [['GET', '/v1/messages', 'POST'], ['PUT', '/v1/messages/count_tokens', 'POST']] as const) {
      const res = await gw.request(path, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect((await envelope(res)).error).toEqual({ type: 'invalid_request_error', message: `${method} is not allowed on ${path}; use ${allow}.` });
    }
    const unknown = await gw.request('/v1/messages/batches', { method: 'POST', json: {} });
    expect(unknown.status).toBe(404);
    expect((await envelope(unknown)).error.type).toBe('not_found_error');
    // The SDK raises the matching class for a Messages resource the gateway does not serve.
    expect(await claude.messages.batches.retrieve('msgbatch_1').catch((e: unknown) => e)).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('404 not_found_error for an unknown model (messages and count_tokens)', async () => {
    const err = await claude.messages.create({ model: 'sn62/nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err as Error).message).toMatch(/sn62\/nope/);
    const count = await claude.messages.countTokens({ model: 'sn62/nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(count).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('502 api_error when every miner fails', async () => {
    await minerA.setFault('http500');
    await minerB.setFault('http500');
    const res = await post('/v1/messages', { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(502);
    expect((await envelope(res)).error).toMatchObject({ type: 'api_error', message: expect.stringMatching(/miner/) });
  });

  it('a stream cut after it started ends with an error event the SDK raises', async () => {
    await minerA.setFault('dropMidStream');
    await minerB.setFault('dropMidStream');
    const stream = await claude.messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'cut me' }] });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(seen[0]).toBe('message_start');
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('api_error');
    expect((err as Error).message).toMatch(/stream failed after it started/);
  });
});
