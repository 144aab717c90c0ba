/**
 * Cache hits vs the direct miner: the same small non-stream chat request
 * (temperature 0, so cacheable) sent to the fake miner directly and to the
 * gateway, where every request after the first is a HIT from memory (API key
 * check, admission, receipt signing included). Same process layout as the
 * proxy suite; latencies are timed per request by the load generator itself.
 */
import { availableParallelism, loadavg } from 'node:os';
import { runLatencyLoad } from '../support/latency-load.js';
import { metagraphFileFor, startGatewayProcess, startMinerProcess } from '../support/processes.js';
import type { BenchSuite } from '../support/suite.js';

const BODY = JSON.stringify({ model: 'sn4/bench-model', temperature: 0, messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 });
const DIRECT_BODY = BODY.replace('sn4/bench-model', 'bench-model');
const CONNECTIONS = [1, 16, 64];
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const round = (ms: number) => Math.round(ms * 1000) / 1000;

export const cacheSuite: BenchSuite = {
  name: 'cache',
  title: 'Cache hits vs direct miner: small non-stream chat completion',
  async run() {
    const miner = await startMinerProcess();
    const gateway = await startGatewayProcess({ METAGRAPH_FILE: metagraphFileFor(4, 'bench-model', [miner.info]) });
    const rows = [];
    const loadBefore = loadavg()[0] ?? 0;
    try {
      const hits = { url: `${gateway.info.url}/v1/chat/completions`, body: BODY, headers: { authorization: `Bearer ${gateway.info.key}` }, expectHeader: ['x-taogate-cache', 'HIT'] as const };
      const direct = { url: `${miner.info.url}/v1/chat/completions`, body: DIRECT_BODY };
      // The first request is the miss that fills the entry; then warm both paths (JIT, pooled connections).
      await runLatencyLoad({ ...hits, connections: 1, durationS: 0.2, expectHeader: undefined });
      await runLatencyLoad({ ...hits, connections: 8, durationS: 2 });
      await runLatencyLoad({ ...direct, connections: 8, durationS: 1 });
      for (const connections of CONNECTIONS) {
        const d = await runLatencyLoad({ ...direct, connections, durationS: DURATION_S });
        const h = await runLatencyLoad({ ...hits, connections, durationS: DURATION_S });
        rows.push({
          connections,
          direct_rps: Math.round(d.rps),
          hit_rps: Math.round(h.rps),
          throughput_pct: Math.round((h.rps / d.rps) * 1000) / 10,
          direct_p50_ms: round(d.p50Ms),
          hit_p50_ms: round(h.p50Ms),
          direct_p99_ms: round(d.p99Ms),
          hit_p99_ms: round(h.p99Ms),
          failures: d.failures + h.failures,
        });
      }
    } finally {
      await gateway.stop();
      await miner.stop();
    }
    return {
      columns: ['connections', 'direct_rps', 'hit_rps', 'throughput_pct', 'direct_p50_ms', 'hit_p50_ms', 'direct_p99_ms', 'hit_p99_ms', 'failures'],
      rows,
      notes: [
        'targets: cache-hit p50 <= 0.3 ms (1 connection) and hit throughput >= direct',
        'latency per request timed by the load generator (undici, keep-alive), client overhead included on both sides',
        'failures: non-200, transport errors, or a gateway answer that was not x-taogate-cache: HIT',
        `each point ${DURATION_S} s; miner and gateway in separate processes, signatures verified off at the miner; memory cache (no REDIS_URL)`,
        `machine: ${availableParallelism()} cores, 1-min load average ${loadBefore.toFixed(1)} before and ${(loadavg()[0] ?? 0).toFixed(1)} after (other work shares the cores)`,
      ],
    };
  },
};
