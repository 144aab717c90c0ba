/**
 * An entry's scores: its checks, the judge's grade, and one overall number
 * on the judge's 0-10 scale so entries (and the leaderboard) can be ranked:
 * the mean of the judge's score and the share of checks passed × 10, of
 * whichever were asked for. A failed entry has no overall score: it counts
 * as an error, not as a zero. Likewise a check that could not run (`passed:
 * null`) is no verdict: the share is over the checks that ran, and with none
 * (and no judge's grade) there is no overall score, never a 0.
 */
import type { CheckResult } from './checks.js';
import type { JudgeOutcome } from './judge.js';

export type EntryJudgeScore = { readonly score: number; readonly reason: string } | { readonly score: null; readonly reason: null; readonly error: string };

export interface EntryScores {
  readonly checks: readonly CheckResult[];
  readonly checks_passed: number;
  /** Every check asked for, whether it ran or not. */
  readonly checks_total: number;
  /** Checks that could not run (not part of the score). */
  readonly checks_not_run: number;
  /** null without a judge (or for a failed entry, which is not graded). */
  readonly judge: EntryJudgeScore | null;
  readonly overall: number | null;
}

export function entryScores(checks: readonly CheckResult[] | null, judge: JudgeOutcome | null, index: number): EntryScores {
  const results = checks ?? [];
  const passed = results.filter((c) => c.passed === true).length;
  const ran = results.filter((c) => c.passed !== null).length;
  let judged: EntryJudgeScore | null = null;
  if (judge && checks !== null) {
    const grade = judge.grades.get(index);
    judged = grade ? { score: grade.score, reason: grade.reason } : { score: null, reason: null, error: judge.error ?? 'the judge gave this answer no score' };
  }
  const parts: number[] = [];
  if (checks !== null && ran > 0) parts.push((passed / ran) * 10);
  if (judged?.score != null) parts.push(judged.score);
  const overall = checks === null || parts.length === 0 ? null : Math.round((parts.reduce((a, b) => a + b, 0) / parts.length) * 100) / 100;
  return { checks: results, checks_passed: passed, checks_total: results.length, checks_not_run: results.length - ran, judge: judged, overall };
}

/**
 * Indices of the entries with the best overall score (all of them on a tie);
 * empty when nothing scored. The leaderboard counts a win only when there is
 * one winner (record-comparison.ts).
 */
export function winnersOf(overall: ReadonlyArray<number | null>): number[] {
  const scored = overall.filter((s): s is number => s !== null);
  if (scored.length === 0) return [];
  const best = Math.max(...scored);
  return overall.flatMap((s, i) => (s === best ? [i] : []));
}
