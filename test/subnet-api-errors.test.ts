/**
 * What a subnet API's refusal becomes for the client: 402 and 429 arrive as
 * OpenAI errors with the same status (and Retry-After), read from each API's
 * own error shape, not as a 502 and not retried against the same API; a
 * refused gateway key is the operator's problem (502) and is never echoed;
 * the key never shows in any error text.
 */
import { createServer, type Server } from 'node:http';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSubnetApi, type RunningSubnetApi, type SubnetApiFlavor } from '../src/devnet/fake-subnet-api.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const FLAVORS: ReadonlyArray<{ flavor: SubnetApiFlavor; netuid: number }> = [
  { flavor: 'chutes', netuid: 64 },
  { flavor: 'targon', netuid: 4 },
  { flavor: 'nineteen', netuid: 19 },
];
const MODEL = 'm';
const keyOf = (flavor: string) => `upstream-secret-${flavor}-abcdef`;

const apis = new Map<SubnetApiFlavor, RunningSubnetApi>();
let echo: Server;
let echoUrl = '';
let gw: TestGateway;
let client: OpenAI;

/**
 * An API that quotes the bearer it got in its error text, as careless
 * upstreams do; the model asked for says where: a 500 (`m`), an error
 * envelope in a 200 (`error200`), a stream's first event (`stream-error-first`),
 * or a stream's event after its first chunk (`stream-error-mid`).
 */
function startEchoingApi(): Promise<void> {
  echo = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { model } = JSON.parse(body) as { model: string };
      const error = JSON.stringify({ error: { message: `backend rejected token ${req.headers.authorization}` } });
      if (model === 'error200') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(error);
      }
      if (model.startsWith('stream-error')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { role: 'assistant', content: 'partial ' } }] };
        if (model === 'stream-error-mid') res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        return res.end(`data: ${error}\n\n`);
      }
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(error);
    });
  });
  return new Promise((resolve) =>
    echo.listen(0, '127.0.0.1', () => {
      echoUrl = `http://127.0.0.1:${(echo.address() as { port: number }).port}/v1`;
      resolve();
    }),
  );
}

beforeAll(async () => {
  for (const { flavor } of FLAVORS) apis.set(flavor, await startFakeSubnetApi({ flavor, apiKey: keyOf(flavor), models: [MODEL] }));
  await startEchoingApi();
  const wrongKey = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'the-right-key', models: [MODEL] });
  apis.set('openai', wrongKey);
  gw = await startTestGateway({
    subnetConfig: {
      env: { ...Object.fromEntries(FLAVORS.map(({ flavor }) => [`KEY_${flavor}`, keyOf(flavor)])), WRONG: 'not-the-right-key-123', ECHO: 'echo-secret-key-456' },
      document: {
        subnets: [
          ...FLAVORS.map(({ flavor, netuid }) => ({ netuid, provider: 'subnet-api', api: { kind: flavor, baseUrl: apis.get(flavor)?.baseUrl, apiKeyEnv: `KEY_${flavor}` }, models: [{ name: MODEL }] })),
          { netuid: 77, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: wrongKey.baseUrl, apiKeyEnv: 'WRONG' }, models: [{ name: MODEL }] },
          {
            netuid: 78,
            provider: 'subnet-api',
            api: { kind: 'openai', baseUrl: echoUrl, apiKeyEnv: 'ECHO' },
            models: [{ name: MODEL }, { name: 'error200' }, { name: 'stream-error-first' }, { name: 'stream-error-mid' }],
          },
        ],
      },
    },
  });
  client = gw.client({ maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([...apis.values()].map((a) => a.close()));
  await new Promise<void>((resolve) => echo?.close(() => resolve()));
});

beforeEach(async () => {
  for (const api of apis.values()) {
    await api.setFault('none');
    api.reset();
  }
});

async function apiError(model: string, stream = false): Promise<APIError> {
  const request = client.chat.completions.create({ model, stream, messages: [{ role: 'user', content: 'x' }] });
  const err = await request.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  return err as APIError;
}

