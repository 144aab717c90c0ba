/**
 * Logs never contain API keys, the admin token or prompt text, even at
 * LOG_LEVEL=trace (so at debug too): a marker prompt and marker keys go through every path a
 * request can take (answered, streamed, 400, 401, 404, 502, key creation,
 * the Anthropic route), and every captured log line is searched for them.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { createLogger } from '../src/log.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

const PROMPT_MARKER = 'PROMPT-MARKER-7f3a9c-do-not-log';
const KEY_MARKER = 'sk-tao-KEYMARKER4b1e8d0c2a6f';
const SUFFIX_MARKER = 'SUFFIX-MARKER-2c9e71';

let good: RunningMiner;
let failing: RunningMiner;
let gw: TestGateway;
const lines: string[] = [];

beforeAll(async () => {
  good = await startMiner({ hotkeyUri: '//LogPrivacyGood', name: 'G' });
  failing = await startMiner({ hotkeyUri: '//LogPrivacyBad', name: 'B', fault: 'http500' });
  gw = await startTestGateway({
    subnets: [{ netuid: 4, models: ['m'], miners: [{ miner: good, uid: 0, incentive: 0.5 }, { miner: failing, uid: 1, incentive: 0.5 }] }],
    env: { LOG_LEVEL: 'trace' },
    logger: createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } }),
  });
});

afterAll(async () => {
  await gw?.close();
  await good?.close();
  await failing?.close();
});

const chat = (content: string) => ({ model: 'sn4/m', messages: [{ role: 'user' as const, content }] });
const onGood = { 'x-taogate-uids': '0' };

describe('logs at LOG_LEVEL=trace', () => {
  it('never contain keys, the admin token or prompt text, on any request path', async () => {
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    // Key creation: the plaintext key is in the response, never in the log.
    const createdRes = await gw.request('/admin/keys', { method: 'POST', headers: admin, json: { name: 'log-privacy', credits_usd: 5 } });
    expect(createdRes.status).toBe(201);
    const created = (await createdRes.json()) as { id: string; key: string };
    const openai = gw.client({ apiKey: created.key });

    // Answered, non-stream and stream, chat and legacy completions (with a suffix).
    const answer = await openai.chat.completions.create(chat(PROMPT_MARKER), { headers: onGood });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    const stream = await openai.chat.completions.create({ ...chat(PROMPT_MARKER), stream: true, stream_options: { include_usage: true } }, { headers: onGood });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed.length).toBeGreaterThan(0);
    await openai.completions.create({ model: 'sn4/m', prompt: PROMPT_MARKER, suffix: SUFFIX_MARKER }, { headers: onGood });

    // 400: a bad field next to the prompt, and a body that is not JSON at all.
    const badRole = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/m', messages: [{ role: 'wizard', content: PROMPT_MARKER }] } });
    expect(badRole.status).toBe(400);
    const notJson = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"model":"sn4/m","messages":[{"content":"${PROMPT_MARKER}"` });
    expect(notJson.status).toBe(400);

    // 401: an unknown key, as Bearer and as x-api-key (Anthropic route), and a wrong admin token shaped like a key.
    const unknown = await gw.client({ apiKey: KEY_MARKER }).chat.completions.create(chat(PROMPT_MARKER)).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError);
    const anthropic = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { authorization: '', 'x-api-key': KEY_MARKER, 'anthropic-version': '2023-06-01' },
      json: { model: 'sn4/m', max_tokens: 16, messages: [{ role: 'user', content: PROMPT_MARKER }] },
    });
    expect(anthropic.status).toBe(401);
    expect((await gw.request('/admin/keys', { headers: { authorization: `Bearer ${KEY_MARKER}` } })).status).toBe(401);

    // 404 model, and 502: the pinned miner fails.
    const noModel = await openai.chat.completions.create({ ...chat(PROMPT_MARKER), model: 'sn4/nope' }).catch((e: unknown) => e);
    expect(noModel).toBeInstanceOf(OpenAI.NotFoundError);
    const failed = await openai.chat.completions.create(chat(PROMPT_MARKER), { headers: { 'x-taogate-uids': '1' } }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(failing.requestCount).toBeGreaterThan(0);

    // The capture worked: one access-log line per request above, with the key's id (not the key).
    const logged = lines.join('');
    const accessLines = lines.map((l) => JSON.parse(l) as { msg: string; keyId?: string }).filter((l) => l.msg === 'request');
    expect(accessLines.length).toBeGreaterThanOrEqual(11);
    expect(accessLines.some((l) => l.keyId === created.id)).toBe(true);
    expect(logged).toContain('api key created');

    for (const secret of [PROMPT_MARKER, SUFFIX_MARKER, KEY_MARKER, created.key, gw.apiKey, TEST_ADMIN_TOKEN]) {
      expect(logged.includes(secret), `"${secret}" appears in the logs`).toBe(false);
    }
    // Nor a recognisable piece of a key: a log that truncates keys still leaks most of one.
    expect(logged).not.toMatch(/sk-tao-[A-Za-z0-9_-]{6,}/);
  });
});
