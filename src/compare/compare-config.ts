/**
 * The environment variables of /v1/compare, the leaderboard and the blend
 * rank policy, merged into the gateway's EnvSchema (src/config.ts).
 */
import { envParsed, envPositiveInt } from '../env-values.js';
import { parseBlendWeights } from '../leaderboard/blend-weights.js';
import { parseWindow, type LeaderboardWindow } from '../leaderboard/window.js';

function windowOrThrow(text: string): LeaderboardWindow {
  const window = parseWindow(text);
  if (typeof window === 'string') throw new Error(window);
  return window;
}

export const compareEnv = {
  /** Most targets one comparison may name (and the largest top_n). */
  COMPARE_MAX_TARGETS: envPositiveInt.max(32).default(8),
  /** Targets of one comparison in flight at once. */
  COMPARE_CONCURRENCY: envPositiveInt.max(32).default(4),
  /**
   * The whole comparison's deadline (targets and judge; default REQUEST_TIMEOUT_MS): without one,
   * 32 targets at a concurrency of 4 could take 8 request timeouts.
   */
  COMPARE_TIMEOUT_MS: envPositiveInt.optional(),
  /** `incentive:0.6,quality:0.3,health:0.1`: how RANK_BY=blend mixes its components (normalized to sum 1). */
  BLEND_WEIGHTS: envParsed(parseBlendWeights).default(parseBlendWeights('incentive:0.6,quality:0.3,health:0.1')),
  /** The leaderboard window blend's quality is read over, e.g. 24h. */
  BLEND_QUALITY_WINDOW: envParsed(windowOrThrow).default(windowOrThrow('24h')),
  /** How often each replica re-reads blend's quality from the leaderboard. */
  BLEND_REFRESH_S: envPositiveInt.default(30),
};
