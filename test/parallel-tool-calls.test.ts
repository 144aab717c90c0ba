/**
 * A miner that says a sentence and then makes two tool calls at once whose
 * pieces interleave (the devnet miner's 'parallel-interleaved' style),
 * through the Messages API (stock Anthropic SDK) and the Responses API
 * (stock openai SDK), streamed and not: every piece reaches its own block or
 * item, Anthropic's blocks stay sequential, and no Responses event names an
 * item after it was done.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
let gw: TestGateway;
let claude: Anthropic;
let openai: OpenAI;

const MODEL = 'sn62/coder';
const PROMPT = 'look up two things';
const EXPECTED_CALLS = [
  ['search', { query: PROMPT }],
  ['count', { n: 42 }],
];

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//ParallelTools', name: 'P', toolCallStyle: 'parallel-interleaved', chunkCount: 4 });
  gw = await startTestGateway({ subnets: [{ netuid: 62, models: ['coder'], miners: [{ miner, uid: 0, incentive: 1 }] }] });
  claude = new Anthropic({ baseURL: gw.url, apiKey: gw.apiKey, maxRetries: 0 });
  openai = gw.client();
});

afterAll(async () => {
  await gw?.close();
  await miner?.close();
});

async function collect<E>(stream: AsyncIterable<E>): Promise<E[]> {
  const events: E[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('Messages API', () => {
  const tools = [
    { name: 'search', input_schema: { type: 'object' as const, properties: { query: { type: 'string' } } } },
    { name: 'count', input_schema: { type: 'object' as const, properties: { n: { type: 'number' } } } },
  ];
  const body = { model: MODEL, max_tokens: 256, tools, messages: [{ role: 'user' as const, content: PROMPT }] };

  it('streams text and both calls as sequential blocks', async () => {
    const events = await collect<RawMessageStreamEvent>(await claude.messages.create({ ...body, stream: true }));
    let open: number | null = null;
    const blocks: Array<{ type: string; name?: string; text: string }> = [];
    for (const e of events) {
      if (e.type === 'content_block_start') {
        expect(open).toBeNull();
        open = e.index;
        blocks[e.index] = { type: e.content_block.type, ...(e.content_block.type === 'tool_use' ? { name: e.content_block.name } : {}), text: '' };
      } else if (e.type === 'content_block_delta') {
        expect(e.index).toBe(open);
        const block = blocks[e.index] as { text: string };
        block.text += e.delta.type === 'text_delta' ? e.delta.text : e.delta.type === 'input_json_delta' ? e.delta.partial_json : '';
      } else if (e.type === 'content_block_stop') {
        expect(e.index).toBe(open);
        open = null;
      }
    }
    expect(blocks[0]).toEqual({ type: 'text', text: 'Checking two things at once.' });
    expect(blocks.slice(1).map((b) => [b.name, JSON.parse(b.text)])).toEqual(EXPECTED_CALLS);
    const delta = events.find((e) => e.type === 'message_delta');
    expect(delta?.type === 'message_delta' && delta.delta.stop_reason).toBe('tool_use');
  });

  it('answers the same without streaming', async () => {
    const message = await claude.messages.create(body);
    expect(message.content.map((b) => (b.type === 'text' ? b.text : b.type === 'tool_use' ? [b.name, b.input] : b.type))).toEqual([
      'Checking two things at once.',
      ...EXPECTED_CALLS,
    ]);
  });
});

describe('Responses API', () => {
  const tools = [
    { type: 'function' as const, name: 'search', strict: false, parameters: { type: 'object', properties: { query: { type: 'string' } } } },
    { type: 'function' as const, name: 'count', strict: false, parameters: { type: 'object', properties: { n: { type: 'number' } } } },
  ];
  const body = { model: MODEL, tools, input: PROMPT };
  const calls = (output: OpenAI.Responses.ResponseOutputItem[]) =>
    output.flatMap((item) => (item.type === 'function_call' ? [[item.name, JSON.parse(item.arguments)]] : []));

  it('streams every piece to its own item, never after that item is done', async () => {
    const events = await collect<OpenAI.Responses.ResponseStreamEvent>(await openai.responses.create({ ...body, stream: true }));
    const done = new Set<number>();
    const args = new Map<number, string>();
    for (const e of events) {
      if (e.type === 'response.function_call_arguments.delta' || e.type === 'response.output_text.delta') expect(done.has(e.output_index)).toBe(false);
      if (e.type === 'response.function_call_arguments.delta') args.set(e.output_index, (args.get(e.output_index) ?? '') + e.delta);
      if (e.type === 'response.output_item.done') done.add(e.output_index);
    }
    expect([...args.values()].map((json) => JSON.parse(json))).toEqual(EXPECTED_CALLS.map(([, input]) => input));
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect(completed.response.output[0]).toMatchObject({ type: 'message', content: [{ text: 'Checking two things at once.' }] });
    expect(calls(completed.response.output)).toEqual(EXPECTED_CALLS);
  });

  it('answers the same without streaming', async () => {
    const response = await openai.responses.create(body);
    expect(response.output_text).toBe('Checking two things at once.');
    expect(calls(response.output)).toEqual(EXPECTED_CALLS);
  });
});
