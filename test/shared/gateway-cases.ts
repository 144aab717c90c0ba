/**
 * Gateway behaviour that must hold on every runtime, written once and run
 * by each runtime's test file against its own gateway: test/gateway-core.test.ts
 * (Node, `npm start`'s build) and test/worker.test.ts (the Worker bundle in
 * workerd). A case added here runs on both; a runtime that cannot pass it
 * yet fails, which is the point. The target serves `model` on one subnet
 * through `miners`, which verify Epistula signatures.
 */
import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunningMiner } from '../../src/devnet/miner.js';
import { parsePublicKey, verifyReceipt } from '../../src/metering/receipts.js';

export interface GatewayUnderTest {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** A key created through the admin API. */
  readonly apiKey: string;
  readonly adminToken: string;
  /** ss58 of the hotkey the gateway signs with. */
  readonly signerSs58: string;
  readonly netuid: number;
  /** Miners of `netuid`; miners[i] is uid i. */
  readonly miners: readonly RunningMiner[];
  /** The client-facing id (sn<netuid>/<name>) and the name the miners see. */
  readonly model: string;
  readonly upstreamModel: string;
  /**
   * How identical requests in flight at once share one miner call.
   * `process` (Node): every follower reads the leader's answer or live stream.
   * `store` (Workers): a request may not wait on another request's I/O there,
   * so requests coordinate through the store alone (README "Response cache"):
   * JSON requests wait on the first one's claim, streams call at once.
   */
  readonly coalescing: 'process' | 'store';
}

export function gatewayClient(target: GatewayUnderTest, apiKey = target.apiKey): OpenAI {
  return new OpenAI({ baseURL: `${target.baseUrl}/v1`, apiKey, maxRetries: 0 });
}

