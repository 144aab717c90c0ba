/**
 * One autocannon run. Mean latency is computed as connections ÷ rps because
 * autocannon's own percentiles are whole milliseconds, too coarse for the
 * sub-millisecond differences a gateway adds.
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly method?: 'GET' | 'POST';
}

export interface LoadResult {
  readonly rps: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'POST',
    body: options.body,
    headers: { 'content-type': 'application/json', ...options.headers },
    connections: options.connections,
    duration: options.durationS,
  });
  const rps = result.requests.average;
  return {
    rps,
    meanMs: rps > 0 ? (options.connections / rps) * 1000 : Number.NaN,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
