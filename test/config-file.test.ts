/**
 * taogate.config.json: the issue's shape and the committed example are
 * accepted; every mistake stops start-up with a message naming the file and
 * the field; `npm start` with TAOGATE_CONFIG serves the configured subnet
 * APIs without a chain or the devnet.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { loadGatewayConfigFile } from '../src/config-file.js';
import { startFakeSubnetApi } from '../src/devnet/fake-subnet-api.js';
import { freePort } from './support/free-port.js';
import { startNpmStart } from './support/npm-start.js';

const ISSUE_SHAPE = {
  subnets: [
    {
      netuid: 64,
      provider: 'subnet-api',
      api: { kind: 'chutes', baseUrl: 'https://llm.chutes.ai/v1', apiKeyEnv: 'CHUTES_API_KEY' },
      private: false,
      models: [{ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324', price: { prompt: 0.3, completion: 1.2 } }],
    },
  ],
  aliases: { deepseek: ['sn64/deepseek-v3', 'sn19/deepseek-v3'] },
};

function writeConfig(document: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'taogate-config-')), 'taogate.config.json');
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document, null, 2));
  return path;
}

function loadError(document: unknown, env: Record<string, string> = { CHUTES_API_KEY: 'k' }): string {
  const path = writeConfig(document);
  try {
    loadGatewayConfigFile(path, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain(path);
    return message;
  }
  throw new Error('expected the config to be refused');
}

const subnet = (over: Record<string, unknown> = {}) => ({ ...ISSUE_SHAPE.subnets[0], ...over });

describe('taogate.config.json', () => {
  it('accepts the shape from the issue, reading the key from the named variable', () => {
    const config = loadGatewayConfigFile(writeConfig(ISSUE_SHAPE), { CHUTES_API_KEY: 'cpk_test' });
    expect(config.subnets[0]).toMatchObject({ netuid: 64, provider: 'subnet-api', private: false, api: { kind: 'chutes', baseUrl: 'https://llm.chutes.ai/v1', apiKey: 'cpk_test' } });
    expect(config.subnets[0]?.models[0]).toMatchObject({ name: 'deepseek-v3', upstream: 'deepseek-ai/DeepSeek-V3-0324', price: { promptMicroUsdPer1M: 300_000, completionMicroUsdPer1M: 1_200_000 } });
    expect(config.aliases.deepseek?.targets).toEqual(['sn64/deepseek-v3', 'sn19/deepseek-v3']);
    expect(config.policy).toBe('order');
  });

  it('accepts the committed example', () => {
    const config = loadGatewayConfigFile('taogate.config.example.json', { CHUTES_API_KEY: 'a', TARGON_API_KEY: 'b', NINETEEN_API_KEY: 'c' });
    expect(config.subnets.map((s) => [s.netuid, s.api?.kind, s.private])).toEqual([[64, 'chutes', false], [4, 'targon', true], [19, 'nineteen', false]]);
    expect(config.timeouts.requestMs).toBe(180_000);
  });

  it.each([
    [{ subnets: [subnet({ api: { kind: 'chutes', baseUrl: 'ftp://x', apiKeyEnv: 'CHUTES_API_KEY' } })] }, 'subnets[0].api.baseUrl: must be an http(s) URL'],
    [{ subnets: [subnet({ api: { kind: 'bittensor', apiKeyEnv: 'CHUTES_API_KEY' } })] }, 'subnets[0].api.kind: kind must be one of chutes, targon, nineteen, openai'],
    [{ subnets: [subnet({ provider: 'grpc' })] }, 'subnets[0].provider: provider must be "subnet-api" or "openai-epistula"'],
    [{ subnets: [subnet({ models: [{ name: 'a', price: { prompt: -1, completion: 1 } }] })] }, 'subnets[0].models[0].price.prompt: -1 is not a price'],
    [{ subnets: [subnet({ models: [{ name: 'a', contex_length: 5 }] })] }, 'subnets[0].models[0]: Unrecognized key: "contex_length"'],
    [{ subnets: [subnet({ models: [] })] }, 'subnets[0].models: a subnet API needs at least one model'],
    [{ subnets: [subnet(), subnet()] }, 'subnets[1].netuid: netuid 64 is already configured at subnets[0]'],
    [{ subnets: [subnet()], aliases: { deepseek: ['sn64/deepseek-v4'] } }, 'aliases.deepseek[0]: subnet 64 has no model deepseek-v4'],
    [{ subnets: [subnet()], aliases: { 'sn1/x': ['sn64/deepseek-v3'] } }, 'aliases.sn1/x: an alias cannot be "auto" or look like sn<netuid>/<model>'],
    [{ subnets: [subnet()], policy: 'cheapest' }, 'policy: Invalid option'],
    [{ subnets: [subnet({ api: { kind: 'openai', apiKeyEnv: 'CHUTES_API_KEY' } })] }, 'subnets[0].api.baseUrl: required for kind openai'],
  ])('refuses %j naming the field', (document, expected) => {
    expect(loadError(document)).toContain(expected);
  });

  it('refuses a subnet API whose key variable is unset, naming it', () => {
    expect(loadError(ISSUE_SHAPE, {})).toContain('subnets[0].api.apiKeyEnv: environment variable CHUTES_API_KEY is not set');
  });

  it('refuses a file that is not JSON, or cannot be read', () => {
    expect(loadError('{ "subnets": [')).toMatch(/is not valid JSON/);
    // Where, never the text around it: a Worker answers its startup failure to any client.
    expect(loadError('{\n  "subnets": [ { "api": { "baseUrl": "http://10.1.2.3:8000/v1", } } ]\n}')).toMatch(/is not valid JSON \(at line 2, column \d+\)/);
    expect(loadError('{\n  "subnets": [ { "api": { "baseUrl": "http://10.1.2.3:8000/v1", } } ]\n}')).not.toContain('10.1.2.3');
    expect(loadError('http://10.1.2.3:8000/v1')).not.toContain('10.1.2.3');
    expect(() => loadGatewayConfigFile('/nonexistent/taogate.config.json', {})).toThrow(/\/nonexistent\/taogate.config.json:\n\s+cannot be read \(TAOGATE_CONFIG\)/);
  });
});

describe('npm start with TAOGATE_CONFIG', () => {
  it('exits 2 on a bad file, naming the path and the field', async () => {
    const path = writeConfig({ subnets: [subnet({ api: { kind: 'chutes', baseUrl: 'not a url', apiKeyEnv: 'CHUTES_API_KEY' } })] });
    const run = startNpmStart({ TAOGATE_CONFIG: path, CHUTES_API_KEY: 'k', PORT: String(await freePort()) }, /taogate listening/);
    const { code, output } = await run.done;
    await run.stop();
    expect(code).toBe(2);
    expect(output).toContain(`invalid config file ${path}`);
    expect(output).toContain('subnets[0].api.baseUrl: must be an http(s) URL');
  }, 30_000);

  it('serves the configured subnet API without a chain or the devnet', async () => {
    const api = await startFakeSubnetApi({ flavor: 'chutes', apiKey: 'cpk_from_env', models: ['deepseek-ai/DeepSeek-V3-0324'], name: 'configured' });
    const path = writeConfig({ ...ISSUE_SHAPE, subnets: [subnet({ api: { kind: 'chutes', baseUrl: api.baseUrl, apiKeyEnv: 'CHUTES_API_KEY' } })], aliases: { deepseek: ['sn64/deepseek-v3'] } });
    const port = await freePort();
    const adminToken = 'config-test-admin-token-123';
    const run = startNpmStart({ TAOGATE_CONFIG: path, CHUTES_API_KEY: 'cpk_from_env', PORT: String(port), ADMIN_TOKEN: adminToken }, /taogate listening/);
    try {
      const { output } = await run.done;
      expect(output).not.toContain('EMBEDDED LOCAL DEVNET');
      expect(output).not.toContain('cpk_from_env');
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const created = await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{"name":"t"}' });
      const { key } = (await created.json()) as { key: string };
      const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0 });
      const ids = [];
      for await (const m of client.models.list()) ids.push(m.id);
      expect(ids).toEqual(['sn64/deepseek-v3', 'deepseek', 'auto']);
      const answer = await client.chat.completions.create({ model: 'deepseek', messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.choices[0]?.message.content).toContain('devnet miner configured');
      expect(api.requests[0]?.headers.authorization).toBe('Bearer cpk_from_env');
    } finally {
      await run.stop();
      await api.close();
    }
  }, 30_000);
});
