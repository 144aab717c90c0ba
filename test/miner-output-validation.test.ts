/**
 * Untrusted miner output never reaches the client: each bad answer fails
 * its attempt with a reason (seen when the miner is pinned alone), and with
 * a good miner beside it the client simply gets the good answer. Redirects
 * are never followed; answers over MAX_RESPONSE_BYTES are refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type FaultMode, type MinerOptions, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let good: RunningMiner;
let trap: Server;
let trapHits = 0;
let trapUrl: string;
const started: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  good = await startMiner({ hotkeyUri: '//ValidGood', name: 'Good' });
  started.push(good);
  // Where a redirecting miner points: an internal service the gateway must never be steered to.
  trap = createServer((_req, res) => {
    trapHits++;
    res.end('{"secret":true}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/latest/meta-data`;
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  await new Promise<void>((resolve) => trap.close(() => resolve()));
});

/** A gateway over [bad miner as uid 0, the good one as uid 1]. */
async function pairWith(options: Partial<MinerOptions>, env: Record<string, string> = {}): Promise<{ gw: TestGateway; bad: RunningMiner }> {
  const bad = await startMiner({ hotkeyUri: `//Valid${options.fault ?? 'big'}`, name: 'Bad', ...options });
  const gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: bad, uid: 0, incentive: 0.5 }, { miner: good, uid: 1, incentive: 0.5 }] }],
    env: { HEDGE_MODE: 'off', ...env },
  });
  started.push(bad, gw);
  return { gw, bad };
}

const post = (gw: TestGateway, body: object, pin?: string) =>
  gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'user', content: 'x' }], ...body }, headers: pin ? { 'x-taogate-uids': pin } : {} });

async function errorOf(res: Response): Promise<{ status: number; message: string; code: string }> {
  const body = (await res.json()) as { error: { message: string; code: string } };
  return { status: res.status, message: body.error.message, code: body.error.code };
}

/** Every unpinned request succeeds through the good miner. */
async function expectAlwaysAnswered(gw: TestGateway, body: object, n = 8): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await post(gw, body);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    // Streamed text is split into chunks; the response id names the miner too.
    expect(text).toMatch(/devnet miner Good|devnet-Good-/);
  }
}

describe('miner output validation', () => {
  it.each<[FaultMode, RegExp]>([
    ['errorWith200', /answered HTTP 200 carrying an error: devnet miner fault: error with 200/],
    ['emptyChoices', /non-OpenAI shape \(choices: choices is empty\)/],
    ['wrongShape', /non-OpenAI shape \(choices/],
    ['malformed', /malformed JSON/],
    ['http500', /HTTP 500/],
    ['wrongContentType', /answered content-type "text\/html; charset=utf-8", expected application\/json/],
  ])('non-stream %s fails the attempt (%s) and fails over', async (fault, reason) => {
    const { gw } = await pairWith({ fault });
    const alone = await errorOf(await post(gw, {}, '0'));
    expect(alone.status).toBe(502);
    expect(alone.message).toMatch(reason);
    await expectAlwaysAnswered(gw, {});
  });

  it.each<[FaultMode, RegExp]>([
    ['errorWith200', /streamed an error: devnet miner fault: error with 200/],
    ['emptyChoices', /ended the stream without any choice/],
    ['wrongShape', /streamed a non-OpenAI chunk/],
    ['wrongContentType', /answered content-type "application\/json", expected text\/event-stream/],
  ])('stream %s fails the attempt before any byte reaches the client (%s)', async (fault, reason) => {
    const { gw } = await pairWith({ fault });
    const alone = await errorOf(await post(gw, { stream: true }, '0'));
    expect(alone.status).toBe(502);
    expect(alone.message).toMatch(reason);
    await expectAlwaysAnswered(gw, { stream: true });
  });

  it('never follows a redirect from a miner', async () => {
    const { gw, bad } = await pairWith({ fault: 'redirect', redirectUrl: trapUrl });
    const alone = await errorOf(await post(gw, {}, '0'));
    expect(alone.status).toBe(502);
    expect(alone.message).toMatch(/redirect \(HTTP 302\); redirects from miners are never followed/);
    await expectAlwaysAnswered(gw, {});
    await expectAlwaysAnswered(gw, { stream: true }, 3);
    expect(bad.requestCount).toBeGreaterThan(0);
    expect(trapHits).toBe(0);
  });

  it('refuses a JSON answer over MAX_RESPONSE_BYTES', async () => {
    const huge = { answer: () => 'lorem ipsum '.repeat(20_000) }; // ~240 KB
    const { gw } = await pairWith(huge, { MAX_RESPONSE_BYTES: String(64 * 1024) });
    const alone = await errorOf(await post(gw, {}, '0'));
    expect(alone.status).toBe(502);
    expect(alone.message).toMatch(/response larger than MAX_RESPONSE_BYTES/);
    await expectAlwaysAnswered(gw, {});
  });

  it('cuts a stream that grows past MAX_RESPONSE_BYTES with an error event', async () => {
    const huge = { answer: () => 'lorem ipsum '.repeat(20_000), chunkCount: 50 };
    const { gw } = await pairWith(huge, { MAX_RESPONSE_BYTES: String(64 * 1024) });
    const res = await post(gw, { stream: true }, '0');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/"code":"stream_interrupted"/);
    expect(text).toMatch(/response larger than MAX_RESPONSE_BYTES/);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('rewrites `model` to the id the client asked for, in every streamed chunk', async () => {
    const { gw } = await pairWith({ fault: 'none' });
    const res = await post(gw, { stream: true, stream_options: { include_usage: true } });
    const models = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => (JSON.parse(e.slice(6)) as { model: string }).model);
    expect(models.length).toBeGreaterThan(3);
    expect(new Set(models)).toEqual(new Set(['sn4/m']));
  });
});
