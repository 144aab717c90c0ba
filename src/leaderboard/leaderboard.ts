/**
 * The leaderboard: every scored comparison, counted per subnet, model and
 * miner hotkey into time buckets in the store (src/leaderboard/window.ts),
 * so every replica adds to and reads the same numbers and old buckets expire
 * on their own. One store increment per subnet and resolution per
 * comparison; a read sums the window's buckets, fetched in one round trip.
 *
 * The board is public, so reads are bounded: one subnet's window is read
 * from the store at most once per READ_CACHE_MS per process (concurrent
 * readers share the read; a comparison recorded here drops its subnets'
 * cached reads, so blend sees it at once), and a read of the whole board
 * covers only the subnets that ever had a comparison, at most
 * MAX_BOARD_SUBNETS of them.
 *
 * Field names are `<model>|<hotkey>|<metric>`: hotkeys and metrics never
 * contain "|", so a model that does is still split right (from the end).
 *
 * Two views: `all` counts every stored comparison, `trusted` only those run
 * by keys flagged `trusted_scorer`. Any key can compare with checks and a
 * rubric of its own choosing, so only the trusted view may move traffic
 * (blend quality, the `quality` candidate policy); the public board shows
 * either.
 */
import type { Store } from '../store/store.js';
import { LATENCY_BOUNDS_MS, latencyBucket, latencyQuantile } from './latency-buckets.js';
import { RESOLUTIONS, type LeaderboardWindow, type Resolution } from './window.js';

/** One entry of a comparison, as the leaderboard counts it. */
export interface LeaderboardEntry {
  readonly netuid: number;
  readonly model: string;
  /** The miner's hotkey, or for a subnet served by its own API the upstream's id ("64/api/chutes"). */
  readonly hotkey: string;
  /** 0-10, null when the entry failed or nothing scored it. */
  readonly score: number | null;
  readonly failed: boolean;
  readonly latencyMs: number;
  /** Scored in a comparison with at least one other scored entry. */
  readonly contested: boolean;
  /** Had the best score of that comparison alone (a tie is no one's win). */
  readonly won: boolean;
}

export interface LeaderboardRow {
  readonly netuid: number;
  readonly model: string;
  readonly hotkey: string;
  /** Entries counted (every comparison this miner answered or failed in). */
  readonly count: number;
  readonly errors: number;
  readonly error_rate: number;
  readonly scored: number;
  /** Mean 0-10 over scored entries, null when none was scored. */
  readonly mean_score: number | null;
  readonly contests: number;
  readonly wins: number;
  readonly win_rate: number | null;
  readonly latency_ms: { readonly mean: number | null; readonly p50: number | null; readonly p90: number | null; readonly p99: number | null };
}

const METRICS: ReadonlySet<string> = new Set(['n', 'err', 'scored', 'score_milli', 'contests', 'wins', 'lat_sum', ...LATENCY_BOUNDS_MS.map((_, i) => `h${i}`)]);
type Counts = Record<string, number>;

export type LeaderboardView = 'all' | 'trusted';

/** How long one subnet's window, read from the store, is reused. */
export const READ_CACHE_MS = 5_000;
const MAX_CACHED_READS = 512;
/** The most subnets one read of the whole board covers; the others are read by naming them. */
export const MAX_BOARD_SUBNETS = 16;
/** Subnets that ever had a comparison recorded (any replica). */
const ACTIVE_SUBNETS_KEY = 'lb:subnets';

export interface BoardRead {
  /** The subnets read, in the order asked for. */
  readonly netuids: readonly number[];
  /** More subnets had comparisons than one read covers. */
  readonly truncated: boolean;
  readonly rows: readonly LeaderboardRow[];
}

