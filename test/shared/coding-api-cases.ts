/**
 * The coding-tool wire APIs (OpenAI Responses, Anthropic Messages) through
 * their stock SDKs, written once and run by every runtime's tests:
 * test/responses-api.test.ts and test/messages-api.test.ts on Node, and
 * test/worker.test.ts on the Worker bundle in workerd. The target's miners
 * are devnet fake miners (src/devnet/miner.ts), which echo the prompt and
 * call a tool whenever a request offers tools (until the last message is
 * the tool's result), so both tool round trips run on every runtime.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunningMiner } from '../../src/devnet/miner.js';
import { ResponsesResponseSchema } from '../../src/openapi/response-schemas.js';

export interface CodingApiTarget {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** A served model id, sn<netuid>/<name>. */
  readonly model: string;
  /** The fake miners serving `model`: the tool cases read what they were sent. */
  readonly miners: readonly RunningMiner[];
}

/** A function tool of the Responses API. */
const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] },
  strict: false,
};

/** A tool of the Messages API (test/messages-api.test.ts counts its tokens too). */
export const READ_FILE_TOOL = {
  name: 'read_file',
  description: 'Read a file of the workspace',
  input_schema: { type: 'object' as const, properties: { path: { type: 'string' }, limit: { type: 'integer' } }, required: ['path'] },
};

/** The chat completion request the miner that served last was sent (the one with a request since the reset). */
function sentChat(t: CodingApiTarget): Record<string, unknown> {
  return JSON.parse(t.miners.find((m) => m.requestCount > 0)?.lastRequest?.body ?? '{}') as Record<string, unknown>;
}

async function resetMiners(t: CodingApiTarget): Promise<void> {
  for (const m of t.miners) {
    await m.setFault('none');
    m.reset();
  }
}

