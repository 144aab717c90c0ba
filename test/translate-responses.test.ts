/**
 * The Responses API translation, table-driven: request → chat request,
 * chat answer → response object, chat chunks → Responses events.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/errors.js';
import type { Chunk } from '../src/openai/chunk-relay.js';
import type { CompletionResponse } from '../src/openai/responses.js';
import { ResponsesResponseSchema } from '../src/openapi/response-schemas.js';
import { ResponsesRequestSchema, responsesToChat } from '../src/translate/responses-request.js';
import { chatToResponse } from '../src/translate/responses-response.js';
import { ResponsesStreamEncoder } from '../src/translate/responses-stream.js';
import { chunk, INTERLEAVED_ARGUMENTS, INTERLEAVED_CALLS, TEXT_THEN_INTERLEAVED_CALLS, toolDelta } from './support/chat-chunks.js';

const parse = (body: Record<string, unknown>) => ResponsesRequestSchema.parse({ model: 'm', ...body });

describe('responsesToChat', () => {
  const cases: Array<{ name: string; body: Record<string, unknown>; chat: Record<string, unknown> }> = [
    {
      name: 'string input with instructions',
      body: { input: 'hi', instructions: 'be brief' },
      chat: { model: 'm', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }] },
    },
    {
      name: 'developer becomes system; text parts join into a string',
      body: { input: [{ role: 'developer', content: 'rules' }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] }] },
      chat: { model: 'm', messages: [{ role: 'system', content: 'rules' }, { role: 'user', content: 'ab' }] },
    },
    {
      name: 'an image keeps the parts',
      body: { input: [{ role: 'user', content: [{ type: 'input_text', text: 'what is it' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' }] }] },
      chat: {
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } }] }],
      },
    },
    {
      name: 'an assistant turn and its function calls join; outputs become tool messages; reasoning is dropped',
      body: {
        input: [
          { role: 'user', content: 'go' },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          { role: 'assistant', content: [{ type: 'output_text', text: 'calling' }] },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":1}' },
          { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'one' },
          { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
        ],
      },
      chat: {
        model: 'm',
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: 'calling',
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
              { id: 'c2', type: 'function', function: { name: 'g', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'one' },
          { role: 'tool', tool_call_id: 'c2', content: 'two' },
        ],
      },
    },
    {
      name: 'a function call without a preceding assistant message opens one',
      body: { input: [{ role: 'user', content: 'go' }, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }] },
      chat: { model: 'm', messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }] },
    },
    {
      name: 'tools, a named tool choice, limits, sampling and streaming',
      body: {
        input: 'x',
        tools: [{ type: 'function', name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true }, { type: 'function', name: 'g' }],
        tool_choice: { type: 'function', name: 'f' },
        parallel_tool_calls: false,
        max_output_tokens: 99,
        temperature: 0.2,
        top_p: 0.9,
        stream: true,
        user: 'u1',
        store: true,
        metadata: { a: 'b' },
      },
      chat: {
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        tools: [
          { type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true } },
          { type: 'function', function: { name: 'g', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: { type: 'function', function: { name: 'f' } },
        parallel_tool_calls: false,
        max_tokens: 99,
        temperature: 0.2,
        top_p: 0.9,
        stream: true,
        stream_options: { include_usage: true },
        user: 'u1',
      },
    },
    {
      name: 'text.format json_schema becomes response_format',
      body: { input: 'x', tool_choice: 'required', text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } } },
      chat: {
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        tool_choice: 'required',
        response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
      },
    },
  ];
  it.each(cases)('$name', ({ body, chat }) => {
    expect(responsesToChat(parse(body))).toEqual(chat);
  });

  const refused: Array<{ name: string; body: Record<string, unknown>; param: string }> = [
    { name: 'previous_response_id', body: { input: 'x', previous_response_id: 'resp_1' }, param: 'previous_response_id' },
    { name: 'conversation', body: { input: 'x', conversation: 'conv_1' }, param: 'conversation' },
    { name: 'only reasoning items', body: { input: [{ type: 'reasoning' }] }, param: 'input' },
  ];
  it.each(refused)('refuses $name with a 400 naming it', ({ body, param }) => {
    let error: unknown;
    try {
      responsesToChat(parse(body));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, param });
  });
});

const ctx = { id: 'resp_abc', createdAt: 1_700_000_000, request: parse({ input: 'x', instructions: 'sys', max_output_tokens: 10 }) };
const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, prompt_tokens_details: { cached_tokens: 2 } };
const chatAnswer = (message: Record<string, unknown>, finish: string): CompletionResponse =>
  ({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }], usage }) as CompletionResponse;

describe('chatToResponse', () => {
  const cases: Array<{ name: string; answer: CompletionResponse; status: string; output: unknown[]; incomplete?: unknown }> = [
    {
      name: 'text',
      answer: chatAnswer({ content: 'hello' }, 'stop'),
      status: 'completed',
      output: [{ id: 'msg_abc_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'hello', annotations: [], logprobs: [] }] }],
    },
    {
      name: 'cut at max tokens',
      answer: chatAnswer({ content: 'hel' }, 'length'),
      status: 'incomplete',
      incomplete: { reason: 'max_output_tokens' },
      output: [expect.objectContaining({ type: 'message', status: 'incomplete' })],
    },
    {
      name: 'tool calls only: no empty message',
      answer: chatAnswer({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }, { type: 'function', function: { name: 'g', arguments: '{}' } }] }, 'tool_calls'),
      status: 'completed',
      output: [
        { id: 'fc_abc_0', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'f', arguments: '{"x":1}' },
        { id: 'fc_abc_1', type: 'function_call', status: 'completed', call_id: 'call_abc_1', name: 'g', arguments: '{}' },
      ],
    },
    {
      name: 'text and a tool call',
      answer: chatAnswer({ content: 'let me look', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'tool_calls'),
      status: 'completed',
      output: [expect.objectContaining({ type: 'message' }), expect.objectContaining({ type: 'function_call', call_id: 'call_1' })],
    },
  ];
  it.each(cases)('$name', ({ answer, status, output, incomplete }) => {
    const response = chatToResponse(answer, ctx);
    expect(ResponsesResponseSchema.parse(response)).toBeTruthy();
    expect(response).toMatchObject({ id: 'resp_abc', status, output, instructions: 'sys', max_output_tokens: 10, incomplete_details: incomplete ?? null });
    expect(response.usage).toEqual({ input_tokens: 7, input_tokens_details: { cached_tokens: 2 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 10 });
  });
});

const usageChunk: Chunk = { id: 'c', choices: [], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 }, taogate_receipt: 'r.s' };

function run(chunks: Chunk[], end: 'end' | 'error' = 'end') {
  const encoder = new ResponsesStreamEncoder(ctx);
  const events = [...encoder.start(), ...chunks.flatMap((c) => encoder.chunk(c))];
  events.push(...(end === 'end' ? encoder.end() : encoder.error({ message: 'cut', type: 'upstream_error', code: 'stream_interrupted' })));
  return events.map((e) => e.data as Record<string, unknown> & { type: string });
}

describe('ResponsesStreamEncoder', () => {
  const cases: Array<{ name: string; chunks: Chunk[]; end?: 'end' | 'error'; types: string[] }> = [
    {
      name: 'text',
      chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), usageChunk],
      types: [
        'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
        'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done',
        'response.output_item.done', 'response.completed',
      ],
    },
    {
      name: 'a tool call streamed as deltas',
      chunks: [toolDelta(0, { name: 'f', arguments: '' }, 'call_1'), toolDelta(0, { arguments: '{"a"' }), toolDelta(0, { arguments: ':1}' }), chunk({}, 'tool_calls'), usageChunk],
      types: [
        'response.created', 'response.in_progress', 'response.output_item.added', 'response.function_call_arguments.delta',
        'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done', 'response.completed',
      ],
    },
    {
      name: 'text, then two tool calls',
      chunks: [chunk({ content: 'ok' }), toolDelta(0, { name: 'f', arguments: '{}' }, 'call_1'), toolDelta(1, { name: 'g', arguments: '{}' }, 'call_2'), chunk({}, 'tool_calls')],
      types: [
        'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
        'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
        'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
        'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
        'response.completed',
      ],
    },
    {
      // Call 0 is not whole when call 1 begins: both stay open, and every piece goes to its own item; both finish at the end.
      name: 'text, then two parallel tool calls whose pieces interleave',
      chunks: [...TEXT_THEN_INTERLEAVED_CALLS],
      types: [
        'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
        'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
        'response.output_item.added', 'response.function_call_arguments.delta',
        'response.output_item.added', 'response.function_call_arguments.delta',
        'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
        'response.function_call_arguments.done', 'response.output_item.done', 'response.function_call_arguments.done', 'response.output_item.done',
        'response.completed',
      ],
    },
    {
      name: 'cut at max tokens',
      chunks: [chunk({ content: 'abc' }), chunk({}, 'length')],
      types: [
        'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
        'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.incomplete',
      ],
    },
    {
      name: 'failed after it started',
      chunks: [chunk({ content: 'abc' })],
      end: 'error',
      types: ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'error', 'response.failed'],
    },
  ];
  it.each(cases)('$name', ({ chunks, end, types }) => {
    const events = run(chunks, end);
    expect(events.map((e) => e.type)).toEqual(types);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const last = events.at(-1) as unknown as { response: unknown };
    expect(ResponsesResponseSchema.parse(last.response)).toBeTruthy();
  });

  it('interleaved pieces go to their own items, and no event names an item after its done event', () => {
    const events = run([...INTERLEAVED_CALLS]);
    const done = new Set<unknown>();
    const args = new Map<unknown, string>();
    for (const e of events) {
      if (e.type === 'response.function_call_arguments.delta') {
        expect(done.has(e.output_index)).toBe(false);
        args.set(e.output_index, (args.get(e.output_index) ?? '') + (e.delta as string));
      }
      if (e.type === 'response.output_item.done') done.add(e.output_index);
    }
    expect([...args.values()].map((json) => JSON.parse(json))).toEqual(INTERLEAVED_ARGUMENTS);
    const { response } = events.at(-1) as unknown as { response: { output: unknown[] } };
    expect(response.output).toMatchObject([
      { type: 'function_call', status: 'completed', call_id: 'call_1', arguments: '{"path":"a"}' },
      { type: 'function_call', status: 'completed', call_id: 'call_2', arguments: '{"n":42}' },
    ]);
  });

  it('the final response carries the whole output, the usage and the receipt', () => {
    const events = run([chunk({ content: 'Hi ' }), chunk({ content: 'there' }), toolDelta(0, { name: 'f', arguments: '{"q":' }, 'call_9'), toolDelta(0, { arguments: '2}' }), chunk({}, 'tool_calls'), usageChunk]);
    const { response } = events.at(-1) as unknown as { response: Record<string, unknown> };
    expect(response).toMatchObject({
      status: 'completed',
      output: [
        { type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Hi there' }] },
        { type: 'function_call', status: 'completed', call_id: 'call_9', name: 'f', arguments: '{"q":2}' },
      ],
      usage: { input_tokens: 5, output_tokens: 4, total_tokens: 9 },
      taogate_receipt: 'r.s',
    });
    const done = events.find((e) => e.type === 'response.function_call_arguments.done');
    expect(done).toMatchObject({ item_id: 'fc_abc_0', output_index: 1, name: 'f', arguments: '{"q":2}' });
  });

  it('a failure says why, in the response and the error event', () => {
    const events = run([chunk({ content: 'abc' })], 'error');
    expect(events.at(-2)).toMatchObject({ type: 'error', code: 'stream_interrupted', message: 'cut', param: null });
    expect(events.at(-1)).toMatchObject({ response: { status: 'failed', error: { code: 'server_error', message: 'cut' }, output: [{ type: 'message' }] } });
  });
});
