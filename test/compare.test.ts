/**
 * POST /v1/compare through a real gateway and real fake miners: entries,
 * checks, the judge (with its retry and its failure), the SSE stream, input
 * errors, metering of every target, and regexes matched in linear time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { verifyReceipt } from '../src/metering/receipts.js';
import { ComparisonSchema } from '../src/openapi/response-schemas.js';
import { createKey, keyDetails } from './support/admin-client.js';
import { compare, compareOk, compareStream, judgedSubnets, type ComparisonView } from './support/compare-client.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let low: RunningMiner;
let high: RunningMiner;
let mid: RunningMiner;
let judge: RunningMiner;
let backtrack: RunningMiner;
let slow: RunningMiner;
let gw: TestGateway;

beforeAll(async () => {
  low = await startMiner({ hotkeyUri: '//CmpLow', name: 'low', quality: 4 });
  high = await startMiner({ hotkeyUri: '//CmpHigh', name: 'high', quality: 9 });
  mid = await startMiner({ hotkeyUri: '//CmpMid', name: 'mid', quality: 6 });
  judge = await startMiner({ hotkeyUri: '//CmpJudge', name: 'judge', quality: 7 });
  backtrack = await startMiner({ hotkeyUri: '//CmpBacktrack', name: 'bt', answer: () => `${'a'.repeat(40)}!` });
  slow = await startMiner({ hotkeyUri: '//CmpSlow', name: 'slow', answer: () => 'word '.repeat(40), chunkCount: 40, chunkDelayMs: 200 });
  gw = await startTestGateway({
    subnets: [
      ...judgedSubnets([low, high, mid], judge),
      { netuid: 9, models: ['m'], miners: [{ miner: backtrack, uid: 1, incentive: 1 }] },
      { netuid: 10, models: ['m'], miners: [{ miner: slow, uid: 1, incentive: 1 }] },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([low, high, mid, judge, backtrack, slow].map((m) => m?.close()));
});

beforeEach(async () => {
  for (const m of [low, high, mid, judge]) {
    await m.setFault('none');
    m.setJudgeMisformats(0);
    m.reset();
  }
});

const PINNED = ['sn4/uid:1', 'sn4/uid:2', 'sn4/uid:3'];
const byTarget = (c: ComparisonView, target: string) => c.entries.find((e) => e.target === target);

describe('compare entries', () => {
  it('returns one entry per target with miner, answer, latency, TTFT, tokens, cost and a valid receipt', async () => {
    const c = await compareOk(gw, { prompt: 'What is a subnet?', targets: [...PINNED, 'sn62'] });
    // The shape the OpenAPI document states.
    expect(ComparisonSchema.safeParse(c).success).toBe(true);
    expect(c.object).toBe('comparison');
    expect(c.entries.map((e) => e.target)).toEqual([...PINNED, 'sn62']);
    expect(c.entries.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    const e = byTarget(c, 'sn4/uid:2');
    expect(e?.miner).toEqual({ netuid: 4, uid: 2, hotkey: high.hotkey, upstream: `4/2/${high.hotkey}` });
    expect(e?.model).toBe('sn4/llama-3.1-8b');
    expect(e?.served_model).toBe('sn4/llama-3.1-8b');
    expect(e?.answer).toContain('devnet miner high (quality 9/10)');
    expect(byTarget(c, 'sn4/uid:1')?.answer).toContain('devnet miner low (quality 4/10)');
    expect(byTarget(c, 'sn62')?.miner?.hotkey).toBe(judge.hotkey);
    expect(e?.error).toBeNull();
    expect(e?.ttft_ms).toBeGreaterThan(0);
    expect(e?.latency_ms).toBeGreaterThanOrEqual(e?.ttft_ms ?? Infinity);
    expect(e?.tokens?.completion).toBeGreaterThan(0);
    expect(e?.tokens?.estimated).toBe(false);
    expect(e?.cost_micro_usd).toBeGreaterThan(0);
    // Each target is receipted like any request, for the miner that served it.
    const keyRes = await gw.request('/v1/receipts/public-key');
    const { public_key_hex } = (await keyRes.json()) as { public_key_hex: string };
    const check = verifyReceipt(e?.receipt ?? '', Buffer.from(public_key_hex, 'hex'));
    expect(check.valid).toBe(true);
    if (check.valid) expect(check.body.miner.hotkey).toBe(high.hotkey);
    // No checks, no judge: nothing scored, nothing for the leaderboard.
    expect(e?.scores.overall).toBeNull();
    expect(c.winners).toEqual([]);
    expect(c.leaderboard).toBe('unscored');
  });

  it('lets the router pick for a subnet or model target, and takes top_n in rank order', async () => {
    const picked = await compareOk(gw, { messages: [{ role: 'user', content: 'hi' }], targets: ['sn4', 'sn4/llama-3.1-8b', 'auto'] });
    for (const e of picked.entries) expect([low.hotkey, high.hotkey, mid.hotkey]).toContain(e.miner?.hotkey);
    // `auto` is what was asked for; the subnet model that served it is what the leaderboard counts.
    expect(picked.entries[2]).toMatchObject({ model: 'auto', served_model: 'sn4/llama-3.1-8b' });
    const top = await compareOk(gw, { prompt: 'hi', top_n: 2, subnet: 'sn4' });
    expect(top.entries.map((e) => e.target)).toEqual(['sn4/uid:1', 'sn4/uid:2']);
    expect(top.entries.map((e) => e.miner?.uid)).toEqual([1, 2]);
  });

  it('reports a failing miner in its own entry and still answers the rest', async () => {
    await mid.setFault('http500');
    const c = await compareOk(gw, { prompt: 'hi', targets: PINNED, checks: [{ type: 'contains', value: 'quality' }] });
    const failed = byTarget(c, 'sn4/uid:3');
    expect(failed?.error?.status).toBe(502);
    expect(failed?.answer).toBeNull();
    // Counted against the pinned miner, but not scored.
    expect(failed?.miner?.hotkey).toBe(mid.hotkey);
    expect(failed?.scores.overall).toBeNull();
    expect(byTarget(c, 'sn4/uid:1')?.scores.overall).toBe(10);
    expect(c.winners).toEqual([0, 1]);
  });
});

describe('checks', () => {
  it('scores exact, contains, regex and JSON Schema checks per answer', async () => {
    const schema = { type: 'object', required: ['answer', 'quality'], properties: { quality: { type: 'integer', minimum: 7 } } };
    const c = await compareOk(gw, {
      prompt: 'Reply in JSON please',
      targets: PINNED,
      checks: [
        { type: 'contains', value: 'HERE IS', ignore_case: true },
        { type: 'regex', pattern: '"quality":\\s*\\d' },
        { type: 'json_schema', schema },
        { type: 'exact', value: 'nothing answers this' },
      ],
    });
    const [lowE, highE, midE] = [byTarget(c, 'sn4/uid:1'), byTarget(c, 'sn4/uid:2'), byTarget(c, 'sn4/uid:3')];
    // quality 4 answers prose; 9 and 6 answer JSON, and only 9 passes the schema's minimum.
    expect(lowE?.scores.checks.map((x) => x.passed)).toEqual([false, false, false, false]);
    expect(lowE?.scores.checks[2]?.detail).toBe('the answer is not JSON');
    expect(highE?.scores.checks.map((x) => x.passed)).toEqual([true, true, true, false]);
    expect(midE?.scores.checks.map((x) => x.passed)).toEqual([true, true, false, false]);
    expect(midE?.scores.checks[2]?.detail).toMatch(/\/quality must be >= 7/);
    expect(highE?.scores).toMatchObject({ checks_passed: 3, checks_total: 4, overall: 7.5 });
    expect(midE?.scores.overall).toBe(5);
    expect(lowE?.scores.overall).toBe(0);
    expect(c.winners).toEqual([1]);
  });

  it.each([
    [{ type: 'exact', value: `${'a'.repeat(40)}!` }, true],
    // Both sides are trimmed.
    [{ type: 'exact', value: `  ${'a'.repeat(40)}!\n` }, true],
    [{ type: 'exact', value: `${'A'.repeat(40)}!`, ignore_case: true }, true],
    [{ type: 'exact', value: `${'A'.repeat(40)}!` }, false],
    [{ type: 'exact', value: `${'A'.repeat(40)}!`, ignore_case: false }, false],
    [{ type: 'exact', value: `${'A'.repeat(39)}!`, ignore_case: true }, false],
  ])('exact %j on an answer of 40 a and ! → passed %s', async (check, passed) => {
    const c = await compareOk(gw, { prompt: 'x', targets: ['sn9/uid:1'], checks: [check] });
    const entry = c.entries[0];
    expect(entry?.answer).toBe(`${'a'.repeat(40)}!`);
    expect(entry?.scores.checks).toEqual([expect.objectContaining({ type: 'exact', passed })]);
    expect(entry?.scores.overall).toBe(passed ? 10 : 0);
  });

  it('matches a catastrophically backtracking regex in linear time, while another compare runs beside it', async () => {
    // Backtracking engines take minutes on `(a+)+b` over forty a's; both compares must simply finish with verdicts.
    const hostile = compareOk(gw, {
      prompt: 'hi',
      targets: ['sn9'],
      checks: [
        { type: 'regex', pattern: '(a+)+b' },
        { type: 'regex', pattern: '^(a+)+$' },
        { type: 'regex', pattern: '^(a+)+!$' },
      ],
    });
    const other = compareOk(gw, { prompt: 'hi', targets: ['sn4/uid:2'], checks: [{ type: 'regex', pattern: 'quality \\d+/10' }] });
    const [h, o] = await Promise.all([hostile, other]);
    expect(h.entries[0]?.scores.checks).toEqual([
      { type: 'regex', passed: false, detail: 'no match' },
      { type: 'regex', passed: false, detail: 'no match' },
      { type: 'regex', passed: true, detail: null },
    ]);
    expect(h.entries[0]?.scores.overall).toBeCloseTo(3.33, 2);
    expect(o.entries[0]?.scores.checks[0]?.passed).toBe(true);
  });

  it('refuses what RE2 cannot match in linear time (backreferences, lookaround) with a 400 naming the pattern', async () => {
    for (const pattern of ['(a)\\1', 'a(?=b)']) {
      const { status, json } = await compare(gw, { prompt: 'x', targets: ['sn4'], checks: [{ type: 'regex', pattern }] });
      expect(status).toBe(400);
      expect(json.error).toMatchObject({ code: 'invalid_regex', param: 'checks[0].pattern' });
    }
  });
});

describe('judge', () => {
  it('grades every answer 1-10 with a reason, anonymized, and picks the winner', async () => {
    const c = await compareOk(gw, { prompt: 'Explain hedging', targets: PINNED, judge: 'sn62/coder' });
    expect(c.judge).toMatchObject({ model: 'sn62/coder', status: 'ok', error: null, attempts: 1 });
    expect(c.judge?.receipts).toHaveLength(1);
    expect(PINNED.map((t) => byTarget(c, t)?.scores.judge?.score)).toEqual([4, 9, 6]);
    expect(byTarget(c, 'sn4/uid:2')?.scores.judge?.reason).toMatch(/quality 9\/10/);
    expect(byTarget(c, 'sn4/uid:2')?.scores.overall).toBe(9);
    expect(c.winners).toEqual([1]);
    // The judge saw labels, never a miner: no hotkey, no uid, no target in its prompt.
    const prompt = judge.lastRequest?.body ?? '';
    expect(prompt).toContain('taogate-judge/v1');
    for (const m of [low, high, mid]) expect(prompt).not.toContain(m.hotkey);
    expect(prompt).not.toContain('uid:');
    expect(prompt).toMatch(/<<<answer A [0-9a-f]+>>>/);
    expect(judge.judgeRequests).toBe(1);
  });

  it('shuffles the answers it shows the judge', async () => {
    const firstShown = new Set<string>();
    for (let i = 0; i < 12 && firstShown.size < 2; i++) {
      await compareOk(gw, { prompt: 'order?', targets: PINNED, judge: 'sn62/coder' });
      const body = JSON.parse(judge.lastRequest?.body ?? '{}') as { messages: Array<{ content: string }> };
      const shown = /<<<answer A \S+>>>\n.*?devnet miner (\w+)/.exec(body.messages[1]?.content ?? '');
      firstShown.add(shown?.[1] ?? '');
    }
    expect(firstShown.size).toBeGreaterThan(1);
  });

  it('retries once when the judge reply is not a verdict', async () => {
    judge.setJudgeMisformats(1);
    const c = await compareOk(gw, { prompt: 'retry me', targets: PINNED, judge: 'sn62/coder' });
    expect(c.judge).toMatchObject({ status: 'ok', attempts: 2 });
    expect(judge.judgeRequests).toBe(2);
    // The retry told the judge what was wrong.
    expect(judge.lastRequest?.body).toContain('That reply was not usable: it contains no JSON object');
    expect(PINNED.map((t) => byTarget(c, t)?.scores.judge?.score)).toEqual([4, 9, 6]);
  });

  it('leaves the answers standing with an error note when the judge fails twice or is down', async () => {
    judge.setJudgeMisformats(2);
    const c = await compareOk(gw, { prompt: 'fail me', targets: PINNED, judge: 'sn62/coder', checks: [{ type: 'contains', value: 'quality' }] });
    expect(c.judge).toMatchObject({ status: 'failed', attempts: 2 });
    expect(c.judge?.error).toMatch(/not a usable verdict twice/);
    for (const e of c.entries) {
      expect(e.answer).toContain('quality');
      expect(e.scores.judge).toMatchObject({ score: null, error: expect.stringMatching(/usable verdict/) });
      expect(e.scores.overall).toBe(10);
    }
    await judge.setFault('http500');
    const down = await compareOk(gw, { prompt: 'judge down', targets: PINNED, judge: 'sn62/coder' });
    expect(down.judge?.status).toBe('failed');
    expect(down.judge?.error).toMatch(/the judge call failed: 502/);
    expect(down.entries.every((e) => e.answer !== null && e.scores.overall === null)).toBe(true);
  });
});

describe('stream', () => {
  it('sends an entry event per target as it finishes, then the scored comparison, then [DONE]', async () => {
    const { status, contentType, events } = await compareStream(gw, { prompt: 'stream it', targets: PINNED, judge: 'sn62/coder' });
    expect(status).toBe(200);
    expect(contentType).toContain('text/event-stream');
    expect(events.map((e) => e.event)).toEqual(['entry', 'entry', 'entry', 'comparison', 'message']);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const entries = events.slice(0, 3).map((e) => JSON.parse(e.data) as { index: number; answer: string; scores: { judge: unknown } });
    expect(entries.map((e) => e.index).sort()).toEqual([0, 1, 2]);
    // Judge scores come with the comparison, once every answer is in.
    expect(entries.every((e) => e.scores.judge === null && e.answer.includes('quality'))).toBe(true);
    const final = JSON.parse(events[3]?.data ?? '{}') as ComparisonView;
    expect(final.judge?.status).toBe('ok');
    expect(final.winners).toEqual([1]);
  });

  it('cancels every target when the client leaves the stream', async () => {
    const aborter = new AbortController();
    const res = await gw.request('/v1/compare', { method: 'POST', json: { prompt: 'slow', targets: ['sn10', 'sn4/uid:1'], stream: true }, signal: aborter.signal });
    expect(res.status).toBe(200);
    // The quick target's entry arrives while the slow one is still streaming; then the client goes.
    const reader = res.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    expect(first).toContain('event: entry');
    aborter.abort();
    await slow.waitForAborts(1);
    expect(slow.abortedRequests).toBe(1);
  });

  it('answers a bad streamed request with a plain 400, before any event', async () => {
    const res = await gw.request('/v1/compare', { method: 'POST', json: { prompt: 'x', targets: ['sn99'], stream: true } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
  });
});

describe('input errors', () => {
  it.each([
    [{ prompt: 'x', targets: ['sn4', 'sn99'] }, 400, 'targets[1]', 'unknown_target'],
    [{ prompt: 'x', targets: ['sn4/uid:77'] }, 400, 'targets[0]', 'unknown_target'],
    [{ prompt: 'x', targets: ['nope/model'] }, 400, 'targets[0]', 'unknown_target'],
    [{ prompt: 'x', targets: ['auto/uid:1'] }, 400, 'targets[0]', 'unknown_target'],
    [{ prompt: 'x', targets: Array(9).fill('sn4') }, 400, 'targets', 'too_many_targets'],
    [{ prompt: 'x', targets: ['sn4'], checks: [{ type: 'regex', pattern: '(' }] }, 400, 'checks[0].pattern', 'invalid_regex'],
    [{ prompt: 'x', targets: ['sn4'], checks: [{ type: 'contains', value: 'a' }, { type: 'json_schema', schema: { type: 'nope' } }] }, 400, 'checks[1].schema', 'invalid_json_schema'],
    [{ prompt: 'x', targets: ['sn4'], checks: [{ type: 'json_schema', schema: { $ref: 'https://example.com/s.json' } }] }, 400, 'checks[0].schema', 'invalid_json_schema'],
    [{ prompt: 'x', targets: ['sn4'], checks: [{ type: 'sql', value: 'a' }] }, 400, 'checks[0].type', 'invalid_request'],
    [{ prompt: 'x', top_n: 9, subnet: 'sn4' }, 400, 'top_n', 'top_n_out_of_range'],
    [{ prompt: 'x', top_n: 0, subnet: 'sn4' }, 400, 'top_n', 'invalid_request'],
    [{ prompt: 'x', top_n: 2 }, 400, 'subnet', 'invalid_request'],
    [{ prompt: 'x', top_n: 2, subnet: 'sn4/uid:1' }, 400, 'subnet', 'unknown_target'],
    [{ prompt: 'x' }, 400, 'targets', 'invalid_request'],
    [{ prompt: 'x', messages: [{ role: 'user', content: 'y' }], targets: ['sn4'] }, 400, 'messages', 'invalid_request'],
    [{ prompt: 'x', targets: ['sn4'], target: 'typo' }, 400, '', 'invalid_request'],
    [{ prompt: 'x', targets: ['sn4'], judge: 'sn77/judge' }, 404, 'judge', 'judge_not_found'],
    [{ prompt: 'x', targets: ['sn4'], rubric: 'be nice' }, 400, 'rubric', 'invalid_request'],
  ])('%j → %i naming %s', async (body, status, param, code) => {
    const { status: got, json } = await compare(gw, body);
    expect(got).toBe(status);
    expect(json.error.code).toBe(code);
    if (param) expect(json.error.param).toBe(param);
    expect(typeof json.error.message).toBe('string');
  });

  it.each([
    [{ prompt: 'x', top_n: 2 }, 'subnet'],
    [{ prompt: 'x', top_n: 1, checks: [{ type: 'contains', value: 'a' }] }, 'subnet'],
  ])('%j: top_n without subnet on a gateway with miners on several subnets → 400 listing them', async (body, param) => {
    const { status, json } = await compare(gw, body);
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'invalid_request', param });
    expect(json.error.message).toMatch(/^top_n needs the subnet to take the miners from; this gateway serves miners on /);
    const listed = /serves miners on ([^:]+):/.exec(json.error.message)?.[1]?.split(', ');
    expect(listed?.sort()).toEqual(['sn10', 'sn4', 'sn62', 'sn9']);
    expect(low.requestCount + high.requestCount + mid.requestCount + judge.requestCount).toBe(0);
  });

  it('needs an API key', async () => {
    const res = await fetch(`${gw.url}/v1/compare`, { method: 'POST', body: JSON.stringify({ prompt: 'x', targets: ['sn4'] }) });
    expect(res.status).toBe(401);
  });

  it('sends nothing to any miner when the request is bad', async () => {
    await compare(gw, { prompt: 'x', targets: ['sn4/uid:1', 'sn4/uid:2', 'sn99'] });
    expect(low.requestCount + high.requestCount + mid.requestCount).toBe(0);
  });
});

describe('metering', () => {
  it('meters every target and the judge on the calling key, and refuses targets over its RPM', async () => {
    const { id, key } = await createKey(gw, { name: 'compare-meter' });
    await compareOk(gw, { prompt: 'meter me', targets: PINNED, judge: 'sn62/coder' }, key);
    await gw.gateway.metering.flush();
    const details = await keyDetails(gw, id);
    expect(details.usage.totals.requests).toBe(4);
    expect(details.usage.models['sn4/llama-3.1-8b']?.requests).toBe(3);
    expect(details.usage.models['sn62/coder']?.requests).toBe(1);

    const limited = await createKey(gw, { name: 'compare-rpm', rpm: 2 });
    const c = await compareOk(gw, { prompt: 'limit me', targets: PINNED }, limited.key);
    const statuses = c.entries.map((e) => e.error?.status ?? 200).sort();
    expect(statuses).toEqual([200, 200, 429]);
    // A refused target names no miner: the limit is the key's, not the miner's.
    expect(c.entries.find((e) => e.error)?.miner).toBeNull();
  });
});
