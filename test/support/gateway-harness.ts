/**
 * Starts a real gateway (same createGateway/buildApp/listen as `npm start`)
 * on 127.0.0.1 over a metagraph file that points at real miner servers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { parseGatewayConfig } from '../../src/config-file.js';
import type { RunningMiner } from '../../src/devnet/miner.js';
import type { Gateway } from '../../src/gateway.js';
import { createGateway, type GatewayOverrides } from '../../src/node-gateway.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { listen } from '../../src/node-listen.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';
export const TEST_HOTKEY_URI = '//TaogateTest';

export interface MinerEntry {
  readonly miner: RunningMiner;
  readonly uid: number;
  readonly incentive: number;
  readonly active?: boolean;
  /** Override the published address (e.g. 0.0.0.0 for "no axon"-like tests). */
  readonly ip?: string;
  readonly port?: number;
}

export interface SubnetEntry {
  readonly netuid: number;
  readonly models: readonly string[];
  readonly miners: readonly MinerEntry[];
}

export function writeMetagraphFile(subnets: readonly SubnetEntry[], path?: string): string {
  const file = path ?? join(mkdtempSync(join(tmpdir(), 'taogate-')), 'metagraph.json');
  const json = {
    subnets: subnets.map((s) => ({
      netuid: s.netuid,
      models: s.models,
      miners: s.miners.map((m) => ({
        uid: m.uid,
        hotkey: m.miner.hotkey,
        ip: m.ip ?? m.miner.host,
        port: m.port ?? m.miner.port,
        incentive: m.incentive,
        stake: 1000,
        active: m.active ?? true,
      })),
    })),
  };
  writeFileSync(file, JSON.stringify(json, null, 2));
  return file;
}

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  readonly metagraphFile: string;
  /** A key created through the admin API at start. */
  readonly apiKey: string;
  client(options?: { apiKey?: string; maxRetries?: number }): OpenAI;
  /** fetch against the gateway with the test key unless headers say otherwise. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  readonly subnets?: readonly SubnetEntry[];
  readonly env?: Readonly<Record<string, string>>;
  readonly overrides?: GatewayOverrides;
  readonly logger?: Logger;
  /** A taogate.config.json document (and the environment its apiKeyEnv names are read from). */
  readonly subnetConfig?: { readonly document: unknown; readonly env?: Readonly<Record<string, string>> };
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  // Without subnets the caller brings its own source (SUBTENSOR_URL or an override).
  const metagraphFile = options.subnets ? writeMetagraphFile(options.subnets) : '';
  const config = loadConfig({
    METAGRAPH_FILE: metagraphFile,
    ALLOW_PRIVATE_AXONS: '1',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    GATEWAY_HOTKEY_URI: TEST_HOTKEY_URI,
    REDIS_PREFIX: `test:${randomUUID()}:`,
    PORT: '1',
    HOST: '127.0.0.1',
    ...options.env,
  });
  const subnetConfig = options.subnetConfig ? parseGatewayConfig('test config', options.subnetConfig.document, options.subnetConfig.env ?? {}) : undefined;
  const gateway = await createGateway(config, options.logger ?? silentLogger(), { ...options.overrides, ...(subnetConfig && { subnetConfig }) });
  const server = await listen(buildApp(gateway), { port: 0, host: '127.0.0.1' });
  const created = await fetch(`${server.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    // Like the devnet's key: its comparisons count for routing.
    body: JSON.stringify({ name: 'test', trusted_scorer: true }),
  });
  const { key } = (await created.json()) as { key: string };

  return {
    url: server.url,
    gateway,
    metagraphFile,
    apiKey: key,
    client: (o = {}) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: o.apiKey ?? key, maxRetries: o.maxRetries ?? 0 }),
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${key}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(`${server.url}${path}`, { ...init, headers, body });
    },
    async close() {
      await server.close();
      await gateway.close();
    },
  };
}
