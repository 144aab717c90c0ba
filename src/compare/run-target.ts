/**
 * One entry of a comparison: the target's request through the shared
 * completion path (routed, admitted, metered and receipted like any other
 * request), always streamed internally so the time to first token can be
 * measured, and read to the end into the entry.
 */
import type { ChatCompletionRequest } from '../openai/requests.js';
import { BYPASS_CACHE } from '../cache/cache-policy.js';
import { runCompletion } from '../completion/run-completion.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import { readReceiptBody } from '../metering/receipts.js';
import type { Chunk } from '../openai/chunk-relay.js';
import type { PlannedTarget } from './targets.js';

export interface EntryError {
  /** The HTTP status the same request would have got on its own (502 for a stream cut after it started). */
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly message: string;
}

export interface EntryMiner {
  readonly netuid: number;
  readonly uid: number | null;
  readonly hotkey: string | null;
  /** The upstream's id as in `x-taogate-miner` ("4/12/5F…", "64/api/chutes"); null for a pinned miner that failed before answering. */
  readonly upstream: string | null;
}

/** What one target answered; scores are added once checks and the judge have run. */
export interface TargetAnswer {
  readonly target: string;
  /** The model id the target asked for, and the subnet model that served it (null when nothing did). */
  readonly model: string;
  readonly served_model: string | null;
  readonly miner: EntryMiner | null;
  /** The text delivered (partial when the stream failed mid-way), null when nothing was. */
  readonly answer: string | null;
  readonly finish_reason: string | null;
  /** From sending the request to the last chunk. */
  readonly latency_ms: number;
  /** From sending the request to the first chunk with text. */
  readonly ttft_ms: number | null;
  readonly tokens: { readonly prompt: number; readonly completion: number; readonly estimated: boolean } | null;
  readonly cost_micro_usd: number | null;
  /** The signed receipt of this entry's request, as any answer carries one. */
  readonly receipt: string | null;
  readonly error: EntryError | null;
}

export interface TargetCall {
  readonly plan: PlannedTarget;
  readonly messages: ChatCompletionRequest['messages'];
  readonly maxTokens: number | null;
  readonly temperature: number | null;
  readonly key: ApiKeyRecord;
  readonly requestId: string;
  /** Aborts when the comparison stops: its client left, or its deadline passed (the reason says which). */
  readonly signal: AbortSignal;
  /** Private mode: routed to private subnets only (and never recorded; see record-comparison.ts). */
  readonly private?: boolean;
}

function firstChoice(chunk: Chunk): Record<string, unknown> | null {
  const choices = chunk.choices;
  return Array.isArray(choices) && typeof choices[0] === 'object' && choices[0] !== null ? (choices[0] as Record<string, unknown>) : null;
}

/** Why a comparison stopped before a target answered: it ran out of time, or its client left. */
export class CompareDeadline extends Error {
  override readonly name = 'CompareDeadline';
}

/**
 * A target the comparison stopped (never sent, or cut): no verdict on its
 * miner, so neither judged nor recorded on the leaderboard.
 */
export const isCut = (answer: TargetAnswer) => answer.error?.code === 'compare_deadline' || answer.error?.code === 'client_closed';

function cutError(signal: AbortSignal): EntryError {
  if (signal.reason instanceof CompareDeadline) return { status: 504, type: 'server_error', code: 'compare_deadline', message: `${signal.reason.message} before this target answered` };
  return { status: 504, type: 'server_error', code: 'client_closed', message: 'the client left before this target answered' };
}

/** The entry of a target the comparison stopped before sending it. */
export function unsentAnswer(plan: PlannedTarget, signal: AbortSignal): TargetAnswer {
  return { target: plan.target, model: plan.model, served_model: null, miner: null, answer: null, finish_reason: null, latency_ms: 0, ttft_ms: null, tokens: null, cost_micro_usd: null, receipt: null, error: cutError(signal) };
}

function errorOf(err: unknown): EntryError {
  if (err instanceof GatewayError) return { status: err.status, type: err.type, code: err.code, message: err.message };
  return { status: 500, type: 'server_error', code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
}

export async function runTarget(gw: Gateway, call: TargetCall): Promise<TargetAnswer> {
  const { plan } = call;
  const request: ChatCompletionRequest = {
    model: plan.model,
    messages: call.messages,
    stream: true,
    // Usage gives exact tokens; the relay then puts the receipt on the usage chunk.
    stream_options: { include_usage: true },
    ...(call.maxTokens !== null && { max_tokens: call.maxTokens }),
    ...(call.temperature !== null && { temperature: call.temperature }),
  };
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const base = { target: plan.target, model: plan.model };
  let result;
  try {
    result = await runCompletion(gw, {
      endpoint: 'chat',
      request,
      key: call.key,
      requestId: call.requestId,
      pinnedUids: plan.pinnedUids,
      clientSignal: call.signal,
      private: call.private === true,
      // A comparison measures the upstreams themselves (latency, answers): never a stored answer.
      cache: BYPASS_CACHE,
    });
  } catch (err) {
    if (call.signal.aborted) return { ...unsentAnswer(plan, call.signal), latency_ms: elapsed() };
    const error = errorOf(err);
    // A pinned miner that failed (502) or ran out of time (504) failed this entry; a refusal (429, 402, 503) is no one miner's doing.
    const miner = plan.pinnedMiner && (error.status === 502 || error.status === 504) ? { ...plan.pinnedMiner, upstream: null } : null;
    // A pin always names one subnet's model, so that is what the failed miner was asked to serve.
    return { ...base, served_model: miner ? plan.model : null, miner, answer: null, finish_reason: null, latency_ms: elapsed(), ttft_ms: null, tokens: null, cost_micro_usd: null, receipt: null, error };
  }
  if (result.kind !== 'stream') throw new Error('a streamed request came back as JSON');
  const { upstream, relay, servedModel } = result;
  let text = '';
  let ttft: number | null = null;
  let finish: string | null = null;
  let receipt: string | null = null;
  let error: EntryError | null = null;
  for (let event = await relay.next(); event !== null; event = await relay.next()) {
    if (event.type === 'error') {
      error = { status: 502, type: event.error.type, code: event.error.code, message: event.error.message };
      // What was delivered before the cut was billed: the error carries that bill's receipt.
      if (typeof event.fields.taogate_receipt === 'string') receipt = event.fields.taogate_receipt;
      break;
    }
    const choice = firstChoice(event.chunk);
    const delta = choice?.delta as Record<string, unknown> | undefined;
    const piece = typeof delta?.content === 'string' ? delta.content : '';
    if (piece !== '' && ttft === null) ttft = elapsed();
    text += piece;
    if (typeof choice?.finish_reason === 'string') finish = choice.finish_reason;
    if (typeof event.chunk.taogate_receipt === 'string') receipt = event.chunk.taogate_receipt;
  }
  // The relay ends quietly when its client (this comparison) went away: the answer was cut, not finished.
  if (error === null && finish === null && call.signal.aborted) error = cutError(call.signal);
  const bill = receipt ? readReceiptBody(receipt) : null;
  return {
    ...base,
    served_model: servedModel,
    miner: { netuid: upstream.netuid, uid: upstream.uid, hotkey: upstream.hotkey, upstream: upstream.id },
    answer: text === '' && error ? null : text,
    finish_reason: finish,
    latency_ms: elapsed(),
    ttft_ms: ttft,
    tokens: bill ? bill.tokens : null,
    cost_micro_usd: bill ? bill.cost_micro_usd : null,
    receipt,
    error,
  };
}
