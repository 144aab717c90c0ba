/**
 * The coding-tool wire APIs (OpenAI Responses, Anthropic Messages) through
 * their stock SDKs, written once and run by every runtime's tests:
 * test/responses-api.test.ts and test/messages-api.test.ts on Node, and
 * test/worker.test.ts on the Worker bundle in workerd. The target's miners
 * are devnet fake miners (src/devnet/miner.ts), which echo the prompt.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { ResponsesResponseSchema } from '../../src/openapi/response-schemas.js';

export interface CodingApiTarget {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** A served model id, sn<netuid>/<name>. */
  readonly model: string;
}

async function collect<E>(stream: AsyncIterable<E>): Promise<E[]> {
  const events: E[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export function sharedCodingApiCases(target: () => CodingApiTarget): void {
  describe('shared coding API cases', () => {
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
  });
}
