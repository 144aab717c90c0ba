/**
 * Rolling windows of the leaderboard. Comparisons are counted into time
 * buckets at two resolutions: 5-minute buckets kept 6 hours, hourly buckets
 * kept 7 days. A window reads the finer resolution when it fits in it (at
 * most 72 buckets), else the hourly one (at most 168), so a read is a bounded
 * number of hash reads whatever the traffic. A window covers whole buckets:
 * "1h" is the current 5-minute bucket and the 11 before it.
 */

export interface Resolution {
  /** Part of the bucket's key. */
  readonly name: '5m' | '1h';
  readonly bucketMs: number;
  /** How long a bucket is kept after it closes. */
  readonly retainMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const RESOLUTIONS: readonly Resolution[] = [
  { name: '5m', bucketMs: 5 * MINUTE, retainMs: 6 * HOUR },
  { name: '1h', bucketMs: HOUR, retainMs: 7 * 24 * HOUR },
];

export interface LeaderboardWindow {
  /** As written, e.g. "24h". */
  readonly text: string;
  readonly ms: number;
  readonly resolution: Resolution;
  /** Buckets read, the current one included. */
  readonly buckets: number;
}

const UNIT_MS: Record<string, number> = { m: MINUTE, h: HOUR, d: 24 * HOUR };
export const MAX_WINDOW_MS = 7 * 24 * HOUR;

/** "15m", "6h", "7d" → the window, or a sentence saying what is wrong. */
export function parseWindow(text: string): LeaderboardWindow | string {
  const match = /^(\d{1,4})([mhd])$/.exec(text.trim());
  if (!match) return `"${text}" is not a window: use minutes, hours or days, e.g. 30m, 24h, 7d`;
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  if (ms < 5 * MINUTE || ms > MAX_WINDOW_MS) return `"${text}" is out of range: a window is 5m to 7d`;
  const resolution = RESOLUTIONS.find((r) => ms <= r.retainMs) as Resolution;
  return { text: text.trim(), ms, resolution, buckets: Math.ceil(ms / resolution.bucketMs) };
}
