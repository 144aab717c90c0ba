/**
 * The cache's pure parts: key normalization, the request policy, the byte
 * LRU and the two answer shapes (stream chunks ↔ one JSON completion).
 */
import { describe, expect, it } from 'vitest';
import { completionFromChunks, chunksFromCompletion } from '../src/cache/answer-shapes.js';
import { ByteLru } from '../src/cache/byte-lru.js';
import { cacheKey, canonicalJson } from '../src/cache/cache-key.js';
import { cacheDirectiveFromHeaders, effectiveTtlS, uncacheableReason } from '../src/cache/cache-policy.js';
import { GatewayError } from '../src/errors.js';
import type { CompletionResponse } from '../src/openai/responses.js';

const chatKey = (request: Record<string, unknown>, model = 'sn4/m', scope: string | null = null) => cacheKey({ endpoint: 'chat', model, request, scope });
const base = { model: 'm', temperature: 0, messages: [{ role: 'user', content: 'hi' }] };

describe('cache key', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('is the same for the same request in any key order, with delivery fields and nulls ignored', () => {
    const k = chatKey(base);
    expect(chatKey({ messages: [{ content: 'hi', role: 'user' }], temperature: 0, model: 'm' })).toBe(k);
    expect(chatKey({ ...base, stream: true, stream_options: { include_usage: true }, user: 'u1', top_p: null })).toBe(k);
    // What the request resolved to counts, not what the client typed (an alias and its target share entries).
    expect(chatKey({ ...base, model: 'alias' })).toBe(k);
  });

  it('differs for anything that can change the answer', () => {
    const k = chatKey(base);
    const variants = [
      chatKey({ ...base, messages: [{ role: 'user', content: 'hi ' }] }),
      chatKey({ ...base, temperature: 0.5 }),
      chatKey({ ...base, seed: 1 }),
      chatKey({ ...base, max_tokens: 5 }),
      chatKey({ ...base, tools: [{ type: 'function', function: { name: 'f' } }] }),
      chatKey({ ...base, response_format: { type: 'json_object' } }),
      chatKey({ ...base, logit_bias: { '1': 5 } }),
      chatKey(base, 'sn5/m'),
      chatKey(base, 'sn4/m', 'key_1'),
      cacheKey({ endpoint: 'completions', model: 'sn4/m', request: base, scope: null }),
    ];
    expect(new Set([k, ...variants]).size).toBe(variants.length + 1);
    expect(cacheKey({ endpoint: 'completions', model: 'sn4/m', request: { prompt: 'a', suffix: 'b' }, scope: null })).not.toBe(
      cacheKey({ endpoint: 'completions', model: 'sn4/m', request: { prompt: 'a', suffix: 'c' }, scope: null }),
    );
  });
});

describe('cache policy', () => {
  const header = (values: Record<string, string>) => (name: string) => values[name];

  it('caches temperature 0 or a seed, nothing else, and never pinned requests', () => {
    expect(uncacheableReason({ ...base, temperature: 0 } as never, false)).toBeNull();
    expect(uncacheableReason({ ...base, temperature: 0.9, seed: 7 } as never, false)).toBeNull();
    expect(uncacheableReason({ ...base, temperature: 0.9 } as never, false)).toBe('not deterministic');
    expect(uncacheableReason({ model: 'm', messages: [] } as never, false)).toBe('not deterministic');
    expect(uncacheableReason(base as never, true)).toBe('pinned to miners');
  });

  it('caches sampled requests when opted in, never pinned ones', () => {
    expect(uncacheableReason({ ...base, temperature: 0.7 } as never, false, true)).toBeNull();
    expect(uncacheableReason({ model: 'm', messages: [] } as never, false, true)).toBeNull();
    expect(uncacheableReason({ ...base, temperature: 0.7 } as never, true, true)).toBe('pinned to miners');
  });

  it('reads the opt-in header: 1/0 and its synonyms, no-store still bypasses, anything else is a 400', () => {
    const optIn = 'x-taogate-cache-nondeterministic';
    expect(cacheDirectiveFromHeaders(header({ [optIn]: '1' }))).toEqual({ mode: 'use', nondeterministic: true });
    expect(cacheDirectiveFromHeaders(header({ [optIn]: ' Yes ' }))).toEqual({ mode: 'use', nondeterministic: true });
    expect(cacheDirectiveFromHeaders(header({ [optIn]: 'false' }))).toEqual({ mode: 'use', nondeterministic: false });
    expect(cacheDirectiveFromHeaders(header({ [optIn]: '1', 'x-taogate-cache-ttl': '30' }))).toEqual({ mode: 'use', ttlS: 30, nondeterministic: true });
    expect(cacheDirectiveFromHeaders(header({ [optIn]: '1', 'cache-control': 'no-store' }))).toEqual({ mode: 'bypass' });
    for (const bad of ['force', '2', '']) {
      let error: unknown;
      try {
        cacheDirectiveFromHeaders(header({ [optIn]: bad, 'cache-control': 'no-store' }));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).param).toBe(optIn);
    }
  });

  it('reads no-store and the TTL header; a bad TTL is a 400 naming the header', () => {
    expect(cacheDirectiveFromHeaders(header({}))).toEqual({ mode: 'use' });
    expect(cacheDirectiveFromHeaders(header({ 'cache-control': 'max-age=0, no-store' }))).toEqual({ mode: 'bypass' });
    expect(cacheDirectiveFromHeaders(header({ 'cache-control': 'no-cache' }))).toEqual({ mode: 'use' });
    expect(cacheDirectiveFromHeaders(header({ 'x-taogate-cache-ttl': ' 30 ' }))).toEqual({ mode: 'use', ttlS: 30 });
    expect(cacheDirectiveFromHeaders(header({ 'x-taogate-cache-ttl': '0' }))).toEqual({ mode: 'bypass' });
    for (const bad of ['-1', '1.5', 'soon', '']) {
      let error: unknown;
      try {
        cacheDirectiveFromHeaders(header({ 'x-taogate-cache-ttl': bad }));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).param).toBe('x-taogate-cache-ttl');
    }
    expect(effectiveTtlS({ mode: 'use', ttlS: 999 }, 60, 120)).toBe(120);
    expect(effectiveTtlS({ mode: 'use' }, 60, 120)).toBe(60);
  });
});

