/**
 * `npm start` with neither SUBTENSOR_URL nor METAGRAPH_FILE: the embedded
 * devnet comes up, says so loudly, and a stock client gets answers from it.
 * Runs the real entry (src/server.ts) in a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../src/chain/snapshot-codec.js';
import { silentLogger } from '../src/log.js';
import { createRedisStore } from '../src/store/redis.js';
import { freePort } from './support/free-port.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_PREFIX = `test:devnet:${randomUUID()}:`;

let child: ChildProcess;
let output = '';
let baseUrl = '';
let apiKey = '';

beforeAll(async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', REDIS_URL, REDIS_PREFIX };
  // HOST unset too: the devnet must then serve on loopback only.
  for (const name of ['SUBTENSOR_URL', 'METAGRAPH_FILE', 'NETUIDS', 'HOST']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet did not start:\n${output}`)), 25_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const key = /API key:\s+(sk-tao-\S+)/.exec(output);
      const url = /base URL:\s+(\S+)/.exec(output);
      if (key?.[1] && url?.[1] && output.includes('the real chain')) {
        apiKey = key[1];
        baseUrl = url[1];
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}, 40_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('npm start on the embedded devnet', () => {
  it('says loudly that it runs a devnet, with a key and a ready curl line', () => {
    expect(output).toMatch(/EMBEDDED LOCAL DEVNET/);
    expect(output).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions -H "Authorization: Bearer sk-tao-/);
    expect(output).toMatch(/SUBTENSOR_URL=finney/);
  });

  it('serves on loopback only when HOST is unset, and says so next to the key', () => {
    expect(output).toMatch(/listening on 127\.0\.0\.1 only: nothing is reachable from other machines/);
    expect(output).toMatch(/base URL:\s+http:\/\/127\.0\.0\.1:\d+\/v1/);
  });

  it('answers chat through Epistula-verified devnet miners, streamed and not', async () => {
    const client = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'sn4/llama-3.1-8b', messages: [{ role: 'user', content: 'hello devnet' }] });
    expect(answer.choices[0]?.message.content).toMatch(/devnet miner sn4-\d/);
    const stream = await client.chat.completions.create({ model: 'sn62/qwen-coder-32b', messages: [{ role: 'user', content: 'write code' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toMatch(/devnet miner sn62-\d/);
  });

  it('shows the simulated chain as the source, with a ticking block', async () => {
    const first = (await (await fetch(`${baseUrl}/subnets`)).json()) as { source: string; block: number; data: Array<{ netuid: number; routable: number; provider: string }> };
    expect(first.source).toBe('devnet');
    expect(first.data.map((s) => [s.netuid, s.routable, s.provider])).toEqual([
      [4, 3, 'openai-epistula'],
      [62, 2, 'openai-epistula'],
      [64, 1, 'subnet-api:chutes'],
      [19, 1, 'subnet-api:nineteen'],
    ]);
    await expect
      .poll(async () => ((await (await fetch(`${baseUrl}/subnets`)).json()) as { block: number }).block, { timeout: 15_000, interval: 500 })
      .toBeGreaterThan(first.block);
    expect((await fetch(`${baseUrl.replace(/\/v1$/, '')}/readyz`)).status).toBe(200);
  });

  it('saves the devnet snapshot to the store (REDIS_URL), as the chain source does', async () => {
    const store = await createRedisStore({ url: REDIS_URL, prefix: REDIS_PREFIX, logger: silentLogger() });
    try {
      let saved: string | null = null;
      await expect.poll(async () => (saved = await store.get('metagraph:snapshot:devnet')), { timeout: 15_000, interval: 250 }).not.toBeNull();
      const snapshot = decodeSnapshot(saved as unknown as string, 'store');
      expect([...snapshot.subnets.keys()].sort((a, b) => a - b)).toEqual([4, 62]);
      expect(snapshot.block).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('lists miner subnets and fake subnet APIs in one catalog, with an alias across them', async () => {
    const client = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0 });
    const ids = [];
    for await (const m of client.models.list()) ids.push(`${m.id}:${m.owned_by}`);
    expect(ids).toEqual(expect.arrayContaining(['sn4/llama-3.1-8b:sn4', 'sn64/deepseek-v3:sn64', 'sn19/deepseek-v3:sn19', 'deepseek:taogate', 'auto:taogate']));
    expect(output).toMatch(/aliases:\s+deepseek \(sn64\/deepseek-v3 → sn19\/deepseek-v3\)/);
  });

  it('fails the alias over when the fake Chutes is taken down as the banner says, and routes private requests to it only', async () => {
    const faultUrl = /curl -X POST (http:\/\/127\.0\.0\.1:\d+\/_devnet\/fault)/.exec(output)?.[1];
    expect(faultUrl).toBeDefined();
    const ask = (headers: Record<string, string> = {}) =>
      fetch(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'deepseek', messages: [{ role: 'user', content: 'which one?' }] }),
      });
    const before = await ask({ 'x-taogate-private': '1' });
    expect(before.headers.get('x-taogate-served-model')).toBe('sn64/deepseek-v3');
    expect(before.headers.get('x-taogate-private')).toBe('1');
    await fetch(faultUrl as string, { method: 'POST', body: JSON.stringify({ mode: 'down' }) });
    try {
      const after = await ask();
      expect(after.status).toBe(200);
      expect(after.headers.get('x-taogate-served-model')).toBe('sn19/deepseek-v3');
      expect(after.headers.get('x-taogate-failover')).toBe('sn64/deepseek-v3');
      expect(((await after.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toContain('nineteen-sn19');
    } finally {
      await fetch(faultUrl as string, { method: 'POST', body: JSON.stringify({ mode: 'none' }) });
    }
  });
});
