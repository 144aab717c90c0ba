/**
 * `npm run build:worker`: the Worker bundle exactly as `wrangler deploy`
 * would upload it (`wrangler deploy --dry-run --outdir`), then its size raw
 * and gzipped (the target is at most 1 MiB gzipped). The Worker tests load
 * the same bundle into Miniflare, so what they test is what deploys.
 * Wrangler runs offline: no telemetry, no Request.cf download, no update check.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { emitWasmCrypto } from './emit-wasm-crypto.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WRANGLER_CONFIG = join(PROJECT_ROOT, 'wrangler.toml');

/** Keeps wrangler and Miniflare from reaching the network on their own. */
export const OFFLINE_WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
} as const;

export interface BundleFile {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/** Bundles the Worker `config` names (default: the gateway's wrangler.toml) into `outdir`. */
export async function buildWorkerBundle(outdir: string, config = WRANGLER_CONFIG): Promise<BundleFile[]> {
  await emitWasmCrypto();
  const wrangler = join(PROJECT_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  await promisify(execFile)(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir, '--config', config], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...OFFLINE_WRANGLER_ENV },
  });
  return readdirSync(outdir)
    .filter((name) => name.endsWith('.js') || name.endsWith('.wasm'))
    .map((name) => {
      const path = join(outdir, name);
      return { name, bytes: statSync(path).size, gzipBytes: gzipSync(readFileSync(path), { level: 9 }).length };
    });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outdir = join(PROJECT_ROOT, 'dist', 'worker');
  const files = await buildWorkerBundle(outdir);
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const f of files) console.log(`${f.name.padEnd(60)} ${kib(f.bytes).padStart(12)} ${kib(f.gzipBytes).padStart(12)} gzipped`);
  const raw = files.reduce((s, f) => s + f.bytes, 0);
  const gzip = files.reduce((s, f) => s + f.gzipBytes, 0);
  console.log(`${'total (uploaded modules)'.padEnd(60)} ${kib(raw).padStart(12)} ${kib(gzip).padStart(12)} gzipped (target ≤ 1024 KiB)`);
  console.log(`bundle written to ${outdir}`);
}
