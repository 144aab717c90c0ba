/**
 * The Messages API translation, table-driven: request → chat request, chat
 * answer → message, chat chunks → Messages events.
 */
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../src/openai/chunk-relay.js';
import type { CompletionResponse } from '../src/openai/responses.js';
import { MessagesResponseSchema } from '../src/openapi/response-schemas.js';
import { MessagesRequestSchema, messagesToChat } from '../src/translate/messages-request.js';
import { chatToMessage, stopReasonOf, toolInput } from '../src/translate/messages-response.js';
import { MessagesStreamEncoder } from '../src/translate/messages-stream.js';
import { chunk, INTERLEAVED_ARGUMENTS, INTERLEAVED_CALLS, TEXT_THEN_INTERLEAVED_CALLS, toolDelta } from './support/chat-chunks.js';

const parse = (body: Record<string, unknown>) => MessagesRequestSchema.parse({ model: 'm', max_tokens: 100, ...body });

describe('messagesToChat', () => {
  const cases: Array<{ name: string; body: Record<string, unknown>; chat: Record<string, unknown> }> = [
    {
      name: 'system string and a user string',
      body: { system: 'be brief', messages: [{ role: 'user', content: 'hi' }] },
      chat: { model: 'm', max_tokens: 100, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }] },
    },
    {
      name: 'system blocks join; text blocks join; thinking is dropped',
      body: {
        system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'text', text: 'y' }] },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'z' }] },
        ],
      },
      chat: { model: 'm', max_tokens: 100, messages: [{ role: 'system', content: 'a\nb' }, { role: 'user', content: 'xy' }, { role: 'assistant', content: 'z' }] },
    },
    {
      name: 'images become image_url parts (base64 as a data URL)',
      body: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } },
              { type: 'image', source: { type: 'url', url: 'https://example.test/a.png' } },
              { type: 'text', text: 'compare' },
            ],
          },
        ],
      },
      chat: {
        model: 'm',
        max_tokens: 100,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } },
              { type: 'image_url', image_url: { url: 'https://example.test/a.png' } },
              { type: 'text', text: 'compare' },
            ],
          },
        ],
      },
    },
    {
      name: 'tool_use becomes tool_calls; tool_result becomes tool messages before the user text',
      body: {
        messages: [
          { role: 'user', content: 'read it' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read', input: { path: 'a' } }, { type: 'tool_use', id: 'toolu_2', name: 'read', input: { path: 'b' } }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: 'A' },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'no such file' }], is_error: true },
              { type: 'text', text: 'and now?' },
            ],
          },
        ],
      },
      chat: {
        model: 'm',
        max_tokens: 100,
        messages: [
          { role: 'user', content: 'read it' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'read', arguments: '{"path":"b"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: 'A' },
          { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: no such file' },
          { role: 'user', content: 'and now?' },
        ],
      },
    },
    {
      name: 'tools, tool_choice any without parallel calls, stop sequences, sampling, user and streaming',
      body: {
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ name: 'f', description: 'does f', input_schema: { type: 'object', properties: {} } }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        stop_sequences: ['END'],
        temperature: 0.5,
        top_p: 0.8,
        top_k: 40,
        metadata: { user_id: 'u1' },
        stream: true,
      },
      chat: {
        model: 'm',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object', properties: {} } } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
        stop: ['END'],
        temperature: 0.5,
        top_p: 0.8,
        top_k: 40,
        user: 'u1',
        stream: true,
        stream_options: { include_usage: true },
      },
    },
  ];
  it.each(cases)('$name', ({ body, chat }) => {
    expect(messagesToChat(parse(body))).toEqual(chat);
  });

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'none' }, 'none'],
    [{ type: 'tool', name: 'f' }, { type: 'function', function: { name: 'f' } }],
  ])('tool_choice %j → %j', (choice, expected) => {
    expect(messagesToChat(parse({ messages: [{ role: 'user', content: 'x' }], tool_choice: choice })).tool_choice).toEqual(expected);
  });
});

const ctx = { id: 'msg_abc', request: parse({ messages: [{ role: 'user', content: 'x' }] }), inputTokens: () => 11 };
const answer = (message: Record<string, unknown>, finish: string, usage: unknown = { prompt_tokens: 7, completion_tokens: 3 }): CompletionResponse =>
  ({ id: 'c', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }], usage }) as CompletionResponse;