describe.each(FLAVORS)('$flavor', ({ flavor, netuid }) => {
  const model = `sn${netuid}/${MODEL}`;

  it('an empty balance reaches the client as a 402 OpenAI error, once, without the API’s account details', async () => {
    await apis.get(flavor)?.setFault('payment');
    for (const stream of [false, true]) {
      const err = await apiError(model, stream);
      expect(err.status).toBe(402);
      expect(err.type).toBe('insufficient_quota');
      expect(err.code).toBe('upstream_payment_required');
      expect(err.message).toContain(`sn${netuid}`);
      expect(err.message).not.toMatch(/5DevnetPaymentAddress|balance is \$/);
    }
    // Not retried against the same API: one call per request.
    expect(apis.get(flavor)?.requests.length).toBe(2);
  });

  it('a rate limit reaches the client as a 429 OpenAI error with a Retry-After when one can be known', async () => {
    await apis.get(flavor)?.setFault('rate_limit');
    const err = await apiError(model);
    expect(err.status).toBe(429);
    expect(err.type).toBe('rate_limit_error');
    expect(err.code).toBe('upstream_rate_limited');
    const retryAfter = err.headers?.get('retry-after') ?? null;
    if (flavor === 'targon') expect(retryAfter).toBe('1'); // its own header, passed on
    if (flavor === 'nineteen') expect(Number(retryAfter)).toBeGreaterThanOrEqual(1); // the rest of its calendar minute
    if (flavor === 'nineteen') expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    if (flavor === 'chutes') {
      expect(retryAfter).toBeNull(); // an nginx page: nothing to go on
      expect(err.message).toContain('429 Too Many Requests'); // the page's title, not its HTML
      expect(err.message).not.toContain('<');
    }
    expect(apis.get(flavor)?.requests.length).toBe(1);
  });

  it('no capacity is a 502 naming the subnet and what the API said', async () => {
    await apis.get(flavor)?.setFault('down');
    const err = await apiError(model);
    expect(err.status).toBe(502);
    expect(err.message).toMatch(new RegExp(`sn${netuid} \\(\\w+\\) answered HTTP 50[03]: \\S`));
  });
});

describe('the gateway’s key for an API', () => {
  it('a refused key is a 502 for the operator, never echoing the key', async () => {
    const err = await apiError('sn77/m');
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_auth_failed');
    expect(err.message).toMatch(/refused the gateway's API key \(HTTP 401\)/);
    expect(err.message).not.toContain('not-the-right-key-123');
    expect(apis.get('openai')?.requests[0]?.headers.authorization).toBe('Bearer not-the-right-key-123');
  });

  it('is scrubbed from an API’s error text that quotes it', async () => {
    const err = await apiError('sn78/m');
    expect(err.status).toBe(502);
    expect(err.message).toContain('backend rejected token Bearer [redacted]');
    expect(err.message).not.toContain('echo-secret-key-456');
  });

  it('is scrubbed from an error the API sends in a 200 body, and in a stream before or after its first chunk', async () => {
    const inJson = await apiError('sn78/error200');
    expect(inJson.status).toBe(502);
    expect(inJson.message).toContain('carrying an error: backend rejected token Bearer [redacted]');
    const beforeFirst = await apiError('sn78/stream-error-first', true);
    expect(beforeFirst.status).toBe(502);
    expect(beforeFirst.message).toContain('streamed an error: backend rejected token Bearer [redacted]');
    for (const err of [inJson, beforeFirst]) expect(err.message).not.toContain('echo-secret-key-456');
    // After the first chunk the stream is the client's: the error arrives as its last event.
    const res = await gw.request('/v1/chat/completions', { method: 'POST', json: { model: 'sn78/stream-error-mid', stream: true, messages: [{ role: 'user', content: 'x' }] } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('partial ');
    expect(text).toContain('backend rejected token Bearer [redacted]');
    expect(text).not.toContain('echo-secret-key-456');
  });

  it('a client’s Authorization and other headers are never forwarded', async () => {
    const res = await gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'x-api-key': gw.apiKey, cookie: 'session=client-cookie', 'x-custom': 'client-header' },
      json: { model: 'sn64/m', messages: [{ role: 'user', content: 'x' }] },
    });
    expect(res.status).toBe(200);
    const sent = apis.get('chutes')?.requests[0];
    expect(sent?.headers.authorization).toBe(`Bearer ${keyOf('chutes')}`);
    expect(JSON.stringify(sent?.headers)).not.toMatch(/client-cookie|client-header|sk-tao-/);
  });
});
