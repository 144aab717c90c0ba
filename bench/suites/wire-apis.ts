/**
 * What translating costs: the same small non-stream request as a chat
 * completion, a Responses API request and a Messages API request through
 * the gateway, beside the miner answering directly, in one run. Each wire
 * API differs from chat only by its translation both ways.
 */
import { ChatCompletionRequestSchema } from '../../src/openai/requests.js';
import type { CompletionResponse } from '../../src/openai/responses.js';
import { MessagesRequestSchema, messagesToChat } from '../../src/translate/messages-request.js';
import { chatToMessage } from '../../src/translate/messages-response.js';
import { ResponsesRequestSchema, responsesToChat } from '../../src/translate/responses-request.js';
import { chatToResponse } from '../../src/translate/responses-response.js';
import { metagraphFileFor, startGatewayProcess, startMinerProcess } from '../support/processes.js';
import { runLoad } from '../support/load.js';
import type { BenchSuite } from '../support/suite.js';

const MODEL = 'sn4/bench-model';
const PROMPT = 'Say hello in five words.';
const DIRECT = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: PROMPT }], max_tokens: 16 });
const APIS = [
  { api: 'chat', path: '/v1/chat/completions', body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 16 }) },
  { api: 'responses', path: '/v1/responses', body: JSON.stringify({ model: MODEL, input: PROMPT, max_output_tokens: 16 }) },
  { api: 'messages', path: '/v1/messages', body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 16 }) },
] as const;
const CONNECTIONS = [1, 16];

/**
 * The translation alone, in process, per request: parse and validate the
 * body, build the chat request, turn a chat answer into the API's object,
 * serialize both. Chat does the parse, validate and serialize only. Load on a
 * shared machine moves the HTTP figures far more than this.
 */
function translationMicros(): Record<string, number> {
  const answer = {
    id: 'c', object: 'chat.completion', created: 1, model: 'bench-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, five words here.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
  } as CompletionResponse;
  const [chat, responses, messages] = [APIS[0].body, APIS[1].body, APIS[2].body];
  const work: Record<string, () => void> = {
    chat: () => {
      JSON.stringify(ChatCompletionRequestSchema.parse(JSON.parse(chat)));
      JSON.stringify(answer);
    },
    responses: () => {
      const request = ResponsesRequestSchema.parse(JSON.parse(responses));
      JSON.stringify(responsesToChat(request));
      JSON.stringify(chatToResponse(answer, { id: 'resp_bench', createdAt: 1, request }));
    },
    messages: () => {
      const request = MessagesRequestSchema.parse(JSON.parse(messages));
      JSON.stringify(messagesToChat(request));
      JSON.stringify(chatToMessage(answer, { id: 'msg_bench', request, inputTokens: () => 12 }));
    },
  };
  const n = 20_000;
  const out: Record<string, number> = {};
  for (const [api, run] of Object.entries(work)) {
    for (let i = 0; i < 2_000; i++) run();
    const started = performance.now();
    for (let i = 0; i < n; i++) run();
    out[api] = Math.round(((performance.now() - started) / n) * 10_000) / 10;
  }
  return out;
}
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);

export const wireApisSuite: BenchSuite = {
  name: 'wire-apis',
  title: 'Chat vs Responses vs Messages API through the gateway (and the miner direct): small non-stream request',
  async run() {
    const micros = translationMicros();
    const miner = await startMinerProcess();
    const gateway = await startGatewayProcess({ METAGRAPH_FILE: metagraphFileFor(4, 'bench-model', [miner.info]) });
    const rows = [];
    try {
      const auth = { authorization: `Bearer ${gateway.info.key}` };
      // Warm every path (JIT, pooled connections) before measuring.
      for (const { path, body } of APIS) await runLoad({ url: `${gateway.info.url}${path}`, connections: 8, durationS: 1, body, headers: auth });
      for (const connections of CONNECTIONS) {
        const direct = await runLoad({ url: `${miner.info.url}/v1/chat/completions`, connections, durationS: DURATION_S, body: DIRECT });
        rows.push({ connections, path: 'miner direct (chat)', rps: Math.round(direct.rps), mean_ms: direct.meanMs, added_vs_chat_ms: null, p99_ms: direct.p99Ms, errors: direct.errors + direct.non2xx });
        let chatMean = Number.NaN;
        for (const { api, path, body } of APIS) {
          const via = await runLoad({ url: `${gateway.info.url}${path}`, connections, durationS: DURATION_S, body, headers: auth });
          if (api === 'chat') chatMean = via.meanMs;
          rows.push({
            connections,
            path: `gateway ${api}`,
            rps: Math.round(via.rps),
            mean_ms: via.meanMs,
            added_vs_chat_ms: api === 'chat' ? null : via.meanMs - chatMean,
            p99_ms: via.p99Ms,
            errors: via.errors + via.non2xx,
          });
        }
      }
    } finally {
      await gateway.stop();
      await miner.stop();
    }
    return {
      columns: ['connections', 'path', 'rps', 'mean_ms', 'added_vs_chat_ms', 'p99_ms', 'errors'],
      rows,
      notes: [
        'no target set by the issue: this shows what the Responses/Messages translation adds over plain chat',
        `in process, per request (parse + validate + translate both ways + serialize): chat ${micros.chat} µs, responses ${micros.responses} µs, messages ${micros.messages} µs`,
        'mean = connections / rps; p99 from autocannon (whole ms)',
        `each point ${DURATION_S} s; miner and gateway in separate processes, signatures verified off at the miner`,
      ],
    };
  },
};
