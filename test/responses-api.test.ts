/**
 * The OpenAI Responses API through the stock openai SDK: real gateway, real
 * Epistula-verifying fake miners that call tools, streaming and not, a
 * function tool round trip, and errors in the OpenAI envelope.
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

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] },
  strict: false,
};

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

sharedCodingApiCases(() => ({ baseUrl: gw.url, apiKey: gw.apiKey, model: MODEL }));

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

  it('runs a function tool round trip: function_call out, function_call_output back in', async () => {
    const first = await openai.responses.create({ model: MODEL, input: 'Paris', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('no function_call');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris', days: 42 });
    expect(call.call_id).toMatch(/^call_/);
    expect(sentChat().tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: weatherTool.parameters, strict: false } }]);

    // Whichever miner serves the second request is the one whose last request is read below.
    await fixture.reset();
    const second = await openai.responses.create({
      model: MODEL,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Paris' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' },
      ],
    });
    expect(second.output_text).toMatch(/used the get_weather tool: it returned "sunny, 21 C"/);
    const messages = sentChat().messages as Array<Record<string, unknown>>;
    expect(messages.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: call.call_id, function: { name: 'get_weather', arguments: call.arguments } }] });
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call.call_id, content: 'sunny, 21 C' });
  });

  it('streams a function call as argument deltas, and the SDK stream helper assembles it', async () => {
    const events = await collect(await openai.responses.create({ model: MODEL, input: 'Oslo', tools: [weatherTool], stream: true }));
    const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
    expect(argDeltas.length).toBeGreaterThan(1);
    const done = events.find((e) => e.type === 'response.function_call_arguments.done');
    if (done?.type !== 'response.function_call_arguments.done') throw new Error('no arguments.done');
    expect(done.arguments).toBe(argDeltas.map((d) => (d.type === 'response.function_call_arguments.delta' ? d.delta : '')).join(''));
    expect(JSON.parse(done.arguments)).toEqual({ city: 'Oslo', days: 42 });
    expect(done.name).toBe('get_weather');

    // The SDK's own accumulator (responses.stream) checks the event sequence as it builds the response.
    const stream = openai.responses.stream({ model: MODEL, input: 'Oslo', tools: [weatherTool] });
    const final = await stream.finalResponse();
    const call = final.output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('no function_call');

    // And back, streamed: the tool result comes back as text.
    const answer = openai.responses.stream({
      model: MODEL,
      tools: [weatherTool],
      input: [{ role: 'user', content: 'Oslo' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'snow' }],
    });
    expect((await answer.finalResponse()).output_text).toMatch(/get_weather tool: it returned "snow"/);
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
