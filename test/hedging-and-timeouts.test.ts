/**
 * Hedging, cancellation and timeouts through the real gateway: a hedge
 * beats a miner slow to its first byte and the loser's socket closes, while
 * a JSON answer whose headers came at once is waited for (a stream only at
 * its first chunk); a client that leaves
 * cancels the miner request (the miner sees its socket close); first-byte,
 * idle-between-chunks and total deadlines are each enforced, mid-stream too.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startMiner, type MinerOptions, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { eventually, healthOf, minersView } from './support/health-view.js';
import { startUnacceptingListener } from './support/unaccepting-listener.js';

const started: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).reverse().map((s) => s.close()));
});

async function miner(name: string, options: Partial<MinerOptions> = {}): Promise<RunningMiner> {
  const m = await startMiner({ hotkeyUri: `//Hedge${name}`, name, ...options });
  started.push(m);
  return m;
}

async function gateway(miners: Array<{ miner: RunningMiner; incentive: number }>, env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['m'], miners: miners.map((m, uid) => ({ ...m, uid })) }], env });
  started.push(gw);
  return gw;
}

const CHAT = { model: 'sn4/m', messages: [{ role: 'user' as const, content: 'hello' }] };

/** Reads an SSE response to its end and returns the `data:` payloads. */
async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
}

