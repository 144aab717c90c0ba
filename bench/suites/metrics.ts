/**
 * What the metrics cost. Per request: everything a JSON completion adds on
 * the request path (HTTP counter and duration by route/model/status, time to
 * first token, completion duration), to set beside the gateway's own
 * per-request cost in the proxy suite (about 1 ms at one connection). Per
 * scrape: rendering /metrics for a 256-miner subnet whose miners all have
 * health, at the default per-miner cap and with every miner labelled.
 * Run: npm run bench -- metrics
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAddress } from '@polkadot/util-crypto';
import { loadConfig } from '../../src/config.js';
import type { Gateway } from '../../src/gateway.js';
import { createGateway } from '../../src/node-gateway.js';
import { silentLogger } from '../../src/log.js';
import type { BenchSuite } from '../support/suite.js';

const MINERS = 256;
const ROUNDS = 5;

async function gatewayWith(minersPerSubnet: number): Promise<Gateway> {
  const file = join(mkdtempSync(join(tmpdir(), 'taogate-bench-')), 'metagraph.json');
  const miners = Array.from({ length: MINERS }, (_, uid) => ({ uid, hotkey: encodeAddress(randomBytes(32), 42), ip: '127.0.0.1', port: 9, incentive: (uid + 1) / 32896 }));
  writeFileSync(file, JSON.stringify({ subnets: [{ netuid: 4, models: ['bench-model'], miners }] }));
  const config = loadConfig({ METAGRAPH_FILE: file, ALLOW_PRIVATE_AXONS: '1', GATEWAY_HOTKEY_URI: '//BenchMetrics', METRICS_MINERS_PER_SUBNET: String(minersPerSubnet) });
  const gw = await createGateway(config, silentLogger());
  // Every miner has been tried and answered, as on a busy gateway.
  const subnet = gw.metagraph.current()?.subnets.get(4);
  if (!subnet) throw new Error('bench metagraph did not load');
  for (const upstream of gw.providerFor(4).upstreams(subnet)) {
    const generation = gw.reliability.health.begin(upstream, false);
    gw.reliability.health.answered(upstream, false, 20, 20);
    gw.reliability.health.succeeded(upstream, generation, 20);
  }
  return gw;
}

/** Median µs per batch item over ROUNDS batches; `batchOf(n)` runs the op n times. */
async function medianUs(n: number, batchOf: (n: number) => unknown): Promise<number> {
  await batchOf(Math.min(n, 1000));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    await batchOf(n);
    rounds.push(Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] as number;
}

const scrapes = (gw: Gateway) => async (n: number) => {
  for (let i = 0; i < n; i++) await gw.metrics.render();
};

export const metricsSuite: BenchSuite = {
  name: 'metrics',
  title: 'Metrics cost: per JSON completion on the request path, and per scrape',
  async run() {
    const capped = await gatewayWith(16);
    const uncapped = await gatewayWith(MINERS);
    try {
      const m = capped.metrics;
      // Synchronous, as on the request path: no await per call.
      const perRequest = await medianUs(200_000, (n) => {
        for (let i = 0; i < n; i++) {
          m.requestServed('/v1/chat/completions', 'POST', 'sn4/bench-model', 200, 0.0012);
          m.firstToken('sn4/bench-model', 'json', 0.0011);
          m.completionEnded('sn4/bench-model', 'json', 'ok', 0.0011);
        }
      });
      const scrapeCapped = await medianUs(200, scrapes(capped));
      const scrapeUncapped = await medianUs(100, scrapes(uncapped));
      const lines = async (gw: Gateway) => (await gw.metrics.render()).split('\n').filter((l) => l && !l.startsWith('#')).length;
      return {
        columns: ['what', 'us_per_op', 'samples'],
        rows: [
          { what: 'request path: one JSON completion (counter + 3 histograms)', us_per_op: Math.round(perRequest * 100) / 100, samples: null },
          { what: `scrape: ${MINERS} miners, METRICS_MINERS_PER_SUBNET=16`, us_per_op: Math.round(scrapeCapped), samples: await lines(capped) },
          { what: `scrape: ${MINERS} miners, METRICS_MINERS_PER_SUBNET=${MINERS}`, us_per_op: Math.round(scrapeUncapped), samples: await lines(uncapped) },
        ],
        notes: [
          'request path: median of 5 rounds of 200,000 calls, in process; compare with the proxy suite\'s gateway_mean_ms at 1 connection',
          'scrape: median of 5 rounds; samples = exposition lines that are not comments',
        ],
      };
    } finally {
      await capped.close();
      await uncapped.close();
    }
  },
};
