/**
 * Benchmarks run the miner and the gateway in their own processes, each
 * built by the same code as `npm start`, so the load generator, the gateway
 * and the miner do not share one event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Spawned<T> {
  readonly info: T;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const here = (file: string) => fileURLToPath(new URL(`../processes/${file}`, import.meta.url));

export function spawnProcess<T>(script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Spawned<T>> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', here(script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      child.removeAllListeners('exit');
      resolve({
        info: JSON.parse(line) as T,
        child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export interface MinerInfo {
  readonly url: string;
  readonly port: number;
  readonly hotkey: string;
}

export interface GatewayInfo {
  readonly url: string;
  readonly key: string;
}

export function startMinerProcess(env: Record<string, string> = {}): Promise<Spawned<MinerInfo>> {
  return spawnProcess<MinerInfo>('miner.ts', env);
}

/** A metagraph file with one subnet whose miners are the given processes. */
export function metagraphFileFor(netuid: number, model: string, miners: readonly MinerInfo[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'taogate-bench-')), 'metagraph.json');
  const json = {
    subnets: [
      {
        netuid,
        models: [model],
        miners: miners.map((m, uid) => ({ uid, hotkey: m.hotkey, ip: '127.0.0.1', port: m.port, incentive: 1 / miners.length, stake: 1 })),
      },
    ],
  };
  writeFileSync(file, JSON.stringify(json));
  return file;
}

export function startGatewayProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<Spawned<GatewayInfo>> {
  return spawnProcess<GatewayInfo>(
    'gateway.ts',
    { ALLOW_PRIVATE_AXONS: '1', GATEWAY_HOTKEY_URI: '//BenchGateway', LOG_LEVEL: 'silent', ...env },
    nodeArgs,
  );
}

/** The bare proxy (bench/processes/bare-proxy.ts): the floor a gateway is compared with. */
export function startBareProxyProcess(env: Record<string, string>): Promise<Spawned<GatewayInfo>> {
  return spawnProcess<GatewayInfo>('bare-proxy.ts', { GATEWAY_HOTKEY_URI: '//BenchGateway', ...env });
}