export function adminRequest(target: GatewayUnderTest, path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  return fetch(`${target.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': 'application/json' },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

const servedBy = (target: GatewayUnderTest) => target.miners.find((m) => m.requestCount > 0);
const minerCalls = (target: GatewayUnderTest) => target.miners.reduce((n, m) => n + m.requestCount, 0);

/** A legacy completion of about 2 MiB (over the targets' MAX_BODY_BYTES) in 64 KiB pieces; chat never gets to parse it. */
function oversizedBody(model: string): Uint8Array[] {
  const text = JSON.stringify({ model, prompt: 'x'.repeat(2 * 1024 * 1024) });
  const bytes = new TextEncoder().encode(text);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 64 * 1024) pieces.push(bytes.subarray(i, i + 64 * 1024));
  return pieces;
}

/**
 * POSTs `pieces` as a stream, so the request goes out with
 * `transfer-encoding: chunked` and no content-length: the size is only
 * known by counting what arrives.
 */
async function postChunked(url: string, apiKey: string, pieces: readonly Uint8Array[]): Promise<{ status: number; body: unknown }> {
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[next++];
      if (piece) controller.enqueue(piece);
      else controller.close();
    },
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: await res.json() };
}

/** One chat completion, JSON or streamed, as its text and cache status. */
async function askOnce(client: OpenAI, body: OpenAI.ChatCompletionCreateParamsNonStreaming, stream: boolean): Promise<{ text: string; cache: string | null }> {
  if (!stream) {
    const { data, response } = await client.chat.completions.create(body).withResponse();
    return { text: data.choices[0]?.message.content ?? '', cache: response.headers.get('x-taogate-cache') };
  }
  const { data, response } = await client.chat.completions.create({ ...body, stream: true }).withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
  return { text, cache: response.headers.get('x-taogate-cache') };
}

export function sharedGatewayCases(target: () => GatewayUnderTest): void {
  describe('shared gateway cases', () => {
    beforeEach(async () => {
      for (const m of target().miners) {
        await m.setFault('none');
        m.reset();
      }
    });

    it('answers a chat completion through an Epistula-verifying miner, with the requested model id and miner header', async () => {
      const t = target();
      const { data, response } = await gatewayClient(t)
        .chat.completions.create({ model: t.model, messages: [{ role: 'user', content: 'hello there' }] })
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe(t.model);
      expect(data.choices[0]?.message.content).toMatch(/devnet miner/);
      expect(data.usage?.total_tokens).toBeGreaterThan(0);
      expect(response.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
      const minerHeader = response.headers.get('x-taogate-miner') ?? '';
      const [netuid, uid, hotkey] = minerHeader.split('/');
      expect(Number(netuid)).toBe(t.netuid);
      const served = t.miners[Number(uid)];
      expect(served?.hotkey).toBe(hotkey);
      // The miner checked the signature (it answers 401 otherwise) and recorded what it was sent.
      const sent = served?.lastRequest;
      expect(sent?.parsed?.model).toBe(t.upstreamModel);
      expect(sent?.headers['epistula-signed-by']).toBe(t.signerSs58);
      expect(sent?.headers['epistula-signed-for']).toBe(served?.hotkey);
      expect(sent?.headers['epistula-request-signature']).toMatch(/^0x[0-9a-f]{128}$/);
    });

    it('streams chunk by chunk, ending with a usage chunk when asked', async () => {
      const t = target();
      const stream = await gatewayClient(t).chat.completions.create({
        model: t.model,
        messages: [{ role: 'user', content: 'stream me a story' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.length).toBeGreaterThan(3);
      expect(chunks.every((c) => c.model === t.model)).toBe(true);
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(text).toMatch(/devnet miner/);
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
      expect(servedBy(t)?.lastRequest?.parsed?.stream).toBe(true);
    });

    it('passes a stream through as it arrives: chunks reach the client while the miner is still answering', async () => {
      const t = target();
      // The miners send two events, then hold the answer open without finishing it.
      for (const m of t.miners) await m.setFault('stallMidStream');
      const controller = new AbortController();
      const stream = await gatewayClient(t).chat.completions.create(
        { model: t.model, messages: [{ role: 'user', content: 'x' }], stream: true },
        { signal: controller.signal },
      );
      // A gateway that buffered the body would have nothing to give until the miner finished.
      const first = await stream[Symbol.asyncIterator]().next();
      expect(first.done).toBe(false);
      expect(first.value?.model).toBe(t.model);
      expect(servedBy(t)?.lastRequest?.parsed?.stream).toBe(true);
      controller.abort();
    });

    it('signs a receipt for each answer that verifies offline against the published key and names the miner that served', async () => {
      const t = target();
      const published = (await (await fetch(`${t.baseUrl}/v1/receipts/public-key`)).json()) as { public_key_hex: string };
      const { response } = await gatewayClient(t).chat.completions.create({ model: t.model, messages: [{ role: 'user', content: 'receipt please' }] }).withResponse();
      const check = verifyReceipt(response.headers.get('x-taogate-receipt') ?? '', parsePublicKey(published.public_key_hex));
      expect(check.valid).toBe(true);
      const [netuid, uid, hotkey] = (response.headers.get('x-taogate-miner') ?? '').split('/');
      expect(check.valid && check.body).toMatchObject({ model: t.model, request_id: response.headers.get('x-request-id'), miner: { netuid: Number(netuid), uid: Number(uid), hotkey } });
    });

    it('401 in the OpenAI envelope for a missing or unknown key; an admin-created key works until it is revoked', async () => {
      const t = target();
      const missing = await fetch(`${t.baseUrl}/v1/models`);
      expect(missing.status).toBe(401);
      expect(await missing.json()).toEqual({
        error: { type: 'authentication_error', code: 'missing_api_key', param: null, message: expect.stringMatching(/^Missing API key: send it as "Authorization: Bearer sk-tao-…"/) },
      });
      // Unknown and revoked keys get one answer: it does not tell a guesser whether a key ever existed.
      const badKey = { type: 'authentication_error', code: 'invalid_api_key', param: null, message: 'Incorrect API key provided, or the key was revoked.' };
      const unknown = await fetch(`${t.baseUrl}/v1/models`, { headers: { authorization: 'Bearer sk-tao-not-a-real-key' } });
      expect(unknown.status).toBe(401);
      expect(await unknown.json()).toEqual({ error: badKey });
      expect(await gatewayClient(t, 'sk-tao-not-a-real-key').models.list().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);

      const created = (await (await adminRequest(t, '/admin/keys', { method: 'POST', json: { name: 'doomed' } })).json()) as { id: string; key: string };
      const client = gatewayClient(t, created.key);
      const ask = () => client.chat.completions.create({ model: t.model, messages: [{ role: 'user', content: 'x' }] });
      expect((await ask()).object).toBe('chat.completion');
      expect((await adminRequest(t, `/admin/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200);
      const revoked = (await ask().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.AuthenticationError>;
      expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(revoked.error).toEqual(badKey);
    });

    it('413 for a chunked body over the limit that declares no length, on chat and legacy completions, without calling a miner', async () => {
      const t = target();
      for (const path of ['/v1/chat/completions', '/v1/completions']) {
        const res = await postChunked(`${t.baseUrl}${path}`, t.apiKey, oversizedBody(t.model));
        expect(res.status).toBe(413);
        expect(res.body).toEqual({ error: { type: 'invalid_request_error', code: 'request_too_large', param: null, message: expect.stringMatching(/^Request body is larger than \d+ bytes\.$/) } });
      }
      expect(minerCalls(t)).toBe(0);
    });

    it('streams legacy completions with a usage chunk last when asked, and none when not', async () => {
      const t = target();
      const prompt = { model: t.model, prompt: 'def fib(n):', suffix: '\n    return a', max_tokens: 32 };
      const chunks: OpenAI.Completion[] = [];
      for await (const chunk of await gatewayClient(t).completions.create({ ...prompt, stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.every((c) => c.model === t.model && c.object === 'text_completion')).toBe(true);
      expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toMatch(/devnet miner/);
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
      expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
      expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true);
      expect(servedBy(t)?.lastRequest?.parsed?.endpoint).toBe('completions');

      const unasked: OpenAI.Completion[] = [];
      for await (const chunk of await gatewayClient(t).completions.create({ ...prompt, stream: true })) unasked.push(chunk);
      expect(unasked.length).toBeGreaterThan(2);
      expect(unasked.some((c) => c.usage)).toBe(false);
    });

    it('serves an identical deterministic request from the cache: HIT with age, and no miner sees it', async () => {
      const t = target();
      // A nonce keeps this entry apart from other runs that share the store.
      const body = { model: t.model, temperature: 0, messages: [{ role: 'user' as const, content: `cache me ${crypto.randomUUID()}` }] };
      const first = await gatewayClient(t).chat.completions.create(body).withResponse();
      expect(first.response.headers.get('x-taogate-cache')).toBe('MISS');
      const calls = t.miners.reduce((n, m) => n + m.requestCount, 0);
      expect(calls).toBe(1);

      const second = await gatewayClient(t).chat.completions.create(body).withResponse();
      expect(second.response.headers.get('x-taogate-cache')).toBe('HIT');
      expect(Number(second.response.headers.get('age'))).toBeGreaterThanOrEqual(0);
      expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
      expect(second.data.model).toBe(t.model);
      expect(t.miners.reduce((n, m) => n + m.requestCount, 0)).toBe(calls);

      // Not deterministic: never from the cache.
      const sampled = await gatewayClient(t).chat.completions.create({ ...body, temperature: 0.7 }).withResponse();
      expect(sampled.response.headers.get('x-taogate-cache')).toBe('BYPASS');
      expect(t.miners.reduce((n, m) => n + m.requestCount, 0)).toBe(calls + 1);
    });

    for (const stream of [false, true]) {
      it(`answers identical ${stream ? 'streamed' : 'JSON'} requests sent at once, every one of them, calling the miner once where the runtime can share the call`, async () => {
        const t = target();
        const client = gatewayClient(t);
        const body = { model: t.model, temperature: 0, messages: [{ role: 'user' as const, content: `all together ${crypto.randomUUID()}` }] };
        const answers = await Promise.all(Array.from({ length: 5 }, () => askOnce(client, body, stream)));
        for (const a of answers) expect(a.text).toMatch(/devnet miner/);
        const calls = minerCalls(t);
        // Every miner call is a MISS; every other answer was shared (HIT).
        expect(answers.filter((a) => a.cache === 'MISS')).toHaveLength(calls);
        expect(answers.filter((a) => a.cache === 'HIT')).toHaveLength(answers.length - calls);
        if (t.coalescing === 'process' || !stream) {
          expect(calls).toBe(1);
          expect(new Set(answers.map((a) => a.text)).size).toBe(1);
        } else {
          expect(calls).toBeGreaterThanOrEqual(1);
        }
      });
    }

    it('404 model_not_found in the OpenAI envelope for unknown models and unconfigured subnets', async () => {
      const t = target();
      for (const model of ['gpt-4o', 'sn65000/whatever', `sn${t.netuid}/not-served`]) {
        const res = await fetch(`${t.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
        });
        expect(res.status).toBe(404);
        const { error } = (await res.json()) as { error: Record<string, unknown> };
        expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
        expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
      }
      const sdk = await gatewayClient(t).chat.completions.create({ model: 'sn65000/x', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(sdk).toBeInstanceOf(OpenAI.NotFoundError);
    });
  });
}
