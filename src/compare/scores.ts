/**
 * An entry's scores: its checks, the judge's grade, and one overall number
 * on the judge's 0-10 scale so entries (and the leaderboard) can be ranked:
 * the mean of the judge's score and the share of checks passed × 10, of
 * whichever were asked for. A failed entry has no overall score: it counts
 * as an error, not as a zero.
 */
import type { CheckResult } from './checks.js';
import type { JudgeOutcome } from './judge.js';

export type EntryJudgeScore = { readonly score: number; readonly reason: string } | { readonly score: null; readonly reason: null; readonly error: string };

export interface EntryScores {
  readonly checks: readonly CheckResult[];
  readonly checks_passed: number;
  readonly checks_total: number;
  /** null without a judge (or for a failed entry, which is not graded). */
  readonly judge: EntryJudgeScore | null;
  readonly overall: number | null;
}

export function entryScores(checks: readonly CheckResult[] | null, judge: JudgeOutcome | null, index: number): EntryScores {
  const results = checks ?? [];
  const passed = results.filter((c) => c.passed).length;
  let judged: EntryJudgeScore | null = null;
  if (judge && checks !== null) {
    const grade = judge.grades.get(index);
    judged = grade ? { score: grade.score, reason: grade.reason } : { score: null, reason: null, error: judge.error ?? 'the judge gave this answer no score' };
  }
  const parts: number[] = [];
  if (checks !== null && results.length > 0) parts.push((passed / results.length) * 10);
  if (judged?.score != null) parts.push(judged.score);
  const overall = checks === null || parts.length === 0 ? null : Math.round((parts.reduce((a, b) => a + b, 0) / parts.length) * 100) / 100;
  return { checks: results, checks_passed: passed, checks_total: results.length, judge: judged, overall };
}

/** Indices of the entries with the best overall score (all of them on a tie); empty when nothing scored. */
export function winnersOf(overall: ReadonlyArray<number | null>): number[] {
  const scored = overall.filter((s): s is number => s !== null);
  if (scored.length === 0) return [];
  const best = Math.max(...scored);
  return overall.flatMap((s, i) => (s === best ? [i] : []));
}
