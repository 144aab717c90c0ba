/**
 * A comparison: the same prompt to every target at once (at most
 * COMPARE_CONCURRENCY in flight), each through the shared completion path;
 * checks on each answer as it arrives, then the judge over all of them,
 * winners, and the leaderboard. `prepareComparison` checks everything that
 * can be checked before anything is sent, so a bad request costs nothing and
 * fails as one 400/404 even when the caller asked for a stream.
 */
import { randomUUID } from 'node:crypto';
import { requireSnapshot } from '../chain/require-snapshot.js';
import type { Gateway } from '../gateway.js';
import { recordComparison, type ComparisonFlags, type LeaderboardStatus } from '../leaderboard/record-comparison.js';
import type { ApiKeyRecord } from '../metering/api-keys.js';
import type { ChatCompletionRequest } from '../openai/requests.js';
import type { Check, CompareRequest } from './compare-request.js';
import { compileChecks, runChecks, type CheckResult, type CompiledChecks } from './checks.js';
import { DEFAULT_RUBRIC } from './judge-prompt.js';
import { runJudge, taskText, type JudgeOutcome } from './judge.js';
import { checkJudgeRoute, contestantsOf } from './judge-route.js';
import { CompareDeadline, isCut, runTarget, unsentAnswer, type TargetAnswer } from './run-target.js';
import { entryScores, winnersOf, type EntryScores } from './scores.js';
import { planTargets, type PlannedTarget } from './targets.js';

export interface CompareEntry extends TargetAnswer {
  /** Position in the request's targets. */
  readonly index: number;
  readonly scores: EntryScores;
}

export interface JudgeSummary {
  readonly model: string;
  readonly rubric: string;
  readonly status: JudgeOutcome['status'] | 'skipped';
  readonly error: string | null;
  readonly attempts: number;
  readonly receipts: readonly string[];
}

export interface Comparison {
  readonly id: string;
  readonly object: 'comparison';
  readonly created: number;
  readonly checks: readonly Check[];
  readonly judge: JudgeSummary | null;
  readonly entries: readonly CompareEntry[];
  /** Indices of the entries with the best overall score (ties share). */
  readonly winners: readonly number[];
  readonly leaderboard: LeaderboardStatus;
}

export interface CompareInput {
  readonly request: CompareRequest;
  readonly key: ApiKeyRecord;
  readonly requestId: string;
  /** Aborts when the client goes away: every target's request is cancelled. */
  readonly signal: AbortSignal;
  readonly flags: ComparisonFlags;
}

export interface PreparedComparison {
  readonly input: CompareInput;
  readonly plans: readonly PlannedTarget[];
  readonly messages: ChatCompletionRequest['messages'];
  readonly checks: CompiledChecks;
  readonly judge: { readonly model: string; readonly rubric: string } | null;
}

/** Everything a comparison needs, validated: throws the 400 (target, check, top_n, a judge that would grade itself), 404 (judge) or 503 (no snapshot). */
export async function prepareComparison(gw: Gateway, input: CompareInput): Promise<PreparedComparison> {
  const { request } = input;
  // Miner targets need the snapshot (a 503 naming the source when there is none); subnet APIs do not.
  const snapshot = gw.metagraph.current();
  const plans = planTargets(
    request,
    {
      catalog: gw.catalog,
      snapshot,
      requireSnapshot: () => requireSnapshot(gw.metagraph),
      servedByApi: (netuid) => gw.providerFor(netuid).source === 'config',
      routingOrder: (subnet) => gw.blend.routingOrder(subnet),
    },
    gw.config.COMPARE_MAX_TARGETS,
  );
  const checks = compileChecks(request.checks ?? []);
  // 404 for an unknown judge; 503 when private mode leaves it no subnet; 400 when it could only be routed to upstreams it would grade.
  if (request.judge !== undefined) checkJudgeRoute(gw, request.judge, plans, snapshot, input.flags.private);
  const messages: ChatCompletionRequest['messages'] = request.messages ?? [{ role: 'user', content: request.prompt ?? '' }];
  const judge = request.judge === undefined ? null : { model: request.judge, rubric: request.rubric ?? DEFAULT_RUBRIC };
  return { input, plans, messages, checks, judge };
}

/**
 * Runs `fn` over `items` with at most `limit` at once; results in the items'
 * order. Once `signal` aborts nothing more is started: the rest are `unstarted`.
 */
async function mapBounded<T, R>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T, index: number) => Promise<R>, unstarted: (item: T, index: number) => R): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = signal.aborted ? unstarted(items[i] as T, i) : await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const answered = (a: TargetAnswer) => a.error === null && a.answer !== null;