describe('byte LRU', () => {
  it('evicts the least recently used entries until the bytes fit', () => {
    const lru = new ByteLru<string>(100);
    const far = Date.now() + 60_000;
    lru.set('a', 'A', 40, far);
    lru.set('b', 'B', 40, far);
    expect(lru.get('a')).toBe('A'); // a is now more recent than b
    lru.set('c', 'C', 40, far);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
    expect(lru.bytes).toBe(80);
    expect(lru.evictions).toBe(1);
    expect(lru.set('huge', 'H', 101, far)).toBe(false);
    expect(lru.size).toBe(2);
  });

  it('forgets expired entries and replaces an entry in place', () => {
    const lru = new ByteLru<string>(100);
    lru.set('old', 'O', 10, Date.now() - 1);
    expect(lru.get('old')).toBeUndefined();
    expect(lru.bytes).toBe(0);
    lru.set('k', 'v1', 30, Date.now() + 1000);
    lru.set('k', 'v2', 50, Date.now() + 1000);
    expect(lru.get('k')).toBe('v2');
    expect(lru.bytes).toBe(50);
  });
});

describe('answer shapes', () => {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 5, model: 'x', choices, ...extra });
  const streamed = [
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: 'Hel' }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: 'lo', tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'get', arguments: '{"a"' } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
    chunk([], { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }),
  ];

  it('assembles a chat stream into one completion: content, tool calls, finish reason and usage', () => {
    const assembled = completionFromChunks('chat', streamed);
    expect(assembled?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    expect(assembled?.completion).toMatchObject({
      id: 'c1',
      object: 'chat.completion',
      created: 5,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', tool_calls: [{ id: 't1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    });
  });

  it('joins only streamed text: tool call ids, types and names repeated in every piece are replaced, never concatenated', () => {
    const piece = (index: number, id: string, name: string, args: string) => ({ index, id, type: 'function', function: { name, arguments: args } });
    const cases: Array<{ deltas: Array<Record<string, unknown>>; message: Record<string, unknown> }> = [
      {
        // Every piece repeats the call's id, type and name (some OpenAI-compatible servers do), and two calls interleave.
        deltas: [
          { role: 'assistant', tool_calls: [piece(0, 'call_1', 'get', '{"q"')] },
          { tool_calls: [piece(1, 'call_2', 'put', '{"k"')] },
          { tool_calls: [piece(0, 'call_1', 'get', ':1}')] },
          { tool_calls: [piece(1, 'call_2', 'put', ':2}')] },
        ],
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"q":1}' } },
            { id: 'call_2', type: 'function', function: { name: 'put', arguments: '{"k":2}' } },
          ],
        },
      },
      {
        // Text fields are joined; role and other scalars keep their latest value; the legacy function_call joins its arguments.
        deltas: [
          { role: 'assistant', content: 'a', reasoning_content: 'think ', function_call: { name: 'f', arguments: '{' } },
          { role: 'assistant', content: 'b', reasoning_content: 'more', refusal: 'no', function_call: { name: 'f', arguments: '}' } },
        ],
        message: { role: 'assistant', content: 'ab', reasoning_content: 'think more', refusal: 'no', function_call: { name: 'f', arguments: '{}' } },
      },
    ];
    for (const { deltas, message } of cases) {
      const events = [...deltas.map((delta) => chunk([{ index: 0, delta, finish_reason: null }])), chunk([{ index: 0, delta: {}, finish_reason: 'stop' }])];
      expect(completionFromChunks('chat', events)?.completion.choices[0]).toMatchObject({ message });
    }
  });

  it('refuses streams that are not one finished answer', () => {
    expect(completionFromChunks('chat', streamed.slice(0, 3))).toBeNull(); // cut before any finish reason
    expect(completionFromChunks('chat', [...streamed.slice(0, 2), JSON.stringify({ error: { message: 'boom' } })])).toBeNull();
    expect(completionFromChunks('chat', [streamed[0] as string, '{"choices":[{"delta":{"content":"x'])).toBeNull();
  });

  it('cuts a completion into chunks that assemble back to it (chat and legacy completions)', () => {
    const chat = (completionFromChunks('chat', streamed)?.completion ?? null) as CompletionResponse;
    const again = completionFromChunks('chat', chunksFromCompletion('chat', chat));
    expect(again?.completion).toEqual(chat);
    const text = { id: 'cmpl-1', object: 'text_completion', created: 9, model: 'x', choices: [{ index: 0, text: 'def f():', logprobs: null, finish_reason: 'length' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } };
    const events = chunksFromCompletion('completions', text as CompletionResponse);
    expect(events.map((e) => JSON.parse(e).object)).toEqual(['text_completion', 'text_completion', 'text_completion']);
    expect(completionFromChunks('completions', events)?.completion).toEqual(text);
  });
});