describe('hedging', () => {
  // The slow miner would answer after 5 s and the first-byte timeout is 20 s, so only a hedge can answer sooner.
  const SLOW = { fault: 'slowFirstByte', slowMs: 5_000 } as const;
  const ENV = { HEDGE_DEFAULT_DELAY_MS: '150', HEDGE_MIN_DELAY_MS: '50', FIRST_BYTE_TIMEOUT_MS: '20000', BREAKER_FAILURES: '100' };

  it('a non-stream request hedged onto a second miner wins over a slow one, and the slow one is cancelled', async () => {
    const slow = await miner('Slow', SLOW);
    const fast = await miner('Fast');
    // The slow miner has nearly all the rank weight, so it is (almost always) tried first.
    const gw = await gateway([{ miner: slow, incentive: 0.99 }, { miner: fast, incentive: 0.01 }], ENV);
    const openai = gw.client();
    for (let i = 0; i < 3; i++) {
      const { data, response } = await openai.chat.completions.create(CHAT).withResponse();
      expect(data.choices[0]?.message.content).toMatch(/Fast/);
      expect(response.headers.get('x-taogate-miner')).toBe(`4/1/${fast.hotkey}`);
    }
    // The slow miner got the first attempts, and each one's socket was closed by the gateway.
    expect(slow.requestCount).toBeGreaterThanOrEqual(1);
    await slow.waitForAborts(slow.requestCount);
    expect(fast.requestCount).toBe(3);
    const health = await healthOf(gw, 0);
    expect(health?.failures).toBe(0);
    expect(health?.ewma_ttfb_ms).toBeGreaterThanOrEqual(100);
  });

  it('a stream is hedged too: the first miner to send a chunk wins', async () => {
    const slow = await miner('SlowStream', SLOW);
    const fast = await miner('FastStream');
    const gw = await gateway([{ miner: slow, incentive: 0.99 }, { miner: fast, incentive: 0.01 }], ENV);
    const stream = await gw.client().chat.completions.create({ ...CHAT, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toMatch(/FastStream/);
    if (slow.requestCount > 0) await slow.waitForAborts(slow.requestCount);
  });

  it('a non-stream answer whose headers came at once is not hedged for a slow body, and the hedge delay is over first-byte times', async () => {
    // Headers at once, the body 600 ms later: the miner has started answering long before the 150 ms hedge delay.
    const slowBody = await miner('SlowBody', { fault: 'slowBody', slowMs: 600 });
    const fast = await miner('FastBeside');
    const gw = await gateway([{ miner: slowBody, incentive: 0.99 }, { miner: fast, incentive: 0.01 }], ENV);
    const openai = gw.client();
    // 20 answers are what the subnet's own quantile needs; concurrent so the test takes one slow answer's time.
    const answers = await Promise.all(Array.from({ length: 20 }, () => openai.chat.completions.create(CHAT).withResponse()));
    const fromSlowBody = answers.filter(({ response }) => response.headers.get('x-taogate-miner') === `4/0/${slowBody.hotkey}`);
    for (const { data } of fromSlowBody) expect(data.choices[0]?.message.content).toMatch(/SlowBody/);
    // Every request the slow-body miner got, it answered: none was hedged onto the other miner and cancelled.
    expect(slowBody.requestCount).toBeGreaterThanOrEqual(1);
    expect(fromSlowBody).toHaveLength(slowBody.requestCount);
    expect(fast.requestCount).toBe(answers.length - fromSlowBody.length);
    expect(slowBody.abortedRequests).toBe(0);
    const view = await minersView(gw);
    const health = view.data.find((m) => m.uid === 0)?.health;
    expect(health?.hedges_lost).toBe(0);
    expect(health?.failures).toBe(0);
    // Time to first byte is the headers; latency is the whole answer.
    expect(health?.ewma_latency_ms).toBeGreaterThanOrEqual(550);
    expect(health?.ewma_ttfb_ms).toBeLessThan((health?.ewma_latency_ms ?? 0) / 2);
    // The subnet's p95 is now over header times, far below the 600 ms bodies.
    expect(view.hedge_delay_ms.non_stream).toBeLessThan(300);
  });

  it('a stream is still hedged until its first chunk, even when its headers came at once', async () => {
    const slowBody = await miner('SlowBodyStream', { fault: 'slowBody', slowMs: 5_000 });
    const fast = await miner('FastStreamBeside');
    const gw = await gateway([{ miner: slowBody, incentive: 0.99 }, { miner: fast, incentive: 0.01 }], ENV);
    const stream = await gw.client().chat.completions.create({ ...CHAT, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toMatch(/FastStreamBeside/);
    if (slowBody.requestCount > 0) await slowBody.waitForAborts(slowBody.requestCount);
  });

  it('HEDGE_MODE=off waits for the slow miner instead', async () => {
    const slow = await miner('SlowOnly', { fault: 'slowFirstByte', slowMs: 600 });
    const fast = await miner('NeverHedged');
    const gw = await gateway([{ miner: slow, incentive: 0.5 }, { miner: fast, incentive: 0.5 }], { ...ENV, HEDGE_MODE: 'off' });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '0' }, json: CHAT });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toMatch(/SlowOnly/);
    expect(slow.abortedRequests).toBe(0);
    expect(fast.requestCount).toBe(0);
  });
});

describe('client disconnect', () => {
  it('aborts the miner request of a non-stream call at once', async () => {
    const hang = await miner('HangJson', { fault: 'hang' });
    const gw = await gateway([{ miner: hang, incentive: 1 }], { FIRST_BYTE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000' });
    const controller = new AbortController();
    const call = gw.client().chat.completions.create(CHAT, { signal: controller.signal }).catch((err: unknown) => err);
    await eventually(() => expect(hang.requestCount).toBe(1));
    controller.abort();
    expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
    await hang.waitForAborts(1);
    // Leaving is not the miner's fault.
    await eventually(async () => expect((await healthOf(gw, 0))?.failures).toBe(0));
  });

  it('aborts the miner request of a stream the client stops reading', async () => {
    const chatty = await miner('Chatty', { chunkCount: 200, chunkDelayMs: 50, answer: () => 'word '.repeat(400) });
    const gw = await gateway([{ miner: chatty, incentive: 1 }], {});
    const stream = await gw.client().chat.completions.create({ ...CHAT, stream: true });
    let chunks = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) chunks++;
      if (chunks === 3) break; // leaving the loop aborts the SDK's request
    }
    await chatty.waitForAborts(1);
    const health = await healthOf(gw, 0);
    expect(health?.failures).toBe(0);
    expect(health?.state).toBe('closed');
  });
});

describe('timeouts', () => {
  it('connect: an axon whose connect never completes is given up after CONNECT_TIMEOUT_MS and another one is tried', async () => {
    const blackhole = await startUnacceptingListener();
    started.push(blackhole);
    // Its hotkey signs for a real miner, but its published port is the one where connect() hangs.
    const unreachable = await miner('ConnectHang');
    const good = await miner('AfterConnectHang');
    const gw = await startTestGateway({
      subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: unreachable, uid: 0, incentive: 0.5, port: blackhole.port }, { miner: good, uid: 1, incentive: 0.5 }] }],
      // Every other limit is far away, so only the connect timeout can end the first attempt.
      env: { CONNECT_TIMEOUT_MS: '300', FIRST_BYTE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000', HEDGE_MODE: 'off', BREAKER_FAILURES: '100' },
    });
    started.push(gw);
    const alone = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '0' }, json: CHAT });
    expect(alone.status).toBe(502);
    expect(((await alone.json()) as { error: { message: string } }).error.message).toMatch(/tried 1 miner: connect timeout after 300 ms/);
    const both = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '0,1' }, json: CHAT });
    expect(both.status).toBe(200);
    expect(both.headers.get('x-taogate-miner')).toBe(`4/1/${good.hotkey}`);
    expect(unreachable.requestCount).toBe(0);
  });

  it('first byte: a miner that never answers is given up after FIRST_BYTE_TIMEOUT_MS and another one is tried', async () => {
    const hang = await miner('HangFirst', { fault: 'hang' });
    const good = await miner('AfterHang');
    const gw = await gateway([{ miner: hang, incentive: 0.5 }, { miner: good, incentive: 0.5 }], { FIRST_BYTE_TIMEOUT_MS: '300', HEDGE_MODE: 'off' });
    const alone = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '0' }, json: CHAT });
    expect(alone.status).toBe(502);
    expect(((await alone.json()) as { error: { message: string } }).error.message).toMatch(/tried 1 miner: no response headers within 300 ms/);
    await hang.waitForAborts(1);
    const both = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '0,1' }, json: CHAT });
    expect(both.status).toBe(200);
  });

  it('idle between chunks: a stream that stalls after it started ends with an error event and [DONE]', async () => {
    const staller = await miner('Staller', { fault: 'stallMidStream' });
    const gw = await gateway([{ miner: staller, incentive: 1 }], { STREAM_IDLE_TIMEOUT_MS: '300', BREAKER_COOLDOWN_MS: '60000' });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { ...CHAT, stream: true } });
    expect(res.status).toBe(200);
    const events = await sseData(res);
    expect(events.at(-1)).toBe('[DONE]');
    const error = JSON.parse(events.at(-2) ?? '{}') as { error: { code: string; message: string } };
    expect(error.error.code).toBe('stream_interrupted');
    expect(error.error.message).toMatch(/no data for 300 ms/);
    // Chunks before the stall reached the client.
    expect(events.length).toBeGreaterThanOrEqual(3);
    await staller.waitForAborts(1);
    expect((await healthOf(gw, 0))?.state).toBe('open');
  });

  it('total deadline: a stream still running at REQUEST_TIMEOUT_MS is cut with an error event, without blaming the miner', async () => {
    const long = await miner('Long', { chunkCount: 100, chunkDelayMs: 100, answer: () => 'word '.repeat(200) });
    const gw = await gateway([{ miner: long, incentive: 1 }], { REQUEST_TIMEOUT_MS: '800', STREAM_IDLE_TIMEOUT_MS: '5000' });
    const startedAt = Date.now();
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { ...CHAT, stream: true } });
    const events = await sseData(res);
    const elapsed = Date.now() - startedAt;
    expect(events.at(-1)).toBe('[DONE]');
    const error = JSON.parse(events.at(-2) ?? '{}') as { error: { code: string; message: string } };
    expect(error.error.code).toBe('deadline_exceeded');
    expect(error.error.message).toMatch(/800 ms deadline/);
    // The miner would have needed 10 s; generous bound for a loaded machine.
    expect(elapsed).toBeLessThan(5_000);
    await long.waitForAborts(1);
    const health = await healthOf(gw, 0);
    expect(health?.failures).toBe(0);
    expect(health?.state).toBe('closed');
  });

  it('total deadline: a non-stream request whose miners are all slow gets a 504', async () => {
    const slow = await miner('SlowDeadline', { fault: 'slowFirstByte', slowMs: 5_000 });
    const gw = await gateway([{ miner: slow, incentive: 1 }], { REQUEST_TIMEOUT_MS: '400', FIRST_BYTE_TIMEOUT_MS: '10000' });
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: CHAT });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('deadline_exceeded');
    expect(body.error.message).toMatch(/400 ms deadline/);
    await slow.waitForAborts(1);
  });
});
