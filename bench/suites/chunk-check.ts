/**
 * What checking a relayed stream chunk costs (src/openai/chunk-relay.ts):
 * every chunk is held to CompletionChunkSchema (zod), as the opening chunks
 * are in attempt.ts, where it used to get only "has a choices array". Kept
 * while the schema costs no more than a few µs a chunk; JSON.parse of the
 * same chunk is there for scale. Run: npm run bench -- chunk-check
 */
import { CompletionChunkSchema } from '../../src/openai/responses.js';
import { measure } from '../support/measure.js';
import type { BenchSuite } from '../support/suite.js';

const CONTENT = JSON.stringify({
  id: 'chatcmpl-devnet-bench-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'llama-3.1-8b',
  choices: [{ index: 0, delta: { content: 'subnets ' }, finish_reason: null }],
});
const USAGE = JSON.stringify({
  id: 'chatcmpl-devnet-bench-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'llama-3.1-8b',
  choices: [],
  usage: { prompt_tokens: 120, completion_tokens: 300, total_tokens: 420 },
});

const cheapCheck = (chunk: unknown) => typeof chunk === 'object' && chunk !== null && Array.isArray((chunk as { choices?: unknown }).choices);

function mustPass(ok: boolean): void {
  if (!ok) throw new Error('the bench chunk failed its check');
}

export const chunkCheckSuite: BenchSuite = {
  name: 'chunk-check',
  title: 'Stream chunk check in the relay: zod CompletionChunkSchema against the structural check (µs/op, median of 5 interleaved rounds)',
  async run() {
    const iterations = Number(process.env.CHUNK_BENCH_N ?? 500_000);
    const content = JSON.parse(CONTENT) as unknown;
    const usage = JSON.parse(USAGE) as unknown;
    const rows = measure(
      [
        { method: 'JSON.parse of a content chunk (for scale)', op: () => JSON.parse(CONTENT) },
        { method: 'structural check (choices is an array), content chunk', op: () => mustPass(cheapCheck(content)) },
        { method: 'CompletionChunkSchema.safeParse, content chunk', op: () => mustPass(CompletionChunkSchema.safeParse(content).success) },
        { method: 'CompletionChunkSchema.safeParse, usage chunk', op: () => mustPass(CompletionChunkSchema.safeParse(usage).success) },
      ],
      iterations,
    );
    return {
      columns: ['method', 'usPerOp', 'opsPerSec'],
      rows: rows.map((r) => ({ method: r.method, usPerOp: r.usPerOp, opsPerSec: r.opsPerSec })),
      notes: [`${iterations} operations per method`, 'the relay validates with the schema while it stays within a few µs per chunk'],
    };
  },
};
