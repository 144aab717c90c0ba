/**
 * A closed-loop load that times every request itself (performance.now(),
 * sub-millisecond), for latency targets below autocannon's whole-ms
 * percentiles. Each of `connections` workers sends the same request over a
 * kept-alive undici pool, one at a time, and reads the whole body. A request
 * counts only when its status is 200 and, if `expectHeader` is given, that
 * header has the expected value (a cache bench must measure hits, not misses).
 */
import { Pool } from 'undici';
import { percentile } from './mixed-load.js';

export interface LatencyLoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
  readonly expectHeader?: readonly [name: string, value: string];
}

export interface LatencyLoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-200 answers, transport errors and answers without the expected header. */
  readonly failures: number;
}

export async function runLatencyLoad(options: LatencyLoadOptions): Promise<LatencyLoadResult> {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, { connections: options.connections, keepAliveTimeout: 10_000, pipelining: 1 });
  const headers = { 'content-type': 'application/json', ...options.headers };
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + options.durationS * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: url.pathname, method: 'POST', headers, body: options.body });
        await res.body.arrayBuffer();
        const expected = options.expectHeader;
        if (res.statusCode !== 200 || (expected && res.headers[expected[0]] !== expected[1])) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / elapsedS,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failures,
  };
}
