/**
 * Every chunk of a relayed stream is held to the chunk schema the opening
 * chunks are held to (src/router/attempt.ts), not only to "has a choices
 * array": a later chunk that is not an OpenAI chunk ends the stream with an
 * error event after what was delivered, instead of reaching the client.
 */
import { describe, expect, it } from 'vitest';
import { createChunkRelay, type RelayEvent, type RelayOutcome } from '../src/openai/chunk-relay.js';

const chunk = (fields: Record<string, unknown>) => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'upstream-model', ...fields });
const content = (text: string) => chunk({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });

/** Relays `events` (as a miner's stream would deliver them) to the end; returns every event and the outcome. */
async function relay(events: readonly string[]): Promise<{ events: RelayEvent[]; outcome: RelayOutcome }> {
  let cancelled = false;
  async function* upstream(): AsyncGenerator<string, void, undefined> {
    yield* events;
  }
  let outcome: RelayOutcome | null = null;
  const r = createChunkRelay(
    { events: upstream(), cancel: () => (cancelled = true) },
    { requestedModel: 'sn4/m', onEnd: (o) => (outcome = o) },
  );
  const out: RelayEvent[] = [];
  for (let e = await r.next(); e !== null; e = await r.next()) out.push(e);
  if (!outcome) throw new Error('the relay did not end');
  expect(cancelled).toBe(!(outcome as RelayOutcome).completed);
  return { events: out, outcome };
}

const USAGE = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

describe('chunk relay validation', () => {
  it('relays valid chunks with the requested model, and takes usage from the usage chunk', async () => {
    const { events, outcome } = await relay([content('a'), content('b'), chunk({ choices: [], usage: USAGE }), '[DONE]']);
    expect(events.map((e) => e.type)).toEqual(['chunk', 'chunk', 'chunk']);
    expect(events.map((e) => (e.type === 'chunk' ? e.chunk.model : null))).toEqual(['sn4/m', 'sn4/m', 'sn4/m']);
    expect(outcome).toMatchObject({ completed: true, usage: USAGE, deliveredText: 'ab' });
  });

  it.each([
    ['a choice that is not an object', chunk({ choices: [null] })],
    ['a choice whose index is not an integer', chunk({ choices: [{ index: 'first', delta: { content: 'x' } }] })],
    ['no choices array', chunk({ delta: { content: 'x' } })],
  ])('a later chunk with %s ends the stream with an error after what was delivered', async (_what, bad) => {
    const { events, outcome } = await relay([content('a'), bad, content('never'), '[DONE]']);
    expect(events.map((e) => e.type)).toEqual(['chunk', 'error']);
    const error = events[1];
    expect(error?.type === 'error' && error.error).toMatchObject({ code: 'stream_interrupted', message: expect.stringMatching(/not an OpenAI chunk/) });
    expect(outcome).toMatchObject({ completed: false, deliveredText: 'a', usage: null });
  });

  it('usage that is not token counts is dropped, not a reason to end a stream the client already has', async () => {
    const bad = chunk({ choices: [], usage: { prompt_tokens: -1, completion_tokens: 'many' } });
    const { events, outcome } = await relay([content('a'), bad, content('b'), '[DONE]']);
    expect(events.every((e) => e.type === 'chunk')).toBe(true);
    expect(events.some((e) => e.type === 'chunk' && 'usage' in e.chunk)).toBe(false);
    // No usage from the miner: the gateway counts the delivered text instead.
    expect(outcome).toMatchObject({ completed: true, deliveredText: 'ab', usage: null });
  });

  it('an error envelope mid-stream says what the upstream said', async () => {
    const { events } = await relay([content('a'), JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })]);
    const error = events[1];
    expect(error?.type === 'error' && error.error.message).toMatch(/it sent an error: overloaded/);
  });
});
