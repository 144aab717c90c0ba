/**
 * The gateway core through the stock openai client: real gateway, real
 * Epistula-verifying miners on loopback, metagraph from a file.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { sharedGatewayCases } from './shared/gateway-cases.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

let minerA: RunningMiner;
let minerB: RunningMiner;
let gw: TestGateway;
let openai: OpenAI;

beforeAll(async () => {
  minerA = await startMiner({ hotkeyUri: '//MinerA', name: 'A' });
  minerB = await startMiner({ hotkeyUri: '//MinerB', name: 'B' });
  gw = await startTestGateway({
    subnets: [
      {
        netuid: 4,
        models: ['llama-3.1-8b', 'qwen-coder'],
        miners: [
          { miner: minerA, uid: 0, incentive: 0.6 },
          { miner: minerB, uid: 1, incentive: 0.4 },
        ],
      },
      // Configured, but nothing on it is routable: its only miner is inactive.
      { netuid: 9, models: ['m'], miners: [{ miner: minerA, uid: 3, incentive: 1, active: false }] },
    ],
    env: { MODEL_ALIASES: JSON.stringify({ llama: ['sn4/llama-3.1-8b'] }) },
  });
  openai = gw.client();
});

afterAll(async () => {
  await gw?.close();
  await minerA?.close();
  await minerB?.close();
});

beforeEach(async () => {
  for (const m of [minerA, minerB]) {
    await m.setFault('none');
    m.reset();
  }
});

const lastRequestOf = (miners: RunningMiner[]) => miners.find((m) => m.requestCount > 0)?.lastRequest;

sharedGatewayCases(() => ({
  baseUrl: gw.url,
  apiKey: gw.apiKey,
  adminToken: TEST_ADMIN_TOKEN,
  signerSs58: gw.gateway.signer.ss58,
  netuid: 4,
  miners: [minerA, minerB],
  model: 'sn4/llama-3.1-8b',
  upstreamModel: 'llama-3.1-8b',
  coalescing: 'process',
}));

describe('chat completions', () => {
  it('keeps a client-sent x-request-id', async () => {
    const res = await gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'x-request-id': 'trace-abc.123' },
      json: { model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] },
    });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
  });

  it('passes unknown request fields through to the miner untouched', async () => {
    await openai.chat.completions.create({
      model: 'sn4/llama-3.1-8b',
      messages: [{ role: 'user', content: 'x' }],
      // @ts-expect-error a field the SDK does not know yet
      brand_new_field: { nested: [1, 2] },
    });
    const body = JSON.parse(lastRequestOf([minerA, minerB])?.body ?? '{}') as Record<string, unknown>;
    expect(body.brand_new_field).toEqual({ nested: [1, 2] });
  });

  it('resolves an alias and auto to a subnet model', async () => {
    const viaAlias = await openai.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'x' }] });
    expect(viaAlias.model).toBe('llama');
    expect(lastRequestOf([minerA, minerB])?.parsed?.model).toBe('llama-3.1-8b');
    const viaAuto = await openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'x' }] });
    expect(viaAuto.model).toBe('auto');
  });
});

describe('legacy completions', () => {
  it('fills in the middle with prompt and suffix', async () => {
    const res = await openai.completions.create({
      model: 'sn4/qwen-coder',
      prompt: 'def add(a, b):\n',
      suffix: '\nprint(add(1, 2))',
      max_tokens: 32,
    });
    expect(res.object).toBe('text_completion');
    expect(res.model).toBe('sn4/qwen-coder');
    const sent = lastRequestOf([minerA, minerB])?.parsed;
    expect(sent?.prompt).toBe('def add(a, b):\n');
    expect(sent?.suffix).toBe('\nprint(add(1, 2))');
    expect(res.choices[0]?.text.length).toBeGreaterThan(0);
  });

  it('streams legacy completions', async () => {
    const stream = await openai.completions.create({ model: 'sn4/qwen-coder', prompt: 'x = ', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(0);
  });
});

describe('models', () => {
  it('lists subnet models, aliases and auto', async () => {
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['sn4/llama-3.1-8b', 'sn4/qwen-coder', 'sn9/m', 'llama', 'auto']));
    const one = await openai.models.retrieve('sn4/llama-3.1-8b');
    expect(one.owned_by).toBe('sn4');
  });
});

describe('errors, each in the OpenAI envelope', () => {
  const expectEnvelope = async (res: Response, status: number, code: string | null) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { message: string; type: string; code: string | null; param: string | null } };
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.message.length).toBeGreaterThan(0);
    if (code !== null) expect(body.error.code).toBe(code);
    return body.error;
  };

  it('400 names the invalid field', async () => {
    const err = await openai.chat.completions
      .create({ model: 'sn4/llama-3.1-8b', messages: [{ role: 'wizard' as 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].role');
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/llama-3.1-8b', messages: [] } });
    const e = await expectEnvelope(res, 400, 'invalid_request');
    expect(e.param).toBe('messages');
    const bad = await gw.request('/v1/chat/completions', { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    await expectEnvelope(bad, 400, 'invalid_json');
  });

  it('413 for a body over 1 MiB', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: big }] } });
    await expectEnvelope(res, 413, 'request_too_large');
  });

  it('503 saying why when no miner is routable', async () => {
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn9/m', messages: [{ role: 'user', content: 'x' }] } });
    const e = await expectEnvelope(res, 503, 'no_routable_miner');
    expect(e.message).toMatch(/subnet 9.*inactive.*uid 3/);
  });

  it('502 naming how many miners were tried when every miner fails', async () => {
    await minerA.setFault('http500');
    await minerB.setFault('http500');
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] } });
    const e = await expectEnvelope(res, 502, 'all_miners_failed');
    expect(e.message).toMatch(/tried 2 miners/);
    expect(minerA.requestCount + minerB.requestCount).toBe(2);
  });

  it('413, 503 and 502 reach the stock SDK as its typed errors, with status and every envelope field', async () => {
    type SdkError = InstanceType<typeof OpenAI.APIError>;
    const fieldsOf = (err: SdkError) => ({ status: err.status, type: err.type, code: err.code, param: err.param, message: (err.error as { message?: string }).message });

    const big = (await openai.chat.completions
      .create({ model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024 + 10) }] })
      .catch((e: unknown) => e)) as SdkError;
    // The SDK has no class of its own for 413: the APIError base, with the status and our envelope.
    expect(big).toBeInstanceOf(OpenAI.APIError);
    expect(big.constructor).toBe(OpenAI.APIError);
    expect(fieldsOf(big)).toEqual({ status: 413, type: 'invalid_request_error', code: 'request_too_large', param: null, message: 'Request body is larger than 1048576 bytes.' });
    expect(big.message).toMatch(/^413 Request body is larger than 1048576 bytes\./);

    const noMiner = (await openai.chat.completions.create({ model: 'sn9/m', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as SdkError;
    expect(noMiner).toBeInstanceOf(OpenAI.InternalServerError);
    expect(fieldsOf(noMiner)).toEqual({ status: 503, type: 'server_error', code: 'no_routable_miner', param: null, message: expect.stringMatching(/subnet 9.*inactive/) });
    expect(noMiner.requestID).toMatch(/[0-9a-f-]{36}/);

    await minerA.setFault('http500');
    await minerB.setFault('http500');
    const failed = (await openai.chat.completions.create({ model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as SdkError;
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect(fieldsOf(failed)).toEqual({ status: 502, type: 'upstream_error', code: 'all_miners_failed', param: null, message: expect.stringMatching(/tried 2 miners/) });
  });

  it('404 envelope for unknown routes', async () => {
    await expectEnvelope(await gw.request('/v1/nope'), 404, 'unknown_url');
    await expectEnvelope(await gw.request('/v1/chat/completions/extra', { method: 'POST', json: {} }), 404, 'unknown_url');
  });
});

describe('pinning miners with x-taogate-uids', () => {
  it('sends only to the pinned uid', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await gw.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'x-taogate-uids': '1' },
        json: { model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-taogate-miner')).toBe(`4/1/${minerB.hotkey}`);
    }
    expect(minerA.requestCount).toBe(0);
  });

  it('503 when no pinned uid is routable, 400 for a malformed header', async () => {
    const body = { model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] };
    const none = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '7' }, json: body });
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/uid 7 is not on subnet 4/);
    const bad = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '1,abc' }, json: body });
    expect(bad.status).toBe(400);
  });

  it('503 naming why when the pinned uid is on the subnet but not routable (inactive)', async () => {
    // Subnet 9's uid 3 is minerA's axon, published but inactive: pinning does not get past that guard.
    const res = await gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'x-taogate-uids': '3' },
      json: { model: 'sn9/m', messages: [{ role: 'user', content: 'x' }] },
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: Record<string, unknown> }).error).toEqual({
      type: 'server_error',
      code: 'no_routable_miner',
      param: null,
      message: expect.stringMatching(/uid 3 is not routable \(inactive\)/),
    });
    expect(minerA.requestCount).toBe(0);
  });

  it('reuses pooled keep-alive connections to a miner: 20 requests, at most 2 connections', async () => {
    const body = { model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'x' }] };
    for (let i = 0; i < 20; i++) {
      const res = await gw.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-uids': '0' }, json: body });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(minerA.requestCount).toBe(20);
    expect(minerA.acceptedConnections).toBeLessThanOrEqual(2);
  });
});

describe('snapshot and health endpoints', () => {
  it('shows the ranked snapshot with its source and version', async () => {
    const res = await gw.request('/v1/subnets/4/miners');
    const body = (await res.json()) as { source: string; version: string; rank_policy: string; data: Array<{ uid: number; rank: number; hotkey: string }> };
    expect(body.source).toBe('file');
    expect(body.version).toMatch(/^[0-9a-f]{12}$/);
    expect(body.rank_policy).toBe('incentive');
    expect(body.data.map((m) => m.uid)).toEqual([0, 1]);
    const list = (await (await gw.request('/v1/subnets')).json()) as { data: Array<{ netuid: number; routable: number }> };
    expect(list.data).toEqual(expect.arrayContaining([expect.objectContaining({ netuid: 4, routable: 2 }), expect.objectContaining({ netuid: 9, routable: 0 })]));
    expect((await gw.request('/v1/subnets/77/miners')).status).toBe(404);
  });

  it('refuses metagraph pushes: a Node gateway reads its own source (only the Workers build takes them)', async () => {
    const res = await gw.request('/admin/metagraph', { method: 'PUT', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: '{}' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'metagraph_not_pushable', message: expect.stringMatching(/file source/) });
  });

  it('healthz and readyz', async () => {
    expect((await gw.request('/healthz')).status).toBe(200);
    const ready = await gw.request('/readyz');
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { routable_miners: number }).routable_miners).toBe(2);
  });
});