describe('chatToMessage', () => {
  const cases: Array<{ name: string; answer: CompletionResponse; content: unknown[]; stop: string; usage: unknown }> = [
    { name: 'text', answer: answer({ content: 'hi' }, 'stop'), content: [{ type: 'text', text: 'hi' }], stop: 'end_turn', usage: { input_tokens: 7, output_tokens: 3 } },
    { name: 'cut at max_tokens', answer: answer({ content: 'h' }, 'length'), content: [{ type: 'text', text: 'h' }], stop: 'max_tokens', usage: { input_tokens: 7, output_tokens: 3 } },
    {
      name: 'tool calls, one with no id and one with arguments that are not an object',
      answer: answer({ content: 'looking', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{"a":[1]}' } }, { id: 'call_2', type: 'function', function: { name: 'g', arguments: 'oops' } }] }, 'stop'),
      content: [
        { type: 'text', text: 'looking' },
        { type: 'tool_use', id: 'toolu_abc_0', name: 'f', input: { a: [1] } },
        { type: 'tool_use', id: 'call_2', name: 'g', input: { arguments: 'oops' } },
      ],
      stop: 'tool_use',
      usage: { input_tokens: 7, output_tokens: 3 },
    },
    { name: 'no usage from the miner: the gateway count stands in', answer: answer({ content: '' }, 'stop', null), content: [], stop: 'end_turn', usage: { input_tokens: 11, output_tokens: 0 } },
  ];
  it.each(cases)('$name', ({ answer: a, content, stop, usage }) => {
    const message = chatToMessage(a, ctx);
    expect(MessagesResponseSchema.parse(message)).toBeTruthy();
    expect(message).toMatchObject({ id: 'msg_abc', type: 'message', role: 'assistant', model: 'm', content, stop_reason: stop, stop_sequence: null, usage });
  });

  it.each([
    ['length', false, 'max_tokens'],
    ['content_filter', false, 'refusal'],
    ['tool_calls', false, 'tool_use'],
    ['stop', true, 'tool_use'],
    ['stop', false, 'end_turn'],
    [null, false, 'end_turn'],
  ] as const)('finish %s (tools called: %s) → %s', (finish, called, stop) => {
    expect(stopReasonOf(finish, called)).toBe(stop);
  });

  it.each([
    ['', {}],
    ['{"a":1}', { a: 1 }],
    ['[1]', { arguments: '[1]' }],
    ['{"a":', { arguments: '{"a":' }],
  ])('tool input from %j', (args, input) => {
    expect(toolInput(args)).toEqual(input);
  });
});

const usageChunk: Chunk = { id: 'c', choices: [], usage: { prompt_tokens: 5, completion_tokens: 4 }, taogate_receipt: 'r.s' };

function run(chunks: Chunk[], end: 'end' | 'error' = 'end') {
  const encoder = new MessagesStreamEncoder(ctx);
  const events = [...encoder.start(), ...chunks.flatMap((c) => encoder.chunk(c))];
  events.push(...(end === 'end' ? encoder.end() : encoder.error({ message: 'cut', type: 'upstream_error', code: 'deadline_exceeded' })));
  for (const e of events) expect((e.data as { type: string }).type).toBe(e.event);
  return events.map((e) => e.data as Record<string, unknown> & { type: string });
}

const brief = (events: Array<Record<string, unknown> & { type: string }>) =>
  events.map((e) => {
    if (e.type === 'content_block_start') return `start:${(e.content_block as { type: string }).type}@${e.index}`;
    if (e.type === 'content_block_delta') return `${(e.delta as { type: string }).type}@${e.index}`;
    if (e.type === 'content_block_stop') return `stop@${e.index}`;
    if (e.type === 'message_delta') return `message_delta:${(e.delta as { stop_reason: string }).stop_reason}`;
    return e.type;
  });

describe('MessagesStreamEncoder', () => {
  const cases: Array<{ name: string; chunks: Chunk[]; end?: 'end' | 'error'; events: string[] }> = [
    {
      name: 'text',
      chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), usageChunk],
      events: ['message_start', 'ping', 'start:text@0', 'text_delta@0', 'text_delta@0', 'stop@0', 'message_delta:end_turn', 'message_stop'],
    },
    {
      name: 'text, then two tool calls as input_json_delta',
      chunks: [
        chunk({ content: 'ok' }),
        toolDelta(0, { name: 'f', arguments: '' }, 'call_1'),
        toolDelta(0, { arguments: '{"a":1}' }),
        toolDelta(1, { name: 'g', arguments: '{}' }, 'call_2'),
        chunk({}, 'tool_calls'),
      ],
      events: [
        'message_start', 'ping', 'start:text@0', 'text_delta@0', 'stop@0', 'start:tool_use@1', 'input_json_delta@1', 'stop@1',
        'start:tool_use@2', 'input_json_delta@2', 'stop@2', 'message_delta:tool_use', 'message_stop',
      ],
    },
    {
      // Pieces of call 0 arrive after call 1 began: call 1 waits, buffered, until call 0 is whole, so blocks stay sequential.
      name: 'text, then two parallel tool calls whose pieces interleave',
      chunks: [...TEXT_THEN_INTERLEAVED_CALLS],
      events: [
        'message_start', 'ping', 'start:text@0', 'text_delta@0', 'stop@0', 'start:tool_use@1', 'input_json_delta@1', 'input_json_delta@1',
        'stop@1', 'start:tool_use@2', 'input_json_delta@2', 'input_json_delta@2', 'stop@2', 'message_delta:tool_use', 'message_stop',
      ],
    },
    {
      name: 'interleaved calls that never become whole JSON are sent, in order, at the end',
      chunks: [toolDelta(0, { name: 'f', arguments: '{"a"' }, 'call_1'), toolDelta(1, { name: 'g', arguments: '{' }, 'call_2'), toolDelta(0, { arguments: ':1' }), chunk({ content: 'then text' }), chunk({}, 'tool_calls')],
      events: [
        'message_start', 'ping', 'start:tool_use@0', 'input_json_delta@0', 'input_json_delta@0', 'stop@0',
        'start:tool_use@1', 'input_json_delta@1', 'stop@1', 'start:text@2', 'text_delta@2', 'stop@2', 'message_delta:tool_use', 'message_stop',
      ],
    },
    { name: 'cut at max tokens', chunks: [chunk({ content: 'a' }), chunk({}, 'length')], events: ['message_start', 'ping', 'start:text@0', 'text_delta@0', 'stop@0', 'message_delta:max_tokens', 'message_stop'] },
    { name: 'failed after it started', chunks: [chunk({ content: 'a' })], end: 'error', events: ['message_start', 'ping', 'start:text@0', 'text_delta@0', 'error'] },
  ];
  it.each(cases)('$name', ({ chunks, end, events }) => {
    expect(brief(run(chunks, end))).toEqual(events);
  });

  it('states the input estimate at the start, the miner usage and the receipt at the end', () => {
    const events = run([toolDelta(0, { name: 'f', arguments: '{"q":' }, 'call_9'), toolDelta(0, { arguments: '2}' }), chunk({}, 'tool_calls'), usageChunk]);
    expect(events[0]).toMatchObject({ message: { id: 'msg_abc', content: [], stop_reason: null, usage: { input_tokens: 11, output_tokens: 0 } } });
    expect(events[2]).toMatchObject({ content_block: { type: 'tool_use', id: 'call_9', name: 'f', input: {} } });
    const json = events.filter((e) => e.type === 'content_block_delta').map((e) => (e.delta as { partial_json: string }).partial_json).join('');
    expect(JSON.parse(json)).toEqual({ q: 2 });
    expect(events.at(-2)).toMatchObject({ usage: { input_tokens: 5, output_tokens: 4 }, taogate_receipt: 'r.s' });
  });

  it('every interleaved piece lands in its own block, and only while that block is the one open', () => {
    const events = run([...INTERLEAVED_CALLS]);
    const inputs = new Map<number, string>();
    let open: unknown = null;
    for (const e of events) {
      if (e.type === 'content_block_start') open = e.index;
      if (e.type === 'content_block_stop') open = null;
      if (e.type !== 'content_block_delta') continue;
      expect(e.index).toBe(open);
      inputs.set(e.index as number, (inputs.get(e.index as number) ?? '') + (e.delta as { partial_json: string }).partial_json);
    }
    expect([...inputs.values()].map((json) => JSON.parse(json))).toEqual(INTERLEAVED_ARGUMENTS);
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => e.content_block)).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
      { type: 'tool_use', id: 'call_2', name: 'g', input: {} },
    ]);
  });

  it('a deadline cut is a timeout_error in the error event', () => {
    expect(run([chunk({ content: 'a' })], 'error').at(-1)).toEqual({ type: 'error', error: { type: 'timeout_error', message: 'cut' } });
  });
});
