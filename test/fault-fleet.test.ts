/**
 * The acceptance run: a fleet of 23 real miners on loopback, 7 of
 * them (30 %) faulty, one per fault mode; 2,000 mixed stream / non-stream,
 * chat / legacy requests through the stock openai client at 16 in flight.
 * Non-stream requests must succeed ≥ 99.9 %, streams ≥ 99.5 % (a stream cut
 * after its first byte cannot be retried, so the breaker must stop routing
 * to such a miner after very few failures), and no request may outlive its
 * deadline. Short timeouts keep the run quick.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type FaultMode, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { minersView } from './support/health-view.js';

const HEALTHY = 16;
const FAULTS: readonly FaultMode[] = ['hang', 'http500', 'malformed', 'wrongShape', 'slowFirstByte', 'dropMidStream', 'refuse'];
/** Faults that fail every request (slowFirstByte answers, only late). */
const ALWAYS_FAILING: readonly FaultMode[] = FAULTS.filter((f) => f !== 'slowFirstByte');
const REQUESTS = 2_000;
const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 4_000;

interface Entry {
  readonly miner: RunningMiner;
  readonly uid: number;
  readonly incentive: number;
  readonly fault: FaultMode;
}

let fleet: Entry[] = [];
let gw: TestGateway;

beforeAll(async () => {
  const modes: FaultMode[] = [...Array<FaultMode>(HEALTHY).fill('none'), ...FAULTS];
  // Faulty miners are spread through the ranking, not parked at the bottom of it.
  const order = modes.map((fault, i) => ({ fault, key: (i * 7919) % modes.length })).sort((a, b) => a.key - b.key);
  fleet = await Promise.all(
    order.map(async ({ fault }, uid) => ({
      miner: await startMiner({ hotkeyUri: `//Fleet${uid}`, name: `f${uid}`, fault, slowMs: 1_500 }),
      uid,
      incentive: (1 + (uid % 5)) / 10,
      fault,
    })),
  );
  gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['m'], miners: fleet.map(({ miner, uid, incentive }) => ({ miner, uid, incentive })) }],
    env: {
      ROUTER_TOP_K: '32',
      CONNECT_TIMEOUT_MS: '500',
      FIRST_BYTE_TIMEOUT_MS: '1000',
      STREAM_IDLE_TIMEOUT_MS: '1000',
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      BREAKER_COOLDOWN_MS: '3000',
      HEDGE_DEFAULT_DELAY_MS: '200',
      HEDGE_MIN_DELAY_MS: '50',
    },
  });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await Promise.all(fleet.map((e) => e.miner.close()));
});

interface Result {
  readonly stream: boolean;
  readonly ok: boolean;
  readonly ms: number;
  readonly error: string | null;
}

async function one(openai: OpenAI, i: number): Promise<Result> {
  const stream = i % 2 === 1;
  const legacy = i % 4 >= 2;
  const started = performance.now();
  try {
    let text = '';
    if (legacy && stream) {
      for await (const c of await openai.completions.create({ model: 'sn4/m', prompt: `p${i}`, stream: true })) text += c.choices[0]?.text ?? '';
    } else if (legacy) {
      text = (await openai.completions.create({ model: 'sn4/m', prompt: `p${i}` })).choices[0]?.text ?? '';
    } else if (stream) {
      const s = await openai.chat.completions.create({ model: 'sn4/m', messages: [{ role: 'user', content: `m${i}` }], stream: true });
      for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    } else {
      text = (await openai.chat.completions.create({ model: 'sn4/m', messages: [{ role: 'user', content: `m${i}` }] })).choices[0]?.message.content ?? '';
    }
    const ok = /devnet miner/.test(text);
    return { stream, ok, ms: performance.now() - started, error: ok ? null : `unexpected text: ${text.slice(0, 80)}` };
  } catch (err) {
    return { stream, ok: false, ms: performance.now() - started, error: err instanceof Error ? err.message : String(err) };
  }
}

describe('fault fleet: 30 % of miners faulty', () => {
  it('2,000 mixed requests: ≥ 99.9 % non-stream and ≥ 99.5 % stream succeed, none outlives its deadline', async () => {
    // The client's own timeout is far past the gateway's deadline: a hang would show as a failure, not pass.
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.apiKey, maxRetries: 0, timeout: 30_000 });
    const results: Result[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) results.push(await one(openai, next++));
      }),
    );
    expect(results).toHaveLength(REQUESTS);

    const json = results.filter((r) => !r.stream);
    const streams = results.filter((r) => r.stream);
    const failures = results.filter((r) => !r.ok).map((r) => `${r.stream ? 'stream' : 'json'}: ${r.error}`);
    const jsonRate = json.filter((r) => r.ok).length / json.length;
    const streamRate = streams.filter((r) => r.ok).length / streams.length;
    expect(jsonRate, failures.join('\n')).toBeGreaterThanOrEqual(0.999);
    expect(streamRate, failures.join('\n')).toBeGreaterThanOrEqual(0.995);
    // Generous margin over the deadline for a loaded 2-core machine; a hang would take the client's 30 s.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);

    // Every always-failing miner was found out and is held open by its breaker…
    const view = await minersView(gw);
    if (process.env.FLEET_REPORT) console.log({ jsonRate, streamRate, maxMs: Math.max(...results.map((r) => r.ms)), failures });
    if (process.env.FLEET_REPORT) console.table(view.data.map((m) => ({ uid: m.uid, fault: fleet[m.uid]?.fault, ...m.health })));
    const healthByUid = new Map(view.data.map((m) => [m.uid, m.health]));
    let faultyAttempts = 0;
    let allAttempts = 0;
    for (const entry of fleet) {
      const health = healthByUid.get(entry.uid);
      allAttempts += health?.attempts ?? 0;
      if (!ALWAYS_FAILING.includes(entry.fault)) continue;
      faultyAttempts += health?.attempts ?? 0;
      // A hanging miner is caught by losing hedge races rather than by timing out.
      expect((health?.failures ?? 0) + (health?.hedges_lost ?? 0), `${entry.fault} miner`).toBeGreaterThan(0);
      expect(['open', 'half_open'], `${entry.fault} miner is ${health?.state}`).toContain(health?.state);
    }
    // …so the six of them (26 % of the rank weight) got only a sliver of the attempts.
    expect(faultyAttempts / allAttempts).toBeLessThan(0.08);
  }, 120_000);
});
