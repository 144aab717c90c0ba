/**
 * Cache hits through the other wire APIs built on the completion path:
 * the Responses API (stock openai SDK) and the Messages API (stock
 * Anthropic SDK), streamed and not, each encoder fed by a replayed entry
 * exactly as by a live miner stream.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CODING_MODEL as MODEL, startCodingFixture, type CodingFixture } from './support/coding-fixture.js';

let fixture: CodingFixture;
let claude: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  fixture = await startCodingFixture('CacheWire');
  claude = new Anthropic({ baseURL: fixture.gw.url, apiKey: fixture.gw.apiKey, maxRetries: 0 });
  openai = fixture.gw.client();
});

afterAll(() => fixture?.close());
beforeEach(() => fixture.reset());

const minerCalls = () => fixture.minerA.requestCount + fixture.minerB.requestCount;

async function events<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const event of stream) all.push(event);
  return all;
}

const messageText = (all: RawMessageStreamEvent[]) => all.map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : '')).join('');
const responseText = (all: OpenAI.Responses.ResponseStreamEvent[]) => all.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');

describe('Messages API', () => {
  it('replays a cached stream as Anthropic events and answers the non-stream form from the same entry', async () => {
    const body = { model: MODEL, max_tokens: 64, temperature: 0, messages: [{ role: 'user' as const, content: 'cache my monads' }] };
    const first = await events(await claude.messages.create({ ...body, stream: true }));
    expect(minerCalls()).toBe(1);
    const { data, response } = await claude.messages.create({ ...body, stream: true }).withResponse();
    const replayed = await events(data);
    expect(response.headers.get('x-taogate-cache')).toBe('HIT');
    expect(replayed.map((e) => e.type)).toEqual(first.map((e) => e.type));
    expect(messageText(replayed)).toBe(messageText(first));
    expect(messageText(first)).toMatch(/You said "cache my monads"/);

    const json = await claude.messages.create(body).withResponse();
    expect(json.response.headers.get('x-taogate-cache')).toBe('HIT');
    expect(json.data.content).toEqual([{ type: 'text', text: messageText(first) }]);
    expect(json.data.usage.output_tokens).toBeGreaterThan(0);
    expect(minerCalls()).toBe(1);
  });
});

describe('Responses API', () => {
  it('replays a cached answer as Responses events, ending with response.completed and the receipt', async () => {
    const body = { model: MODEL, input: 'cache me a few words', temperature: 0 };
    const first = await openai.responses.create(body);
    expect(minerCalls()).toBe(1);
    const { data, response } = await openai.responses.create({ ...body, stream: true }).withResponse();
    const replayed = await events(data);
    expect(response.headers.get('x-taogate-cache')).toBe('HIT');
    expect(responseText(replayed)).toBe(first.output_text);
    const completed = replayed.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect((completed.response as unknown as { taogate_receipt?: string }).taogate_receipt).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(minerCalls()).toBe(1);
  });
});