const VIEW_PREFIX: Readonly<Record<LeaderboardView, string>> = { all: 'lb', trusted: 'lb-trusted' };
const bucketKey = (view: LeaderboardView, netuid: number, resolution: Resolution, index: number) => `${VIEW_PREFIX[view]}:${netuid}:${resolution.name}:${index}`;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function incrementsOf(entries: readonly LeaderboardEntry[]): Counts {
  const inc: Counts = {};
  const add = (entry: LeaderboardEntry, metric: string, by: number) => {
    if (by === 0) return;
    const field = `${entry.model}|${entry.hotkey}|${metric}`;
    inc[field] = (inc[field] ?? 0) + by;
  };
  for (const e of entries) {
    add(e, 'n', 1);
    if (e.failed) {
      add(e, 'err', 1);
      continue;
    }
    add(e, 'lat_sum', Math.round(e.latencyMs));
    add(e, `h${latencyBucket(e.latencyMs)}`, 1);
    if (e.score === null) continue;
    add(e, 'scored', 1);
    add(e, 'score_milli', Math.round(e.score * 1000));
    if (e.contested) add(e, 'contests', 1);
    if (e.won) add(e, 'wins', 1);
  }
  return inc;
}

function rowOf(netuid: number, model: string, hotkey: string, c: Counts): LeaderboardRow {
  const get = (metric: string) => c[metric] ?? 0;
  const n = get('n');
  const ok = n - get('err');
  const histogram = LATENCY_BOUNDS_MS.map((_, i) => get(`h${i}`));
  return {
    netuid,
    model,
    hotkey,
    count: n,
    errors: get('err'),
    error_rate: n === 0 ? 0 : round(get('err') / n, 4),
    scored: get('scored'),
    mean_score: get('scored') === 0 ? null : round(get('score_milli') / 1000 / get('scored'), 3),
    contests: get('contests'),
    wins: get('wins'),
    win_rate: get('contests') === 0 ? null : round(get('wins') / get('contests'), 4),
    latency_ms: {
      mean: ok === 0 ? null : Math.round(get('lat_sum') / ok),
      p50: latencyQuantile(histogram, 0.5),
      p90: latencyQuantile(histogram, 0.9),
      p99: latencyQuantile(histogram, 0.99),
    },
  };
}

/** Best first: mean score, then win rate, then fewer errors. */
function compareRows(a: LeaderboardRow, b: LeaderboardRow): number {
  return (b.mean_score ?? -1) - (a.mean_score ?? -1) || (b.win_rate ?? -1) - (a.win_rate ?? -1) || a.error_rate - b.error_rate || b.count - a.count;
}

interface CachedRead<T> {
  readonly at: number;
  readonly value: Promise<T>;
}

export class Leaderboard {
  private readonly reads = new Map<string, CachedRead<LeaderboardRow[]>>();
  private active: CachedRead<Set<number>> | null = null;
  /** Subnets this process already added to the active set. */
  private readonly announced = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one comparison's entries into the current bucket of every resolution, of the trusted view too when `trusted`. */
  async record(entries: readonly LeaderboardEntry[], options: { readonly trusted: boolean }): Promise<void> {
    const now = this.clock();
    const views: LeaderboardView[] = options.trusted ? ['all', 'trusted'] : ['all'];
    const fresh = entries.map((e) => e.netuid).filter((n) => !this.announced.has(n));
    const byNetuid = new Map<number, LeaderboardEntry[]>();
    for (const e of entries) byNetuid.set(e.netuid, [...(byNetuid.get(e.netuid) ?? []), e]);
    const writes: Array<Promise<unknown>> = [];
    for (const [netuid, group] of byNetuid) {
      const increments = incrementsOf(group);
      for (const view of views) {
        for (const resolution of RESOLUTIONS) {
          const index = Math.floor(now / resolution.bucketMs);
          writes.push(this.store.hincrby(bucketKey(view, netuid, resolution, index), increments, { ttlMs: resolution.retainMs + resolution.bucketMs }));
        }
      }
      if (fresh.includes(netuid)) writes.push(this.store.sadd(ACTIVE_SUBNETS_KEY, String(netuid)).then(() => this.announced.add(netuid)));
    }
    await Promise.all(writes);
    // What this process reads next includes what it just wrote.
    for (const netuid of byNetuid.keys()) for (const key of this.reads.keys()) if (key.startsWith(`${netuid}|`)) this.reads.delete(key);
    if (fresh.length > 0) this.active = null;
  }

