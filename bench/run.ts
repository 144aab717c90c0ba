/**
 * `npm run bench [-- suite ...]`: runs the benchmark suites (all by default),
 * prints each as a table and writes bench/results/<suite>.json.
 */
import { cacheSuite } from './suites/cache.js';
import { chunkCheckSuite } from './suites/chunk-check.js';
import { compareSuite } from './suites/compare.js';
import { decodeSuite } from './suites/decode.js';
import { faultMixSuite } from './suites/fault-mix.js';
import { metricsSuite } from './suites/metrics.js';
import { proxySuite } from './suites/proxy.js';
import { receiptsSuite } from './suites/receipts.js';
import { signSuite } from './suites/sign.js';
import { subnetApiSuite } from './suites/subnet-api.js';
import { wireApisSuite } from './suites/wire-apis.js';
import { workerProxySuite } from './suites/worker-proxy.js';
import { workerdSignSuite } from './suites/workerd-sign.js';
import type { BenchSuite } from './support/suite.js';
import { renderTable, writeResult } from './support/table.js';

const SUITES: readonly BenchSuite[] = [signSuite, workerdSignSuite, decodeSuite, receiptsSuite, proxySuite, cacheSuite, faultMixSuite, chunkCheckSuite, metricsSuite, wireApisSuite, compareSuite, subnetApiSuite, workerProxySuite];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !SUITES.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

for (const suite of SUITES.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
  console.log(`\n## ${suite.title}\n`);
  const table = await suite.run();
  console.log(renderTable(table));
  for (const note of table.notes) console.log(`  · ${note}`);
  console.log(`  → ${writeResult(suite, table)}`);
}
