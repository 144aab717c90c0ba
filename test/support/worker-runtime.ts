/**
 * Runs the Worker in workerd through Miniflare's API, from the very bundle
 * `npm run build:worker` produces and the bindings wrangler.toml declares
 * (read by wrangler's own config reader), with test variables on top. State
 * lives in memory and dies with the runtime. Everything stays on loopback.
 *
 * `instances` > 1 loads the bundle as that many Workers in the one runtime:
 * each its own isolate with its own module state (its own gateway, memory
 * cache and key cache), all bound to the first one's store Durable Object
 * and to the same KV namespace, as the isolates of one deployment are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import type { StoreObjectNamespace } from '../../src/store/durable-object.js';
import { buildWorkerBundle, OFFLINE_WRANGLER_ENV, WRANGLER_CONFIG } from '../../src/worker/worker-bundle.js';

export interface WorkerRuntime {
  /** http://127.0.0.1:<port> of the first instance */
  readonly url: string;
  /** Every instance's URL; urls[0] is `url`. */
  readonly urls: readonly string[];
  /** The store's Durable Object namespace, reachable from the test process. */
  storeNamespace(): Promise<StoreObjectNamespace>;
  close(): Promise<void>;
}

let bundle: Promise<string> | null = null;

/** One build per test process: every runtime in it loads the same files. */
function builtBundle(): Promise<string> {
  bundle ??= (async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'taogate-worker-'));
    await buildWorkerBundle(outdir);
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return outdir;
  })();
  return bundle;
}

/**
 * `vars` are the Worker's variables and secrets on top of wrangler.toml's [vars]: strings, or
 * JSON values as wrangler passes a [vars] table (TAOGATE_CONFIG_JSON = { … }).
 */
export async function startWorkerRuntime(vars: Readonly<Record<string, string | object>>, options: { instances?: number } = {}): Promise<WorkerRuntime> {
  Object.assign(process.env, OFFLINE_WRANGLER_ENV);
  const outdir = await builtBundle();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  // wrangler.toml's [vars] only: a developer's .dev.vars (which the line above merges in) must not reach tests.
  const { vars: declared } = unstable_readConfig({ config: WRANGLER_CONFIG });
  const names = Array.from({ length: options.instances ?? 1 }, (_, i) => (i === 0 ? 'taogate' : `taogate-${i + 1}`));
  const [first, ...others] = names.map((name, i) => ({
    ...workerOptions,
    name,
    modules: true,
    modulesRoot: outdir,
    scriptPath: join(outdir, 'worker.js'),
    bindings: { ...declared, ...vars },
    // The others use the first instance's store object: one object per namespace, as in a deployment.
    ...(i > 0 && { durableObjects: { STORE: { className: 'StoreObject', scriptName: 'taogate', useSQLite: true } } }),
    // Each further instance listens on a port of its own.
    ...(i > 0 && { unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }] }),
  }));
  const mf = new Miniflare({ workers: [first, ...others], host: '127.0.0.1', port: 0, cf: false } as unknown as ConstructorParameters<typeof Miniflare>[0]);
  const url = (await mf.ready).origin;
  const urls = [url, ...(await Promise.all(names.slice(1).map(async (name) => (await mf.unsafeGetDirectURL(name)).origin)))];
  return {
    url,
    urls,
    storeNamespace: async () => (await mf.getDurableObjectNamespace('STORE')) as unknown as StoreObjectNamespace,
    close: () => mf.dispose(),
  };
}
