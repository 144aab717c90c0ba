/**
 * The gateway's own cost: the same small non-stream chat request sent to the
 * fake miner directly and through the gateway (Epistula signing and key
 * checks on; the miner skips signature checks so only gateway work shows),
 * side by side in one run at 1, 16 and 64 connections.
 */
import { metagraphFileFor, startGatewayProcess, startMinerProcess } from '../support/processes.js';
import { runLoad } from '../support/load.js';
import type { BenchSuite } from '../support/suite.js';

const BODY = JSON.stringify({ model: 'sn4/bench-model', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 });
const DIRECT_BODY = BODY.replace('sn4/bench-model', 'bench-model');
const CONNECTIONS = [1, 16, 64];
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);

export const proxySuite: BenchSuite = {
  name: 'proxy',
  title: 'Gateway vs direct miner: small non-stream chat completion',
  async run() {
    const miner = await startMinerProcess();
    const gateway = await startGatewayProcess({ METAGRAPH_FILE: metagraphFileFor(4, 'bench-model', [miner.info]) });
    const rows = [];
    try {
      const auth = { authorization: `Bearer ${gateway.info.key}` };
      // Warm both paths (JIT, pooled connections) before measuring.
      await runLoad({ url: `${gateway.info.url}/v1/chat/completions`, connections: 8, durationS: 2, body: BODY, headers: auth });
      await runLoad({ url: `${miner.info.url}/v1/chat/completions`, connections: 8, durationS: 1, body: DIRECT_BODY });
      for (const connections of CONNECTIONS) {
        const direct = await runLoad({ url: `${miner.info.url}/v1/chat/completions`, connections, durationS: DURATION_S, body: DIRECT_BODY });
        const via = await runLoad({ url: `${gateway.info.url}/v1/chat/completions`, connections, durationS: DURATION_S, body: BODY, headers: auth });
        rows.push({
          connections,
          direct_rps: Math.round(direct.rps),
          gateway_rps: Math.round(via.rps),
          throughput_pct: Math.round((via.rps / direct.rps) * 1000) / 10,
          direct_mean_ms: direct.meanMs,
          gateway_mean_ms: via.meanMs,
          added_ms: via.meanMs - direct.meanMs,
          direct_p99_ms: direct.p99Ms,
          gateway_p99_ms: via.p99Ms,
          errors: direct.errors + direct.non2xx + via.errors + via.non2xx,
        });
      }
    } finally {
      await gateway.stop();
      await miner.stop();
    }
    return {
      columns: ['connections', 'direct_rps', 'gateway_rps', 'throughput_pct', 'direct_mean_ms', 'gateway_mean_ms', 'added_ms', 'direct_p99_ms', 'gateway_p99_ms', 'errors'],
      rows,
      notes: [
        'targets: throughput >= 25 % of direct at 16 connections; added mean latency <= 0.4 ms at 1 connection',
        'mean = connections / rps; p99 from autocannon (whole ms)',
        `each point ${DURATION_S} s; miner and gateway in separate processes, signatures verified off at the miner`,
      ],
    };
  },
};
