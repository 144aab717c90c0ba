/**
 * The OpenAI Responses API through the stock openai SDK: real gateway, real
 * Epistula-verifying fake miners that call tools, streaming and not, and
 * errors in the OpenAI envelope. The text streams and the function tool
 * round trips are shared cases (test/shared/coding-api-cases.ts), which the
 * Worker runs too.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMiner } from '../src/devnet/miner.js';
import { OpenAiErrorSchema, ResponsesResponseSchema } from '../src/openapi/response-schemas.js';
import { CODING_MODEL as MODEL, startCodingFixture, type CodingFixture } from './support/coding-fixture.js';
import type { TestGateway } from './support/gateway-harness.js';
import { sharedCodingApiCases } from './shared/coding-api-cases.js';

let fixture: CodingFixture;
let minerA: RunningMiner;
let minerB: RunningMiner;
let gw: TestGateway;
let openai: OpenAI;

beforeAll(async () => {
  fixture = await startCodingFixture('Resp');
  ({ minerA, minerB, gw } = fixture);
  openai = gw.client();
});

afterAll(() => fixture?.close());
beforeEach(() => fixture.reset());

const sentChat = () => fixture.sentChat();

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

sharedCodingApiCases(() => ({ baseUrl: gw.url, apiKey: gw.apiKey, model: MODEL, miners: [minerA, minerB] }));

describe('POST /v1/responses', () => {
  it('answers a string input with instructions, as a response object with usage, receipt and miner headers', async () => {
    const { data, response } = await openai.responses
      .create({ model: MODEL, input: 'write a haiku', instructions: 'You are terse.', max_output_tokens: 50 })
      .withResponse();
    expect(ResponsesResponseSchema.parse(data).status).toBe('completed');
    expect(data.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(data.model).toBe(MODEL);
    expect(data.output_text).toMatch(/^Hello from devnet miner (A|B)\. You said "write a haiku"/);
    expect(data.usage?.input_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe((data.usage?.input_tokens ?? 0) + (data.usage?.output_tokens ?? 0));
    expect(response.headers.get('x-taogate-miner')).toMatch(/^62\/[12]\//);
    expect(response.headers.get('x-taogate-receipt')).toMatch(/^[\w-]+\.[\w-]+$/);
    // The miner got a chat completion request.
    expect(sentChat()).toMatchObject({
      model: 'qwen-coder-32b',
      max_tokens: 50,
      messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'write a haiku' }],
    });
  });
});

describe('Responses API errors (OpenAI envelope)', () => {
  const post = (json: unknown, headers: Record<string, string> = {}) => gw.request('/v1/responses', { method: 'POST', json, headers });
  const envelope = async (res: Response) => OpenAiErrorSchema.parse(await res.json()).error;

  it('400 naming the field for a bad body, a non-function tool, and previous_response_id', async () => {
    let res = await post({ model: MODEL });
    expect(res.status).toBe(400);
    expect(await envelope(res)).toMatchObject({ type: 'invalid_request_error', param: 'input' });

    res = await post({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }] });
    expect(res.status).toBe(400);
    const tool = await envelope(res);
    expect(tool.param).toBe('tools[0].type');
    expect(tool.message).toMatch(/only function tools/);

    res = await post({ model: MODEL, input: [{ role: 'robot', content: 'x' }] });
    expect((await envelope(res)).param).toBe('input[0].role');

    res = await post({ model: MODEL, input: 'x', previous_response_id: 'resp_123' });
    expect(res.status).toBe(400);
    const previous = await envelope(res);
    expect(previous).toMatchObject({ param: 'previous_response_id', code: 'unsupported_parameter' });
    expect(previous.message).toMatch(/send the whole conversation/);
    expect(minerA.requestCount + minerB.requestCount).toBe(0);
  });

  it('401 without a key, 404 for an unknown model, through the SDK', async () => {
    await expect(gw.client({ apiKey: 'sk-tao-nope' }).responses.create({ model: MODEL, input: 'x' })).rejects.toMatchObject({ status: 401 });
    const unknown = await openai.responses.create({ model: 'sn62/nope', input: 'x' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('502 when every miner fails', async () => {
    await minerA.setFault('http500');
    await minerB.setFault('http500');
    const err = await openai.responses.create({ model: MODEL, input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it('a stream cut after it started ends with error and response.failed', async () => {
    await minerA.setFault('dropMidStream');
    await minerB.setFault('dropMidStream');
    const events = await collect(await openai.responses.create({ model: MODEL, input: 'cut me', stream: true }));
    const error = events.at(-2);
    const failed = events.at(-1);
    expect(error).toMatchObject({ type: 'error', code: 'stream_interrupted' });
    if (failed?.type !== 'response.failed') throw new Error(`ended with ${failed?.type}`);
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error?.message).toMatch(/stream failed after it started/);
  });
});
