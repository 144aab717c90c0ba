/**
 * The gateway's cost in front of a subnet API: the same small non-stream
 * chat request sent to a fake Chutes directly and through the gateway
 * (`sn64/bench-model`), and through an alias whose first subnet refuses
 * connections (after its breaker opens, the down subnet is planned last,
 * so the alias costs what a direct request costs). Side by side in one run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from '../support/load.js';
import { spawnProcess, startGatewayProcess } from '../support/processes.js';
import type { BenchSuite } from '../support/suite.js';

const KEY = 'bench-subnet-api-key';
const DIRECT_BODY = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 });
const bodyFor = (model: string) => DIRECT_BODY.replace('"bench-model"', JSON.stringify(model));
const CONNECTIONS = [1, 16];
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);

function configFile(baseUrl: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'taogate-bench-')), 'taogate.config.json');
  const api = (netuid: number, url: string) => ({ netuid, provider: 'subnet-api', api: { kind: 'chutes', baseUrl: url, apiKeyEnv: 'BENCH_API_KEY' }, models: [{ name: 'bench-model' }] });
  // sn65 points at a port nothing listens on: every connection to it is refused.
  writeFileSync(file, JSON.stringify({ subnets: [api(64, baseUrl), api(65, 'http://127.0.0.1:9/v1')], aliases: { failover: ['sn65/bench-model', 'sn64/bench-model'] } }));
  return file;
}

export const subnetApiSuite: BenchSuite = {
  name: 'subnet-api',
  title: 'Gateway vs direct subnet API (fake Chutes): small non-stream chat completion, and an alias failing over',
  async run() {
    const api = await spawnProcess<{ baseUrl: string }>('subnet-api.ts', { API_KEY: KEY });
    const gateway = await startGatewayProcess({ TAOGATE_CONFIG: configFile(api.info.baseUrl), BENCH_API_KEY: KEY });
    const rows = [];
    try {
      const direct = { url: `${api.info.baseUrl}/chat/completions`, headers: { authorization: `Bearer ${KEY}` } };
      const via = { url: `${gateway.info.url}/v1/chat/completions`, headers: { authorization: `Bearer ${gateway.info.key}` } };
      await runLoad({ ...via, connections: 8, durationS: 2, body: bodyFor('failover') });
      await runLoad({ ...direct, connections: 8, durationS: 1, body: DIRECT_BODY });
      for (const connections of CONNECTIONS) {
        const d = await runLoad({ ...direct, connections, durationS: DURATION_S, body: DIRECT_BODY });
        const g = await runLoad({ ...via, connections, durationS: DURATION_S, body: bodyFor('sn64/bench-model') });
        const f = await runLoad({ ...via, connections, durationS: DURATION_S, body: bodyFor('failover') });
        rows.push({
          connections,
          direct_rps: Math.round(d.rps),
          gateway_rps: Math.round(g.rps),
          alias_failover_rps: Math.round(f.rps),
          direct_mean_ms: d.meanMs,
          gateway_mean_ms: g.meanMs,
          alias_failover_mean_ms: f.meanMs,
          gateway_p99_ms: g.p99Ms,
          alias_failover_p99_ms: f.p99Ms,
          errors: d.errors + d.non2xx + g.errors + g.non2xx + f.errors + f.non2xx,
        });
      }
    } finally {
      await gateway.stop();
      await api.stop();
    }
    return {
      columns: ['connections', 'direct_rps', 'gateway_rps', 'alias_failover_rps', 'direct_mean_ms', 'gateway_mean_ms', 'alias_failover_mean_ms', 'gateway_p99_ms', 'alias_failover_p99_ms', 'errors'],
      rows,
      notes: [
        'alias "failover" = [sn65 (connections refused), sn64]; its first requests fail over, then sn65’s breaker opens and it is planned last',
        'mean = connections / rps; p99 from autocannon (whole ms)',
        `each point ${DURATION_S} s; fake API and gateway in separate processes`,
      ],
    };
  },
};
