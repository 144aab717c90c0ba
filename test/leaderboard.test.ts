/**
 * The leaderboard: aggregation and rolling windows on both stores (real
 * Redis), and GET /v1/leaderboard fed by real comparisons, private keys
 * excluded.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { Leaderboard, MAX_BOARD_SUBNETS, READ_CACHE_MS, type LeaderboardEntry } from '../src/leaderboard/leaderboard.js';
import { recordComparison } from '../src/leaderboard/record-comparison.js';
import { silentLogger } from '../src/log.js';
import { parseWindow, type LeaderboardWindow } from '../src/leaderboard/window.js';
import { LeaderboardSchema } from '../src/openapi/response-schemas.js';
import { createMemoryStore } from '../src/store/memory.js';
import { createRedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { createKey } from './support/admin-client.js';
import { compareOk } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;
const win = (text: string) => parseWindow(text) as LeaderboardWindow;
const UNTRUSTED = { trusted: false };

const entry = (hotkey: string, over: Partial<LeaderboardEntry> = {}): LeaderboardEntry => ({
  netuid: 4,
  model: 'sn4/llama-3.1-8b',
  hotkey,
  score: 5,
  failed: false,
  latencyMs: 300,
  contested: true,
  won: false,
  ...over,
});

describe('window', () => {
  it('parses windows, picks the resolution, and names what is wrong', () => {
    expect(win('30m')).toMatchObject({ ms: 30 * 60_000, buckets: 6, resolution: { name: '5m' } });
    expect(win('6h')).toMatchObject({ buckets: 72, resolution: { name: '5m' } });
    expect(win('24h')).toMatchObject({ buckets: 24, resolution: { name: '1h' } });
    expect(win('7d')).toMatchObject({ buckets: 168, resolution: { name: '1h' } });
    expect(parseWindow('8d')).toMatch(/out of range/);
    expect(parseWindow('1m')).toMatch(/out of range/);
    expect(parseWindow('yesterday')).toMatch(/not a window/);
  });
});

const stores: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => createMemoryStore()],
  ['redis', () => createRedisStore({ url: REDIS_URL, prefix: `test:${randomUUID()}:` })],
];

describe.each(stores)('aggregation on the %s store', (_name, open) => {
  let store: Store;
  let now = Date.UTC(2026, 0, 10, 12, 30);
  let board: Leaderboard;
  beforeAll(async () => {
    store = await open();
    board = new Leaderboard(store, () => now);
  });
  afterAll(async () => store?.close());

  it('counts entries, mean score, wins, errors and latency percentiles per model and hotkey', async () => {
    now = Date.UTC(2026, 0, 10, 12, 30);
    // Three comparisons between A and B: A wins twice; B fails once.
    await board.record([entry('A', { score: 9, won: true, latencyMs: 200 }), entry('B', { score: 4, latencyMs: 1500 })], UNTRUSTED);
    await board.record([entry('A', { score: 7, won: true, latencyMs: 400 }), entry('B', { score: 6, latencyMs: 3000 })], UNTRUSTED);
    await board.record([entry('A', { score: 8, contested: false, latencyMs: 600 }), entry('B', { score: null, failed: true, contested: false })], UNTRUSTED);
    // Another model of A's is its own row.
    await board.record([entry('A', { model: 'sn4/qwen', score: 2, contested: false })], UNTRUSTED);
    const rows = await board.read(4, win('1h'));
    expect(rows.map((r) => `${r.hotkey} ${r.model}`)).toEqual(['A sn4/llama-3.1-8b', 'B sn4/llama-3.1-8b', 'A sn4/qwen']);
    const [a, b] = rows;
    expect(a).toMatchObject({ count: 3, errors: 0, error_rate: 0, scored: 3, mean_score: 8, contests: 2, wins: 2, win_rate: 1 });
    expect(a?.latency_ms.mean).toBe(400);
    // 200 in (100,250], 400 in (250,500], 600 in (500,1000]: the median sits in the middle bucket.
    expect(a?.latency_ms.p50).toBeGreaterThan(250);
    expect(a?.latency_ms.p50).toBeLessThanOrEqual(500);
    expect(a?.latency_ms.p99).toBeGreaterThan(500);
    expect(b).toMatchObject({ count: 3, errors: 1, error_rate: 0.3333, scored: 2, mean_score: 5, contests: 2, wins: 0, win_rate: 0 });
    expect(b?.latency_ms.mean).toBe(2250);
    expect(await board.read(5, win('1h'))).toEqual([]);
  });

  it('reads a rolling window: older buckets drop out of shorter windows', async () => {
    const base = Date.UTC(2026, 0, 20, 12, 0);
    now = base - 3 * HOUR; // 3 h ago: in 6h, 24h and 7d
    await board.record([entry('old', { netuid: 7, score: 2 })], UNTRUSTED);
    now = base - 2 * 24 * HOUR; // 2 days ago: only in 7d
    await board.record([entry('older', { netuid: 7, score: 3 })], UNTRUSTED);
    now = base - 20 * 60_000; // 20 min ago: in every window from 30m
    await board.record([entry('new', { netuid: 7, score: 9 })], UNTRUSTED);
    now = base;
    const hotkeys = async (w: string) => (await board.read(7, win(w))).map((r) => r.hotkey).sort();
    expect(await hotkeys('30m')).toEqual(['new']);
    expect(await hotkeys('6h')).toEqual(['new', 'old']);
    expect(await hotkeys('24h')).toEqual(['new', 'old']);
    expect(await hotkeys('7d')).toEqual(['new', 'old', 'older']);
  });

  it('keeps the trusted view apart: every comparison counts in `all`, only trusted ones in `trusted`', async () => {
    now = Date.UTC(2026, 0, 30, 12, 0);
    await board.record([entry('T', { netuid: 8, score: 9 })], { trusted: true });
    await board.record([entry('U', { netuid: 8, score: 1 })], UNTRUSTED);
    expect((await board.read(8, win('1h'))).map((r) => r.hotkey)).toEqual(['T', 'U']);
    expect((await board.read(8, win('1h'), 'trusted')).map((r) => [r.hotkey, r.mean_score])).toEqual([['T', 9]]);
  });
});

describe('reads of the public board are bounded', () => {
  /** The real memory store, with its multi-hash reads counted. */
  function countedStore() {
    const store = createMemoryStore();
    const reads: number[] = [];
    const counted: Store = { ...store, hgetallMany: (keys) => (reads.push(keys.length), store.hgetallMany(keys)) };
    return { store: counted, reads };
  }

  it('reads a subnet’s window in one round trip, shared by concurrent readers and reused for a few seconds', async () => {
    let now = Date.UTC(2026, 1, 1, 12, 0);
    const { store, reads } = countedStore();
    const board = new Leaderboard(store, () => now);
    await board.record([entry('A', { score: 7 })], UNTRUSTED);
    const views = await Promise.all(Array.from({ length: 10 }, () => board.read(4, win('7d'))));
    expect(views.every((rows) => rows[0]?.mean_score === 7)).toBe(true);
    // One call for all 168 hourly buckets, for all ten readers.
    expect(reads).toEqual([168]);
    now += READ_CACHE_MS - 1;
    await board.read(4, win('7d'));
    expect(reads).toHaveLength(1);
    // A comparison recorded here is read at once (blend re-reads right after it)...
    await board.record([entry('B', { score: 3 })], UNTRUSTED);
    expect((await board.read(4, win('7d'))).map((r) => r.hotkey)).toEqual(['A', 'B']);
    expect(reads).toHaveLength(2);
    // ...and another replica's, once the reuse is over.
    now += READ_CACHE_MS;
    await board.read(4, win('7d'));
    expect(reads).toHaveLength(3);
  });

  it('reads the whole board only for subnets that had comparisons, at most MAX_BOARD_SUBNETS', async () => {
    const { store, reads } = countedStore();
    const board = new Leaderboard(store);
    const served = Array.from({ length: 64 }, (_, i) => i + 1);
    expect(await board.readSubnets(served, win('24h'))).toEqual({ netuids: [], truncated: false, rows: [] });
    expect(reads).toEqual([]);
    // Another process recorded these: this one learns of them from the store.
    const other = new Leaderboard(store);
    for (const netuid of served.filter((n) => n % 3 === 0)) await other.record([entry(`hk${netuid}`, { netuid })], UNTRUSTED);
    const wait = new Leaderboard(store);
    const read = await wait.readSubnets(served, win('24h'));
    expect(read.netuids).toEqual(served.filter((n) => n % 3 === 0).slice(0, MAX_BOARD_SUBNETS));
    expect(read.truncated).toBe(true);
    expect(read.rows).toHaveLength(MAX_BOARD_SUBNETS);
  });
});

