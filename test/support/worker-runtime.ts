/**
 * Runs the Worker in workerd through Miniflare's API, from the very bundle
 * `npm run build:worker` produces and the bindings wrangler.toml declares
 * (read by wrangler's own config reader), with test variables on top. State
 * lives in memory and dies with the runtime. Everything stays on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import type { StoreObjectNamespace } from '../../src/store/durable-object.js';
import { buildWorkerBundle, OFFLINE_WRANGLER_ENV, WRANGLER_CONFIG } from '../../src/worker/worker-bundle.js';

export interface WorkerRuntime {
  /** http://127.0.0.1:<port> */
  readonly url: string;
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

export async function startWorkerRuntime(vars: Readonly<Record<string, string>>): Promise<WorkerRuntime> {
  Object.assign(process.env, OFFLINE_WRANGLER_ENV);
  const outdir = await builtBundle();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  // wrangler.toml's [vars] only: a developer's .dev.vars (which the line above merges in) must not reach tests.
  const { vars: declared } = unstable_readConfig({ config: WRANGLER_CONFIG });
  const mf = new Miniflare({
    ...workerOptions,
    name: 'taogate',
    modules: true,
    modulesRoot: outdir,
    scriptPath: join(outdir, 'worker.js'),
    bindings: { ...declared, ...vars },
    host: '127.0.0.1',
    port: 0,
    cf: false,
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = (await mf.ready).origin;
  return {
    url,
    storeNamespace: async () => (await mf.getDurableObjectNamespace('STORE')) as unknown as StoreObjectNamespace,
    close: () => mf.dispose(),
  };
}
