/**
 * The gateway's own cost: the same small non-stream chat request sent to the
 * fake miner directly, through the gateway (Epistula signing, key checks,
 * metering and a receipt per answer; the miner skips signature checks so
 * only gateway work shows) and through the bare proxy (the floor: the same
 * signing and receipt over node:http and undici with nothing else, see
 * bench/processes/bare-proxy.ts), at 1, 16 and 64 connections.
 *
 * The machine is shared, so its speed drifts by several times within a
 * minute. Each point is therefore measured as ROUNDS rounds of short
 * back-to-back slices (direct, gateway, bare), and every figure is the
 * median over rounds of what was measured within one round, so a ratio
 * never compares a slice from a quiet moment with one from a busy one.
 */
import { metagraphFileFor, startBareProxyProcess, startGatewayProcess, startMinerProcess } from '../support/processes.js';
import { runLoad, type LoadResult } from '../support/load.js';
import type { BenchSuite } from '../support/suite.js';

const BODY = JSON.stringify({ model: 'sn4/bench-model', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 });
const DIRECT_BODY = BODY.replace('sn4/bench-model', 'bench-model');
const CONNECTIONS = [1, 16, 64];
const SLICE_S = Number(process.env.BENCH_SLICE_S ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const round1 = (n: number) => Math.round(n * 10) / 10;

export const proxySuite: BenchSuite = {
  name: 'proxy',
  title: 'Gateway vs bare proxy vs direct miner: small non-stream chat completion',
  async run() {
    const miner = await startMinerProcess();
    const metagraph = metagraphFileFor(4, 'bench-model', [miner.info]);
    const gateway = await startGatewayProcess({ METAGRAPH_FILE: metagraph });
    const bare = await startBareProxyProcess({ METAGRAPH_FILE: metagraph });
    const rows = [];
    try {
      const direct = (connections: number, durationS: number) =>
        runLoad({ url: `${miner.info.url}/v1/chat/completions`, connections, durationS, body: DIRECT_BODY });
      const via = (target: typeof gateway, connections: number, durationS: number) =>
        runLoad({ url: `${target.info.url}/v1/chat/completions`, connections, durationS, body: BODY, headers: { authorization: `Bearer ${target.info.key}` } });
      // Warm every path (JIT, pooled connections, the nonce worker) before measuring.
      await via(gateway, 8, 2);
      await via(bare, 8, 2);
      await direct(8, 1);
      for (const connections of CONNECTIONS) {
        const rounds: { d: LoadResult; g: LoadResult; b: LoadResult }[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          rounds.push({ d: await direct(connections, SLICE_S), g: await via(gateway, connections, SLICE_S), b: await via(bare, connections, SLICE_S) });
        }
        const of = (f: (round: (typeof rounds)[number]) => number) => median(rounds.map(f));
        rows.push({
          connections,
          direct_rps: Math.round(of((x) => x.d.rps)),
          gateway_rps: Math.round(of((x) => x.g.rps)),
          throughput_pct: round1(of((x) => (100 * x.g.rps) / x.d.rps)),
          direct_mean_ms: of((x) => x.d.meanMs),
          gateway_mean_ms: of((x) => x.g.meanMs),
          added_ms: of((x) => x.g.meanMs - x.d.meanMs),
          bare_rps: Math.round(of((x) => x.b.rps)),
          bare_pct: round1(of((x) => (100 * x.b.rps) / x.d.rps)),
          bare_added_ms: of((x) => x.b.meanMs - x.d.meanMs),
          direct_p99_ms: of((x) => x.d.p99Ms),
          gateway_p99_ms: of((x) => x.g.p99Ms),
          errors: rounds.reduce((n, x) => n + x.d.errors + x.d.non2xx + x.g.errors + x.g.non2xx + x.b.errors + x.b.non2xx, 0),
        });
      }
    } finally {
      await bare.stop();
      await gateway.stop();
      await miner.stop();
    }
    return {
      columns: ['connections', 'direct_rps', 'gateway_rps', 'throughput_pct', 'direct_mean_ms', 'gateway_mean_ms', 'added_ms', 'bare_rps', 'bare_pct', 'bare_added_ms', 'direct_p99_ms', 'gateway_p99_ms', 'errors'],
      rows,
      notes: [
        'targets: throughput >= 25 % of direct at 16 connections; added mean latency <= 0.4 ms at 1 connection',
        'bare = bench/processes/bare-proxy.ts: the same signing and receipt over node:http + undici, nothing else (the floor)',
        'mean = connections / rps; p99 from autocannon (whole ms)',
        `each figure: median over ${ROUNDS} rounds of back-to-back ${SLICE_S} s slices (direct, gateway, bare); ratios and differences taken within a round`,
        'miner, gateway and bare proxy in separate processes, signatures verified off at the miner',
      ],
    };
  },
};
