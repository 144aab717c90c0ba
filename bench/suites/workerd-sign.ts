// Epistula signing cost inside workerd, where the Worker build signs: which sr25519 implementation
// the Worker should use. A probe Worker (bench/workers/sign-probe.ts) measures in the runtime itself.
// Run: npm run bench -- workerd-sign   (writes bench/results/workerd-sign.json)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { buildWorkerBundle, OFFLINE_WRANGLER_ENV } from '../../src/worker/worker-bundle.js';
import type { MeasuredRow } from '../support/measure.js';
import type { BenchSuite } from '../support/suite.js';

const PROBE_CONFIG = new URL('../workers/sign-probe.toml', import.meta.url).pathname;

export const workerdSignSuite: BenchSuite = {
  name: 'workerd-sign',
  title: 'Epistula signing cost inside workerd (µs/op, median of 5 interleaved rounds)',
  async run() {
    Object.assign(process.env, OFFLINE_WRANGLER_ENV);
    const iterations = Number(process.env.SIGN_BENCH_N ?? 5000);
    const outdir = mkdtempSync(join(tmpdir(), 'taogate-sign-probe-'));
    const mf = await (async () => {
      await buildWorkerBundle(outdir, PROBE_CONFIG);
      return new Miniflare({
        modules: true,
        modulesRoot: outdir,
        scriptPath: join(outdir, 'sign-probe.js'),
        modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
        compatibilityDate: '2025-09-01',
        compatibilityFlags: ['nodejs_compat'],
        cf: false,
      });
    })();
    try {
      const response = await mf.dispatchFetch(`http://probe/?n=${iterations}`);
      const result = (await response.json()) as { rows: MeasuredRow[]; schnorrkelWasm: string };
      return {
        columns: ['method', 'usPerOp', 'opsPerSec'],
        rows: result.rows.map((r) => ({ method: r.method, usPerOp: r.usPerOp, opsPerSec: r.opsPerSec })),
        notes: [
          `${iterations} operations per method, measured inside workerd (Miniflare) with its own clock`,
          `@polkadot-labs/schnorrkel-wasm in workerd: ${result.schnorrkelWasm}`,
          'the Worker build signs with wasm-crypto from the uploaded module (src/worker/shims/wasm-crypto-init.ts)',
        ],
      };
    } finally {
      await mf.dispose();
      rmSync(outdir, { recursive: true, force: true });
    }
  },
};
