/**
 * Chat completion stream chunks (choice 0) for the stream translators'
 * tests (test/translate-messages.test.ts, test/translate-responses.test.ts),
 * and the interleaved parallel tool calls both translators must sort out.
 */
import type { Chunk } from '../../src/openai/chunk-relay.js';

export const chunk = (delta: Record<string, unknown>, finish: string | null = null): Chunk => ({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

/** A piece of tool call `index`; the first piece of a call carries its id. */
export const toolDelta = (index: number, fn: Record<string, unknown>, id?: string): Chunk => chunk({ tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] });

/** Text, then two parallel calls whose pieces interleave: call 0 is not whole JSON yet when call 1 begins. */
export const TEXT_THEN_INTERLEAVED_CALLS: readonly Chunk[] = [
  chunk({ content: 'ok' }),
  toolDelta(0, { name: 'f', arguments: '{"a"' }, 'call_1'),
  toolDelta(1, { name: 'g', arguments: '{"b"' }, 'call_2'),
  toolDelta(0, { arguments: ':1}' }),
  toolDelta(1, { arguments: ':2}' }),
  chunk({}, 'tool_calls'),
];

/** Two interleaved calls whose pieces assemble to `INTERLEAVED_ARGUMENTS`, in call order. */
export const INTERLEAVED_CALLS: readonly Chunk[] = [
  toolDelta(0, { name: 'f', arguments: '{"path":' }, 'call_1'),
  toolDelta(1, { name: 'g', arguments: '{"n":' }, 'call_2'),
  toolDelta(0, { arguments: '"a"}' }),
  toolDelta(1, { arguments: '42}' }),
  chunk({}, 'tool_calls'),
];
export const INTERLEAVED_ARGUMENTS = [{ path: 'a' }, { n: 42 }];