  /** Every (model, hotkey) of the subnet seen in the window, best first (shared for READ_CACHE_MS). */
  read(netuid: number, window: LeaderboardWindow, view: LeaderboardView = 'all'): Promise<LeaderboardRow[]> {
    const key = `${netuid}|${view}|${window.resolution.name}|${window.buckets}`;
    return this.cached(this.reads, key, () => this.readFromStore(netuid, window, view));
  }

  /**
   * The board across `served` subnets: those that ever had a comparison, in
   * `served` order, at most MAX_BOARD_SUBNETS of them.
   */
  async readSubnets(served: readonly number[], window: LeaderboardWindow, view: LeaderboardView = 'all'): Promise<BoardRead> {
    const active = await this.activeSubnets();
    const withComparisons = served.filter((n) => active.has(n));
    const netuids = withComparisons.slice(0, MAX_BOARD_SUBNETS);
    const rows = (await Promise.all(netuids.map((n) => this.read(n, window, view)))).flat();
    return { netuids, truncated: withComparisons.length > netuids.length, rows };
  }

  private activeSubnets(): Promise<Set<number>> {
    const now = this.clock();
    if (this.active && now - this.active.at < READ_CACHE_MS) return this.active.value;
    const value = this.store.smembers(ACTIVE_SUBNETS_KEY).then((members) => new Set(members.map(Number)));
    const entry = { at: now, value };
    this.active = entry;
    value.catch(() => {
      if (this.active === entry) this.active = null;
    });
    return value;
  }

  /** One read per key per READ_CACHE_MS; a failed read is not kept. */
  private cached<T>(cache: Map<string, CachedRead<T>>, key: string, read: () => Promise<T>): Promise<T> {
    const now = this.clock();
    const hit = cache.get(key);
    if (hit && now - hit.at < READ_CACHE_MS) return hit.value;
    if (cache.size >= MAX_CACHED_READS) {
      for (const [k, entry] of cache) if (now - entry.at >= READ_CACHE_MS) cache.delete(k);
      // Still full of fresh reads: the oldest goes.
      if (cache.size >= MAX_CACHED_READS) cache.delete(cache.keys().next().value as string);
    }
    const value = read();
    const entry = { at: now, value };
    cache.set(key, entry);
    value.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    return value;
  }

  private async readFromStore(netuid: number, window: LeaderboardWindow, view: LeaderboardView): Promise<LeaderboardRow[]> {
    const { resolution } = window;
    const current = Math.floor(this.clock() / resolution.bucketMs);
    const hashes = await this.store.hgetallMany(Array.from({ length: window.buckets }, (_, i) => bucketKey(view, netuid, resolution, current - i)));
    const sums = new Map<string, Counts>();
    for (const hash of hashes) {
      for (const [field, value] of Object.entries(hash)) {
        const metricAt = field.lastIndexOf('|');
        const hotkeyAt = field.lastIndexOf('|', metricAt - 1);
        if (hotkeyAt < 0) continue;
        const id = field.slice(0, metricAt);
        const metric = field.slice(metricAt + 1);
        if (!METRICS.has(metric)) continue;
        const counts = sums.get(id) ?? {};
        counts[metric] = (counts[metric] ?? 0) + Number(value);
        sums.set(id, counts);
      }
    }
    const rows: LeaderboardRow[] = [];
    for (const [id, counts] of sums) {
      const split = id.lastIndexOf('|');
      rows.push(rowOf(netuid, id.slice(0, split), id.slice(split + 1), counts));
    }
    return rows.sort(compareRows);
  }
}
