/**
 * The fake miner's tool calling, seen through the stock openai SDK on the
 * chat completions API (signatures off: this is about the answers).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';

let miner: RunningMiner;
let client: OpenAI;

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'search',
      parameters: { type: 'object', properties: { query: { type: 'string' }, exact: { type: 'boolean' }, mode: { type: 'string', enum: ['fast', 'deep'] } } },
    },
  },
  { type: 'function' as const, function: { name: 'other', parameters: { type: 'object', properties: { n: { type: 'number' } } } } },
];

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//ToolMiner', name: 'T', verifySignatures: false, chunkCount: 5 });
  client = new OpenAI({ baseURL: `${miner.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await miner?.close();
});

describe('fake miner tool calls', () => {
  it('calls the first tool with arguments from its schema, deterministically', async () => {
    const ask = () => client.chat.completions.create({ model: 'm', tools, messages: [{ role: 'user', content: 'tao price' }] });
    const first = await ask();
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('search');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ query: 'tao price', exact: true, mode: 'fast' });
    expect((await ask()).choices[0]?.message.tool_calls?.[0]?.id).toBe(call?.id);
  });

  it('honours a named tool_choice, and answers in text for tool_choice none', async () => {
    const named = await client.chat.completions.create({ model: 'm', tools, tool_choice: { type: 'function', function: { name: 'other' } }, messages: [{ role: 'user', content: 'x' }] });
    const call = named.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && [call.function.name, call.function.arguments]).toEqual(['other', '{"n":42}']);
    const none = await client.chat.completions.create({ model: 'm', tools, tool_choice: 'none', messages: [{ role: 'user', content: 'x' }] });
    expect(none.choices[0]?.message.content).toMatch(/^Hello from devnet miner T/);
  });

  it('streams the call as argument deltas that add up, with usage', async () => {
    const stream = await client.chat.completions.create({ model: 'm', tools, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'q' }] });
    let args = '';
    let name = '';
    let finish: string | null = null;
    let pieces = 0;
    let completionTokens = 0;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      for (const call of delta?.tool_calls ?? []) {
        name += call.function?.name ?? '';
        if (call.function?.arguments) pieces++;
        args += call.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    expect(name).toBe('search');
    expect(pieces).toBe(5);
    expect(JSON.parse(args)).toEqual({ query: 'q', exact: true, mode: 'fast' });
    expect(finish).toBe('tool_calls');
    expect(completionTokens).toBeGreaterThan(0);
  });

  it("answers a tool result in text that quotes it and names the tool", async () => {
    const answer = await client.chat.completions.create({
      model: 'm',
      tools,
      messages: [
        { role: 'user', content: 'tao price' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '420 USD' },
      ],
    });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.choices[0]?.message.content).toBe('Devnet miner T used the search tool: it returned "420 USD".');
  });
});
