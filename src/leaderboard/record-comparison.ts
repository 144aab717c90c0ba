/**
 * The one place a finished comparison reaches the leaderboard. It takes the
 * call's flags: a private request (a private key, or `x-taogate-private: 1`)
 * is never stored, whatever else it did.
 */
import type { Logger } from '../log.js';
import type { Leaderboard, LeaderboardEntry } from './leaderboard.js';

/**
 * A subnet without a model list passes any model name through, so a caller
 * could name models at will: the name is capped so a row's key stays small.
 */
const MAX_MODEL_CHARS = 128;

export interface ComparisonFlags {
  /** The request must leave no trace in shared stores (leaderboard, archives). */
  readonly private: boolean;
  /** Made with a `trusted_scorer` key: it counts in the leaderboard's trusted view, the one routing reads. */
  readonly trustedScorer: boolean;
}

/** What a comparison says about each entry, as far as the leaderboard cares. */
export interface ComparedEntry {
  readonly model: string;
  /** `upstream` is the upstream's id ("64/api/chutes"): a subnet served by its own API has no hotkey. */
  readonly miner: { readonly netuid: number; readonly hotkey: string | null; readonly upstream: string | null } | null;
  readonly failed: boolean;
  readonly latencyMs: number;
  readonly overall: number | null;
}

export interface ComparedResult {
  /** Whether any scoring was asked for (checks or a judge): only scored comparisons are stored. */
  readonly scored: boolean;
  readonly entries: readonly ComparedEntry[];
  readonly winners: readonly number[];
}

/**
 * `recorded`, or why not: `private`, `unscored` (nothing scored it), `aborted`
 * (the client left, so the entries are not finished answers), `failed` (the store refused; logged).
 */
export type LeaderboardStatus = 'recorded' | 'private' | 'unscored' | 'aborted' | 'failed';

export interface RecordDeps {
  readonly leaderboard: Leaderboard;
  readonly logger: Logger;
  /** Told which subnets changed (blend re-reads their quality). */
  readonly onRecorded?: (netuids: readonly number[]) => Promise<void>;
}

export async function recordComparison(deps: RecordDeps, result: ComparedResult, flags: ComparisonFlags): Promise<LeaderboardStatus> {
  if (flags.private) return 'private';
  if (!result.scored) return 'unscored';
  const scoredCount = result.entries.filter((e) => e.overall !== null).length;
  // A tie is no one's win: otherwise checks every answer passes would hand each entry a win.
  const outright = result.winners.length === 1 ? result.winners[0] : undefined;
  const entries: LeaderboardEntry[] = [];
  result.entries.forEach((e, i) => {
    // A subnet's own API stands on the board under its upstream id ("64/api/chutes"), which is as stable as a hotkey.
    const hotkey = e.miner?.hotkey ?? e.miner?.upstream;
    // Entries refused before a miner was chosen (no route, limits) say nothing about any miner.
    if (!e.miner || !hotkey) return;
    entries.push({
      netuid: e.miner.netuid,
      model: e.model.slice(0, MAX_MODEL_CHARS),
      hotkey,
      score: e.failed ? null : e.overall,
      failed: e.failed,
      latencyMs: e.latencyMs,
      contested: e.overall !== null && scoredCount >= 2,
      won: e.overall !== null && scoredCount >= 2 && outright === i,
    });
  });
  if (entries.length === 0) return 'unscored';
  try {
    await deps.leaderboard.record(entries, { trusted: flags.trustedScorer });
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, 'leaderboard: could not record a comparison (store unreachable); it is dropped');
    return 'failed';
  }
  await deps.onRecorded?.([...new Set(entries.map((e) => e.netuid))]).catch(() => undefined);
  return 'recorded';
}
