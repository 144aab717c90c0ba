/**
 * Tool calls through the cache: a streamed answer recorded from a miner
 * is assembled into the JSON completion a later non-stream request gets,
 * whatever way the miner cut its tool calls into pieces (stock openai SDK).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const tools = [
  { type: 'function' as const, function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
  { type: 'function' as const, function: { name: 'count', parameters: { type: 'object', properties: { n: { type: 'number' } } } } },
];

let repeating: RunningMiner;
let parallel: RunningMiner;
let gw: TestGateway;

beforeAll(async () => {
  // One subnet per miner style, so each request knows which one answers.
  repeating = await startMiner({ hotkeyUri: '//CacheToolsRepeat', name: 'R', toolCallStyle: 'repeated-headers', chunkCount: 4 });
  parallel = await startMiner({ hotkeyUri: '//CacheToolsParallel', name: 'P', toolCallStyle: 'parallel-interleaved', chunkCount: 4 });
  gw = await startTestGateway({
    subnets: [
      { netuid: 4, models: ['m'], miners: [{ miner: repeating, uid: 0, incentive: 1 }] },
      { netuid: 5, models: ['m'], miners: [{ miner: parallel, uid: 0, incentive: 1 }] },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await repeating?.close();
  await parallel?.close();
});

/** The same request streamed (a MISS, recorded) and then asked without streaming (a HIT assembled from the stream). */
async function streamedThenJson(model: string, content: string) {
  const body = { model, temperature: 0, tools, messages: [{ role: 'user' as const, content }] };
  const client = gw.client();
  const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true }).withResponse();
  expect(response.headers.get('x-taogate-cache')).toBe('MISS');
  for await (const _ of stream) void _;
  // The SDK's own stream assembler (over the recorded chunks, replayed) is the reference for what the stream amounts to.
  const reference = (await client.chat.completions.stream({ ...body, stream: true }).finalChatCompletion()).choices[0]?.message;
  const hit = await client.chat.completions.create(body).withResponse();
  expect(hit.response.headers.get('x-taogate-cache')).toBe('HIT');
  return { message: hit.data.choices[0]?.message, finish: hit.data.choices[0]?.finish_reason, reference };
}

describe('tool calls assembled from a cached stream', () => {
  it('keeps a tool call whole when the miner repeats its id, type and name in every piece', async () => {
    const { message, finish, reference } = await streamedThenJson('sn4/m', 'find tao');
    expect(finish).toBe('tool_calls');
    const call = message?.tool_calls?.[0];
    expect(call?.id).toMatch(/^call_[0-9a-f]{12}$/);
    expect(call?.type).toBe('function');
    expect(call?.type === 'function' && call.function).toEqual({ name: 'search', arguments: '{"query":"find tao"}' });
    expect(message?.tool_calls).toEqual(reference?.tool_calls);
  });

  it('keeps text and two interleaved parallel tool calls apart', async () => {
    const { message, reference } = await streamedThenJson('sn5/m', 'two at once');
    expect(message?.content).toBe('Checking two things at once.');
    expect(message?.tool_calls?.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : null))).toEqual([
      ['search', { query: 'two at once' }],
      ['count', { n: 42 }],
    ]);
    expect(message?.tool_calls).toEqual(reference?.tool_calls);
  });
});
