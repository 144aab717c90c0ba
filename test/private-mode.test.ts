/**
 * Private mode: a private key, or `x-taogate-private: 1`, routes only to
 * subnets marked private, never fails over to one that is not, says
 * `x-taogate-private: 1` (and no-store) on every answer and error, and
 * answers 503 saying so when no private subnet can serve.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { startFakeSubnetApi, type RunningSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { createLogger } from '../src/log.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

let tee: RunningSubnetApi;
let open: RunningSubnetApi;
let gw: TestGateway;
let privateKey = '';

const document = () => ({
  subnets: [
    { netuid: 19, provider: 'subnet-api', api: { kind: 'nineteen', baseUrl: open.baseUrl, apiKeyEnv: 'OPEN_KEY' }, models: [{ name: 'deepseek-v3', upstream: 'deepseek' }] },
    { netuid: 4, provider: 'subnet-api', private: true, api: { kind: 'targon', baseUrl: tee.baseUrl, apiKeyEnv: 'TEE_KEY' }, models: [{ name: 'deepseek-v3', upstream: 'deepseek' }] },
  ],
  aliases: { deepseek: ['sn19/deepseek-v3', 'sn4/deepseek-v3'] },
});

beforeAll(async () => {
  tee = await startFakeSubnetApi({ flavor: 'targon', apiKey: 'tee-key', models: ['deepseek'], name: 'tee' });
  open = await startFakeSubnetApi({ flavor: 'nineteen', apiKey: 'open-key', models: ['deepseek'], name: 'open' });
  gw = await startTestGateway({ subnetConfig: { document: document(), env: { TEE_KEY: 'tee-key', OPEN_KEY: 'open-key' } } });
  const created = await fetch(`${gw.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'private one', private: true }),
  });
  const body = (await created.json()) as { key: string; private: boolean };
  expect(body.private).toBe(true);
  privateKey = body.key;
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([tee, open].map((a) => a?.close()));
});

beforeEach(async () => {
  for (const api of [tee, open]) {
    await api.setFault('none');
    api.reset();
  }
});

const chat = (model: string, headers: Record<string, string> = {}, apiKey?: string, stream = false) =>
  gw.request('/v1/chat/completions', {
    method: 'POST',
    headers: { ...headers, ...(apiKey && { authorization: `Bearer ${apiKey}` }) },
    json: { model, stream, messages: [{ role: 'user', content: 'a secret' }] },
  });

describe('private mode', () => {
  it('a normal request takes the alias in order (the non-private subnet first) and is not marked private', async () => {
    const res = await chat('deepseek');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
    expect(res.headers.get('x-taogate-private')).toBeNull();
  });

  it('x-taogate-private: 1 routes the alias only to the private subnet and says so', async () => {
    for (const stream of [false, true]) {
      const res = await chat('deepseek', { 'x-taogate-private': '1' }, undefined, stream);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-taogate-served-model')).toBe('sn4/deepseek-v3');
      expect(res.headers.get('x-taogate-private')).toBe('1');
      expect(res.headers.get('cache-control')).toBe('no-store');
      await res.text();
    }
    expect(open.requests).toHaveLength(0);
    expect(tee.requests).toHaveLength(2);
  });

  it('a key created private is private without the header, through the stock client too', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: privateKey, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toContain('devnet miner tee');
    expect(response.headers.get('x-taogate-private')).toBe('1');
    expect(response.headers.get('x-taogate-served-model')).toBe('sn4/deepseek-v3');
    // The key's flag cannot be switched off by a header.
    const res = await chat('deepseek', { 'x-taogate-private': '0' }, privateKey);
    expect(res.headers.get('x-taogate-served-model')).toBe('sn4/deepseek-v3');
    expect(open.requests).toHaveLength(0);
  });

  it('never fails over to a subnet that is not private', async () => {
    await tee.setFault('down');
    const res = await chat('deepseek', { 'x-taogate-private': '1' });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-taogate-private')).toBe('1');
    expect(open.requests).toHaveLength(0);
  });

  it('503 saying so when the model has no private subnet', async () => {
    const res = await chat('sn19/deepseek-v3', { 'x-taogate-private': '1' });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-taogate-private')).toBe('1');
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('no_private_subnet');
    expect(error.message).toMatch(/private mode: no private subnet can serve `sn19\/deepseek-v3` \(the private subnets are sn4\)/);
    expect(open.requests).toHaveLength(0);
  });

  it('a bad header value is a 400 naming the header', async () => {
    const res = await chat('deepseek', { 'x-taogate-private': 'maybe' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('x-taogate-private');
  });

  it.each([
    ['/v1/chat/completions', { model: 'deepseek', messages: 'not a list' }, 'messages'],
    ['/v1/completions', { model: 'deepseek' }, 'prompt'],
    ['/v1/responses', { model: 'deepseek', input: 42 }, 'input'],
    ['/v1/messages', { model: 'deepseek', messages: [{ role: 'user', content: 'a secret' }] }, 'max_tokens'],
  ] as const)('%s: a body refused before routing (400, 413) is marked private too, by the header or the key', async (path, invalid, field) => {
    const post = (json: unknown, headers: Record<string, string>) => gw.request(path, { method: 'POST', headers, json });
    const asKey = { authorization: `Bearer ${privateKey}` };
    const tooLarge = { ...invalid, padding: 'x'.repeat(1024 * 1024 + 10) };
    const responses = [await post(invalid, { 'x-taogate-private': '1' }), await post(invalid, asKey), await post(tooLarge, { 'x-taogate-private': '1' }), await post(tooLarge, asKey)];
    expect(responses.map((r) => r.status)).toEqual([400, 400, 413, 413]);
    for (const res of responses) {
      expect(res.headers.get('x-taogate-private')).toBe('1');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    // Still each API's own error envelope, naming the field.
    expect(JSON.stringify(await responses[0]?.json())).toContain(field);
    await Promise.all(responses.slice(1).map((r) => r.text()));
    // Not private: no marking.
    const normal = await post(invalid, {});
    expect(normal.status).toBe(400);
    expect(normal.headers.get('x-taogate-private')).toBeNull();
    expect(normal.headers.get('cache-control')).not.toBe('no-store');
    await normal.text();
    expect(tee.requests).toHaveLength(0);
  });

  it('/v1/models marks models of private subnets', async () => {
    const { data } = (await (await gw.request('/v1/models')).json()) as { data: Array<{ id: string; taogate: { private: boolean } }> };
    const byId = new Map(data.map((m) => [m.id, m.taogate.private]));
    expect(byId.get('sn4/deepseek-v3')).toBe(true);
    expect(byId.get('sn19/deepseek-v3')).toBe(false);
    expect(byId.get('deepseek')).toBe(false);
  });
});

describe('private mode on the Responses and Messages APIs', () => {
  const bodies = {
    '/v1/responses': (stream: boolean) => ({ model: 'deepseek', stream, temperature: 0, input: 'a cacheable secret' }),
    '/v1/messages': (stream: boolean) => ({ model: 'deepseek', stream, temperature: 0, max_tokens: 64, messages: [{ role: 'user', content: 'a cacheable secret' }] }),
  } as const;

  it.each(Object.keys(bodies) as Array<keyof typeof bodies>)('%s: routed to private subnets only, marked private, never cached', async (path) => {
    const statuses: Array<string | null> = [];
    for (const stream of [false, false, true, true]) {
      const res = await gw.request(path, { method: 'POST', headers: { 'x-taogate-private': '1' }, json: bodies[path](stream) });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-taogate-served-model')).toBe('sn4/deepseek-v3');
      expect(res.headers.get('x-taogate-private')).toBe('1');
      expect(res.headers.get('cache-control')).toBe('no-store');
      statuses.push(res.headers.get('x-taogate-cache'));
      const text = await res.text();
      if (!stream) expect(text).toContain('devnet miner tee');
    }
    // Deterministic (temperature 0), so cacheable if it were not private: each one went to the subnet.
    expect(statuses).toEqual(['BYPASS', 'BYPASS', 'BYPASS', 'BYPASS']);
    expect(tee.requests).toHaveLength(4);
    expect(open.requests).toHaveLength(0);
    // The same request without private mode is cached: the BYPASS above was private mode's doing.
    const open1 = await gw.request(path, { method: 'POST', json: bodies[path](false) });
    const open2 = await gw.request(path, { method: 'POST', json: bodies[path](false) });
    expect([open1.headers.get('x-taogate-cache'), open2.headers.get('x-taogate-cache')]).toEqual(['MISS', 'HIT']);
    expect(open1.headers.get('x-taogate-private')).toBeNull();
    await Promise.all([open1.text(), open2.text()]);
  });
});

describe('a gateway without private subnets', () => {
  it('answers every private request 503, saying it has none', async () => {
    const plain = await startTestGateway({ subnetConfig: { document: { subnets: [document().subnets[0]] }, env: { OPEN_KEY: 'open-key' } } });
    try {
      const res = await plain.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-private': '1' }, json: { model: 'auto', messages: [{ role: 'user', content: 'x' }] } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('this gateway has no subnet marked private');
      expect(open.requests).toHaveLength(0);
    } finally {
      await plain.close();
    }
  });
});

describe('logs', () => {
  it('hold no prompt, answer or key of a private request, even at trace level', async () => {
    let logged = '';
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => ((logged += chunk.toString()), done()) });
    const traced = await startTestGateway({
      logger: createLogger({ level: 'trace', destination }),
      subnetConfig: { document: document(), env: { TEE_KEY: 'tee-key', OPEN_KEY: 'open-key' } },
    });
    try {
      const secret = 'my-very-secret-prompt-4711';
      for (const stream of [false, true]) {
        const res = await traced.request('/v1/chat/completions', { method: 'POST', headers: { 'x-taogate-private': '1' }, json: { model: 'deepseek', stream, messages: [{ role: 'user', content: secret }] } });
        expect(res.status).toBe(200);
        expect(await res.text()).toContain(secret); // the fake echoes it back
      }
      expect(logged).toContain('"path":"/v1/chat/completions"'); // the access log did run
      expect(logged).not.toContain(secret);
      expect(logged).not.toContain('tee-key');
      expect(logged).not.toContain(traced.apiKey);
    } finally {
      await traced.close();
    }
  });
});

describe('/v1/compare in private mode', () => {
  it('routes every target to private subnets only and keeps the comparison off the leaderboard', async () => {
    const res = await gw.request('/v1/compare', {
      method: 'POST',
      headers: { 'x-taogate-private': '1' },
      json: { prompt: 'a secret', targets: ['sn4', 'sn19/deepseek-v3'], checks: [{ type: 'contains', value: 'secret' }] },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-taogate-private')).toBe('1');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { leaderboard: string; entries: Array<{ target: string; served_model: string | null; error: { status: number; code: string } | null }> };
    expect(body.leaderboard).toBe('private');
    expect(body.entries[0]).toMatchObject({ target: 'sn4', served_model: 'sn4/deepseek-v3', error: null });
    expect(body.entries[1]).toMatchObject({ target: 'sn19/deepseek-v3', served_model: null, error: { status: 503, code: 'no_private_subnet' } });
    expect(open.requests).toHaveLength(0);
  });

  it('refuses a judge that cannot be routed privately before any target is sent or billed', async () => {
    const res = await gw.request('/v1/compare', {
      method: 'POST',
      headers: { 'x-taogate-private': '1' },
      json: { prompt: 'a secret', targets: ['sn4'], judge: 'sn19/deepseek-v3' },
    });
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: { code: string; param: string; message: string } };
    expect(error).toMatchObject({ code: 'no_private_subnet', param: 'judge' });
    expect(error.message).toMatch(/^judge: private mode: no private subnet can serve `sn19\/deepseek-v3`/);
    expect(tee.requests).toHaveLength(0);
    expect(open.requests).toHaveLength(0);
    // An alias with a private candidate passes this check; here that candidate is the compared subnet's own API, which may not judge itself.
    const alias = await gw.request('/v1/compare', { method: 'POST', headers: { 'x-taogate-private': '1' }, json: { prompt: 'a secret', targets: ['sn4'], judge: 'deepseek' } });
    expect(((await alias.json()) as { error: { code: string } }).error.code).toBe('judge_is_contestant');
    expect(tee.requests).toHaveLength(0);
  });

  it('marks its stream and its errors private too, whether the key or the header asked for it', async () => {
    const compare = (json: unknown, headers: Record<string, string>) => gw.request('/v1/compare', { method: 'POST', headers, json });
    const asKey = { authorization: `Bearer ${privateKey}` };
    const responses = [
      await compare({ prompt: 'a secret', targets: ['sn4'], stream: true }, { 'x-taogate-private': '1' }),
      await compare({ prompt: 'a secret', targets: ['sn4'], stream: true }, asKey),
      await compare({ prompt: 'x', targets: ['sn99'] }, { 'x-taogate-private': '1' }),
      await compare({ prompt: 'x', targets: ['sn4'], judge: 'sn77/nope' }, asKey),
      await compare({ prompt: 'x', targets: ['sn4'], typo: 1 }, asKey),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 400, 404, 400]);
    for (const res of responses) {
      expect(res.headers.get('x-taogate-private')).toBe('1');
      expect(res.headers.get('cache-control')).toBe('no-store');
      await res.text();
    }
    expect(responses[0]?.headers.get('content-type')).toContain('text/event-stream');
    // Not private: no marking.
    const normal = await compare({ prompt: 'x', targets: ['sn99'] }, {});
    expect(normal.headers.get('x-taogate-private')).toBeNull();
  });

  it('without it, the same comparison reaches both subnets and is recorded', async () => {
    const res = await gw.request('/v1/compare', { method: 'POST', json: { prompt: 'open', targets: ['sn4', 'sn19/deepseek-v3'], checks: [{ type: 'contains', value: 'open' }] } });
    const body = (await res.json()) as { leaderboard: string; entries: Array<{ error: unknown }> };
    expect(body.entries.map((e) => e.error)).toEqual([null, null]);
    // Subnet APIs stand on the leaderboard under their upstream ids.
    expect(body.leaderboard).toBe('recorded');
  });
});

describe('the response cache in private mode', () => {
  it('never reads nor writes a private request, even one that is cacheable', async () => {
    const ask = (headers: Record<string, string>, apiKey?: string) =>
      gw.request('/v1/chat/completions', {
        method: 'POST',
        headers: { ...headers, ...(apiKey && { authorization: `Bearer ${apiKey}` }) },
        json: { model: 'sn4/deepseek-v3', temperature: 0, messages: [{ role: 'user', content: 'a cacheable secret' }] },
      });
    const statuses: Array<string | null> = [];
    for (const [headers, apiKey] of [[{}], [{}], [{ 'x-taogate-private': '1' }], [{ 'x-taogate-private': '1' }], [{}, privateKey]] as const) {
      const res = await ask(headers, apiKey);
      expect(res.status).toBe(200);
      statuses.push(res.headers.get('x-taogate-cache'));
      await res.text();
    }
    // Stored by the public request, yet not read for the private ones, which call the subnet each time.
    expect(statuses).toEqual(['MISS', 'HIT', 'BYPASS', 'BYPASS', 'BYPASS']);
    expect(tee.requests).toHaveLength(4);
  });

  it('stays uncached when a sampled private request opts in to caching', async () => {
    const ask = (headers: Record<string, string>) =>
      gw.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'x-taogate-cache-nondeterministic': '1', ...headers },
        json: { model: 'sn4/deepseek-v3', temperature: 0.7, messages: [{ role: 'user', content: 'a sampled secret' }] },
      });
    const statuses: Array<string | null> = [];
    for (const headers of [{ 'x-taogate-private': '1' }, { 'x-taogate-private': '1' }, {}, {}] as Array<Record<string, string>>) {
      const res = await ask(headers);
      expect(res.status).toBe(200);
      statuses.push(res.headers.get('x-taogate-cache'));
      await res.text();
    }
    // The opt-in works for the public request (MISS then HIT); private mode wins over it.
    expect(statuses).toEqual(['BYPASS', 'BYPASS', 'MISS', 'HIT']);
    expect(tee.requests).toHaveLength(3);
  });
});