/** The comparison's own signal: its client's, and COMPARE_TIMEOUT_MS (default REQUEST_TIMEOUT_MS) for all of it. */
function comparisonDeadline(gw: Gateway, clientSignal: AbortSignal): { signal: AbortSignal; release(): void } {
  const ms = gw.config.COMPARE_TIMEOUT_MS ?? gw.config.REQUEST_TIMEOUT_MS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new CompareDeadline(`the comparison ran out of time (${ms} ms, COMPARE_TIMEOUT_MS)`)), ms);
  return { signal: AbortSignal.any([clientSignal, deadline.signal]), release: () => clearTimeout(timer) };
}

export interface CompareListener {
  /** An entry finished (checks included; judge scores come with the comparison). */
  onEntry?(entry: CompareEntry): void;
}

export async function runComparison(gw: Gateway, prepared: PreparedComparison, listener: CompareListener = {}): Promise<Comparison> {
  const deadline = comparisonDeadline(gw, prepared.input.signal);
  try {
    return await compareWithin(gw, prepared, listener, deadline.signal);
  } finally {
    deadline.release();
  }
}

async function compareWithin(gw: Gateway, prepared: PreparedComparison, listener: CompareListener, signal: AbortSignal): Promise<Comparison> {
  const { input, plans, messages, checks } = prepared;
  const { request } = input;
  const id = `cmp-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);

  // Once the comparison stops (client gone, deadline passed), no further target is sent.
  const answers = await mapBounded(
    plans,
    gw.config.COMPARE_CONCURRENCY,
    signal,
    async (plan, index) => {
      const answer = await runTarget(gw, {
        plan,
        messages,
        maxTokens: request.max_tokens ?? null,
        temperature: request.temperature ?? null,
        key: input.key,
        requestId: `${input.requestId}:${index}`,
        signal,
        private: input.flags.private,
      });
      const checked: CheckResult[] | null = answered(answer) ? await runChecks(checks, answer.answer ?? '') : null;
      listener.onEntry?.({ ...answer, index, scores: entryScores(checked, null, index) });
      return { answer, checked };
    },
    (plan, index) => {
      const answer = unsentAnswer(plan, signal);
      listener.onEntry?.({ ...answer, index, scores: entryScores(null, null, index) });
      return { answer, checked: null };
    },
  );

  let judge: JudgeOutcome | null = null;
  let judgeSummary: JudgeSummary | null = null;
  if (prepared.judge && !input.signal.aborted) {
    const graded = new Map<number, string>();
    answers.forEach(({ answer }, i) => {
      if (answered(answer)) graded.set(i, answer.answer ?? '');
    });
    if (signal.aborted) {
      judgeSummary = { ...prepared.judge, status: 'skipped', error: `${(signal.reason as Error).message} before the judge was asked`, attempts: 0, receipts: [] };
    } else if (graded.size > 0) {
      const exclude = contestantsOf(answers.map(({ answer }) => answer.miner));
      judge = await runJudge(gw, { ...prepared.judge, task: taskText(messages), answers: graded, exclude, key: input.key, requestId: input.requestId, signal, private: input.flags.private });
      judgeSummary = { model: judge.model, rubric: judge.rubric, status: judge.status, error: judge.error, attempts: judge.attempts, receipts: judge.receipts };
    } else {
      judgeSummary = { ...prepared.judge, status: 'skipped', error: 'no target answered, so there was nothing to judge', attempts: 0, receipts: [] };
    }
  }

  const entries: CompareEntry[] = answers.map(({ answer, checked }, index) => ({ ...answer, index, scores: entryScores(checked, judge, index) }));
  const winners = winnersOf(entries.map((e) => e.scores.overall));
  // A name a pass-through subnet let through is the caller's choice, so its rows are folded into sn<n>/other (as /metrics does).
  const snapshot = gw.metagraph.current();
  const boardModel = (netuid: number | undefined, model: string) =>
    netuid === undefined || gw.catalog.modelIds(netuid, snapshot).includes(model) ? model : `sn${netuid}/other`;
  // Entries of a comparison the client abandoned were cut short, not answered: they say nothing about the miners.
  // Past the deadline, the entries that finished still count; the ones it cut or never sent do not.
  const leaderboard = input.signal.aborted ? 'aborted' : await recordComparison(
    { leaderboard: gw.leaderboard, logger: gw.logger, onRecorded: (netuids) => gw.blend.refresh(netuids) },
    {
      scored: checks.checks.length > 0 || prepared.judge !== null,
      winners,
      entries: entries.map((e) => ({
        model: boardModel(e.miner?.netuid, e.served_model ?? e.model),
        miner: isCut(e) ? null : e.miner,
        failed: e.error !== null,
        latencyMs: e.latency_ms,
        overall: e.scores.overall,
      })),
    },
    input.flags,
  );
  return { id, object: 'comparison', created, checks: checks.checks, judge: judgeSummary, entries, winners, leaderboard };
}