describe('a finished comparison on the leaderboard', () => {
  const scored = (hotkey: string, overall: number | null) => ({ model: 'sn4/m', miner: { netuid: 4, hotkey, upstream: `4/1/${hotkey}` }, failed: false, latencyMs: 100, overall });
  const record = async (entries: ReturnType<typeof scored>[], winners: number[]) => {
    const board = new Leaderboard(createMemoryStore());
    const status = await recordComparison({ leaderboard: board, logger: silentLogger() }, { scored: true, entries, winners }, { private: false, trustedScorer: false });
    expect(status).toBe('recorded');
    return new Map((await board.read(4, win('1h'))).map((r) => [r.hotkey, r]));
  };

  it('counts a tie as a contest for each, and a win for none', async () => {
    const rows = await record([scored('A', 10), scored('B', 10), scored('C', 4)], [0, 1]);
    for (const hotkey of ['A', 'B', 'C']) expect(rows.get(hotkey)).toMatchObject({ contests: 1, wins: 0, win_rate: 0 });
  });

  it('counts the one best entry’s win', async () => {
    const rows = await record([scored('A', 10), scored('B', 7)], [0]);
    expect(rows.get('A')).toMatchObject({ contests: 1, wins: 1 });
    expect(rows.get('B')).toMatchObject({ contests: 1, wins: 0 });
  });

  it('holds an entry nothing could score (overall null) as counted but unscored, never as a 0', async () => {
    const rows = await record([scored('A', null), scored('B', 7)], [1]);
    expect(rows.get('A')).toMatchObject({ count: 1, scored: 0, mean_score: null, contests: 0 });
    expect(rows.get('B')).toMatchObject({ scored: 1, mean_score: 7, contests: 0, wins: 0 });
  });
});