async function collect<E>(stream: AsyncIterable<E>): Promise<E[]> {
  const events: E[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export function sharedCodingApiCases(target: () => CodingApiTarget): void {
  describe('shared coding API cases', () => {
    beforeEach(() => resetMiners(target()));

    it('Responses API: streams text in the documented event order, ending with response.completed and usage', async () => {
      const t = target();
      const openai = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: t.apiKey, maxRetries: 0 });
      const events = await collect<ResponseStreamEvent>(await openai.responses.create({ model: t.model, input: 'stream me a few words please', stream: true }));
      const types = [...new Set(events.map((e) => e.type))];
      expect(types).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const deltas = events.filter((e) => e.type === 'response.output_text.delta');
      expect(deltas.length).toBeGreaterThan(1);
      const completed = events.at(-1);
      if (completed?.type !== 'response.completed') throw new Error('no response.completed');
      const final = ResponsesResponseSchema.parse(completed.response);
      const text = deltas.map((d) => (d.type === 'response.output_text.delta' ? d.delta : '')).join('');
      expect(final.output).toEqual([expect.objectContaining({ type: 'message', status: 'completed', content: [expect.objectContaining({ text })] })]);
      expect(text).toMatch(/You said "stream me a few words please"/);
      expect(final.usage?.output_tokens).toBeGreaterThan(0);
      expect(final.taogate_receipt).toMatch(/^[\w-]+\.[\w-]+$/);
      expect(events[0]?.type === 'response.created' && events[0].response.status).toBe('in_progress');
    });

    it('Messages API: streams text in the documented event order', async () => {
      const t = target();
      const claude = new Anthropic({ baseURL: t.baseUrl, apiKey: t.apiKey, maxRetries: 0 });
      const events = await collect<RawMessageStreamEvent>(await claude.messages.create({ model: t.model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'tell me a longer story' }] }));
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('message_start');
      expect(types[1]).toBe('content_block_start');
      expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(1);
      const start = events[0];
      if (start?.type !== 'message_start') throw new Error('no message_start');
      expect(start.message.usage.input_tokens).toBeGreaterThan(0);
      const delta = events.at(-2);
      if (delta?.type !== 'message_delta') throw new Error('no message_delta');
      expect(delta.delta.stop_reason).toBe('end_turn');
      expect(delta.usage.output_tokens).toBeGreaterThan(0);
      expect((delta as unknown as { taogate_receipt?: string }).taogate_receipt).toMatch(/^[\w-]+\.[\w-]+$/);
      const text = events.map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : '')).join('');
      expect(text).toMatch(/You said "tell me a longer story"/);
    });

    it('Responses API: runs a function tool round trip, function_call out and function_call_output back in', async () => {
      const t = target();
      const openai = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: t.apiKey, maxRetries: 0 });
      const first = await openai.responses.create({ model: t.model, input: 'Paris', tools: [WEATHER_TOOL] });
      const call = first.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      if (call?.type !== 'function_call') throw new Error('no function_call');
      expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris', days: 42 });
      expect(call.call_id).toMatch(/^call_/);
      expect(sentChat(t).tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_TOOL.parameters, strict: false } }]);

      // Whichever miner serves the second request is the one whose last request is read below.
      await resetMiners(t);
      const second = await openai.responses.create({
        model: t.model,
        tools: [WEATHER_TOOL],
        input: [{ role: 'user', content: 'Paris' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' }],
      });
      expect(second.output_text).toMatch(/used the get_weather tool: it returned "sunny, 21 C"/);
      const messages = sentChat(t).messages as Array<Record<string, unknown>>;
      expect(messages.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: call.call_id, function: { name: 'get_weather', arguments: call.arguments } }] });
      expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call.call_id, content: 'sunny, 21 C' });
    });

    it('Responses API: streams a function call as argument deltas, and the SDK stream helper assembles it', async () => {
      const t = target();
      const openai = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: t.apiKey, maxRetries: 0 });
      const events = await collect<ResponseStreamEvent>(await openai.responses.create({ model: t.model, input: 'Oslo', tools: [WEATHER_TOOL], stream: true }));
      const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
      expect(argDeltas.length).toBeGreaterThan(1);
      const done = events.find((e) => e.type === 'response.function_call_arguments.done');
      if (done?.type !== 'response.function_call_arguments.done') throw new Error('no arguments.done');
      expect(done.arguments).toBe(argDeltas.map((d) => (d.type === 'response.function_call_arguments.delta' ? d.delta : '')).join(''));
      expect(JSON.parse(done.arguments)).toEqual({ city: 'Oslo', days: 42 });
      expect(done.name).toBe('get_weather');

      // The SDK's own accumulator (responses.stream) checks the event sequence as it builds the response.
      const final = await openai.responses.stream({ model: t.model, input: 'Oslo', tools: [WEATHER_TOOL] }).finalResponse();
      const call = final.output[0];
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      if (call?.type !== 'function_call') throw new Error('no function_call');

      // And back, streamed: the tool result comes back as text.
      const answer = openai.responses.stream({
        model: t.model,
        tools: [WEATHER_TOOL],
        input: [{ role: 'user', content: 'Oslo' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'snow' }],
      });
      expect((await answer.finalResponse()).output_text).toMatch(/get_weather tool: it returned "snow"/);
    });

    it('Messages API: runs a tool_use round trip, tool_use out and tool_result back in as a chat tool message', async () => {
      const t = target();
      const claude = new Anthropic({ baseURL: t.baseUrl, apiKey: t.apiKey, maxRetries: 0 });
      const first = await claude.messages.create({ model: t.model, max_tokens: 64, tools: [READ_FILE_TOOL], messages: [{ role: 'user', content: 'src/app.ts' }] });
      expect(first.stop_reason).toBe('tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      if (use?.type !== 'tool_use') throw new Error('no tool_use');
      expect(use).toMatchObject({ name: 'read_file', input: { path: 'src/app.ts', limit: 42 } });
      expect(sentChat(t).tools).toEqual([{ type: 'function', function: { name: 'read_file', description: READ_FILE_TOOL.description, parameters: READ_FILE_TOOL.input_schema } }]);

      // Whichever miner serves the second request is the one whose last request is read below.
      await resetMiners(t);
      const second = await claude.messages.create({
        model: t.model,
        max_tokens: 64,
        tools: [READ_FILE_TOOL],
        messages: [
          { role: 'user', content: 'src/app.ts' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'export function buildApp' }] }] },
        ],
      });
      expect(second.stop_reason).toBe('end_turn');
      expect(second.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/used the read_file tool: it returned "export function buildApp"/) });
      const messages = sentChat(t).messages as Array<Record<string, unknown>>;
      expect(messages.at(-2)).toEqual({
        role: 'assistant',
        content: null,
        tool_calls: [{ id: use.id, type: 'function', function: { name: 'read_file', arguments: JSON.stringify(use.input) } }],
      });
      expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: use.id, content: 'export function buildApp' });
    });

    it('Messages API: streams tool_use as input_json_delta, and the SDK stream helper assembles the input', async () => {
      const t = target();
      const claude = new Anthropic({ baseURL: t.baseUrl, apiKey: t.apiKey, maxRetries: 0 });
      const ask = { model: t.model, max_tokens: 64, tools: [READ_FILE_TOOL], messages: [{ role: 'user' as const, content: 'README.md' }] };
      const events = await collect<RawMessageStreamEvent>(await claude.messages.create({ ...ask, stream: true }));
      const start = events.find((e) => e.type === 'content_block_start');
      expect(start).toMatchObject({ index: 0, content_block: { type: 'tool_use', name: 'read_file', input: {} } });
      const json = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
      expect(json.length).toBeGreaterThan(1);

      const final = await claude.messages.stream(ask).finalMessage();
      expect(final.stop_reason).toBe('tool_use');
      const use = final.content[0];
      if (use?.type !== 'tool_use') throw new Error('no tool_use');
      expect(use.input).toEqual({ path: 'README.md', limit: 42 });

      const answer = await claude.messages
        .stream({
          ...ask,
          messages: [
            { role: 'user', content: 'README.md' },
            { role: 'assistant', content: final.content },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '# taogate', is_error: false }] },
          ],
        })
        .finalText();
      expect(answer).toMatch(/used the read_file tool: it returned "# taogate"/);
    });
  });
}
