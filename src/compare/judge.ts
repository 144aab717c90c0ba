/**
 * The LLM judge: one routed model grades every answer of a comparison
 * against a rubric, 1-10 with a short reason. The answers are shuffled and
 * labelled A, B, … so neither position nor miner identity can sway it; its
 * reply is validated with zod, and a reply that does not parse is sent back
 * once with what was wrong. A judge that fails leaves the comparison
 * standing, with the reason instead of scores.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { BYPASS_CACHE } from '../cache/cache-policy.js';
import { runCompletion } from '../completion/run-completion.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import type { ExcludedUpstreams } from '../router/route-plan.js';
import type { ChatCompletionRequest } from '../openai/requests.js';
import { answerText } from '../openai/responses.js';
import { answerLabel, judgeCorrection, judgeMessages, parseJudgeReply } from './judge-prompt.js';

/** What the judge sees of the task and of each answer: enough to grade, bounded in cost. */
const MAX_TASK_CHARS = 8_000;
const MAX_ANSWER_CHARS = 8_000;
/** A verdict is short; this bounds what the judge call may cost. */
const JUDGE_BASE_TOKENS = 200;
const JUDGE_TOKENS_PER_ANSWER = 80;

export interface JudgeGrade {
  readonly score: number;
  readonly reason: string;
}

export interface JudgeOutcome {
  readonly model: string;
  readonly rubric: string;
  readonly status: 'ok' | 'failed';
  /** Why there are no scores (the judge's error, or its reply after the retry). */
  readonly error: string | null;
  /** Judge calls made: 1, or 2 after a reply that did not parse. */
  readonly attempts: number;
  /** Grades by answer index (the caller's order, not the shuffled one). */
  readonly grades: ReadonlyMap<number, JudgeGrade>;
  /** The judge's signed receipts, one per call. */
  readonly receipts: readonly string[];
}

export interface JudgeCall {
  readonly model: string;
  readonly rubric: string;
  readonly task: string;
  /** Answers to grade, keyed by their index in the comparison. */
  readonly answers: ReadonlyMap<number, string>;
  /** The upstreams whose answers it grades: never its own route. */
  readonly exclude: ExcludedUpstreams;
  readonly key: ApiKeyRecord;
  /** Private mode: the judge, who reads the answers, is routed to private subnets only. */
  readonly private?: boolean;
  readonly requestId: string;
  readonly signal: AbortSignal;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The task as the judge reads it: the conversation's text, role by role when there is more than one message. */
export function taskText(messages: ChatCompletionRequest['messages']): string {
  const text = (content: unknown) =>
    typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('') : '';
  const body = messages.length === 1 ? text(messages[0]?.content) : messages.map((m) => `${m.role}: ${text(m.content)}`).join('\n');
  return body.slice(0, MAX_TASK_CHARS);
}

export async function runJudge(gw: Gateway, call: JudgeCall): Promise<JudgeOutcome> {
  const order = shuffled([...call.answers.keys()]);
  const labelled = order.map((index, i) => ({ index, label: answerLabel(i), text: (call.answers.get(index) ?? '').slice(0, MAX_ANSWER_CHARS) }));
  const labels = labelled.map((a) => a.label);
  const messages: ChatCompletionRequest['messages'] = judgeMessages({
    task: call.task,
    rubric: call.rubric,
    answers: labelled,
    nonce: randomBytes(6).toString('hex'),
  });
  const receipts: string[] = [];
  const base = { model: call.model, rubric: call.rubric, receipts };
  let attempts = 0;
  let problem = '';
  try {
    for (attempts = 1; attempts <= 2; attempts++) {
      const result = await runCompletion(gw, {
        endpoint: 'chat',
        request: {
          model: call.model,
          messages,
          temperature: 0,
          max_tokens: JUDGE_BASE_TOKENS + JUDGE_TOKENS_PER_ANSWER * labelled.length,
          response_format: { type: 'json_object' },
        },
        key: call.key,
        requestId: `${call.requestId}:judge:${attempts}`,
        pinnedUids: null,
        exclude: call.exclude,
        clientSignal: call.signal,
        private: call.private === true,
        // A retry after an unreadable verdict must reach a judge again, not the stored first reply.
        cache: BYPASS_CACHE,
      });
      if (result.kind !== 'json') throw new Error('the judge call came back as a stream');
      const receipt = result.headers['x-taogate-receipt'];
      if (receipt) receipts.push(receipt);
      const reply = answerText(result.payload);
      const parsed = parseJudgeReply(reply, labels);
      if (parsed.ok) {
        const grades = new Map<number, JudgeGrade>();
        for (const a of labelled) grades.set(a.index, parsed.scores.get(a.label) as JudgeGrade);
        return { ...base, status: 'ok', error: null, attempts, grades };
      }
      problem = parsed.problem;
      messages.push(...judgeCorrection(reply, parsed.problem));
    }
    return { ...base, status: 'failed', error: `the judge's reply was not a usable verdict twice (last: ${problem})`, attempts: 2, grades: new Map() };
  } catch (err) {
    const why = err instanceof GatewayError ? `${err.status} ${err.message}` : (err as Error).message;
    return { ...base, status: 'failed', error: `the judge call failed: ${why}`, attempts, grades: new Map() };
  }
}