describe('GET /v1/leaderboard', () => {
  let low: RunningMiner;
  let high: RunningMiner;
  let judge: RunningMiner;
  let gw: TestGateway;
  beforeAll(async () => {
    low = await startMiner({ hotkeyUri: '//LbLow', name: 'low', quality: 3 });
    high = await startMiner({ hotkeyUri: '//LbHigh', name: 'high', quality: 8 });
    judge = await startMiner({ hotkeyUri: '//LbJudge', name: 'judge', quality: 5 });
    gw = await startTestGateway({
      subnets: [
        { netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner: low, uid: 1, incentive: 0.6 }, { miner: high, uid: 2, incentive: 0.4 }] },
        { netuid: 62, models: ['coder'], miners: [{ miner: judge, uid: 1, incentive: 1 }] },
        // No model list: any name passes through to the miner.
        { netuid: 5, models: [], miners: [{ miner: high, uid: 3, incentive: 1 }] },
      ],
      env: { REDIS_URL },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([low, high, judge].map((m) => m?.close()));
  });

  it('shows every scored comparison per miner, and nothing of private keys or unscored ones', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await compareOk(gw, { prompt: `q${i}`, targets: ['sn4/uid:1', 'sn4/uid:2'], judge: 'sn62/coder' });
      expect(c.leaderboard).toBe('recorded');
    }
    await low.setFault('http500');
    await compareOk(gw, { prompt: 'fail', targets: ['sn4/uid:1', 'sn4/uid:2'], checks: [{ type: 'contains', value: 'quality' }] });
    await low.setFault('none');
    const unscored = await compareOk(gw, { prompt: 'no score', targets: ['sn4/uid:1', 'sn4/uid:2'] });
    expect(unscored.leaderboard).toBe('unscored');
    // A key that is no trusted scorer: its comparison is on the board, but not in the trusted view.
    const untrusted = await createKey(gw, { name: 'untrusted' });
    await compareOk(gw, { prompt: 'rigged', targets: ['sn4/uid:1', 'sn4/uid:2'], checks: [{ type: 'contains', value: 'devnet miner low' }] }, untrusted.key);
    const secret = await createKey(gw, { name: 'secret', private: true });
    // (Without a judge: private mode refuses a judge no private subnet serves, and this gateway has none.)
    const hidden = await compareOk(gw, { prompt: 'private', targets: ['sn4/uid:1', 'sn4/uid:2'], checks: [{ type: 'contains', value: 'quality' }] }, secret.key);
    expect(hidden.leaderboard).toBe('private');

    const res = await fetch(`${gw.url}/v1/leaderboard?netuid=4&window=1h`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { window: string; trusted: boolean; data: Array<Record<string, any>> };
    expect(LeaderboardSchema.safeParse(body).success).toBe(true);
    expect(body.window).toBe('1h');
    expect(body.data.map((r) => r.uid)).toEqual([2, 1]);
    const [best, worst] = body.data;
    expect(body.trusted).toBe(false);
    expect(best).toMatchObject({ hotkey: high.hotkey, model: 'sn4/llama-3.1-8b', count: 5, errors: 0, scored: 5, wins: 3, contests: 4 });
    // (The comparison where low failed had one scored entry: no contest, so no win.)
    // Three judge scores of 8, one all-checks-passed 10, and the rigged check's 0.
    expect(best?.mean_score).toBe(6.8);
    expect(worst).toMatchObject({ hotkey: low.hotkey, count: 5, errors: 1, error_rate: 0.2, scored: 4, mean_score: 4.75, wins: 1 });
    expect(worst?.latency_ms.p50).toBeGreaterThan(0);
    // The trusted view, which routing reads, leaves the untrusted key's comparison out.
    const trusted = (await (await fetch(`${gw.url}/v1/leaderboard?netuid=4&window=1h&trusted=true`)).json()) as { trusted: boolean; data: Array<Record<string, any>> };
    expect(trusted.trusted).toBe(true);
    expect(trusted.data.map((r) => [r.hotkey, r.count, r.mean_score, r.wins])).toEqual([
      [high.hotkey, 4, 8.5, 3],
      [low.hotkey, 4, 3, 0],
    ]);
    // Every subnet when no netuid is given.
    // Every served subnet that had comparisons when no netuid is given (sn62, the judge's, had none).
    const all = (await (await fetch(`${gw.url}/v1/leaderboard`)).json()) as { window: string; subnets: number[]; truncated: boolean; data: unknown[] };
    expect(all.window).toBe('24h');
    expect(all).toMatchObject({ subnets: [4], truncated: false });
    expect(all.data).toHaveLength(2);
  });

  it('folds the names a pass-through subnet let through into one row, sn<n>/other', async () => {
    for (const name of ['made-up-1', 'made-up-2', 'made-up-3']) {
      const c = await compareOk(gw, { prompt: name, targets: [`sn5/${name}/uid:3`], checks: [{ type: 'contains', value: 'devnet' }] });
      expect(c.leaderboard).toBe('recorded');
      expect(c.entries[0]?.served_model).toBe(`sn5/${name}`);
    }
    const body = (await (await fetch(`${gw.url}/v1/leaderboard?netuid=5&window=1h`)).json()) as { data: Array<{ model: string; count: number; uid: number | null }> };
    expect(body.data.map((r) => [r.model, r.count, r.uid])).toEqual([['sn5/other', 3, 3]]);
  });

  it.each([
    ['netuid=abc', 400, 'netuid'],
    ['netuid=', 400, 'netuid'],
    ['netuid=99', 404, null],
    ['window=2y', 400, 'window'],
    ['window=30d', 400, 'window'],
    ['trusted=yes', 400, 'trusted'],
    ['netuid=1e1', 400, 'netuid'],
    ['netuid=0x10', 400, 'netuid'],
    ['netuid=%204', 400, 'netuid'],
    ['netuid=4.0', 400, 'netuid'],
  ])('?%s → %i', async (query, status, param) => {
    const res = await fetch(`${gw.url}/v1/leaderboard?${query}`);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { param: string | null } };
    if (param) expect(body.error.param).toBe(param);
  });
});
