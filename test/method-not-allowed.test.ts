/**
 * A path the gateway serves, asked with the wrong method, is a 405 with
 * `Allow` in the OpenAI envelope (invalid_request_error, method_not_allowed);
 * a path nothing serves stays 404 unknown_url.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
let gw: TestGateway;
let openai: OpenAI;

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//MethodMiner', name: 'M' });
  gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner, uid: 0, incentive: 1 }] }] });
  openai = gw.client();
});

afterAll(async () => {
  await gw?.close();
  await miner?.close();
});

async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; type: string; code: string | null; param: string | null } };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  return body.error;
}

describe('wrong method', () => {
  it('405 with Allow for a known path asked with the wrong method', async () => {
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const cases: Array<[string, string, string, Record<string, string>?]> = [
      ['GET', '/v1/chat/completions', 'POST'],
      ['GET', '/v1/completions', 'POST'],
      ['PUT', '/v1/responses', 'POST'],
      ['GET', '/v1/messages', 'POST'],
      ['DELETE', '/v1/models', 'GET, HEAD'],
      ['POST', '/v1/models/sn4/llama-3.1-8b', 'GET, HEAD'],
      ['POST', '/v1/subnets/4/miners', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['PUT', '/admin/keys', 'GET, HEAD, POST', admin],
      ['PATCH', '/admin/keys/key_123', 'DELETE, GET, HEAD', admin],
      ['GET', '/admin/keys/key_123/credits', 'POST', admin],
    ];
    for (const [method, path, allow, headers] of cases) {
      const res = await gw.request(path, { method, headers });
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      const e = await expectEnvelope(res, 405, 'method_not_allowed');
      expect(e.type).toBe('invalid_request_error');
      expect(e.message).toBe(`${method} is not allowed on ${path}; use ${allow}.`);
    }
    // The stock SDK surfaces it as an APIError carrying the envelope.
    const sdk = (await openai.get('/chat/completions').catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(sdk).toBeInstanceOf(OpenAI.APIError);
    expect([sdk.status, sdk.code, sdk.type]).toEqual([405, 'method_not_allowed', 'invalid_request_error']);
  });

  it('404 unknown_url stays for paths nothing serves, whatever the method', async () => {
    for (const [method, path] of [['GET', '/v1/nope'], ['POST', '/v1/chat/completions/extra'], ['DELETE', '/v2/models']]) {
      const res = await gw.request(path ?? '', { method });
      expect(res.headers.get('allow')).toBeNull();
      await expectEnvelope(res, 404, 'unknown_url');
    }
  });
});
