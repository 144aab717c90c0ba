/**
 * A comparison is bounded as a whole: COMPARE_TIMEOUT_MS cuts it (targets
 * and judge), and nothing more is sent once it is over or its client left.
 * What it cut says nothing about a miner, so it is not held against one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { parseWindow, type LeaderboardWindow } from '../src/leaderboard/window.js';
import { createKey } from './support/admin-client.js';
import { compareOk } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let fast: RunningMiner;
let slow: RunningMiner;
let later1: RunningMiner;
let later2: RunningMiner;
let judge: RunningMiner;
let gw: TestGateway;

beforeAll(async () => {
  fast = await startMiner({ hotkeyUri: '//DeadlineFast', name: 'fast' });
  // About 6 s to answer: far beyond the comparison's deadline.
  slow = await startMiner({ hotkeyUri: '//DeadlineSlow', name: 'slow', chunkCount: 20, chunkDelayMs: 300 });
  later1 = await startMiner({ hotkeyUri: '//DeadlineLater1', name: 'later1' });
  later2 = await startMiner({ hotkeyUri: '//DeadlineLater2', name: 'later2' });
  judge = await startMiner({ hotkeyUri: '//DeadlineJudge', name: 'judge', quality: 5 });
  gw = await startTestGateway({
    subnets: [
      { netuid: 4, models: ['m'], miners: [fast, slow, later1, later2].map((miner, i) => ({ miner, uid: i + 1, incentive: 0.25 })) },
      { netuid: 62, models: ['judge'], miners: [{ miner: judge, uid: 1, incentive: 1 }] },
    ],
    // One target at a time, and a comparison deadline well below the request timeout.
    env: { COMPARE_CONCURRENCY: '1', COMPARE_TIMEOUT_MS: '1500', HEDGE_MODE: 'off' },
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([fast, slow, later1, later2, judge].map((m) => m?.close()));
});

beforeEach(() => {
  for (const m of [fast, slow, later1, later2, judge]) m.reset();
});

const TARGETS = ['sn4/uid:1', 'sn4/uid:2', 'sn4/uid:3', 'sn4/uid:4'];

describe('COMPARE_TIMEOUT_MS', () => {
  it('cuts the target in flight, sends no further one, skips the judge, and records only what finished', async () => {
    const c = await compareOk(gw, { prompt: 'race', targets: TARGETS, judge: 'sn62/judge', checks: [{ type: 'contains', value: 'devnet miner' }] });
    expect(c.entries.map((e) => e.error?.code ?? null)).toEqual([null, 'compare_deadline', 'compare_deadline', 'compare_deadline']);
    expect(c.entries[1]?.error?.message).toMatch(/ran out of time \(1500 ms, COMPARE_TIMEOUT_MS\) before this target answered/);
    expect(c.entries[0]?.scores.overall).toBe(10);
    expect(c.entries[1]?.scores.overall).toBeNull();
    // The slow miner was sent its request and cut; the last two were never sent anything.
    expect(slow.requestCount).toBe(1);
    expect(later1.requestCount + later2.requestCount).toBe(0);
    expect(c.judge).toMatchObject({ status: 'skipped', error: expect.stringMatching(/ran out of time .* before the judge was asked/) });
    expect(judge.requestCount).toBe(0);
    // Recorded: the finished entry; the cut ones are no miner's failure.
    expect(c.leaderboard).toBe('recorded');
    const rows = await gw.gateway.leaderboard.read(4, parseWindow('1h') as LeaderboardWindow);
    expect(rows.map((r) => [r.hotkey, r.count, r.errors])).toEqual([[fast.hotkey, 1, 0]]);
  });
});

describe('a client that leaves', () => {
  it('stops the comparison: the target in flight is cancelled, and no further one is started, nor charged to the key', async () => {
    // An RPM of 3 for three targets: any target started after the client left would use up the key's minute.
    const { key } = await createKey(gw, { name: 'leaver', rpm: 3 });
    const aborter = new AbortController();
    const res = await gw.request('/v1/compare', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      json: { prompt: 'leave', targets: TARGETS.slice(1), stream: true },
      signal: aborter.signal,
    });
    expect(res.status).toBe(200);
    await expect.poll(() => slow.requestCount, { timeout: 5_000 }).toBe(1);
    aborter.abort();
    await slow.waitForAborts(1);
    // Had the comparison gone on, the next targets would be admitted the moment the slow one was cancelled.
    await new Promise((r) => setTimeout(r, 500));
    expect(later1.requestCount + later2.requestCount).toBe(0);
    // One of the three requests of the minute was used, by the target that was sent.
    const next = await gw.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}` }, json: { model: 'sn4/m', messages: [{ role: 'user', content: 'x' }] } });
    expect(next.status).toBe(200);
    expect(next.headers.get('x-ratelimit-remaining-requests')).toBe('1');
  });
});
