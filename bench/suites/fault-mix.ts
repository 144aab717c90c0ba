/**
 * Reliability under faulty miners: the same mixed load (half streamed) over
 * a fleet of 23 miners, all healthy, then with 7 of them (30 %) faulty, one
 * per fault mode, in the same run. Each mode gets fresh processes, so the
 * faulty run includes the gateway discovering the bad miners from cold.
 */
import { percentile, runMixedLoad } from '../support/mixed-load.js';
import { metagraphFileFor, spawnProcess, startGatewayProcess, type MinerInfo } from '../support/processes.js';
import type { BenchSuite } from '../support/suite.js';

const HEALTHY = 16;
const FAULTS = ['hang', 'http500', 'malformed', 'wrongShape', 'slowFirstByte', 'dropMidStream', 'refuse'];
const CONNECTIONS = 16;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
/** Timeouts a production deployment might use for a fast subnet; the hang miner costs FIRST_BYTE_TIMEOUT_MS when not hedged. */
const GATEWAY_ENV = {
  ROUTER_TOP_K: '32',
  FIRST_BYTE_TIMEOUT_MS: '2000',
  STREAM_IDLE_TIMEOUT_MS: '2000',
  REQUEST_TIMEOUT_MS: '10000',
};

interface MinerHealthRow {
  readonly health: { state: string; hedges_lost: number } | null;
}

async function runMode(mode: string, faults: readonly string[], warmUpS = 0) {
  const fleet = await spawnProcess<{ miners: MinerInfo[] }>('fleet.ts', { FLEET_FAULTS: faults.join(','), SLOW_MS: '1500' });
  const gateway = await startGatewayProcess({ ...GATEWAY_ENV, METAGRAPH_FILE: metagraphFileFor(4, 'bench-model', fleet.info.miners) });
  try {
    const load = (durationS: number) =>
      runMixedLoad({
        url: `${gateway.info.url}/v1/chat/completions`,
        headers: { authorization: `Bearer ${gateway.info.key}` },
        model: 'sn4/bench-model',
        connections: CONNECTIONS,
        durationS,
        streamShare: 0.5,
      });
    if (warmUpS > 0) await load(warmUpS);
    const result = await load(DURATION_S);
    const view = (await (await fetch(`${gateway.info.url}/v1/subnets/4/miners`)).json()) as { data: MinerHealthRow[] };
    // Strings, so 99.95 is not printed as 100.0.
    const pct = (ok: number, n: number) => (n === 0 ? null : ((ok / n) * 100).toFixed(2));
    return {
      miners: `${faults.length} (${faults.filter((f) => f !== 'none').length} faulty)`,
      mode,
      requests: result.requests,
      success_pct: pct(result.jsonOk + result.streamOk, result.requests),
      json_success_pct: pct(result.jsonOk, result.jsonRequests),
      stream_success_pct: pct(result.streamOk, result.streamRequests),
      failed: result.requests - result.jsonOk - result.streamOk,
      rps: Math.round(result.rps),
      p50_ms: percentile(result.latenciesMs, 0.5),
      p99_ms: percentile(result.latenciesMs, 0.99),
      max_ms: result.latenciesMs.at(-1) ?? null,
      hedges_lost: view.data.reduce((n, m) => n + (m.health?.hedges_lost ?? 0), 0),
      open_at_end: view.data.filter((m) => m.health && m.health.state !== 'closed').length,
    };
  } finally {
    await gateway.stop();
    await fleet.stop();
  }
}

export const faultMixSuite: BenchSuite = {
  name: 'fault-mix',
  title: 'Reliability: mixed stream / non-stream load, all miners healthy vs 30 % faulty',
  async run() {
    const healthy = Array<string>(HEALTHY + FAULTS.length).fill('none');
    const faulty = [...Array<string>(HEALTHY).fill('none'), ...FAULTS];
    // The first run also warms the load generator's JIT; the faulty run starts cold on purpose:
    // finding the bad miners is part of what it measures.
    const rows = [await runMode('all healthy', healthy, 2), await runMode('30 % faulty', faulty)];
    return {
      columns: ['mode', 'miners', 'requests', 'success_pct', 'json_success_pct', 'stream_success_pct', 'failed', 'rps', 'p50_ms', 'p99_ms', 'max_ms', 'hedges_lost', 'open_at_end'],
      rows,
      notes: [
        `faults: ${FAULTS.join(', ')} (one miner each; slowFirstByte answers after 1.5 s)`,
        `${CONNECTIONS} connections for ${DURATION_S} s per mode (healthy after a 2 s warm-up, faulty from cold), half the requests streamed; latency is the whole response`,
        `gateway: ${Object.entries(GATEWAY_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}, hedging and breakers at their defaults`,
        'targets (issue 5): >= 99.9 % non-stream and >= 99.5 % stream success with 30 % faulty miners',
      ],
    };
  },
};
